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

/** The stack's four engines: dockerd, Docker 26 (containerd store), podman, dockerd over ssh. */
const fleet = () => [
  { host: s.dockerHost, socket: s.socketPath, store: 'classic' },
  { host: s.docker26Host, socket: s.docker26Socket, store: 'containerd' },
  { host: s.podmanHost, socket: s.podmanHost.replace('unix://', ''), store: 'classic' },
  { host: `${s.sshHost}${s.socketPath}`, socket: s.socketPath, store: 'classic' },
];
const sockets = () => [...new Set(fleet().map((e) => e.socket))];

/** The registry's own digests of an image: its manifest's and its config's. */
async function registryDigests(registry: string, path: string, authorization?: string) {
  const response = await fetch(`http://${registry}/v2/${path.replace(':', '/manifests/')}`, {
    headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json', ...(authorization && { Authorization: authorization }) },
  });
  const manifest = (await response.json()) as { config: { digest: string }; layers: unknown[] };
  return { manifest: response.headers.get('docker-content-digest')!, config: manifest.config.digest, layers: manifest.layers.length };
}

test('two images, one private, into four engines at once (dockerd, Docker 26, podman, dockerd over ssh): each manifest asked once, each blob fetched once, every engine ends with both images under the registry\'s IDs', async () => {
  const { faultProxy } = await import('../support/fault-proxy.js');
  // Counting proxies in front of the open registry and the htpasswd one (whose credentials only dpull has).
  const open = await faultProxy(s.registry, 'none', 0);
  const closed = await faultProxy(s.authRegistry, 'none', 0);
  const basic = `Basic ${Buffer.from(`${s.authUser}:${s.authPassword}`).toString('base64')}`;
  const images = [
    { ref: `${open.address}/demo/eight:1.0`, proxy: open, ...(await registryDigests(s.registry, 'demo/eight:1.0')) },
    { ref: `${closed.address}/private/three:1.0`, proxy: closed, ...(await registryDigests(s.authRegistry, 'private/three:1.0', basic)) },
  ];
  const config = JSON.stringify({ auths: { [closed.address]: { auth: Buffer.from(`${s.authUser}:${s.authPassword}`).toString('base64') } } });
  try {
    for (const socket of sockets()) await removeAllImages(socket);
    const args = ['--progress', 'json', '--load', ...fleet().flatMap((e) => ['-H', e.host]), ...images.map((i) => i.ref)];
    const run = await runDpull(args, { PATH: s.sshPath, DOCKER_AUTH_CONFIG: config, XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.code, run.stderr).toBe(0);
    for (const image of images) {
      // (Answered ones: the first, unauthenticated, request of a private image is the registry's challenge.)
      const gets = image.proxy.requests.filter((r) => r.startsWith('GET ') && r.endsWith(' 200'));
      expect(gets.filter((r) => r.includes('/manifests/')), image.proxy.requests.join('\n')).toHaveLength(1);
      const blobs = gets.filter((r) => r.includes('/blobs/'));
      expect(blobs, image.ref).toHaveLength(image.layers + 1); // the layers and the config, each once
      expect(new Set(blobs).size).toBe(blobs.length);
    }
    const results = run.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((o) => o.type === 'result');
    expect(results).toHaveLength(8);
    for (const engine of fleet()) {
      for (const image of images) {
        const held = await engineRequest('GET', `/images/${encodeURIComponent(image.ref)}/json`, engine.socket);
        expect(held.status, `${image.ref} in ${engine.host}`).toBe(200);
        const id = (JSON.parse(held.body) as { Id: string }).Id.replace(/^(sha256:)?/, 'sha256:');
        // The classic store and podman name an image by its config's digest, the containerd store by its manifest's.
        expect(id, `${image.ref} in ${engine.host}`).toBe(engine.store === 'containerd' ? image.manifest : image.config);
        expect(results.find((r) => r.engine === engine.host && r.reference === image.ref)?.imageId).toBe(id);
      }
    }
    expect(run.stdout + run.stderr).not.toContain(s.authPassword);
  } finally {
    await open.close();
    await closed.close();
    for (const socket of sockets()) await removeAllImages(socket);
  }
});

test('the library: pull(ref, { load: true, hosts }) gives each engine\'s outcome, the fetch once; every engine down rejects with the worst exit code', async () => {
  const { pull } = await import('../../src/index.js');
  const { faultProxy } = await import('../support/fault-proxy.js');
  const proxy = await faultProxy(s.registry, 'none', 0);
  const down = 'unix:///nonexistent/docker.sock';
  const ref = `${proxy.address}/demo/three:1.0`;
  const engines = [s.dockerHost, s.docker26Host, s.podmanHost];
  try {
    for (const socket of sockets()) await removeAllImages(socket);
    const running = pull(ref, { load: true, hosts: [...engines, down], cacheDir: scratchDir('dpull-cache-') });
    expect(running.engines).toHaveLength(4);
    const result = await running.result;
    expect(result.engines!.map((e) => e.engine)).toEqual([...engines, down]);
    expect(result.engines!.slice(0, 3).map((e) => e.result?.load?.upToDate)).toEqual([false, false, false]);
    expect(result.engines![3].error?.exitCode).toBe(3);
    expect(result.engines![3].error?.message).toMatch(/^cannot connect to the Docker engine at unix:\/\/\/nonexistent/);
    const { layers } = await registryDigests(s.registry, 'demo/three:1.0');
    const blobs = proxy.requests.filter((r) => r.startsWith('GET ') && r.includes('/blobs/') && r.endsWith(' 200'));
    expect(blobs).toHaveLength(layers + 1);
    // The fetch's bytes, once: what the registry sent, not once per engine.
    expect(result.bytes).toBe(proxy.blobBytes() - (await registryDigests(s.registry, 'demo/three:1.0').then(async (d) => (await fetch(`http://${s.registry}/v2/demo/three/blobs/${d.config}`)).arrayBuffer())).byteLength);
    expect(running.state.totals(0).layers).toBe(layers);
    for (const [i, host] of engines.entries()) {
      const socket = host.replace('unix://', '');
      const held = JSON.parse((await engineRequest('GET', `/images/${encodeURIComponent(ref)}/json`, socket)).body) as { Id: string };
      expect(result.engines![i].result?.imageId).toBe(held.Id.replace(/^(sha256:)?/, 'sha256:'));
    }
    const again = pull(ref, { load: true, hosts: [down, 'unix:///nonexistent/other.sock'], cacheDir: scratchDir('dpull-cache-') });
    await expect(again.result).rejects.toMatchObject({ exitCode: 3, message: expect.stringMatching(/^all 2 engines failed: cannot connect/) });
    expect(() => pull(ref, { hosts: [s.dockerHost] }).result).not.toThrow();
    await expect(pull(ref, { hosts: [s.dockerHost] }).result).rejects.toMatchObject({ exitCode: 2 });
  } finally {
    await proxy.close();
    for (const socket of sockets()) await removeAllImages(socket);
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
    // The log tells each layer's fetch once, whichever pull fetched it, and each engine's load.
    expect(run.stderr.split('\n').filter((l) => / [0-9a-f]{12}: Pull complete$/.test(l))).toHaveLength(4);
    for (const host of [s.dockerHost, s.docker26Host, s.podmanHost]) {
      expect(run.stderr).toMatch(new RegExp(`\\(${host}\\) {2}Loaded ${image.replace(/\./g, '\\.')} \\(sha256:[0-9a-f]{64}\\) in \\d+s: `));
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
    // The fetch once (its header), then a row per engine with its outcome, then the total.
    const lines = screen.lines.filter((l) => l.trim() !== '');
    const header = lines.findIndex((l) => l.startsWith(`✔ ${image.slice(0, cols - 3)}`.slice(0, cols - 2)));
    expect(header, screen.lines.join('\n')).toBeGreaterThanOrEqual(0);
    const engineRows = lines.slice(header + 1, header + 5);
    expect(engineRows.every((l) => /^ {2}✔ /.test(l)), engineRows.join('\n')).toBe(true);
    if (cols >= 80) {
      expect(lines[header]).toMatch(/  3 layers · [\d.]+ MB fetched · 4\/4 engines$/);
      // (dockerd is reached twice, by its socket and over ssh: one of the two may find it up to date.)
      for (const row of engineRows) expect(row).toMatch(/ {2}(loaded · [\d.]+ MB sent|up to date) · sha256:[0-9a-f]{12}$/);
    }
    expect(lines.find((l) => l.startsWith('Total  '))).toMatch(cols >= 80 ? /^Total {2}4\/4 loads complete · [\d.]+ MB fetched · [\d.]+ MB sent/ : /^Total {2}4\/4 loads/);
    for (const socket of sockets) expect((await engineRequest('GET', `/images/${encodeURIComponent(image)}/json`, socket)).status, socket).toBe(200);
  } finally {
    for (const socket of sockets) await removeAllImages(socket);
  }
});

test('Ctrl-C while four engines wait for a slow fetch: 130, a row per engine says interrupted, the cursor back, nothing in the cache that looks whole', async () => {
  const { runInPty } = await import('../support/pty.js');
  const { screenOf } = await import('../support/screen.js');
  const { throttledRegistry } = await import('../support/throttled.js');
  const { readdirSync } = await import('node:fs');
  const cache = scratchDir('dpull-cache-');
  const image = `${await throttledRegistry(s.registry, 300_000)}/demo/eight:1.0`;
  const hosts = [s.dockerHost, s.docker26Host, s.podmanHost, `${s.sshHost}${s.socketPath}`];
  const run = await runInPty(['--load', ...hosts.flatMap((h) => ['-H', h]), image], { PATH: s.sshPath, XDG_CACHE_HOME: cache }, { cols: 100, rows: 30 }, {
    act: { when: (out) => out.includes('█'), act: (term) => term.write('\x03') },
  });
  expect(run.exitCode).toBe(130);
  const screen = await screenOf(run.output, 100, 30, false);
  expect(screen.lines.filter((l) => /^ {2}✘ .* {2}interrupted$/.test(l)), screen.lines.join('\n')).toHaveLength(4);
  expect(screen.lines.find((l) => l.startsWith('Total  '))).toMatch(/^Total {2}0\/4 loads complete · 4 interrupted/);
  expect(screen.cursorHidden).toBe(false);
  // What arrived is kept to resume, under names that say it is partial; nothing else.
  const blobs = join(cache, 'dpull', 'layout', 'blobs', 'sha256');
  for (const name of readdirSync(blobs)) expect(name).toMatch(/^[0-9a-f]{64}(\.partial)?$/);
  for (const socket of sockets()) expect((await engineRequest('GET', `/images/${encodeURIComponent(image)}/json`, socket)).status, socket).toBe(404);
});

test('a mix of transports — unix (Docker 26), tcp with TLS (dockerd), ssh (to podman\'s socket) — filled from one fetch', async () => {
  const { faultProxy } = await import('../support/fault-proxy.js');
  const proxy = await faultProxy(s.registry, 'none', 0);
  const image = `${proxy.address}/demo/three:1.0`;
  const podmanSocket = s.podmanHost.replace('unix://', '');
  const held = [s.docker26Socket, s.socketPath, podmanSocket];
  try {
    for (const socket of held) await removeAllImages(socket);
    const tls = ['--tlsverify', '--tlscacert', join(s.certPath, 'ca.pem'), '--tlscert', join(s.certPath, 'cert.pem'), '--tlskey', join(s.certPath, 'key.pem')];
    const run = await runDpull(['--no-tty', '--load', ...tls, '-H', s.docker26Host, '-H', s.tlsHost, '-H', `${s.sshHost}${podmanSocket}`, image], { PATH: s.sshPath, XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.code, run.stderr).toBe(0);
    for (const socket of held) expect((await engineRequest('GET', `/images/${encodeURIComponent(image)}/json`, socket)).status, socket).toBe(200);
    const blobs = proxy.requests.filter((r) => r.startsWith('GET ') && r.includes('/blobs/') && r.endsWith(' 200'));
    expect(new Set(blobs).size).toBe(blobs.length); // each blob once
    expect(proxy.requests.filter((r) => r.startsWith('GET ') && r.includes('/manifests/') && r.endsWith(' 200'))).toHaveLength(1);
  } finally {
    await proxy.close();
    for (const socket of held) await removeAllImages(socket);
  }
});
