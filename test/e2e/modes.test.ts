// Each output mode against the real stack, through the throttling proxy so the pull lasts seconds.
import { beforeEach, describe, expect, test } from 'vitest';
import { inspectImage, manifestLayerSizes, removeAllImages, stack } from '../support/stack.js';
import { runDpull } from '../support/run-dpull.js';
import { formatBytes } from '../../src/render/format.js';

const s = stack();
const env = { DOCKER_HOST: s.dockerHost };
const ref = `${s.slowRegistry}/demo/three:1.0`;
const layerBytes = async () => (await manifestLayerSizes(s.registry, 'demo/three', '1.0')).reduce((a, b) => a + b, 0);

beforeEach(() => removeAllImages());

describe('output modes on a real pull', () => {
  test('plain: no escape byte, interval progress lines, and a summary whose bytes are the layers the registry serves', async () => {
    const run = await runDpull(['--progress', 'plain', '--progress-interval', '1', ref], env);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('\x1b');
    const progress = run.stderr.split('\n').filter((l) => /^\S+  \d+%  [\d.]+\/[\d.]+ MB  [\d.]+ [kM]B\/s/.test(l));
    expect(progress.length).toBeGreaterThanOrEqual(1);
    const summary = run.stderr.trimEnd().split('\n').at(-1);
    expect(summary).toContain(`Pulled ${ref} (sha256:`);
    expect(summary).toContain(` ${formatBytes(await layerBytes())} downloaded at `);
    expect(summary).toMatch(/3 layers pulled, 0 reused; image sha256:[0-9a-f]{12}, 9\.0 MB on disk, linux\/amd64$/);
    expect(run.stdout).toBe(`${ref}\n`);
  });

  test('json: every line on stdout parses, the last is the result with the exact byte count', async () => {
    const run = await runDpull(['--progress', 'json', ref], env);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const objects = run.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(objects.filter((o) => o.type === 'layer' && o.status === 'Downloading').length).toBeGreaterThan(3);
    const image = await inspectImage(ref);
    const result = objects.at(-1);
    expect(result).toMatchObject({ type: 'result', image: ref, reference: ref, bytes: await layerBytes(), layers: { total: 3, pulled: 3, reused: 0 } });
    expect(image?.RepoDigests).toContain(`${s.slowRegistry}/demo/three@${result.digest}`);
  });

  test('DPULL_PROGRESS=json picks the json renderer; a failure is an error object with the exit code', async () => {
    const run = await runDpull([`${s.registry}/demo/three:9.9`], { ...env, DPULL_PROGRESS: 'json' });
    expect(run.code).toBe(1);
    const objects = run.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(objects).toEqual([
      expect.objectContaining({ type: 'error', exitCode: 1, message: expect.stringContaining('manifest for') }),
    ]);
    expect(run.stderr).toMatch(/^dpull: manifest for .* not found/);
  });

  test('json: an invalid reference is an error object too, exit 2', async () => {
    const run = await runDpull(['--progress', 'json', 'Bad/Name'], env);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ type: 'error', exitCode: 2, image: 'Bad/Name' });
  });

  test('quiet: exactly the reference on stdout, nothing on stderr', async () => {
    const run = await runDpull(['--progress', 'quiet', ref], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${ref}\n`);
    expect(run.stderr).toBe('');
  });

  test('GitHub Actions: the pull is a log group and an error an annotation', async () => {
    const ok = await runDpull([`${s.registry}/demo/three:1.0`], { ...env, GITHUB_ACTIONS: 'true', CI: 'true' });
    const lines = ok.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(`::group::Pulling ${s.registry}/demo/three:1.0`);
    expect(lines.at(-1)).toBe('::endgroup::');
    const failed = await runDpull([`${s.registry}/demo/three:9.9`], { ...env, GITHUB_ACTIONS: 'true' });
    expect(failed.code).toBe(1);
    expect(failed.stderr.trimEnd().split('\n').at(-1)).toMatch(/^::error::dpull: manifest for .* not found/);
  });

  test('conflicting modes are a usage error', async () => {
    const run = await runDpull(['-q', '--progress', 'json', ref], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('dpull: conflicting output modes: json, quiet (choose one)\n');
  });
});
