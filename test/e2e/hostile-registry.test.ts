// The daemonless pull, the cache and --load against registries (and engines) that lie: each case
// is a finding of the red team's second pass (issue #29), asserting what the user gets — the exit
// code, the files on disk (nothing outside the destination, every blob matching its name), the
// bytes printed (no secret in any form, no escape), what the engine received.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import { dirname, join, relative } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { dpullBin, dpullNode, pathWithDpullNode, runDpull, type DpullRun } from '../support/run-dpull.js';
import { scratchDir } from '../support/scratch.js';
import { fakeEngine, type FakeEngine } from '../support/fake-engine.js';
import { runInPty } from '../support/pty.js';
import { hostileRegistry, sha256, testImage, type HostileRegistry } from '../support/hostile-registry.js';

let registry: HostileRegistry | undefined;
let engine: FakeEngine | undefined;
afterEach(async () => {
  await registry?.close();
  await engine?.close();
  registry = undefined;
  engine = undefined;
});

/** Enough `../` to reach the root from any folder a test uses: a path after it is absolute. */
const UP = '../'.repeat(24);

/** No engine anywhere, a cache of the test's own. */
const noEngine = () => ({ DOCKER_HOST: 'unix:///nonexistent/docker.sock', XDG_CACHE_HOME: scratchDir('dpull-cache-') });

/** Every file under `root`, as paths relative to it. */
function filesUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (lstatSync(path).isDirectory()) walk(path);
      else out.push(relative(root, path));
    }
  };
  walk(root);
  return out.sort();
}

/** Every blob of a layout hashes to its name, and nothing else lies among them. */
function expectBlobsWhole(layout: string): void {
  const dir = join(layout, 'blobs', 'sha256');
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (name.endsWith('.partial')) continue; // kept to continue from; never under a digest's name
    expect(name).toMatch(/^[a-f0-9]{64}$/);
    expect(createHash('sha256').update(readFileSync(join(dir, name))).digest('hex')).toBe(name);
  }
}

/** One line on stderr, no stack trace, no escape or control character. */
function expectOneCleanLine(run: DpullRun): void {
  expect(run.stderr).not.toMatch(/\n\s+at |unexpected error|Error:/);
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(run.stderr + run.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]/);
}

const withLayer = (reg: HostileRegistry, i: number, change: Record<string, unknown>) => {
  const manifest = structuredClone(reg.image.manifest) as { layers: Record<string, unknown>[] };
  manifest.layers[i] = { ...manifest.layers[i], ...change };
  return manifest;
};

describe('digests that are paths (critical 1, 2)', () => {
  const hex = (bytes: Buffer) => sha256(bytes).slice(7);
  test.each([
    ['oci layout', (dir: string) => ['-o', `oci:${dir}/out`]],
    ['docker-archive', (dir: string) => ['-o', `docker-archive:${dir}/out.tar`]],
  ])('sha256:<hex of the bytes>:../../x into a %s: refused, exit 1, nothing written outside', async (_, output) => {
    registry = await hostileRegistry((req, res, reg) => {
      // The bytes under the hostile name too, as a registry that means it would serve them.
      // (The ../ are resolved away before the request leaves: what remains is the escaped name.)
      const path = decodeURIComponent(req.url ?? '');
      if (path.includes('escaped')) {
        res.writeHead(200).end(reg.image.layers[0]);
        return true;
      }
    });
    const sandbox = scratchDir('dpull-sandbox-');
    registry.setManifest(withLayer(registry, 0, { digest: `sha256:${hex(registry.image.layers[0])}:${UP}${sandbox.slice(1)}/escaped` }));
    const run = await runDpull(['-q', ...output(sandbox), `${registry.address}/app:1.0`], noEngine());
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^dpull: layer 1 of app:1\.0 has an invalid digest "sha256:[0-9a-f]{64}:\.\.\/\.\.\/.*"\n$/);
    expectOneCleanLine(run);
    expect(existsSync(join(sandbox, 'escaped'))).toBe(false);
    expect(filesUnder(sandbox).filter((f) => !f.startsWith('out/'))).toEqual([]);
  });

  test('sha256:../../ a local file: not "Already exists", not packed into the archive; sha256: alone no stack trace', async () => {
    const home = scratchDir('dpull-home-');
    writeFileSync(join(home, 'id_rsa'), 'PRIVATE KEY OF THE USER');
    registry = await hostileRegistry();
    const cache = scratchDir('dpull-cache-');
    const out = scratchDir('dpull-out-');
    for (const digest of [`sha256:${UP}${home.slice(1)}/id_rsa`, 'sha256:', 'sha256', `sha256:${'A'.repeat(64)}`]) {
      registry.setManifest(withLayer(registry, 1, { digest }));
      const run = await runDpull(['-o', `docker-archive:${out}/a.tar`, `${registry.address}/app:1.0`], { DOCKER_HOST: 'unix:///nonexistent', XDG_CACHE_HOME: cache });
      expect(run.code).toBe(1);
      expect(run.stderr).not.toContain('Already exists');
      expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(/^dpull: layer 2 of app:1\.0 has an invalid digest/);
      expect(run.stderr).not.toMatch(/EISDIR|\n\s+at /);
    }
    expect(readdirSync(out)).toEqual([]);
    expect(filesUnder(cache).filter((f) => f.endsWith('.partial') || f.endsWith('.lock'))).toEqual([]);
  });

  test('the same through --load: the engine is sent nothing', async () => {
    const received: string[] = [];
    engine = await fakeEngine((req, res) => {
      received.push(`${req.method} ${req.url}`);
      res.writeHead(500).end('{"message":"no"}');
    });
    registry = await hostileRegistry();
    registry.setManifest(withLayer(registry, 0, { digest: 'sha256:../../../etc/passwd' }));
    const run = await runDpull(['-q', '--load', '-H', engine.host, `${registry.address}/app:1.0`], { XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.code).toBe(1);
    expect(received).toEqual([]);
  });
});

