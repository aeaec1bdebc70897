// Pulls with no engine (--output): straight from the real registries of the stack into an OCI
// layout or an archive, read back by real consumers (docker load into dockerd and Docker 26,
// podman load, skopeo), every blob checked against its digest on disk.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { engineRequest, removeAllImages, stack } from '../support/stack.js';
import { runDpull } from '../support/run-dpull.js';
import { runInPty } from '../support/pty.js';
import { screenOf, someFrameShows } from '../support/screen.js';
import { scratchDir } from '../support/scratch.js';
import { pull } from '../../src/index.js';
import { throttledRegistry } from '../support/throttled.js';

const s = stack();
const three = `${s.registry}/demo/three:1.0`;
const eight = `${s.registry}/demo/eight:1.0`;
/** No engine anywhere: were one contacted, this would fail with exit 3. */
// (and archives made in a cache folder of the test's own, not the user's)
const noEngine = { DOCKER_HOST: 'unix:///nonexistent/docker.sock', XDG_CACHE_HOME: scratchDir('dpull-cache-') };
const pushed = JSON.parse(readFileSync('/tmp/dpull-stack/pushed.json', 'utf8')) as { multi: string; corrupt: string; corruptLayer: string };

beforeAll(() => {
  const missing = ['skopeo', 'umoci'].filter((tool) => !existsSync(`/usr/bin/${tool}`));
  if (missing.length > 0) execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}, 300_000);

/** Every blob of a layout hashes to its name; returns how many there are. */
function checkBlobs(dir: string): number {
  const blobs = readdirSync(join(dir, 'blobs', 'sha256'));
  for (const hex of blobs) {
    expect(hex).toMatch(/^[a-f0-9]{64}$/);
    expect(createHash('sha256').update(readFileSync(join(dir, 'blobs', 'sha256', hex))).digest('hex')).toBe(hex);
  }
  return blobs.length;
}

const index = (dir: string) => JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations: Record<string, string> }[] };

