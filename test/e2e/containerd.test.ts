// containerd as an engine, against the stack's own containerds — Debian 13's 1.7 and forky's 2.1,
// CRI off, as a bare node's engine — checked with ctr from the same package: what dpull leaves there must be what
// `ctr images pull` leaves — the image listed, its content complete and unpacked, the same labels
// on the same blobs, the same snapshots — and it must run.
import { execFileSync } from 'node:child_process';
import { readFileSync, symlinkSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { engineRequest, removeAllImages, stack } from '../support/stack.js';
import { dpullBin, dpullNode, runDpull } from '../support/run-dpull.js';
import { scratchDir } from '../support/scratch.js';
import { paneAfter } from '../support/tmux.js';

const s = stack();
const pushed = JSON.parse(readFileSync('/tmp/dpull-stack/pushed.json', 'utf8')) as { multi: string; corrupt: string; corruptLayer: string };
const runnable = `${s.registry}/demo/runnable:1.0`;

/** The stack's two containerds, each with the ctr of its own package. */
const containerds = [
  { name: 'containerd 1.7', host: s.containerdHost, socket: s.containerdSocket, ctr: s.ctr },
  { name: 'containerd 2.1', host: s.containerd2Host, socket: s.containerd2Socket, ctr: s.ctr2 },
];
type Containerd = (typeof containerds)[number];
const [c17] = containerds;

/** ctr against one of the stack's containerds, in a namespace. */
const ctrOf = (c: Containerd) => (namespace: string, ...args: string[]) =>
  execFileSync(c.ctr, ['--address', c.socket, '-n', namespace, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const ctr = ctrOf(c17);
/** The rows of a ctr table (Go's tabwriter: columns start where the header's words do), each cut into its columns. */
function rows(text: string): string[][] {
  const [header, ...lines] = text.split('\n').filter((l) => l.trim() !== '');
  const starts = [...header.matchAll(/\S+/g)].map((m) => m.index!);
  return lines.map((line) => starts.map((start, i) => line.slice(start, starts[i + 1]).trim()));
}
/** What ctr says of a containerd's namespace: images, each blob's labels, snapshots, `images check`. */
function views(c: Containerd) {
  const run = ctrOf(c);
  return {
    images: (namespace: string) => rows(run(namespace, 'images', 'ls')),
    // (ctr content ls separates its columns by tabs.)
    contentLabels: (namespace: string) =>
      new Map(run(namespace, 'content', 'ls').trim().split('\n').slice(1).map((l) => l.split('\t')).map((r) => [r[0], (r[3] ?? '').split(',').filter((l) => l !== '-' && l !== '').sort()])),
    snapshots: (namespace: string) => run(namespace, 'snapshots', 'ls').trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/).join(' ')).sort(),
    checked: (namespace: string, ref: string) => {
      const row = rows(run(namespace, 'images', 'check')).find((r) => r[0] === ref);
      return row && { status: row[3], unpacked: row.at(-1) };
    },
  };
}
const { checked } = views(c17);
/** Every image of a namespace removed and its content and snapshots collected (ctr waits for the collection). */
function emptyNamespace(c: Containerd, namespace: string) {
  const run = ctrOf(c);
  const names = run(namespace, 'images', 'ls', '-q').trim().split('\n').filter(Boolean);
  if (names.length > 0) run(namespace, 'images', 'rm', '--sync', ...names);
  expect(run(namespace, 'content', 'ls', '-q').trim(), `content left in ${namespace}`).toBe('');
}
const namespaces = ['default', 'k8s.io', 'ctr-oracle', 'dpull-other'];
const cleanAll = () => containerds.forEach((c) => namespaces.forEach((ns) => emptyNamespace(c, ns)));

beforeEach(cleanAll);
afterEach(cleanAll);

describe.each(containerds)('a pull into $name', (c) => {
  const { images, contentLabels, snapshots, checked } = views(c);
  const ctr = ctrOf(c);

  test('fresh into default: listed, complete and unpacked, with the labels and snapshots ctr itself makes, and it runs', async () => {
    const run = await runDpull(['--no-tty', '-H', c.host, runnable], { XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`Status: Loaded ${runnable} into containerd at ${c.host}, namespace default (`);
    const [listed] = images('default');
    expect(listed[0]).toBe(runnable);
    const manifest = await fetch(`http://${s.registry}/v2/demo/runnable/manifests/1.0`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
    expect(listed[2]).toBe(manifest.headers.get('docker-content-digest'));
    expect(checked('default', runnable)).toEqual({ status: 'complete (3/3)', unpacked: 'true' });
    // The oracle: the same image pulled by ctr itself into another namespace (ctr's default: in 1.7
    // its client-side pull, in 2.x the Transfer service).
    ctr('ctr-oracle', 'images', 'pull', '--plain-http', runnable);
    expect(contentLabels('default')).toEqual(contentLabels('ctr-oracle'));
    expect(snapshots('default')).toEqual(snapshots('ctr-oracle'));
    const said = ctr('default', 'run', '--rm', '--runc-binary', '/usr/sbin/runc', runnable, `dpull-test-${process.pid}`, '/busybox-busybox', 'cat', '/busybox-hello.txt');
    expect(said).toBe('hello from a dpull-pulled image\n');
  });

  test('a second pull is up to date: nothing fetched, nothing sent', async () => {
    const cache = scratchDir('dpull-cache-');
    expect((await runDpull(['-q', '-H', c.host, runnable], { XDG_CACHE_HOME: cache })).code).toBe(0);
    const again = await runDpull(['--progress', 'json', '-H', c.host, runnable], { XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(again.code, again.stderr).toBe(0);
    const objects = again.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(objects.find((o) => o.type === 'status')).toMatchObject({ upToDate: true, message: `Image is up to date for ${runnable} in containerd at ${c.host}, namespace default` });
    expect(objects.find((o) => o.type === 'load')).toMatchObject({ sentBytes: 0, upToDate: true });
    expect(objects.at(-1)).toMatchObject({ type: 'result', upToDate: true });
  });

  test('into k8s.io: the reference and the image ID (config digest) recorded, as the CRI plugin keeps them', async () => {
    const run = await runDpull(['--progress', 'json', '-H', c.host, '--namespace', 'k8s.io', runnable], { XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    const config = result.imageId as string;
    expect(config).toMatch(/^sha256:[0-9a-f]{64}$/);
    const listed = images('k8s.io');
    expect(listed.map((r) => r[0]).sort()).toEqual([runnable, config].sort());
    for (const row of listed) {
      expect(row[2]).toBe(result.digest);
      expect(row.at(-1)).toBe('io.cri-containerd.image=managed');
    }
    expect(checked('k8s.io', runnable)).toEqual({ status: 'complete (3/3)', unpacked: 'true' });
    expect(ctr('default', 'images', 'ls', '-q').trim()).toBe(''); // the namespace said, not another
  });

  test('a multi-platform image with --platform: the index recorded, that platform fetched and unpacked, as ctr does it', async () => {
    const ref = `${s.registry}/${pushed.multi}`;
    const run = await runDpull(['--no-tty', '--platform', 'linux/arm64', '-H', c.host, ref], { XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(/, linux\/arm64\/v8$/);
    ctr('ctr-oracle', 'images', 'pull', '--plain-http', '--platform', 'linux/arm64', ref);
    expect(images('default').map((r) => r.slice(0, 3))).toEqual(images('ctr-oracle').map((r) => r.slice(0, 3)));
    const ours = contentLabels('default');
    const ctrs = contentLabels('ctr-oracle');
    if (c === c17) expect(ours).toEqual(ctrs);
    else {
      // ctr 2.x (Transfer service or --local alike) also fetches this machine's platform's manifest
      // and config (not its layers): every blob dpull wrote is labelled as ctr labels it; ctr has
      // those two more.
      const accept = 'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json';
      const index = await (await fetch(`http://${s.registry}/v2/demo/three/manifests/multi`, { headers: { Accept: accept } })).json();
      const amd64 = index.manifests.find((m: { platform: { architecture: string } }) => m.platform.architecture === 'amd64');
      const manifest = await (await fetch(`http://${s.registry}/v2/demo/three/manifests/${amd64.digest}`, { headers: { Accept: amd64.mediaType } })).json();
      for (const [digest, labels] of ours) expect(ctrs.get(digest), digest).toEqual(labels);
      expect([...ctrs.keys()].filter((d) => !ours.has(d)).sort()).toEqual([amd64.digest, manifest.config.digest].sort());
    }
    expect(snapshots('default')).toEqual(snapshots('ctr-oracle'));
  });

  test('a blob the registry serves corrupted: exit 1, nothing listed, none of it in containerd', async () => {
    const run = await runDpull(['--no-tty', '-H', c.host, `${s.registry}/${pushed.corrupt}`], { XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^dpull: blob ${pushed.corruptLayer} from ${s.registry} does not match its digest`));
    expect(ctr('default', 'images', 'ls', '-q').trim()).toBe('');
    expect(ctr('default', 'content', 'ls', '-q')).not.toContain(pushed.corruptLayer);
  });

  test('two pulls of one image at once (two caches): both succeed, the image whole', async () => {
    const runs = await Promise.all([0, 1].map(() => runDpull(['--no-tty', '-H', c.host, runnable], { XDG_CACHE_HOME: scratchDir('dpull-cache-') })));
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    expect(checked('default', runnable)).toEqual({ status: 'complete (3/3)', unpacked: 'true' });
  });
});

describe('a pull into containerd 1.7', () => {
  test('CONTAINERD_NAMESPACE names the namespace, as ctr and nerdctl read it', async () => {
    const run = await runDpull(['-q', '-H', s.containerdHost, runnable], { CONTAINERD_NAMESPACE: 'dpull-other', XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.code, run.stderr).toBe(0);
    expect(ctr('dpull-other', 'images', 'ls', '-q').trim()).toBe(runnable);
  });

  test('a private image with credentials only dpull has: pulled, and no secret printed', async () => {
    const ref = `${s.tokenRegistry}/private/three:1.0`;
    const auth = Buffer.from(`${s.authUser}:${s.authPassword}`).toString('base64');
    const run = await runDpull(['--no-tty', '-H', s.containerdHost, ref], { DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { [s.tokenRegistry]: { auth } } }), XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.code, run.stderr).toBe(0);
    expect(checked('default', ref)).toEqual({ status: 'complete (4/4)', unpacked: 'true' });
    expect(run.stdout + run.stderr).not.toContain(s.authPassword);
    expect(run.stdout + run.stderr).not.toContain(auth);
  });

  test('three engines from one command — dockerd, Docker 26, containerd — each holds the image', async () => {
    const ref = `${s.registry}/demo/three:1.0`;
    const sockets = [s.socketPath, s.docker26Socket];
    for (const socket of sockets) await removeAllImages(socket);
    try {
      const run = await runDpull(['--no-tty', '-H', s.dockerHost, '-H', s.docker26Host, '-H', s.containerdHost, ref], { XDG_CACHE_HOME: scratchDir('dpull-cache-') });
      expect(run.code, run.stderr).toBe(0);
      for (const socket of sockets) expect((await engineRequest('GET', `/images/${encodeURIComponent(ref)}/json`, socket)).status, socket).toBe(200);
      expect(checked('default', ref)).toEqual({ status: 'complete (4/4)', unpacked: 'true' });
    } finally {
      for (const socket of sockets) await removeAllImages(socket);
    }
  });
});

test('--load into dockerd and both containerds: one fetch — one manifest GET, each blob once — and each holds the image', async () => {
  const { faultProxy } = await import('../support/fault-proxy.js');
  const proxy = await faultProxy(s.registry, 'none', 0);
  const ref = `${proxy.address}/demo/three:1.0`;
  try {
    await removeAllImages(s.socketPath);
    const run = await runDpull(['--no-tty', '--load', '-H', s.dockerHost, '-H', s.containerdHost, '-H', s.containerd2Host, '-n', 'k8s.io', ref], { XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.code, run.stderr).toBe(0);
    expect((await engineRequest('GET', `/images/${encodeURIComponent(ref)}/json`, s.socketPath)).status).toBe(200);
    for (const c of containerds) expect(views(c).checked('k8s.io', ref), c.name).toEqual({ status: 'complete (4/4)', unpacked: 'true' });
    const blobs = proxy.requests.filter((r) => r.startsWith('GET ') && r.includes('/blobs/') && r.endsWith(' 200'));
    expect(blobs).toHaveLength(4); // the config and three layers
    expect(new Set(blobs).size).toBe(blobs.length);
    expect(proxy.requests.filter((r) => r.startsWith('GET ') && r.includes('/manifests/') && r.endsWith(' 200'))).toHaveLength(1);
  } finally {
    await proxy.close();
    await removeAllImages(s.socketPath);
  }
});

describe('finding containerd', () => {
  test('CONTAINERD_ADDRESS (a socket path, as ctr takes it) with no docker engine set', async () => {
    const run = await runDpull(['-q', runnable], { HOME: scratchDir('dpull-home-'), CONTAINERD_ADDRESS: s.containerdSocket, XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.code, run.stderr).toBe(0);
    expect(ctr('default', 'images', 'ls', '-q').trim()).toBe(runnable);
  });

  test("on a machine with no docker socket, rootless containerd's $XDG_RUNTIME_DIR/containerd/containerd.sock is found", async () => {
    const runtime = scratchDir('dpull-runtime-');
    mkdirSync(join(runtime, 'containerd'));
    symlinkSync(s.containerdSocket, join(runtime, 'containerd', 'containerd.sock'));
    const run = await runDpull(['-q', runnable], { HOME: scratchDir('dpull-home-'), XDG_RUNTIME_DIR: runtime, XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.code, run.stderr).toBe(0);
    expect(ctr('default', 'images', 'ls', '-q').trim()).toBe(runnable);
  });
});

describe('one line for each way it fails', () => {
  test('a socket that is no containerd (a docker engine): exit 3', async () => {
    const run = await runDpull(['-H', `containerd://${s.socketPath}`, runnable], { XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(new RegExp(`^dpull: cannot reach containerd at containerd://${s.socketPath}: [^\\n]+\\n$`));
  });

  test('containerd\'s socket named as a docker engine (unix://): exit 3, and the address to use', async () => {
    const run = await runDpull(['-H', `unix://${s.containerdSocket}`, runnable]);
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(`dpull: unix://${s.containerdSocket} does not answer like a Docker engine: its answer is not HTTP (containerd's socket? that is -H containerd://${s.containerdSocket})\n`);
  });

  test('nothing at the socket: exit 3', async () => {
    const run = await runDpull(['-H', 'containerd:///nonexistent/containerd.sock', runnable], { XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^dpull: cannot reach containerd at containerd:\/\/\/nonexistent\/containerd\.sock: [^\n]+\n$/);
  });

  test('an image the registry does not have: exit 1, nothing listed', async () => {
    const run = await runDpull(['-H', s.containerdHost, `${s.registry}/demo/nothing:1.0`], { XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(ctr('default', 'images', 'ls', '-q').trim()).toBe('');
  });

  test('denied (a private image, no credentials) and an unreachable registry: exit 1, one line each, nothing listed', async () => {
    for (const ref of [`${s.tokenRegistry}/private/three:1.0`, `${s.downRegistry}/demo/three:1.0`]) {
      const run = await runDpull(['-H', s.containerdHost, ref], { XDG_CACHE_HOME: scratchDir('dpull-cache-'), DOCKER_CONFIG: scratchDir('dpull-config-') });
      expect(run.code, ref).toBe(1);
      expect(run.stderr.split('\n').filter(Boolean), run.stderr).toHaveLength(1);
      expect(run.stderr).toMatch(/^dpull: /);
    }
    expect(ctr('default', 'images', 'ls', '-q').trim()).toBe('');
  });

  test('a namespace containerd would refuse, and --namespace with no containerd engine: usage errors', async () => {
    const bad = await runDpull(['-H', s.containerdHost, '--namespace', '../k8s', runnable]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('dpull: invalid containerd namespace "../k8s": letters and digits, joined by single . _ or -\n');
    const docker = await runDpull(['-H', s.dockerHost, '--namespace', 'k8s.io', runnable]);
    expect(docker.code).toBe(2);
    expect(docker.stderr).toBe('dpull: --namespace is for containerd engines, and none is named (-H containerd:///run/containerd/containerd.sock)\n');
  });
});

describe('what a user sees', () => {
  test('Ctrl-C mid-pull: 130, the cursor back, nothing listed', async () => {
    const { runInPty } = await import('../support/pty.js');
    const { screenOf } = await import('../support/screen.js');
    const { throttledRegistry } = await import('../support/throttled.js');
    const image = `${await throttledRegistry(s.registry, 300_000)}/demo/eight:1.0`;
    const run = await runInPty(['-H', s.containerdHost, image], { XDG_CACHE_HOME: scratchDir('dpull-cache-') }, { cols: 100, rows: 30 }, {
      act: { when: (out) => out.includes('█'), act: (term) => term.write('\x03') },
    });
    expect(run.exitCode).toBe(130);
    expect((await screenOf(run.output, 100, 30, false)).cursorHidden).toBe(false);
    expect(ctr('default', 'images', 'ls', '-q').trim()).toBe('');
  });

  test('in tmux, the pane shows each layer unpacked and the result', async () => {
    const ref = `${s.slowRegistry}/demo/three:1.0`;
    const lines = await paneAfter(`env XDG_CACHE_HOME=${scratchDir('dpull-cache-')} ${dpullNode()} ${dpullBin} -H ${s.containerdHost} -n k8s.io ${ref}`, { cols: 160, rows: 20 });
    const pane = lines.join('\n');
    expect(lines, pane).toContain('exit=0');
    expect(lines.filter((l) => /^[0-9a-f]{12}  Pull complete/.test(l)), pane).toHaveLength(3);
    expect(lines.some((l) => l.startsWith(`Status: Loaded ${ref} into containerd at ${s.containerdHost}, namespace k8s.io`)), pane).toBe(true);
  });
});

describe('import { pull } from "dpull"', () => {
  test('into k8s.io: the same events and result as from an engine; the image there', async () => {
    const { pull } = await import('../../dist/index.js');
    const running = pull(runnable, { host: s.containerdHost, namespace: 'k8s.io', cacheDir: scratchDir('dpull-cache-') });
    const types = new Set<string>();
    for await (const event of running) types.add(event.type);
    const result = await running.result;
    expect([...types]).toEqual(expect.arrayContaining(['pulling', 'layer', 'sending', 'digest', 'status', 'load', 'image']));
    expect(result).toMatchObject({ reference: runnable, upToDate: false, layers: { total: 2 } });
    expect(result.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(checked('k8s.io', runnable)).toEqual({ status: 'complete (3/3)', unpacked: 'true' });
  });

  test('aborted while the blobs go into containerd: rejected, nothing listed, no lease of dpull left behind', async () => {
    const { pull } = await import('../../dist/index.js');
    const controller = new AbortController();
    const running = pull(`${s.registry}/demo/eight:1.0`, { host: s.containerdHost, signal: controller.signal, cacheDir: scratchDir('dpull-cache-') });
    running.subscribe((batch) => {
      if (batch.some((e) => e.type === 'sending' && e.sentBytes > 0)) controller.abort(new Error('stop'));
    });
    await expect(running.result).rejects.toThrow('stop');
    expect(ctr('default', 'images', 'ls', '-q').trim()).toBe('');
    expect(ctr('default', 'leases', 'ls')).not.toMatch(/dpull-/);
  });
});

describe('a hostile containerd (a gRPC server of the test\'s own)', () => {
  test('a layer it says unpacks to another digest than the config\'s: exit 1, the image not recorded', async () => {
    const { fakeContainerd } = await import('../support/fake-containerd.js');
    const fake = await fakeContainerd({ appliedDigest: `sha256:${'ab'.repeat(32)}` });
    const run = await runDpull(['--no-tty', '-H', fake.host, `${s.registry}/demo/three:1.0`], { XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^dpull: containerd could not finish unpacking the image: layer sha256:[0-9a-f]{64} unpacks to sha256:${'ab'.repeat(32)}, not the sha256:[0-9a-f]{64} its config says$`));
    expect(fake.calls).not.toContain('Images.Create');
    expect(fake.calls).toContain('Leases.Delete');
  });

  test('its error words with terminal escapes and the registry password in them: printed clean, no secret', async () => {
    const { fakeContainerd } = await import('../support/fake-containerd.js');
    const fake = await fakeContainerd({ writeError: `\x1b[2J\x1b]0;pwned\x07disk on fire for ${s.authPassword}` });
    const auth = Buffer.from(`${s.authUser}:${s.authPassword}`).toString('base64');
    const run = await runDpull(['--no-tty', '-H', fake.host, `${s.authRegistry}/private/three:1.0`], { DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { [s.authRegistry]: { auth } } }), XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(/^dpull: containerd could not finish writing the image into its content store: .*disk on fire for /);
    expect(run.stdout + run.stderr).not.toContain('\x1b');
    expect(run.stdout + run.stderr).not.toContain('\x07');
    expect(run.stdout + run.stderr).not.toContain(s.authPassword);
  });

  test.each([
    ['an unpack that never ends', { applyHangs: true }],
    ['a write never answered', { writeSilent: true }],
  ])('%s, with --timeout 2s: exit 1 naming containerd, not a hang', async (_, hostility) => {
    const { fakeContainerd } = await import('../support/fake-containerd.js');
    const fake = await fakeContainerd(hostility);
    const started = Date.now();
    const run = await runDpull(['--no-tty', '--timeout', '2s', '-H', fake.host, `${s.registry}/demo/three:1.0`], { XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toBe(`dpull: nothing from containerd at ${fake.host} for 2s (--timeout); the pull was cancelled`);
    expect(fake.calls).not.toContain('Images.Create');
  });
});