describe('sizes that lie, bodies without end (high 6, 10)', () => {
  test('a blob longer than its descriptor: cut at the declared size, exit 1, nothing kept', async () => {
    registry = await hostileRegistry((req, res, reg) => {
      if (req.url?.includes(sha256(reg.image.layers[0]))) {
        res.writeHead(200); // 2 MiB where 100 bytes were declared
        res.end(Buffer.alloc(2 << 20, 1));
        return true;
      }
    });
    registry.setManifest(withLayer(registry, 0, { size: 100 }));
    const dir = join(scratchDir('dpull-oci-'), 'out');
    const run = await runDpull(['-q', '-o', `oci:${dir}`, `${registry.address}/app:1.0`], noEngine());
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/is longer than the 100 bytes its manifest says; nothing was kept\n$/);
    const sizes = readdirSync(join(dir, 'blobs', 'sha256')).map((f) => lstatSync(join(dir, 'blobs', 'sha256', f)).size);
    expect(Math.max(0, ...sizes)).toBeLessThan(64 << 10);
    expectBlobsWhole(dir);
  });

  test('an endless chunked body: read no further than the declared size, exit 1 at once', async () => {
    registry = await hostileRegistry((req, res, reg) => {
      if (req.url?.includes(sha256(reg.image.layers[1]))) {
        res.writeHead(200);
        const more = () => res.write(Buffer.alloc(64 << 10, 7), () => setImmediate(more));
        more();
        return true;
      }
    });
    const started = Date.now();
    const run = await runDpull(['-q', '-o', `oci:${scratchDir('dpull-oci-')}/out`, `${registry.address}/app:1.0`], noEngine());
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/is longer than the \d+ bytes its manifest says/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test.each([
    ['a negative size', { size: -1 }, /has an invalid size -1/],
    ['no size', { size: undefined }, /has an invalid size none/],
    ['a fractional size', { size: 1.5 }, /has an invalid size 1\.5/],
    ['a size as text', { size: '100' }, /has an invalid size "100"/],
    ['a media type with an escape', { mediaType: 'application/x\x1b]0;PWN\x07' }, /has an invalid media type "application\/x"/],
  ])('%s: one line, exit 1', async (_, change, message) => {
    registry = await hostileRegistry();
    registry.setManifest(withLayer(registry, 2, change));
    const run = await runDpull(['-q', '-o', `oci:${scratchDir('dpull-oci-')}/out`, `${registry.address}/app:1.0`], noEngine());
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expectOneCleanLine(run);
  });

  test('a 300 MB config: refused before a byte of it is fetched', async () => {
    registry = await hostileRegistry();
    const manifest = structuredClone(registry.image.manifest) as { config: Record<string, unknown> };
    manifest.config.size = 300_000_000;
    registry.setManifest(manifest);
    const run = await runDpull(['-o', `oci:${scratchDir('dpull-oci-')}/out`, `${registry.address}/app:1.0`], noEngine());
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the config of app:1\.0 \(sha256:[0-9a-f]{64}\) says it is 300000000 bytes; dpull reads at most 8388608 for it\n$/);
    expect(registry.requests.filter((r) => r.includes('/blobs/'))).toEqual([]);
  });

  test('a manifest over 4 MiB says it was the manifest', async () => {
    registry = await hostileRegistry();
    registry.setManifest(Buffer.concat([Buffer.from('{"x":"'), Buffer.alloc(5 << 20, 'a'), Buffer.from('"}')]));
    const run = await runDpull(['-o', `oci:${scratchDir('dpull-oci-')}/out`, `${registry.address}/app:1.0`], noEngine());
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('dpull: the manifest of app:1.0 is larger than 4 MiB: dpull reads no more of it\n');
  });

  test('25,000 layers: refused, saying how many', async () => {
    registry = await hostileRegistry();
    const layer = (registry.image.manifest as { layers: object[] }).layers[0];
    registry.setManifest({ ...registry.image.manifest, layers: Array.from({ length: 25_000 }, () => layer) });
    const run = await runDpull(['-o', `oci:${scratchDir('dpull-oci-')}/out`, `${registry.address}/app:1.0`], noEngine());
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('dpull: the manifest of app:1.0 lists 25000 layers; dpull takes at most 1000\n');
  });

  test('a registry that stalls mid-blob: --timeout ends it naming the registry', async () => {
    registry = await hostileRegistry((req, res, reg) => {
      if (req.url?.includes(sha256(reg.image.layers[0]))) {
        res.writeHead(200, { 'Content-Length': reg.image.layers[0].length });
        res.write(reg.image.layers[0].subarray(0, 100)); // and then nothing
        return true;
      }
    });
    const run = await runDpull(['--timeout', '1s', '-o', `oci:${scratchDir('dpull-oci-')}/out`, `${registry.address}/app:1.0`], noEngine());
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toBe(`dpull: nothing from the registry ${registry.address} for 1s (--timeout); the pull was cancelled`);
  });
});