describe('into an OCI layout (oci:DIR)', () => {
  test('with no engine: every blob verified on disk, the image named in index.json, read by skopeo', async () => {
    const dir = join(scratchDir('dpull-oci-'), 'layout');
    const run = await runDpull(['--progress', 'json', '-o', `oci:${dir}`, eight], noEngine);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    expect(result).toMatchObject({ type: 'result', reference: eight, layers: { total: 8, pulled: 8, reused: 0 }, platform: 'linux/amd64' });
    expect(checkBlobs(dir)).toBe(10); // 8 layers, the config, the manifest
    const [entry] = index(dir).manifests;
    // Named as skopeo and containerd name it: the tag to open it by, the full name for docker load.
    expect(entry.annotations).toEqual({ 'org.opencontainers.image.ref.name': '1.0', 'io.containerd.image.name': eight });
    // The registry served Docker v2: the layout holds it as OCI (the Digest said is still the registry's).
    const registryDigest = (await fetch(`http://${s.registry}/v2/demo/eight/manifests/1.0`, { method: 'HEAD', headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } })).headers.get('docker-content-digest');
    expect(result.digest).toBe(registryDigest);
    expect(entry.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    const inspected = JSON.parse(execFileSync('skopeo', ['inspect', `oci:${dir}:1.0`], { encoding: 'utf8' }));
    expect(inspected.Layers).toHaveLength(8);
    expect(`sha256:${createHash('sha256').update(readFileSync(join(dir, 'blobs', 'sha256', result.imageId.slice(7)))).digest('hex')}`).toBe(result.imageId);
  });

  test('two images sharing layers into one layout: each blob once, the shared ones shown as already there', async () => {
    const dir = join(scratchDir('dpull-oci-'), 'layout');
    const first = await runDpull(['--no-tty', '-o', `oci:${dir}`, three], noEngine);
    expect(first.code).toBe(0);
    const second = await runDpull(['--no-tty', '-o', `oci:${dir}`, `${s.registry}/demo/three:1.1`], noEngine);
    expect(second.code).toBe(0);
    expect(second.stderr.split('\n').filter((l) => / [0-9a-f]{12}: Already exists$/.test(l))).toHaveLength(3);
    expect(second.stderr.split('\n').filter((l) => / [0-9a-f]{12}: Pull complete$/.test(l))).toHaveLength(1);
    expect(index(dir).manifests.map((m) => m.annotations['org.opencontainers.image.ref.name']).sort()).toEqual(['1.0', '1.1']);
    expect(index(dir).manifests.map((m) => m.annotations['io.containerd.image.name']).sort()).toEqual([three, `${s.registry}/demo/three:1.1`]);
    expect(checkBlobs(dir)).toBe(3 + 1 + 2 + 2); // layers, two configs, two manifests
    const again = await runDpull(['--no-tty', '-o', `oci:${dir}`, three], noEngine);
    expect(again.stderr).toMatch(/Up to date: /);
    // Both load, from the one layout: Docker 26 reads an OCI layout holding two images.
    await removeAllImages(s.docker26Socket);
    const tarball = join(scratchDir('dpull-archive-'), 'both.tar');
    execFileSync('tar', ['-C', dir, '-cf', tarball, '.']);
    execFileSync('/usr/local/bin/docker', ['load', '-i', tarball], { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: s.docker26Host } });
    for (const ref of [three, `${s.registry}/demo/three:1.1`]) {
      expect((await engineRequest('GET', `/images/${encodeURIComponent(ref)}/json`, s.docker26Socket)).status).toBe(200);
    }
    await removeAllImages(s.docker26Socket);
  });

  test('several images at once into one layout: both tagged 1.0, one is named 1.0 and the other by its full name; skopeo opens each', async () => {
    const dir = join(scratchDir('dpull-oci-'), 'layout');
    const run = await runDpull(['-q', '-o', `oci:${dir}`, three, eight], noEngine);
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n').sort()).toEqual([eight, three].sort());
    const names = index(dir).manifests.map((m) => m.annotations['org.opencontainers.image.ref.name']).sort();
    expect(names).toHaveLength(2);
    expect(names).toContain('1.0');
    expect(names.filter((n) => n !== '1.0')[0]).toMatch(new RegExp(`^(${three}|${eight})$`.replace(/\./g, '\\.')));
    for (const name of names) expect(JSON.parse(execFileSync('skopeo', ['inspect', `oci:${dir}:${name}`], { encoding: 'utf8' })).Layers.length).toBeGreaterThan(0);
  });

  test('every tool opens the layout by name: skopeo inspect and copy, umoci unpack, podman pull; the image ID is the engine pull\'s', async () => {
    const dir = join(scratchDir('dpull-oci-'), 'layout');
    const run = await runDpull(['--progress', 'json', '-o', `oci:${dir}`, three], noEngine);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    expect(run.stdout).toContain(`"message":"Downloaded newer image for ${three} to oci:${dir}, named 1.0"`);
    // The engine's own pull of the same image: its ID is the config's digest, as in the layout.
    await removeAllImages();
    expect((await runDpull(['-q', three], { DOCKER_HOST: s.dockerHost })).code).toBe(0);
    const engineId = JSON.parse((await engineRequest('GET', `/images/${encodeURIComponent(three)}/json`)).body).Id;
    expect(result.imageId).toBe(engineId);
    expect(JSON.parse(execFileSync('skopeo', ['inspect', '--config', `oci:${dir}:1.0`], { encoding: 'utf8' })).rootfs.diff_ids).toHaveLength(3);
    const copied = join(scratchDir('dpull-copy-'), 'copy.tar');
    execFileSync('skopeo', ['copy', '-q', `oci:${dir}:1.0`, `docker-archive:${copied}:copied/three:1.0`]);
    expect(existsSync(copied)).toBe(true);
    const bundle = join(scratchDir('dpull-umoci-'), 'bundle');
    execFileSync('umoci', ['unpack', '--image', `${dir}:1.0`, bundle], { stdio: 'pipe' });
    expect(readdirSync(join(bundle, 'rootfs')).sort()).toEqual(['three-file0', 'three-file1', 'three-file2']);
    // podman names the image after the layout's path, which must then be lower-case.
    const storage = scratchDir('dpull-podman-');
    const lower = join('/tmp', `dpull-layout-${process.pid}`);
    execFileSync('cp', ['-a', dir, lower]);
    try {
      const podman = ['--root', join(storage, 'root'), '--runroot', join(storage, 'run'), '--storage-driver', 'vfs'];
      execFileSync('podman', [...podman, 'pull', '-q', `oci:${lower}:1.0`], { stdio: 'pipe' });
      const podmanId = execFileSync('podman', [...podman, 'images', '-q', '--no-trunc'], { encoding: 'utf8' }).trim();
      expect(podmanId).toBe(engineId);
      spawnSync('podman', [...podman, 'system', 'reset', '-f'], { stdio: 'ignore' });
    } finally {
      rmSync(lower, { recursive: true, force: true });
    }
  });

  test('oci:DIR:NAME names it NAME; --preserve-digests keeps the registry\'s bytes (and skopeo cannot open it by name, as README says)', async () => {
    const dir = join(scratchDir('dpull-oci-'), 'layout');
    expect((await runDpull(['-q', '-o', `oci:${dir}:mine`, three], noEngine)).code).toBe(0);
    expect(JSON.parse(execFileSync('skopeo', ['inspect', `oci:${dir}:mine`], { encoding: 'utf8' })).Layers).toHaveLength(3);
    const kept = join(scratchDir('dpull-oci-'), 'layout');
    expect((await runDpull(['-q', '--preserve-digests', '-o', `oci:${kept}`, three], noEngine)).code).toBe(0);
    const registryDigest = (await fetch(`http://${s.registry}/v2/demo/three/manifests/1.0`, { method: 'HEAD', headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } })).headers.get('docker-content-digest');
    expect(index(kept).manifests[0].digest).toBe(registryDigest);
    expect(spawnSync('skopeo', ['inspect', `oci:${kept}:1.0`], { encoding: 'utf8' }).status).not.toBe(0);
  });

  test('a multi-platform index: --platform picks one, its platform said; one it lacks lists those it has', async () => {
    const dir = join(scratchDir('dpull-oci-'), 'layout');
    const ref = `${s.registry}/${pushed.multi}`;
    const run = await runDpull(['--progress', 'json', '--platform', 'linux/arm64', '-o', `oci:${dir}`, ref], noEngine);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1)!)).toMatchObject({ platform: 'linux/arm64/v8' });
    const missing = await runDpull(['--platform', 'linux/s390x', '-o', `oci:${dir}`, ref], noEngine);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`dpull: ${s.registry}/demo/three has no image for linux/s390x; it has linux/amd64, linux/arm64/v8 (use --platform)\n`);
  });
});

