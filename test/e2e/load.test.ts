// --load: pulled through dpull (its network, its credentials), loaded into an engine that could not
// have pulled the image itself: the token registry's private image, whose credentials only dpull has.
import { beforeEach, describe, expect, test } from 'vitest';
import { engineRequest, removeAllImages, stack } from '../support/stack.js';
import { runDpull } from '../support/run-dpull.js';
import { scratchDir } from '../support/scratch.js';
import { join } from 'node:path';

const s = stack();
const ref = `${s.tokenRegistry}/private/three:1.0`;
const credentials = () => JSON.stringify({ auths: { [s.tokenRegistry]: { auth: Buffer.from(`${s.authUser}:${s.authPassword}`).toString('base64') } } });
const engines = [
  { name: 'dockerd', host: () => s.dockerHost, socket: () => s.socketPath, env: {} },
  { name: 'Docker 26', host: () => s.docker26Host, socket: () => s.docker26Socket, env: {} },
  { name: 'dockerd over ssh', host: () => s.sshHost, socket: () => s.socketPath, env: { PATH: s.sshPath } },
];

describe.each(engines)('--load into $name', ({ host, socket, env }) => {
  beforeEach(() => removeAllImages(socket()));

  test('the engine could not pull it; through dpull it has it, with the ID dpull says, and no secret printed', async () => {
    const alone = await runDpull(['-q', '-H', host(), ref], { ...env });
    expect(alone.code).toBe(1); // the engine has no credentials for the registry
    const run = await runDpull(['--progress', 'json', '--load', '-H', host(), ref], { ...env, DOCKER_AUTH_CONFIG: credentials(), XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const objects = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(objects.some((o) => o.type === 'message' && /^Loading into the engine at /.test(o.message))).toBe(true);
    expect(objects.find((o) => o.type === 'status').message).toMatch(new RegExp(`^Loaded image: ${ref.replace(/\./g, '\\.')} into the engine at `));
    const result = objects.at(-1);
    const image = JSON.parse((await engineRequest('GET', `/images/${encodeURIComponent(ref)}/json`, socket())).body);
    expect(image.RepoTags).toContain(ref);
    expect(result).toMatchObject({ type: 'result', reference: ref, imageId: image.Id, layers: { total: 3 } });
    // The containerd store names an image by its manifest's digest: the registry's, kept byte for byte.
    if (host() === s.docker26Host) expect(image.Id).toBe(result.digest);
    expect(run.stdout + run.stderr).not.toContain(s.authPassword);
    expect(run.stdout + run.stderr).not.toContain(Buffer.from(`${s.authUser}:${s.authPassword}`).toString('base64'));
  });
});

test('--load and --output together, or with -a: usage errors', async () => {
  const both = await runDpull(['--load', '-o', 'oci:/nonexistent/x', ref], {});
  expect(both.code).toBe(2);
  expect(both.stderr).toBe('dpull: --output and --load go to different places: choose one\n');
  const all = await runDpull(['--load', '-a', `${s.tokenRegistry}/private/three`], {});
  expect(all.code).toBe(2);
  expect(all.stderr).toBe('dpull: --all-tags cannot go with --load: pull the tags one by one\n');
});

test('one image into three engines at once (dockerd, Docker 26, podman): its manifest asked once, each blob fetched once, every engine holds it', async () => {
  const { hostileRegistry, testImage } = await import('../support/hostile-registry.js');
  const registry = await hostileRegistry(undefined, testImage(3));
  const podmanSocket = s.podmanHost.replace('unix://', '');
  try {
    for (const socket of [s.socketPath, s.docker26Socket, podmanSocket]) await removeAllImages(socket);
    const image = `${registry.address}/app:1.0`;
    const run = await runDpull(['-q', '--load', '-H', s.dockerHost, '-H', s.docker26Host, '-H', s.podmanHost, image], { XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const gets = registry.requests.filter((r) => r.startsWith('GET '));
    expect(gets.filter((r) => r.includes('/manifests/'))).toHaveLength(1);
    const blobs = gets.filter((r) => r.includes('/blobs/'));
    expect(blobs).toHaveLength(4); // 3 layers and the config
    expect(new Set(blobs).size).toBe(4);
    for (const socket of [s.socketPath, s.docker26Socket, podmanSocket]) {
      expect((await engineRequest('GET', `/images/${encodeURIComponent(image)}/json`, socket)).status, socket).toBe(200);
    }
  } finally {
    await registry.close();
    for (const socket of [s.socketPath, s.docker26Socket, podmanSocket]) await removeAllImages(socket);
  }
});

describe('sending an engine only what it lacks (classic store)', () => {
  /** A unix socket in front of dockerd's that counts the bytes sent to the engine. */
  async function countingSocket(): Promise<{ host: string; sent: () => number; close: () => Promise<void> }> {
    const net = await import('node:net');
    const path = join(scratchDir('dpull-count-'), 'engine.sock');
    let sent = 0;
    const server = net.createServer((client) => {
      const engine = net.connect(s.socketPath);
      client.on('data', (d) => (sent += d.length));
      client.pipe(engine).pipe(client);
      client.on('error', () => engine.destroy());
      engine.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return { host: `unix://${path}`, sent: () => sent, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }
  const layersOf = async (tag: string) =>
    ((await (await fetch(`http://${s.registry}/v2/demo/three/manifests/${tag}`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } })).json()) as { layers: { digest: string; size: number }[] }).layers;

  test('an image sharing 3 of its 4 layers with one the engine has: only the missing layer is sent (within 5 %); the same image again: nothing but the check', async () => {
    await removeAllImages();
    const counter = await countingSocket();
    const env = { XDG_CACHE_HOME: scratchDir('dpull-cache-') };
    try {
      expect((await runDpull(['-q', '--load', '-H', counter.host, `${s.registry}/demo/three:1.0`], env)).code).toBe(0);
      const base = new Set((await layersOf('1.0')).map((l) => l.digest));
      const missing = (await layersOf('1.1')).filter((l) => !base.has(l.digest)).reduce((sum, l) => sum + l.size, 0);
      const before = counter.sent();
      const run = await runDpull(['--progress', 'json', '--load', '-H', counter.host, `${s.registry}/demo/three:1.1`], env);
      expect(run.code, run.stderr).toBe(0);
      const sent = counter.sent() - before;
      expect(sent).toBeLessThanOrEqual(missing * 1.05);
      expect(sent).toBeGreaterThan(missing * 0.9); // (a docker-archive holds the layer uncompressed-or-not as fetched: about its size)
      const events = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
      // The json says it per engine, as it was counted on the socket.
      const [load] = events.filter((e) => e.type === 'load');
      expect(load).toMatchObject({ engine: counter.host, upToDate: false });
      expect(load.sentBytes).toBeGreaterThan(sent * 0.9); // the archive is most of what crossed the socket
      expect(load.sentBytes).toBeLessThanOrEqual(sent);
      expect(load.skippedBytes).toBe((await layersOf('1.1')).filter((l) => base.has(l.digest)).reduce((sum, l) => sum + l.size, 0));
      expect(events.at(-1)).toMatchObject({ type: 'result', load: { sentBytes: load.sentBytes } });
      expect(events.filter((e) => e.type === 'layer' && e.status === 'Already exists').map((e) => e.layer).sort()).toEqual([...base].map((d) => d.slice(7, 19)).sort());
      expect((await engineRequest('GET', `/images/${encodeURIComponent(`${s.registry}/demo/three:1.1`)}/json`)).status).toBe(200);
      const again = counter.sent();
      const upToDate = await runDpull(['--no-tty', '--load', '-H', counter.host, `${s.registry}/demo/three:1.1`], env);
      expect(upToDate.code, upToDate.stderr).toBe(0);
      expect(upToDate.stderr).toContain(`Image is up to date for ${s.registry}/demo/three:1.1 in the engine at ${counter.host}`);
      expect(upToDate.stderr).toContain(`nothing sent to ${counter.host}: it has the image`);
      expect(counter.sent() - again).toBeLessThan(20_000);
    } finally {
      await counter.close();
      await removeAllImages();
    }
  });
});

test('five engines, one down and one dying mid-load: the other three finish with the image, the summary names both failures, nothing partial left in the cache', async () => {
  const { hostileRegistry, testImage } = await import('../support/hostile-registry.js');
  const { fakeEngine } = await import('../support/fake-engine.js');
  const { readdirSync } = await import('node:fs');
  const registry = await hostileRegistry(undefined, testImage(4));
  // An engine that takes the upload for a moment and dies.
  const dying = await fakeEngine((req, res) => {
    if (!req.url?.includes('/images/load')) return void res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"message":"No such image"}');
    let got = 0;
    req.on('data', (d: Buffer) => {
      got += d.length;
      if (got > 4000) req.socket.destroy();
    });
  });
  const podmanSocket = s.podmanHost.replace('unix://', '');
  const cache = scratchDir('dpull-cache-');
  const down = 'unix:///nonexistent/docker.sock';
  try {
    for (const socket of [s.socketPath, s.docker26Socket, podmanSocket]) await removeAllImages(socket);
    const image = `${registry.address}/app:1.0`;
    const run = await runDpull(['--no-tty', '--load', '-H', s.dockerHost, '-H', down, '-H', s.docker26Host, '-H', dying.host, '-H', s.podmanHost, image], { XDG_CACHE_HOME: cache });
    expect(run.code).toBe(3); // the worst outcome: an engine that cannot be reached
    const summary = run.stderr.slice(run.stderr.indexOf('dpull: 2 of 5 pulls failed:'));
    expect(summary.split('\n').slice(0, 3)).toEqual([
      'dpull: 2 of 5 pulls failed:',
      expect.stringMatching(new RegExp(`^  ${image.replace(/\./g, '\\.')} \\(${down}\\): cannot connect to the Docker engine at ${down}`)),
      expect.stringMatching(new RegExp(`^  ${image.replace(/\./g, '\\.')} \\(${dying.host}\\): `)),
    ]);
    for (const socket of [s.socketPath, s.docker26Socket, podmanSocket]) {
      expect((await engineRequest('GET', `/images/${encodeURIComponent(image)}/json`, socket)).status, socket).toBe(200);
    }
    const blobs = join(cache, 'dpull', 'layout', 'blobs', 'sha256');
    expect(readdirSync(blobs).filter((f) => !/^[a-f0-9]{64}$/.test(f))).toEqual([]);
    expect(registry.requests.filter((r) => r.startsWith('GET ') && r.includes('/blobs/'))).toHaveLength(5);
  } finally {
    await registry.close();
    await dying.close();
    for (const socket of [s.socketPath, s.docker26Socket, podmanSocket]) await removeAllImages(socket);
  }
});

test.each([
  [80, 24],
  [40, 24],
])('four engines on a terminal of %i×%i: no line wraps, every engine ends with the image', async (cols, rows) => {
  const { runInPty } = await import('../support/pty.js');
  const { screenOf } = await import('../support/screen.js');
  const podmanSocket = s.podmanHost.replace('unix://', '');
  const sockets = [s.socketPath, s.docker26Socket, podmanSocket];
  for (const socket of sockets) await removeAllImages(socket);
  const image = `${s.slowRegistry}/demo/three:1.0`;
  try {
    const run = await runInPty(['--load', '-H', s.dockerHost, '-H', s.docker26Host, '-H', s.podmanHost, '-H', `${s.sshHost}/tmp/dpull-stack/docker.sock`, image], { PATH: s.sshPath, XDG_CACHE_HOME: scratchDir('dpull-cache-') }, { cols, rows });
    const screen = await screenOf(run.output, cols, rows, false);
    expect(run.exitCode, screen.lines.join('\n')).toBe(0);
    // Only what is printed for good may wrap: the references on stdout, whole.
    expect(screen.wrappedLines.filter((l) => l !== image)).toEqual([]);
    for (const socket of sockets) expect((await engineRequest('GET', `/images/${encodeURIComponent(image)}/json`, socket)).status, socket).toBe(200);
  } finally {
    for (const socket of sockets) await removeAllImages(socket);
  }
});