describe("blob answers dpull's own reader takes apart (blob-connection.ts)", () => {
  /** A registry whose answer to the first layer's GET is `raw`, written on the socket as it is. */
  const answeringWith = (raw: string | Buffer) =>
    hostileRegistry((req, res, reg) => {
      if (!req.url?.includes(sha256(reg.image.layers[0]))) return false;
      req.socket.end(raw);
      return true;
    });

  test.each([
    ['headers of 200 KB', `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(200_000)}\r\n\r\n`, /its answer has headers too large to be one$/],
    ['a status line with a terminal escape', 'HTTP/1.1 200 \x1b]0;PWNED\x07OK\r\nContent-Length: 1\r\n\r\nx', /its answer is not HTTP\/1\.1$/],
    ['a header with an escape', 'HTTP/1.1 200 OK\r\nX-A: \x1b[2J\r\nContent-Length: 1\r\n\r\nx', /its answer has a header that is not one$/],
    ['two different lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 9\r\n\r\nhello', /its answer has two lengths$/],
  ])('%s: one clean line, exit 1, nothing kept under a digest\'s name', async (_, raw, words) => {
    registry = await answeringWith(raw);
    const dir = join(scratchDir('dpull-oci-'), 'out');
    const run = await runDpull(['-q', '-o', `oci:${dir}`, `${registry.address}/app:1.0`], noEngine());
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd()).toMatch(new RegExp(`^dpull: cannot reach the registry ${registry.address.replace(/\./g, '\\.')} \\(http://${registry.address.replace(/\./g, '\\.')}\\): ${words.source}`));
    expectOneCleanLine(run);
    expectBlobsWhole(dir);
  });

  test('a chunked body that breaks its own framing: taken for a cut connection (continued, then one line), nothing kept', async () => {
    registry = await answeringWith('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcdefgh\r\n0\r\n\r\n');
    const dir = join(scratchDir('dpull-oci-'), 'out');
    const run = await runDpull(['-q', '-o', `oci:${dir}`, `${registry.address}/app:1.0`], noEngine());
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd()).toMatch(/^dpull: (the registry \S+ broke off blob sha256:[0-9a-f]{64}|blob sha256:[0-9a-f]{64} from \S+ ended at \d+ of its \d+ bytes) \(what arrived is kept for the next run\)$/);
    expectOneCleanLine(run);
    expectBlobsWhole(dir);
    // Asked again from where it broke off a few times (this registry ignores the range and
    // answers from the start, which starts the blob over), never more.
    expect(registry.requests.filter((r) => r.includes(sha256(registry!.image.layers[0]))).length).toBeLessThanOrEqual(5);
  });
});