describe('archives, loaded by real engines', () => {
  test('docker-archive (a bare FILE.tar): docker load into dockerd gives the image, its ID the one dpull said', async () => {
    await removeAllImages();
    const file = join(scratchDir('dpull-archive-'), 'three.tar');
    const run = await runDpull(['--progress', 'json', '-o', file, three], noEngine);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    const loaded = execFileSync('/usr/bin/docker', ['load', '-i', file], { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: s.dockerHost } });
    expect(loaded).toContain(`Loaded image: ${three}`);
    const image = JSON.parse((await engineRequest('GET', `/images/${encodeURIComponent(three)}/json`)).body);
    expect(image.Id).toBe(result.imageId);
    expect(readdirSync(join(file, '..'))).toEqual(['three.tar']); // nothing half-written beside it
  });

  test('oci-archive: docker load into Docker 26 (containerd store) and podman load', async () => {
    await removeAllImages(s.docker26Socket);
    const file = join(scratchDir('dpull-archive-'), 'eight.tar');
    const run = await runDpull(['-q', '-o', `oci-archive:${file}`, eight], noEngine);
    expect(run.code).toBe(0);
    const loaded = execFileSync('/usr/local/bin/docker', ['load', '-i', file], { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: s.docker26Host } });
    expect(loaded).toContain(eight);
    expect((await engineRequest('GET', `/images/${encodeURIComponent(eight)}/json`, s.docker26Socket)).status).toBe(200);
    await removeAllImages(s.docker26Socket);
    const podman = spawnSync('podman', ['--storage-driver=vfs', '--root', join(file, '..', 'podman-root'), '--runroot', join(file, '..', 'podman-run'), 'load', '-i', file], { encoding: 'utf8' });
    expect(podman.stderr + podman.stdout).toContain(`Loaded image: ${eight}`);
    // skopeo opens it by that name too.
    expect(JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${file}:${eight}`], { encoding: 'utf8' })).Layers).toHaveLength(8);
    expect(podman.status).toBe(0);
    spawnSync('podman', ['--storage-driver=vfs', '--root', join(file, '..', 'podman-root'), '--runroot', join(file, '..', 'podman-run'), 'system', 'reset', '-f'], { stdio: 'ignore' });
  });

  test('written in the same pass as the fetch: the archive grows while the blobs still arrive, and the finished one loads', async () => {
    await removeAllImages();
    const folder = scratchDir('dpull-archive-');
    const file = join(folder, 'eight.tar');
    const { statSync } = await import('node:fs');
    // 1 MB/s per connection: the 8 layers of 1.5 MB take two rounds of 4 blobs at once, ~3 s.
    const image = `${await throttledRegistry(s.registry, 1_000_000)}/demo/eight:1.0`;
    const started = Date.now();
    const running = runDpull(['--cache-dir', scratchDir('dpull-cache-'), '-q', '-o', file, image], noEngine);
    let ended: number | undefined;
    void running.then(() => (ended = Date.now()));
    const samples: { at: number; bytes: number }[] = [];
    while (ended === undefined) {
      const partial = readdirSync(folder).find((f) => f.endsWith('.partial'));
      if (partial !== undefined) samples.push({ at: Date.now(), bytes: statSync(join(folder, partial), { throwIfNoEntry: false })?.size ?? 0 });
      await new Promise((r) => setTimeout(r, 50));
    }
    const run = await running;
    expect(run.code, run.stderr).toBe(0);
    // A layer's bytes in the archive a second or more before the last blob came in.
    const early = samples.filter((sample) => sample.bytes >= 1_500_000 && ended! - sample.at >= 800);
    expect(early.length, JSON.stringify({ total: ended - started, samples })).toBeGreaterThan(0);
    expect(readdirSync(folder)).toEqual(['eight.tar']);
    const loaded = execFileSync('/usr/bin/docker', ['load', '-i', file], { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: s.dockerHost } });
    expect(loaded).toContain(`Loaded image: ${image}`);
    await removeAllImages();
  });

  test('a leftover partial blob that does not verify, read into the archive before its fetch found out: the finished archive holds the verified bytes only', async () => {
    const cache = scratchDir('dpull-cache-');
    const manifest = await (await fetch(`http://${three.replace('/demo/three:1.0', '')}/v2/demo/three/manifests/1.0`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } })).json();
    const { mkdirSync } = await import('node:fs');
    const blobs = join(cache, 'dpull', 'layout', 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    // Garbage where an interrupted run would have left half of each layer: the fetch continues
    // them with a Range, the archive reads them as they grow, and only the last byte shows the
    // digest wrong — the fetch then starts again from zero, into a new file.
    for (const layer of manifest.layers as { digest: string; size: number }[]) writeFileSync(join(blobs, `${layer.digest.slice(7)}.partial`), Buffer.alloc(Math.floor(layer.size / 2), 0x5a));
    const file = join(scratchDir('dpull-archive-'), 'three.tar');
    const run = await runDpull(['-q', '-o', file, three], { ...noEngine, XDG_CACHE_HOME: cache });
    expect(run.code, run.stderr).toBe(0);
    for (const layer of manifest.layers as { digest: string }[]) {
      const inArchive = execFileSync('tar', ['-xOf', file, `blobs/sha256/${layer.digest.slice(7)}`], { maxBuffer: 64 << 20 });
      expect(`sha256:${createHash('sha256').update(inArchive).digest('hex')}`).toBe(layer.digest);
    }
    expect(readdirSync(join(file, '..'))).toEqual(['three.tar']);
  });

  test('docker-archive:FILE:NAME: docker load names the image NAME', async () => {
    await removeAllImages();
    const file = join(scratchDir('dpull-archive-'), 'named.tar');
    expect((await runDpull(['-q', '-o', `docker-archive:${file}:my/app:2.0`, three], noEngine)).code).toBe(0);
    const loaded = execFileSync('/usr/bin/docker', ['load', '-i', file], { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: s.dockerHost } });
    expect(loaded).toContain('Loaded image: my/app:2.0');
    await removeAllImages();
  });

  test('several images into one archive: a usage error before anything is pulled', async () => {
    const file = join(scratchDir('dpull-archive-'), 'x.tar');
    const run = await runDpull(['-o', file, three, eight], noEngine);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`dpull: ${file}: an archive holds one image; pull one image into it, or several into an OCI layout (oci:DIR)\n`);
    expect(existsSync(file)).toBe(false);
  });
});

