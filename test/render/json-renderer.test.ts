import { describe, expect, test } from 'vitest';
import { JsonRenderer } from '../../src/render/json/json-renderer.js';
import { pullError } from '../../src/errors.js';
import { replayThrough } from '../support/replay-renderer.js';
import { announcedSizes, recordedEvents } from '../support/replay.js';

const json = (name: string, opts = {}) => replayThrough((o) => new JsonRenderer(o), name, opts);
const parse = (stdout: string) => stdout.trimEnd().split('\n').map((l) => JSON.parse(l));

describe('json output for scripts', () => {
  test('every line parses, carries type, time and image, and the last is the result', () => {
    const { stdout, stderr, state } = json('three-fresh');
    const objects = parse(stdout);
    expect(stderr).toBe('');
    expect(objects).toHaveLength(recordedEvents('three-fresh').length + 1);
    for (const o of objects) {
      expect(o.image).toBe('demo/three:1.0');
      expect(new Date(o.time).toISOString()).toBe(o.time);
    }
    const bytes = [...announcedSizes('three-fresh').values()].reduce((a, b) => a + b, 0);
    expect(objects.at(-1)).toEqual({
      type: 'result',
      time: expect.any(String),
      image: 'demo/three:1.0',
      reference: '127.0.0.1:5731/demo/three:1.0',
      digest: state.tags[0].digest,
      upToDate: false,
      bytes,
      layers: { total: 3, pulled: 3, reused: 0 },
      elapsedMs: expect.any(Number),
    });
    const download = objects.find((o) => o.type === 'layer' && o.status === 'Downloading');
    expect(download).toMatchObject({ layer: expect.stringMatching(/^[0-9a-f]{12}$/), phase: 'downloading', current: expect.any(Number), total: expect.any(Number) });
  });

  test('a failure ends with one error object and the exit code, and a line on stderr', () => {
    const { stdout, stderr } = json('eight-registry-lost', { outcome: { kind: 'failed', error: pullError('dial tcp: connection refused') } });
    const objects = parse(stdout);
    expect(objects.filter((o) => o.type === 'error')).toHaveLength(1);
    expect(objects.at(-1)).toMatchObject({ type: 'error', message: 'dial tcp: connection refused', exitCode: 1 });
    expect(objects.some((o) => o.type === 'layer' && o.phase === 'retrying' && typeof o.retryIn === 'number')).toBe(true);
    expect(stderr).toBe('dpull: dial tcp: connection refused\n');
  });

  test('an interrupted pull ends with an error object with exit code 130', () => {
    const { stdout } = json('three-fresh', { stopAfter: 5, outcome: { kind: 'interrupted', exitCode: 130 } });
    expect(parse(stdout).at(-1)).toMatchObject({ type: 'error', message: 'interrupted', exitCode: 130 });
  });
});