describe('several pulls on one layout or cache at once (critical 3, high 7, medium 11, 14)', () => {
  /** A registry that serves blobs slowly (in pieces), so that pulls overlap. */
  const slowRegistry = (image = testImage(6)) =>
    hostileRegistry((req, res, reg) => {
      const digest = /\/blobs\/(.+)$/.exec(req.url ?? '')?.[1];
      const bytes = digest === undefined ? undefined : reg.image.blobs.get(digest);
      if (bytes === undefined) return false;
      res.writeHead(200, { 'Content-Length': bytes.length });
      let at = 0;
      const next = () => {
        if (at >= bytes.length) return res.end();
        res.write(bytes.subarray(at, (at += 700)));
        setTimeout(next, 15);
      };
      next();
      return true;
    }, image);

  const run = (args: string[], env: Record<string, string>) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(dpullNode(), [dpullBin, ...args], { env: { PATH: pathWithDpullNode(), ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stderr }));
    });

  test('three processes into one layout, three rounds: every blob matches its name, all exit 0', async () => {
    registry = await slowRegistry();
    for (let round = 0; round < 3; round++) {
      const dir = join(scratchDir('dpull-oci-'), 'out');
      const runs = await Promise.all([0, 1, 2].map(() => run(['--no-tty', '-o', `oci:${dir}`, `${registry!.address}/app:1.0`], noEngine())));
      for (const r of runs) expect(r.code, r.stderr).toBe(0);
      expectBlobsWhole(dir);
      expect(readdirSync(join(dir, 'blobs', 'sha256')).filter((f) => !/^[a-f0-9]{64}$/.test(f))).toEqual([]);
      expect(readdirSync(join(dir, 'blobs', 'sha256'))).toHaveLength(8); // 6 layers, config, manifest
    }
  });

  test('two archives from one --cache-dir at once: both whole, each blob fetched once', async () => {
    registry = await slowRegistry();
    const cache = scratchDir('dpull-cache-');
    const out = scratchDir('dpull-out-');
    const runs = await Promise.all(['a', 'b'].map((n) => run(['--no-tty', '--cache-dir', cache, '-o', `docker-archive:${out}/${n}.tar`, `${registry!.address}/app:1.0`], { DOCKER_HOST: 'unix:///nonexistent' })));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['a.tar', 'b.tar']);
    expectBlobsWhole(join(cache, 'layout'));
    const blobGets = registry.requests.filter((r) => r.startsWith('GET') && r.includes('/blobs/'));
    expect(new Set(blobGets).size).toBe(blobGets.length);
    expect(blobGets).toHaveLength(7);
  });

  test('three processes adding three images to a layout of 20,000 entries: none lost', async () => {
    registry = await hostileRegistry();
    const dir = join(scratchDir('dpull-oci-'), 'out');
    mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    const filler = Array.from({ length: 20_000 }, (_, i) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(String(i)), size: 1, annotations: { 'org.opencontainers.image.ref.name': `filler:${i}` } }));
    writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: filler }));
    for (let round = 0; round < 3; round++) {
      const tags = [0, 1, 2].map((i) => `app:r${round}-${i}`);
      const runs = await Promise.all(tags.map((tag) => run(['-q', '-o', `oci:${dir}`, `${registry!.address}/${tag}`], noEngine())));
      for (const r of runs) expect(r.code, r.stderr).toBe(0);
      const names = (JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: { annotations: Record<string, string> }[] }).manifests.map((m) => m.annotations['io.containerd.image.name']);
      for (const tag of tags) expect(names).toContain(`${registry.address}/${tag}`);
    }
    expect(readdirSync(dir).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });

  test('the same layer listed twice: a valid image, pulled, the blob fetched once', async () => {
    registry = await hostileRegistry();
    const manifest = structuredClone(registry.image.manifest) as { layers: object[] };
    manifest.layers.push(manifest.layers[0]);
    registry.setManifest(manifest);
    const dir = join(scratchDir('dpull-oci-'), 'out');
    const result = await runDpull(['--no-tty', '-o', `oci:${dir}`, `${registry.address}/app:1.0`], noEngine());
    expect(result.code, result.stderr).toBe(0);
    const gets = registry.requests.filter((r) => r.startsWith('GET') && r.includes(sha256(registry!.image.layers[0])));
    expect(gets).toHaveLength(1);
    expectBlobsWhole(dir);
  });

  test('a wrong .partial left in the cache by another registry: restarted from zero, the honest pull succeeds', async () => {
    registry = await hostileRegistry();
    const cache = scratchDir('dpull-cache-');
    const blobs = join(cache, 'layout', 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    writeFileSync(join(cache, 'layout', 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    const layer = registry.image.layers[0];
    writeFileSync(join(blobs, `${sha256(layer).slice(7)}.partial`), Buffer.alloc(layer.length - 10, 9));
    const out = scratchDir('dpull-out-');
    const result = await runDpull(['-q', '--cache-dir', cache, '-o', `docker-archive:${out}/a.tar`, `${registry.address}/app:1.0`], { DOCKER_HOST: 'unix:///nonexistent' });
    expect(result.code, result.stderr).toBe(0);
    expectBlobsWhole(join(cache, 'layout'));
  });

  test('a lock left by a process that was killed is taken over', async () => {
    registry = await hostileRegistry();
    const dir = join(scratchDir('dpull-oci-'), 'out');
    mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    // A pid that is not running (pid_max is at most 2^22).
    writeFileSync(join(dir, 'blobs', 'sha256', `${sha256(registry.image.layers[0]).slice(7)}.lock`), `4194303 1 ${(await import('node:os')).hostname()}\n`);
    writeFileSync(join(dir, 'index.json.lock'), `4194303 1 ${(await import('node:os')).hostname()}\n`);
    const result = await runDpull(['-q', '--timeout', '20s', '-o', `oci:${dir}`, `${registry.address}/app:1.0`], noEngine());
    expect(result.code, result.stderr).toBe(0);
    expectBlobsWhole(dir);
    expect(readdirSync(join(dir, 'blobs', 'sha256')).filter((f) => f.endsWith('.lock'))).toEqual([]);
  });
});

describe('planted symlinks are never written through (critical 5)', () => {
  test.each([
    ['a blob\'s .partial in a layout', (reg: HostileRegistry, dir: string) => join(dir, 'out', 'blobs', 'sha256', `${sha256(reg.image.layers[0]).slice(7)}.partial`), (dir: string) => ['-o', `oci:${dir}/out`], {}],
    ['a blob\'s .partial in the cache', (reg: HostileRegistry, dir: string) => join(dir, 'cache', 'layout', 'blobs', 'sha256', `${sha256(reg.image.layers[0]).slice(7)}.partial`), (dir: string) => ['--cache-dir', `${dir}/cache`, '-o', `docker-archive:${dir}/a.tar`], {}],
    ['a blob itself in a layout', (reg: HostileRegistry, dir: string) => join(dir, 'out', 'blobs', 'sha256', sha256(reg.image.layers[1]).slice(7)), (dir: string) => ['-o', `oci:${dir}/out`], {}],
    ['a lock file', (reg: HostileRegistry, dir: string) => join(dir, 'out', 'blobs', 'sha256', `${sha256(reg.image.layers[2]).slice(7)}.lock`), (dir: string) => ['-o', `oci:${dir}/out`], {}],
    ['index.json\'s lock', (_: HostileRegistry, dir: string) => join(dir, 'out', 'index.json.lock'), (dir: string) => ['-o', `oci:${dir}/out`], {}],
  ])('%s: the file it points at is untouched, the layout whole', async (_, where, output) => {
    registry = await hostileRegistry();
    const dir = scratchDir('dpull-planted-');
    const victim = join(scratchDir('dpull-victim-'), 'victim');
    writeFileSync(victim, 'precious');
    const link = where(registry, dir);
    const layout = link.includes('/blobs/') ? link.split('/blobs/')[0] : dirname(link);
    mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    symlinkSync(victim, link);
    const run = await runDpull(['-q', '--timeout', '3s', ...output(dir), `${registry.address}/app:1.0`], { DOCKER_HOST: 'unix:///nonexistent' });
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(run.code, run.stderr).toBe(0);
    expectBlobsWhole(layout);
  });
});

describe('credentials echoed back (critical 4)', () => {
  const USER = 'alice';
  const forms = (password: string) => {
    const basic = Buffer.from(`${USER}:${password}`).toString('base64');
    return [password, encodeURIComponent(password), JSON.stringify(password).slice(1, -1).replace(/\//g, '\\/'), basic, basic.replace(/=+$/, ''), `${USER}:${password}`];
  };
  /** A Basic registry that fails every authenticated request with 503, echoing what it was sent in every encoding. */
  const echoing = () =>
    hostileRegistry((req, res) => {
      const authorization = req.headers.authorization;
      if (authorization === undefined) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="echo"' }).end();
        return true;
      }
      const decoded = Buffer.from(authorization.replace(/^Basic /, ''), 'base64').toString('utf8');
      const password = decoded.split(':').slice(1).join(':');
      res.writeHead(503, `Unavailable for ${decoded} ${authorization}`, { 'Content-Type': 'application/json' });
      res.end(`{"errors":[{"message":"raw ${password} url ${encodeURIComponent(password)} json ${JSON.stringify(password).slice(1, -1).replace(/\//g, '\\/')} basic ${authorization}"}]}`);
      return true;
    });

  test.each([
    ['json', 's3cr/et@pw'],
    ['plain', 's3cr/et@pw'],
    ['quiet', 's3cr/et@pw'],
    ['json', 'p@w'],
    ['plain', 'p@w'],
  ])('--progress %s with password %s: retried and failed, no form of it anywhere', async (mode, password) => {
    registry = await echoing();
    const auth = JSON.stringify({ auths: { [registry.address]: { auth: Buffer.from(`${USER}:${password}`).toString('base64') } } });
    const run = await runDpull(['--progress', mode, '--retry', '1', '--retry-delay', '0.1', '-o', `oci:${scratchDir('dpull-oci-')}/out`, `${registry.address}/app:1.0`], {
      ...noEngine(),
      DOCKER_AUTH_CONFIG: auth,
    });
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toContain('[redacted]');
    if (mode === 'json') expect(run.stdout).toMatch(/"type":"retry"/);
    for (const form of forms(password)) expect(run.stdout + run.stderr, `printed ${form}`).not.toContain(form);
  });

  test('on a terminal: the retry countdown, the board and the failure carry no form of it', async () => {
    registry = await echoing();
    const password = 'tty-s3cr/et@pw';
    const auth = JSON.stringify({ auths: { [registry.address]: { auth: Buffer.from(`${USER}:${password}`).toString('base64') } } });
    const run = await runInPty(['--retry', '1', '--retry-delay', '1', '-o', `oci:${scratchDir('dpull-oci-')}/out`, `${registry.address}/app:1.0`], { ...noEngine(), DOCKER_AUTH_CONFIG: auth }, { cols: 200, rows: 30 });
    expect(run.exitCode).toBe(1);
    expect(run.output).toMatch(/retrying in/);
    expect(run.output).toContain('[redacted]');
    for (const form of forms(password)) expect(run.output, `printed ${form}`).not.toContain(form);
  });

  test('the library: the error a caller gets holds no form of the password', async () => {
    registry = await echoing();
    const { pull } = await import('../../src/index.js');
    const password = 'lib-s3cret/pw';
    const attempt = pull(`${registry.address}/app:1.0`, {
      output: `oci:${scratchDir('dpull-oci-')}/out`,
      registryAuth: Buffer.from(JSON.stringify({ username: USER, password, serveraddress: registry.address })).toString('base64url'),
    });
    const error = await attempt.result.then(() => undefined, (err: Error) => err);
    expect(error?.message).toMatch(/\[redacted\]/);
    for (const form of forms(password)) expect(error?.message).not.toContain(form);
  });
});

describe('text with escapes (high 8)', () => {
  test('config platform, error bodies, digests: nothing but printable text reaches any mode', async () => {
    const image = testImage(2, { architecture: 'amd\x1b]52;c;cHduZWQ=\x07\u202e64', variant: '\x1b[2J' });
    registry = await hostileRegistry(undefined, image);
    for (const mode of ['plain', 'json']) {
      const run = await runDpull(['--progress', mode, '-o', `oci:${scratchDir('dpull-oci-')}/out`, `${registry.address}/app:1.0`], noEngine());
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout + run.stderr).not.toMatch(/[\x1b\x07\u202e]|\\u001b|\\u0007|\\u202e/);
    }
    registry.setManifest(withLayer(registry, 0, { digest: `sha256:\x1b]0;PWN\x07\u2028${'f'.repeat(100_000)}` }));
    for (const mode of ['plain', 'json']) {
      const run = await runDpull(['--progress', mode, '-o', `oci:${scratchDir('dpull-oci-')}/out`, `${registry.address}/app:1.0`], noEngine());
      expect(run.code).toBe(1);
      expect(run.stdout + run.stderr).not.toMatch(/[\x1b\x07\u2028]|\\u001b|\\u0007|\\u2028/);
      expect((run.stdout + run.stderr).length).toBeLessThan(2000);
    }
  });

  test('an error body with escapes, line separators and a bidi override', async () => {
    registry = await hostileRegistry((req, res) => {
      if (req.url?.includes('/manifests/')) {
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end('bad\x1b[2J\r\u2028\u202eevil\x1b]0;title\x07');
        return true;
      }
    });
    const run = await runDpull(['-o', `oci:${scratchDir('dpull-oci-')}/out`, `${registry.address}/app:1.0`], noEngine());
    expect(run.code).toBe(1);
    expectOneCleanLine(run);
    expect(run.stderr).toContain('evil');
  });
});

describe('waits that must end (high 9, low 15, 22)', () => {
  const limited = (retryAfter: () => string) =>
    hostileRegistry((req, res) => {
      if (req.url?.includes('/manifests/')) {
        res.writeHead(429, { 'Retry-After': retryAfter(), 'Content-Type': 'application/json' }).end('{"errors":[{"code":"TOOMANYREQUESTS","message":"toomanyrequests: slow down"}]}');
        return true;
      }
    });

  test.each(['2000000', '999999999'])('Retry-After: %s fails at once, saying when to come back', async (value) => {
    registry = await limited(() => value);
    const started = Date.now();
    const run = await runDpull(['--retry', '2', '-o', `oci:${scratchDir('dpull-oci-')}/out`, `${registry.address}/app:1.0`], noEngine());
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the registry asks to wait \d+h\d\dm \(Retry-After\), more than dpull waits \(10m00s\): try again after \d{4}-\d\d-\d\dT/);
    expect(run.stderr).not.toMatch(/TimeoutOverflowWarning/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test('Retry-After as an HTTP date: waited until then', async () => {
    let asked = 0;
    registry = await hostileRegistry((req, res) => {
      if (req.url?.includes('/manifests/') && req.method === 'GET' && asked++ === 0) {
        res.writeHead(429, { 'Retry-After': new Date(Date.now() + 3000).toUTCString() }).end('toomanyrequests');
        return true;
      }
      if (req.url?.includes('/manifests/') && req.method === 'HEAD' && asked === 1) {
        res.writeHead(429, { 'Retry-After': new Date(Date.now() + 3000).toUTCString() }).end();
        return true;
      }
    });
    const started = Date.now();
    const run = await runDpull(['--no-tty', '--retry', '1', '--retry-delay', '0.1', '-o', `oci:${scratchDir('dpull-oci-')}/out`, `${registry.address}/app:1.0`], noEngine());
    expect(run.code, run.stderr).toBe(0);
    expect(Date.now() - started).toBeGreaterThan(1500);
  });

  test.each([
    ['a redirect to file:', (res: http.ServerResponse) => res.writeHead(307, { Location: 'file:///etc/passwd' }).end(), /redirected .* to a file: address; dpull follows http and https only/],
    ['a redirect to data:', (res: http.ServerResponse) => res.writeHead(302, { Location: 'data:text/plain,hello' }).end(), /to a data: address/],
    ['a token realm of file:', (res: http.ServerResponse) => res.writeHead(401, { 'WWW-Authenticate': 'Bearer realm="file:///etc/passwd",service="x"' }).end(), /names a token service that is not an http or https address/],
  ])('%s: one line, exit 1, not called a bug', async (_, answer, message) => {
    // (-q: the error is the only line)
    registry = await hostileRegistry((req, res) => {
      if (req.url?.includes('/blobs/') || (req.url?.includes('/manifests/') && message.source.includes('token'))) {
        answer(res);
        return true;
      }
    });
    const run = await runDpull(['-q', '-o', `oci:${scratchDir('dpull-oci-')}/out`, `${registry.address}/app:1.0`], noEngine());
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expectOneCleanLine(run);
  });
});

test('a token service that answers a token with a line break in it: one line, exit 1, not called a bug', async () => {
  registry = await hostileRegistry((req, res) => {
    if (req.url?.startsWith('/token')) {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: 'abc\r\nX-Evil: 1' }));
      return true;
    }
    if (req.headers.authorization === undefined) {
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://${req.headers.host}/token",service="s"` }).end();
      return true;
    }
  });
  const run = await runDpull(['-q', '-o', `oci:${scratchDir('dpull-oci-')}/out`, `${registry.address}/app:1.0`], noEngine());
  expect(run.code).toBe(1);
  expect(run.stderr).toBe(`dpull: the token service of ${registry.address} answered with something that is not a token\n`);
});