describe('registries that want credentials', () => {
  const auth = (registry: string) => JSON.stringify({ auths: { [registry]: { auth: Buffer.from(`${s.authUser}:${s.authPassword}`).toString('base64') } } });

  test.each([
    ['token auth (Docker Hub\'s shape)', () => s.tokenRegistry],
    ['htpasswd (Basic)', () => s.authRegistry],
  ])('%s: a private image with credentials; without, denied in one line, exit 1', async (_, registry) => {
    const dir = join(scratchDir('dpull-oci-'), 'layout');
    const ref = `${registry()}/private/three:1.0`;
    const denied = await runDpull(['-o', `oci:${dir}`, ref], noEngine);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toBe(`dpull: ${registry()} denied access to private/three/manifests/1.0 without credentials (none found for it)\n`);
    const run = await runDpull(['-q', '-o', `oci:${dir}`, ref], { ...noEngine, DOCKER_AUTH_CONFIG: auth(registry()) });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout + run.stderr).not.toContain(s.authPassword);
  });

  test('token auth: a public image anonymously', async () => {
    const dir = join(scratchDir('dpull-oci-'), 'layout');
    const run = await runDpull(['-q', '-o', `oci:${dir}`, `${s.tokenRegistry}/public/three:1.0`], noEngine);
    expect(run.code).toBe(0);
    expect(checkBlobs(dir)).toBe(5);
  });
});

