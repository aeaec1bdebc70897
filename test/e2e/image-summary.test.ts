// After the pull, the image as the engine holds it (ID, size on disk, platform) in every mode,
// equal to what the engine itself reports, on the classic store, the containerd store and podman.
import { beforeEach, describe, expect, test } from 'vitest';
import { engineRequest, removeAllImages, stack } from '../support/stack.js';
import { runDpull } from '../support/run-dpull.js';
import { runInPty } from '../support/pty.js';
import { screenOf } from '../support/screen.js';
import { formatBytes } from '../../src/render/format.js';
import { pull } from '../../src/index.js';

const s = stack();
const ref = `${s.registry}/demo/three:1.0`;
const engines = [
  { name: 'dockerd (classic store)', host: s.dockerHost, socket: s.socketPath },
  { name: 'Docker 26 (containerd store)', host: s.docker26Host, socket: s.docker26Socket },
  { name: 'podman', host: s.podmanHost, socket: s.podmanHost.replace('unix://', '') },
];

/** What the engine itself says of the image: `/images/json` filtered by reference, and inspect. */
async function engineView(socket: string, reference: string) {
  const filters = encodeURIComponent(JSON.stringify({ reference: [reference] }));
  const [listed] = JSON.parse((await engineRequest('GET', `/images/json?filters=${filters}`, socket)).body);
  const inspected = JSON.parse((await engineRequest('GET', `/images/${encodeURIComponent(reference)}/json`, socket)).body);
  return { id: listed.Id as string, size: listed.Size as number, platform: `${inspected.Os}/${inspected.Architecture}` };
}

const short = (id: string) => id.slice(0, 'sha256:'.length + 12);

describe.each(engines)('the image as $name holds it', ({ host, socket }) => {
  beforeEach(() => removeAllImages(socket));

  test('json: result has imageId, size, platform and upToDate equal to the engine\'s own', async () => {
    const run = await runDpull(['--progress', 'json', ref], { DOCKER_HOST: host });
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    const view = await engineView(socket, ref);
    expect(result).toMatchObject({ type: 'result', imageId: view.id, size: view.size, platform: view.platform, upToDate: false });
    expect(result.warning).toBeUndefined();
  });

  test('plain: the summary names the image; pulled again, it says up to date with the same image', async () => {
    const first = await runDpull(['--no-tty', ref], { DOCKER_HOST: host });
    expect(first.code).toBe(0);
    const view = await engineView(socket, ref);
    const words = `image ${short(view.id)}, ${formatBytes(view.size)} on disk, ${view.platform}`;
    expect(first.stderr).toMatch(new RegExp(`  Pulled .* reused; ${words}$`, 'm'));
    const again = await runDpull(['--no-tty', ref], { DOCKER_HOST: host });
    // podman says nothing of an image it has: no "up to date" to report, only the image.
    if (host !== s.podmanHost) expect(again.stderr).toMatch(new RegExp(`  Up to date: ${ref.replace(/\./g, '\\.')} \\(sha256:[0-9a-f]{64}\\), checked in \\d+s; ${words}$`, 'm'));
    expect(again.stderr).not.toContain('0 layers pulled');
  });

  test('on a terminal: the closing ✔ line with the ID, size on disk and platform', async () => {
    const run = await runInPty([ref], { DOCKER_HOST: host }, { cols: 120, rows: 30 });
    expect(run.exitCode).toBe(0);
    const screen = await screenOf(run.output, 120, 30, false);
    const view = await engineView(socket, ref);
    expect(screen.logical).toContainEqual(expect.stringMatching(
      new RegExp(`^✔ ${ref.replace(/\./g, '\\.')}  ${short(view.id)} · ${formatBytes(view.size)} on disk · ${view.platform} · pulled in \\d+s$`),
    ));
  });

  test('the library: result.imageId, size and platform', async () => {
    const result = await pull(ref, { host }).result;
    const view = await engineView(socket, ref);
    expect(result).toMatchObject({ imageId: view.id, size: view.size, platform: view.platform });
  });
});

test('the board names the image each engine now holds', async () => {
  await removeAllImages();
  await removeAllImages(s.docker26Socket);
  const run = await runInPty(['-H', s.dockerHost, '-H', s.docker26Host, ref], {}, { cols: 140, rows: 30 });
  expect(run.exitCode).toBe(0);
  const screen = await screenOf(run.output, 140, 30, false);
  for (const [host, socket] of [[s.dockerHost, s.socketPath], [s.docker26Host, s.docker26Socket]]) {
    const view = await engineView(socket, ref);
    expect(screen.lines).toContainEqual(expect.stringMatching(new RegExp(`^✔ ${ref.replace(/\./g, '\\.')} \\(${host}\\)  .* · ${short(view.id)}$`)));
  }
  await removeAllImages(s.docker26Socket);
});
