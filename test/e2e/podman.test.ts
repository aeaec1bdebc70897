// A second, Docker-compatible engine: podman's service streams differently (no "Pulling from",
// no Downloading progress, no Digest/Status lines); dpull still shows the layers and succeeds.
import { beforeEach, describe, expect, test } from 'vitest';
import { engineRequest, removeAllImages, stack } from '../support/stack.js';
import { runDpull } from '../support/run-dpull.js';
import { runInPty } from '../support/pty.js';
import { screenOf } from '../support/screen.js';

const s = stack();
const podmanSocket = s.podmanHost.replace('unix://', '');
/** Every test starts with podman holding no image, so each layer is a real download. */
beforeEach(() => removeAllImages(podmanSocket));

describe('pulling through podman system service', () => {
  test('plain: the layers, success, the reference, and the image in podman', async () => {
    const ref = `${s.registry}/demo/eight:1.0`;
    const run = await runDpull(['--no-tty', ref], { DOCKER_HOST: s.podmanHost });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${ref}\n`);
    const done = new Set(run.stderr.split('\n').filter((l) => / [0-9a-f]{12}: Download complete$/.test(l)).map((l) => l.split(': ')[0]));
    // Eight layers (and podman also reports the image's config blob).
    expect(done.size).toBeGreaterThanOrEqual(8);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`Pulled ${ref} in \\d+s: sizes not reported by the engine, ${done.size} layers pulled, 0 reused; image sha256:[0-9a-f]{12}, [\\d.]+ MB on disk, linux/amd64$`));
    expect((await engineRequest('GET', `/images/${encodeURIComponent(ref)}/json`, podmanSocket)).status).toBe(200);
  });

  test('on a terminal: every layer ends complete and the cursor is restored', async () => {
    const ref = `${s.registry}/demo/three:1.0`;
    const run = await runInPty([ref], { DOCKER_HOST: s.podmanHost }, { cols: 100, rows: 30 });
    expect(run.exitCode).toBe(0);
    const screen = await screenOf(run.output, 100, 30, false);
    const layers = screen.lines.filter((l) => /^[0-9a-f]{12}  /.test(l));
    expect(layers.length).toBeGreaterThanOrEqual(3);
    for (const line of layers) expect(line).toMatch(/Pull complete/); // podman ends a layer at Download complete: done
    expect(screen.lines).toContainEqual(expect.stringMatching(new RegExp(`^${layers.length}/${layers.length} layers`)));
    expect(screen.lines.at(-1)).toBe(ref);
    expect(screen.cursorHidden).toBe(false);
  });

  test('json: layers podman already had are counted as reused, the rest as pulled', async () => {
    const ref = `${s.registry}/demo/three:1.1`;
    await runDpull(['-q', `${s.registry}/demo/three:1.0`], { DOCKER_HOST: s.podmanHost });
    const run = await runDpull(['--progress', 'json', ref], { DOCKER_HOST: s.podmanHost });
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout.trimEnd().split('\n').at(-1)!);
    expect(result).toMatchObject({ type: 'result', reference: ref, bytes: 0 });
    expect(result.layers.total).toBeGreaterThanOrEqual(4);
    // three:1.1 is three:1.0 plus one layer: podman has the three shared ones already.
    expect(result.layers.reused).toBe(3);
    expect(result.layers.pulled).toBe(result.layers.total - 3);
  });
});