describe('failures leave nothing that looks whole', () => {
  test('a blob the registry serves corrupted: exit 1 naming it, nothing kept under its digest', async () => {
    const dir = join(scratchDir('dpull-oci-'), 'layout');
    const run = await runDpull(['-o', `oci:${dir}`, `${s.registry}/${pushed.corrupt}`], noEngine);
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^dpull: blob ${pushed.corruptLayer} from ${s.registry} does not match its digest \\(got sha256:[0-9a-f]{64}\\); nothing was kept$`));
    expect(existsSync(join(dir, 'blobs', ...pushed.corruptLayer.split(':')))).toBe(false);
    expect(readdirSync(join(dir, 'blobs', 'sha256')).filter((f) => f.endsWith('.partial'))).toEqual([]);
    expect(existsSync(join(dir, 'index.json'))).toBe(false);
    checkBlobs(dir);
  });

  test.each([
    ['an unknown tag', () => `${s.registry}/demo/three:9.9`, `dpull: manifest for ${s.registry}/demo/three:9.9 not found: manifest unknown\n`],
    ['a registry that is down', () => `${s.downRegistry}/demo/three:1.0`, `dpull: cannot reach the registry ${s.downRegistry} (http://${s.downRegistry}): connection refused\n`],
  ])('%s: one line, exit 1', async (_, ref, message) => {
    const dir = join(scratchDir('dpull-oci-'), 'layout');
    const run = await runDpull(['-o', `oci:${dir}`, ref()], noEngine);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(message);
  });

  // A path through a file cannot be written even by root (the tests' user): ENOTDIR.
  test.each([
    ['a layout', (f: string) => ['-o', `oci:${f}/layout`], (f: string) => `${f}/layout`, ''],
    ['an archive', (f: string) => ['-o', `docker-archive:${f}/a.tar`], (f: string) => `${f}/a.tar`, ''],
    ['the cache folder an archive is made in', (f: string) => ['--cache-dir', f, '-o', `docker-archive:${f}.tar`], (f: string) => `${f}/layout`,
      " (dpull's cache folder, where archives are made from: --cache-dir or XDG_CACHE_HOME moves it)"],
  ])('%s where nothing can be written: one line naming the path, exit 1, nothing left', async (_, args, failing, hint) => {
    const folder = scratchDir('dpull-unwritable-');
    const file = join(folder, 'a-file');
    writeFileSync(file, 'not a folder');
    const run = await runDpull(['-q', ...args(file), three], noEngine);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`dpull: cannot write ${failing(file)}: a part of the path is not a folder${hint}\n`);
    expect(readdirSync(folder)).toEqual(['a-file']);
  });

  test('a full disk (a 2 MB tmpfs; the tests run as root): one line naming the file, exit 1; no blob kept under a digest it does not match, no index, no archive', async () => {
    const disk = scratchDir('dpull-full-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', disk]);
    try {
      const layout = await runDpull(['-q', '-o', `oci:${disk}/layout`, three], noEngine);
      expect(layout.code).toBe(1);
      expect(layout.stderr).toMatch(new RegExp(`^dpull: cannot write ${disk}/layout/blobs/sha256/[0-9a-f]{64}\\.partial: no space left on device\n$`));
      expect(existsSync(join(disk, 'layout', 'index.json'))).toBe(false);
      // What arrived is kept to continue from (.partial); a blob under its digest's name is whole.
      const blobs = join(disk, 'layout', 'blobs', 'sha256');
      for (const name of readdirSync(blobs).filter((n) => !n.endsWith('.partial'))) {
        expect(createHash('sha256').update(readFileSync(join(blobs, name))).digest('hex')).toBe(name);
      }
      const archive = await runDpull(['-q', '--cache-dir', scratchDir('dpull-cache-'), '-o', `docker-archive:${disk}/three.tar`, three], noEngine);
      expect(archive.code).toBe(1);
      expect(archive.stderr).toBe(`dpull: cannot write ${disk}/three.tar: no space left on device\n`);
      expect(readdirSync(disk)).toEqual(['layout']);
    } finally {
      execFileSync('umount', [disk]);
    }
  });

  test('a destination that exists and is not a layout: exit 2', async () => {
    const dir = scratchDir('dpull-oci-');
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const run = await runDpull(['-o', `oci:${dir}`, three], noEngine);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`dpull: ${dir} exists and is not an OCI image layout (no oci-layout file); give an empty or new folder\n`);
  });

  test('Ctrl-C mid-pull into an archive: 130, no archive, no partial file, no layout left beside it', async () => {
    const folder = scratchDir('dpull-archive-');
    const file = join(folder, 'eight.tar');
    // A cache of its own: the blobs other tests put in the shared one would make this pull instant.
    const cache = scratchDir('dpull-cache-');
    const run = await runInPty(['--cache-dir', cache, '-o', file, `${await throttledRegistry(s.registry, 300_000)}/demo/eight:1.0`], noEngine, { cols: 100, rows: 30 }, {
      act: { when: (out) => out.includes('█'), act: (term) => term.write('\x03') },
    });
    expect(run.exitCode).toBe(130);
    await new Promise((r) => setTimeout(r, 300));
    expect(readdirSync(folder)).toEqual([]);
  });
});