describe('what errors name (low 18, 19, 21, 23, 25)', () => {
  test('an index of 20,000 platforms without this one: a short line', async () => {
    registry = await hostileRegistry((req, res) => {
      if (req.url?.includes('/manifests/')) {
        const manifests = Array.from({ length: 20_000 }, (_, i) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(String(i)), size: 10, platform: { os: 'linux', architecture: `arch${i}` } }));
        res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.index.v1+json' }).end(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
        return true;
      }
    });
    const run = await runDpull(['-o', `oci:${scratchDir('dpull-oci-')}/out`, `${registry.address}/app:1.0`], noEngine());
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/has no image for linux\/amd64; it has linux\/arch0, .* and 19990 more \(use --platform\)\n$/);
    expect(run.stderr.length).toBeLessThan(500);
  });

  test('an index.json of {"manifests":[null]} in the destination: exit 2, saying so', async () => {
    registry = await hostileRegistry();
    const dir = scratchDir('dpull-oci-');
    writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(dir, 'index.json'), '{"manifests":[null]}');
    const run = await runDpull(['-q', '-o', `oci:${dir}`, `${registry.address}/app:1.0`], noEngine());
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`dpull: ${dir}/index.json is not an OCI image index: manifests[0] is not a descriptor\n`);
  });

  test('a digest reference is printed name@sha256:…', async () => {
    registry = await hostileRegistry((req, res) => {
      if (req.url?.includes('/manifests/')) {
        res.writeHead(404).end();
        return true;
      }
    });
    const digest = sha256('nothing');
    const run = await runDpull(['-o', `oci:${scratchDir('dpull-oci-')}/out`, `${registry.address}/app@${digest}`], noEngine());
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`dpull: manifest for ${registry.address}/app@${digest} not found: manifest unknown\n`);
  });

  test('a blob 404 after a redirect names the host that answered; credentials never go to another origin', async () => {
    const storage = await hostileRegistry((req, res) => {
      res.writeHead(404).end();
      return true;
    });
    try {
      registry = await hostileRegistry((req, res) => {
        if (req.headers.authorization === undefined) {
          res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="r"' }).end();
          return true;
        }
        if (req.url?.includes('/blobs/')) {
          // The same host by another name and port: another origin.
          res.writeHead(307, { Location: `http://localhost:${storage.address.split(':')[1]}/store?X-Amz-Signature=deadbeefsecret` }).end();
          return true;
        }
      });
      const auth = JSON.stringify({ auths: { [registry.address]: { auth: Buffer.from('u:pw-for-registry').toString('base64') } } });
      const run = await runDpull(['-q', '-o', `oci:${scratchDir('dpull-oci-')}/out`, `${registry.address}/app:1.0`], { ...noEngine(), DOCKER_AUTH_CONFIG: auth });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`^dpull: localhost:${storage.address.split(':')[1]}: 404 Not Found for blob sha256:[0-9a-f]{64}\\n$`));
      expect(storage.authorizations).toEqual([]);
      expect(run.stderr).not.toContain('deadbeefsecret');
    } finally {
      await storage.close();
    }
  });
});

