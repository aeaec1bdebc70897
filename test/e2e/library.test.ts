// The library API used from a program as a user would: import { pull } from 'dpull'.
import { beforeEach, describe, expect, test } from 'vitest';
import { pull, DpullError, type PullEvent } from '../../dist/index.js';
import { execFileSync } from 'node:child_process';
import { inspectImage, manifestLayerSizes, removeAllImages, stack } from '../support/stack.js';
import { scratchDir } from '../support/scratch.js';

const s = stack();
beforeEach(() => removeAllImages());

describe('import { pull } from "dpull"', () => {
  test('iterating gives typed events; result gives reference, digest, bytes and layers', async () => {
    const p = pull(`${s.registry}/demo/three:1.0`, { host: s.dockerHost });
    const events: PullEvent[] = [];
    for await (const event of p) events.push(event);
    const result = await p.result;
    const sizes = await manifestLayerSizes(s.registry, 'demo/three', '1.0');
    expect(result).toMatchObject({
      reference: `${s.registry}/demo/three:1.0`,
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      upToDate: false,
      bytes: sizes.reduce((a, b) => a + b, 0),
      layers: { total: 3, pulled: 3, reused: 0 },
    });
    expect(events.filter((e) => e.type === 'layer' && e.phase === 'complete')).toHaveLength(3);
    // The engine's last word, then the engine's view of the image (GET /images/json).
    expect(events.at(-2)).toMatchObject({ type: 'status' });
    expect(events.at(-1)).toMatchObject({ type: 'image', id: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect(await inspectImage(result.reference)).toBeDefined();
  });

  test('subscribe hands over each batch as it is applied to state, the same events as iterating', async () => {
    const p = pull(`${s.registry}/demo/three:1.0`, { host: s.dockerHost });
    const seen: PullEvent[] = [];
    let statesInStep = true;
    const stop = p.subscribe((batch) => {
      seen.push(...batch);
      statesInStep &&= p.state.version === seen.length;
    });
    const result = await p.result;
    stop();
    expect(statesInStep).toBe(true);
    expect(seen.filter((e) => e.type === 'layer' && e.phase === 'complete')).toHaveLength(3);
    expect(seen.at(-2)).toMatchObject({ type: 'status', upToDate: false });
    expect(seen.at(-1)).toMatchObject({ type: 'image' });
    expect(result.layers.pulled).toBe(3);
  });

  test('awaiting result alone runs the pull', async () => {
    const result = await pull(`${s.registry}/demo/eight:1.0`, { host: s.dockerHost }).result;
    expect(result.layers.pulled).toBe(8);
  });

  test('result rejects on an in-stream or HTTP failure, with the exit code the CLI would use', async () => {
    await expect(pull(`${s.registry}/demo/three:9.9`, { host: s.dockerHost }).result).rejects.toMatchObject({
      name: 'DpullError',
      exitCode: 1,
      message: expect.stringContaining('not found'),
    });
    await expect(pull('Bad/Name', { host: s.dockerHost }).result).rejects.toBeInstanceOf(DpullError);
    await expect(pull('x:1', { host: 'unix:///nonexistent.sock' }).result).rejects.toMatchObject({ exitCode: 3 });
  });

  test("with output, straight from the registry into an archive (tar-stream, the bundle's vendor file, loaded as it is needed)", async () => {
    const work = scratchDir('dpull-library-');
    const ref = `${s.registry}/demo/three:1.0`;
    const result = await pull(ref, { output: `docker-archive:${work}/three.tar`, cacheDir: `${work}/cache` }).result;
    expect(result).toMatchObject({ reference: ref, upToDate: false, layers: { total: 3, pulled: 3 } });
    const [entry] = JSON.parse(execFileSync('tar', ['-xOf', `${work}/three.tar`, 'manifest.json'], { encoding: 'utf8' }));
    expect(entry).toMatchObject({ RepoTags: [ref], Layers: expect.arrayContaining([expect.stringMatching(/^blobs\/sha256\//)]) });
    expect(entry.Layers).toHaveLength(3);
  });

  test('an abort mid-pull rejects with the abort reason and the engine registers no image', async () => {
    const controller = new AbortController();
    const ref = `${s.slowRegistry}/demo/three:1.0`;
    const p = pull(ref, { host: s.dockerHost, signal: controller.signal });
    let seen = 0;
    const iteration = (async () => {
      for await (const event of p) {
        if (event.type === 'layer' && event.phase === 'downloading' && ++seen === 3) controller.abort();
      }
    })();
    await expect(iteration).rejects.toMatchObject({ name: 'AbortError' });
    await expect(p.result).rejects.toMatchObject({ name: 'AbortError' });
    // Well past the time the whole pull would take: the engine cancelled it.
    await new Promise((r) => setTimeout(r, 4000));
    expect(await inspectImage(ref)).toBeUndefined();
  });
});