test('on a terminal: the same live display as an engine pull, and the closing line', async () => {
  const dir = join(scratchDir('dpull-oci-'), 'layout');
  const run = await runInPty(['-o', `oci:${dir}`, `${s.slowRegistry}/demo/three:1.0`], noEngine, { cols: 120, rows: 30 });
  expect(run.exitCode).toBe(0);
  const screen = await screenOf(run.output, 120, 30, false);
  expect(screen.lines[0]).toBe(`Pulling ${s.slowRegistry}/demo/three:1.0`);
  expect(screen.lines.filter((l) => /^[0-9a-f]{12}  Pull complete\s+3\.0 MB$/.test(l))).toHaveLength(3);
  expect(screen.logical).toContainEqual(expect.stringMatching(new RegExp(`^✔ ${s.slowRegistry.replace(/\./g, '\\.')}/demo/three:1\\.0  sha256:[0-9a-f]{12} · 9\\.0 MB on disk · linux/amd64 · pulled in \\d+s$`)));
  expect(await someFrameShows(run.output, 120, 30, (lines) => lines.some((l) => /Downloading +█+░+/.test(l)), false)).toBe(true);
});

test('on a terminal: the total and the ETA are exact from the first frame (the manifest gives every size), though only 4 of 8 layers start at once', async () => {
  const run = await runInPty(['-o', `oci:${join(scratchDir('dpull-oci-'), 'layout')}`, `${s.slowRegistry}/demo/eight:1.0`], noEngine, { cols: 120, rows: 30 });
  expect(run.exitCode).toBe(0);
  // Never an open-ended total (`MB+`); an ETA while layers are still waiting to start.
  expect(await someFrameShows(run.output, 120, 30, (lines) => lines.some((l) => / layers · .*MB\+/.test(l)), false)).toBe(false);
  expect(await someFrameShows(run.output, 120, 30, (lines) => lines.some((l) => /^[0-3]\/8 layers · [\d.]+\/12\.\d MB · \d+% · .* · ETA \d+s/.test(l)), false)).toBe(true);
});

test('the library: pull(ref, { output })', async () => {
  const dir = join(scratchDir('dpull-oci-'), 'layout');
  const p = pull(three, { output: `oci:${dir}` });
  expect(p.engine).toBeUndefined();
  const result = await p.result;
  expect(result).toMatchObject({ reference: three, layers: { pulled: 3 }, platform: 'linux/amd64' });
  // The digest is the registry's; the layout holds the manifest as OCI, of the same config (image ID).
  const stored = JSON.parse(readFileSync(join(dir, 'blobs', ...index(dir).manifests[0].digest.split(':')), 'utf8'));
  expect(stored.config.digest).toBe(result.imageId);
  const kept = join(scratchDir('dpull-oci-'), 'layout');
  await pull(three, { output: `oci:${kept}`, preserveDigests: true }).result;
  expect(index(kept).manifests[0].digest).toBe(result.digest);
});