test('blobs redirected to storage on another port with a signed URL: pulled, no credential reaches the storage, the signature never printed', async () => {
  const image = testImage(3);
  const storage = await hostileRegistry((req, res, reg) => {
    const digest = new URL(req.url ?? '/', 'http://x').searchParams.get('blob') ?? '';
    const bytes = reg.image.blobs.get(digest);
    res.writeHead(bytes === undefined ? 404 : 200).end(bytes);
    return true;
  }, image);
  try {
    registry = await hostileRegistry((req, res) => {
      if (req.headers.authorization === undefined) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="r"' }).end();
        return true;
      }
      const blob = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(req.url ?? '')?.[1];
      if (blob !== undefined) {
        res.writeHead(307, { Location: `http://${storage.address}/store?blob=${blob}&X-Amz-Signature=f00dfacesignature` }).end();
        return true;
      }
    }, image);
    const auth = JSON.stringify({ auths: { [registry.address]: { auth: Buffer.from('u:pw-for-registry').toString('base64') } } });
    const run = await runDpull(['--progress', 'json', '-o', `oci:${scratchDir('dpull-oci-')}/out`, `${registry.address}/app:1.0`], { ...noEngine(), DOCKER_AUTH_CONFIG: auth });
    expect(run.code, run.stderr).toBe(0);
    expect(storage.requests.filter((r) => r.startsWith('GET /store?'))).toHaveLength(4);
    expect(storage.authorizations).toEqual([]);
    expect(run.stdout + run.stderr).not.toContain('f00dfacesignature');
  } finally {
    await storage.close();
  }
});

