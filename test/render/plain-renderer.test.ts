import { describe, expect, test } from 'vitest';
import { PlainRenderer } from '../../src/render/plain/plain-renderer.js';
import { pullError } from '../../src/errors.js';
import { replayThrough } from '../support/replay-renderer.js';
import { announcedSizes } from '../support/replay.js';
import { formatBytes } from '../../src/render/format.js';

const plain = (name: string, opts = {}) => replayThrough((o) => new PlainRenderer(o), name, opts);

describe('plain output for logs', () => {
  test('no escape byte, every line labelled with the image, one line per meaningful layer change', () => {
    const { stderr, state } = plain('three-fresh');
    expect(stderr).not.toContain('\x1b');
    const lines = stderr.trimEnd().split('\n');
    expect(lines.every((l) => l.startsWith('demo/three:1.0  '))).toBe(true);
    for (const id of state.layers.keys()) {
      const mine = lines.filter((l) => l.includes(`${id}:`)).map((l) => l.split(': ')[1].replace(/ [\d.]+ [kM]?B$/, ''));
      expect(mine).toEqual(['Pulling fs layer', 'Downloading', 'Download complete', 'Pull complete']);
    }
  });

  test('an overall progress line on the interval while bytes move, none without movement', () => {
    // 100 ms between events: a 2 s interval falls several times within the recording.
    const { stderr } = plain('three-fresh', { intervalSeconds: 2 });
    const progress = stderr.split('\n').filter((l) => /^demo\/three:1\.0  \d+%  [\d.]+\/[\d.]+ MB  [\d.]+ [kM]B\/s/.test(l));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[0]).toMatch(/ layers$/);
    const quiet = plain('three-up-to-date', { intervalSeconds: 0.01 });
    expect(quiet.stderr).not.toMatch(/\d+%/);
  });

  test('the summary names reference, digest, bytes, speed, layers pulled and reused', () => {
    const { stderr, state } = plain('three-partial');
    const bytes = [...announcedSizes('three-partial').values()].reduce((a, b) => a + b, 0);
    const digest = state.tags[0].digest;
    expect(stderr.trimEnd().split('\n').at(-1)).toMatch(
      new RegExp(`^demo/three:1\\.0  Pulled 127\\.0\\.0\\.1:5731/demo/three:1\\.0 \\(${digest}\\) in \\d+s: ${formatBytes(bytes)} downloaded at [\\d.]+ [kM]B/s, 1 layer pulled, 3 reused$`),
    );
  });

  test('a retry countdown is one line per retry, not one per second', () => {
    const { stderr } = plain('eight-registry-lost', { outcome: { kind: 'failed', error: pullError('dial tcp: connection refused') } });
    const retries = stderr.split('\n').filter((l) => l.includes('Retrying in'));
    const countdown = stderr.split('\n').filter((l) => /Retrying in [1-4]s/.test(l));
    expect(retries.length).toBeGreaterThan(0);
    expect(countdown).toEqual([]);
    expect(stderr.trimEnd().split('\n').at(-1)).toBe('dpull: dial tcp: connection refused');
  });

  test('on GitHub Actions the pull is a group and an error is an annotation', () => {
    const env = { GITHUB_ACTIONS: 'true' };
    const ok = plain('three-fresh', { env });
    const lines = ok.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('::group::Pulling demo/three:1.0');
    expect(lines.at(-1)).toBe('::endgroup::');
    const failed = plain('three-fresh', { env, stopAfter: 10, outcome: { kind: 'failed', error: pullError('100% broken') } });
    expect(failed.stderr.trimEnd().split('\n').slice(-2)).toEqual(['::endgroup::', '::error::dpull: 100%25 broken']);
  });

  test('one of several pulls: every line names image and engine, no group, a labelled failure', () => {
    const several = (env: NodeJS.ProcessEnv) =>
      replayThrough((o) => new PlainRenderer({ ...o, several: true, engine: 'build1' }), 'three-fresh', {
        env,
        stopAfter: 10,
        outcome: { kind: 'failed', error: pullError('100% broken') },
      }).stderr.trimEnd().split('\n');
    const log = several({});
    for (const line of log) expect(line.startsWith('demo/three:1.0 (build1)  ')).toBe(true);
    expect(log.at(-1)).toBe('demo/three:1.0 (build1)  failed: 100% broken');
    const github = several({ GITHUB_ACTIONS: 'true' });
    expect(github.filter((l) => l.startsWith('::group::') || l === '::endgroup::')).toEqual([]);
    expect(github.at(-1)).toBe('::error::demo/three:1.0 (build1): 100%25 broken');
  });

  test('no colour unless forced', () => {
    expect(plain('three-fresh', { env: { FORCE_COLOR: '1' } }).stderr).toContain('\x1b[');
    expect(plain('three-fresh', { env: { NO_COLOR: '1' } }).stderr).not.toContain('\x1b');
  });
});