describe('--load into engines that misbehave (medium 12, 13, low 22, 24)', () => {
  /** An engine that loads: reads the archive, streams `progress` lines, says `said`, lists `id`. */
  const loadingEngine = (options: { said?: (name: string) => string; id?: (reg: HostileRegistry) => string; progressEveryMs?: number; progressFor?: number; cut?: boolean }) =>
    fakeEngine((req, res) => {
      const url = req.url ?? '';
      if (url.includes('/images/load')) {
        let bytes = 0;
        req.on('data', (d: Buffer) => {
          bytes += d.length;
          if (options.cut && bytes > 10_000) req.socket.destroy();
        });
        req.on('end', () => {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          let sent = 0;
          const tick = () => {
            if (sent++ < (options.progressFor ?? 0)) {
              res.write(`${JSON.stringify({ status: 'Loading layer', id: 'abc', progressDetail: { current: sent, total: 100 } })}\r\n`);
              setTimeout(tick, options.progressEveryMs ?? 10);
              return;
            }
            res.end(`${JSON.stringify({ stream: `${(options.said ?? ((n: string) => `Loaded image: ${n}`))(`${registry!.address}/app:1.0`)}\n` })}\r\n`);
          };
          tick();
        });
        return;
      }
      if (url.includes('/images/json')) {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify([{ Id: options.id?.(registry!) ?? sha256(registry!.image.config), Size: 1 }]));
        return;
      }
      res.writeHead(404).end('{"message":"no"}');
    });

  test('an engine that hangs up mid-upload: one line, exit 1, no stack trace', async () => {
    registry = await hostileRegistry(undefined, testImage(3));
    engine = await loadingEngine({ cut: true });
    const run = await runDpull(['--load', '-H', engine.host, `${registry.address}/app:1.0`], { XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.code).toBe(1);
    expect(run.stderr).not.toMatch(/\n\s+at |unexpected error/);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(/^dpull: /);
  });

  test('--timeout 1s to an engine that reports progress every 300 ms for 3 s: loaded, exit 0', async () => {
    registry = await hostileRegistry();
    engine = await loadingEngine({ progressEveryMs: 300, progressFor: 10 });
    const run = await runDpull(['--no-tty', '--timeout', '1s', '--load', '-H', engine.host, `${registry.address}/app:1.0`], { XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.code, run.stderr).toBe(0);
  });

  test('an engine that says it loaded another image: exit 1, saying so', async () => {
    registry = await hostileRegistry();
    engine = await loadingEngine({ said: () => 'Loaded image: fake:latest' });
    const run = await runDpull(['-q', '--load', '-H', engine.host, `${registry.address}/app:1.0`], { XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`dpull: the engine at ${engine.host} says "Loaded image: fake:latest", not the image dpull sent (${registry.address}/app:1.0)\n`);
  });

  test('an engine that lists another image under the name after the load: exit 1', async () => {
    registry = await hostileRegistry();
    engine = await loadingEngine({ id: () => sha256('another image') });
    const run = await runDpull(['-q', '--load', '-H', engine.host, `${registry.address}/app:1.0`], { XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/holds sha256:[0-9a-f]{64} under .* after the load, not the image dpull sent/);
  });

  test('an engine whose /_ping never answers: exit 3 after its deadline, not a hang', async () => {
    registry = await hostileRegistry();
    engine = await fakeEngine(
      (_req, res) => res.writeHead(500).end(),
      () => {}, // never answers
    );
    const started = Date.now();
    const run = await runDpull(['-q', '--load', '-H', engine.host, `${registry.address}/app:1.0`], { XDG_CACHE_HOME: scratchDir('dpull-cache-') });
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(`dpull: ${engine.host} did not answer its ping within 30s\n`);
    expect(Date.now() - started).toBeLessThan(45_000);
  }, 60_000);
});

describe('a property over random hostile manifests', () => {
  test('whatever a manifest says, no file appears outside the destination and every blob matches its name', async () => {
    const fc = (await import('fast-check')).default;
    const { pull } = await import('../../src/index.js');
    // The registry serves a known blob's bytes for any path that holds its hex, however dressed up.
    registry = await hostileRegistry((req, res, reg) => {
      const path = decodeURIComponent(req.url ?? '');
      if (path.includes('/manifests/') || path === '/v2/') return false;
      for (const [digest, bytes] of reg.image.blobs) {
        if (path.includes(digest.slice(7))) {
          res.writeHead(200).end(bytes);
          return true;
        }
      }
      return false;
    });
    const sandbox = scratchDir('dpull-property-');
    const config = dirname(join(sandbox, 'x'));
    const real = [...registry.image.blobs].map(([digest, bytes]) => ({ digest, size: bytes.length }));
    const hexOf = (d: string) => d.slice(7);
    const digest = fc.oneof(
      { arbitrary: fc.constantFrom(...real.map((r) => r.digest)), weight: 3 },
      // (The escaped name carries the hex: the registry serves those bytes for it, as a hostile one would.)
      fc.constantFrom(...real.map((r) => `sha256:${hexOf(r.digest)}:${UP}${sandbox.slice(1)}/escaped-${hexOf(r.digest)}`)),
      fc.constantFrom(...real.map((r) => `sha256:${hexOf(r.digest)}/${UP}${sandbox.slice(1)}/escaped-${hexOf(r.digest)}`)),
      fc.constantFrom(...real.map((r) => `sha256:${hexOf(r.digest).toUpperCase()}`)),
      fc.constantFrom(...real.map((r) => `sha256:${hexOf(r.digest)}\n`)),
      fc.constantFrom('sha256:', 'sha256', `sha256:${UP}${sandbox.slice(1)}/escaped`, `${UP}${sandbox.slice(1)}/escaped`, `sha512:${'a'.repeat(128)}`, `md5:${'a'.repeat(32)}`),
      fc.string(),
    );
    const size = (i: number) => fc.oneof({ arbitrary: fc.constant(real[i % real.length].size), weight: 12 }, fc.constantFrom(-1, 0, 1.5, '12', 2 ** 53, null, real[i % real.length].size + 1, real[i % real.length].size - 1));
    const mediaType = fc.oneof({ arbitrary: fc.constant('application/vnd.oci.image.layer.v1.tar+gzip'), weight: 12 }, fc.constantFrom('x', '', 'application/vnd.oci.image.config.v1+json', 'a/b\x1b'), fc.string());
    // Most descriptors whole and true (so that many pulls go through), the rest hostile in any part.
    const honest = registry.image.manifest as { config: object; layers: object[] };
    // Paths dressed as digests, each true in every other part (its bytes served, its size right).
    const escaping = real.flatMap((r) =>
      [':', '/'].map((glue) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${hexOf(r.digest)}${glue}${UP}${sandbox.slice(1)}/escaped-${hexOf(r.digest)}`, size: r.size })),
    );
    const descriptor = (i: number) =>
      fc.oneof(
        { arbitrary: fc.constantFrom(...honest.layers), weight: 8 },
        { arbitrary: fc.constantFrom(...escaping), weight: 2 },
        { arbitrary: fc.record({ mediaType, digest, size: size(i) }), weight: 2 },
      );
    const manifest = fc.record({
      schemaVersion: fc.constant(2),
      mediaType: fc.constantFrom('application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'),
      config: fc.oneof(
        { arbitrary: fc.constant(honest.config), weight: 8 },
        { arbitrary: fc.record({ mediaType: fc.constantFrom('application/vnd.oci.image.config.v1+json', 'application/octet-stream'), digest, size: size(0) }), weight: 2 },
      ),
      layers: fc.array(descriptor(1), { maxLength: 3 }),
    });
    const output = fc.constantFrom('oci', 'docker-archive', 'oci-archive');
    let run = 0;
    const outcomes = { pulled: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(manifest, output, async (m, kind) => {
        registry!.setManifest(m);
        const dest = join(sandbox, `dest-${run++}`);
        const target = kind === 'oci' ? `oci:${dest}` : `${kind}:${dest}.tar`;
        await pull(`${registry!.address}/app:1.0`, { output: target, cacheDir: join(sandbox, 'cache'), configDir: config, env: {} }).result.then(
          () => outcomes.pulled++,
          () => outcomes.refused++,
        );
        const outside = filesUnder(sandbox).filter((f) => !f.startsWith(`dest-`) && !f.startsWith('cache/layout/'));
        expect(outside).toEqual([]);
        expect(filesUnder(sandbox).filter((f) => f.includes('escaped'))).toEqual([]);
        if (kind === 'oci' && existsSync(dest)) expectBlobsWhole(dest);
        expectBlobsWhole(join(sandbox, 'cache', 'layout'));
      }),
      { numRuns: 200 },
    );
    // Both kinds happened: the property was tried on pulls that went through, not only on refusals.
    expect(outcomes.pulled).toBeGreaterThan(10);
    expect(outcomes.refused).toBeGreaterThan(10);
  });
});
