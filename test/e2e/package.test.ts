// The published package as a user meets it: packed, installed into an empty folder with no
// network, run through npm's bin link, and imported as a library.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, inject, test } from 'vitest';
import { inspectImage, removeAllImages, stack } from '../support/stack.js';
import { scratchDir } from '../support/scratch.js';
import { dpullNode, pathWithDpullNode } from '../support/run-dpull.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const s = stack();
const work = scratchDir('dpull-package-');
const app = `${work}/app`;
const { version } = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));
// No registry can be reached: an install that needed one would fail.
// npm and npx as in a user's shell, on the Node that runs dpull: none of the npm_* settings of the
// npm that started the tests (its prefix would put its own Node's folder first in PATH).
const shell = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|NODE$|INIT_CWD$)/i.test(k)));
// npm on Node ≥ 22 keeps a compile cache, by default in /tmp: in the scratch folder instead.
const offline = { ...shell, PATH: pathWithDpullNode(), NODE_COMPILE_CACHE: `${work}/node-compile-cache`, npm_config_registry: 'http://127.0.0.1:9/', npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' };

beforeAll(() => {
  const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], { cwd: root, encoding: 'utf8' }).trim().split('\n').at(-1);
  mkdirSync(app);
  execFileSync('npm', ['init', '-y'], { cwd: app, stdio: 'ignore', env: offline });
  const install = spawnSync('npm', ['install', `${work}/${tarball}`], { cwd: app, encoding: 'utf8', env: offline });
  installWarnings = `${install.stdout}${install.stderr}`.split('\n').filter((l) => /warn/i.test(l));
});
let installWarnings: string[] = [];

const npx = (...args: string[]) =>
  spawnSync('npx', ['--offline', 'dpull', ...args], { cwd: app, encoding: 'utf8', env: { ...offline, DOCKER_HOST: s.dockerHost } });

describe('npm pack → install offline → npx dpull', () => {
  test('installs without a warning (no install-time scripts), with its licence', () => {
    expect(installWarnings).toEqual([]);
    expect(readFileSync(`${app}/node_modules/dpull/LICENSE`, 'utf8')).toMatch(/^MIT License/);
  });

  test('its types compile in a strict TypeScript program that has no @types/node', () => {
    writeFileSync(`${app}/index.ts`, [
      "import { pull, parseReference, resolveEngine, DpullError, type PullResult, type PullEvent } from 'dpull';",
      "const p = pull('nginx:1.27', { host: 'ssh://build-1' });",
      'export const result: Promise<PullResult> = p.result;',
      'export const first = async (): Promise<PullEvent | undefined> => { for await (const e of p) return e; return undefined; };',
      "export const name: string = parseReference('nginx').name;",
      "export const kind: 'unix' | 'tcp' | 'ssh' | 'npipe' | 'containerd' = resolveEngine({ host: 'ssh://x' }).kind;",
      "export const node = pull('nginx:1.27', { host: 'containerd:///run/containerd/containerd.sock', namespace: 'k8s.io' }).result;",
      'export const unreachable = (e: unknown) => e instanceof DpullError && e.exitCode === 3;',
    ].join('\n'));
    writeFileSync(`${app}/tsconfig.json`, JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, types: [], skipLibCheck: false } }));
    const tsc = spawnSync(`${root}/node_modules/.bin/tsc`, ['-p', app], { encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });

  test('dpull runs on the Node this project names (Node 24 in e2e-node24)', () => {
    const v = npx('--version');
    expect(v.status).toBe(0);
    const node = spawnSync('npx', ['--offline', 'node', '-v'], { cwd: app, encoding: 'utf8', env: offline });
    expect(node.stdout.trim()).toBe(spawnSync(dpullNode(), ['-v'], { encoding: 'utf8' }).stdout.trim());
    if (inject('dpullNode') !== undefined) expect(node.stdout).toMatch(/^v24\./);
  });

  test('installs no dependency tree', () => {
    expect(readdirSync(`${app}/node_modules`).filter((d) => !d.startsWith('.'))).toEqual(['dpull']);
  });

  test('--version and --help work through the bin link', () => {
    const v = npx('--version');
    expect(v.status).toBe(0);
    expect(v.stdout).toBe(`${version}\n`);
    const help = npx('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: dpull [options] <image...>');
    expect(help.stdout).toContain("--progress json app:1.4 | jq -c 'select(.type == \"result\")'");
  });

  test('a real pull from the test stack', async () => {
    await removeAllImages();
    const ref = `${s.registry}/demo/three:1.0`;
    const run = npx('--no-tty', ref);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`${ref}\n`);
    expect(run.stderr).toContain(`Status: Downloaded newer image for ${ref}`);
    expect(await inspectImage(ref)).toBeDefined();
  });

  test("a pull into containerd from the installed package: gRPC and containerd's protocol files come with it", () => {
    const ref = `${s.registry}/demo/three:1.0`;
    const run = spawnSync('npx', ['--offline', 'dpull', '--no-tty', '-H', s.containerdHost, '-n', 'dpull-package', ref], { cwd: app, encoding: 'utf8', env: { ...offline, XDG_CACHE_HOME: `${work}/cache` } });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toContain(`Status: Loaded ${ref} into containerd at ${s.containerdHost}, namespace dpull-package`);
    expect(existsSync(`${app}/node_modules/dpull/dist/proto/github.com/containerd/containerd/LICENSE`)).toBe(true);
    const ctr = (...args: string[]) => execFileSync(s.ctr, ['--address', s.containerdSocket, '-n', 'dpull-package', ...args], { encoding: 'utf8' });
    expect(ctr('images', 'ls', '-q').trim()).toBe(ref);
    ctr('images', 'rm', '--sync', ref);
  });

  test('a pull leaves its compiled code in the cache folder and the next start uses it; --help makes none; a damaged cache is replaced', () => {
    const cache = `${work}/xdg-cache`;
    const folder = `${cache}/dpull/compile-cache`;
    const cached = () => (existsSync(folder) ? readdirSync(folder).filter((f) => f.startsWith('cli.cjs-')) : []);
    const run = (...args: string[]) => spawnSync('npx', ['--offline', 'dpull', ...args], { cwd: app, encoding: 'utf8', env: { ...offline, XDG_CACHE_HOME: cache, DOCKER_HOST: s.dockerHost } });
    const ref = `${s.registry}/demo/three:1.0`;
    expect(run('--help').status).toBe(0);
    expect(cached()).toEqual([]);
    const first = run('-q', ref);
    expect(first.status).toBe(0);
    expect(cached()).toHaveLength(1);
    const file = `${folder}/${cached()[0]}`;
    const made = readFileSync(file);
    const { ino } = statSync(file);
    expect(made.length).toBeGreaterThan(50_000); // the functions a pull ran, not only the top level
    // Taken as it is: not written again (a new one would be a new file renamed into place).
    const second = run('-q', ref);
    expect([second.status, second.stdout, second.stderr]).toEqual([0, first.stdout, first.stderr]);
    expect(statSync(file).ino).toBe(ino);
    // Turned down by V8, the pull is the same, and a good cache takes its place.
    writeFileSync(file, Buffer.alloc(made.length, 7));
    const third = run('-q', ref);
    expect([third.status, third.stdout, third.stderr]).toEqual([0, first.stdout, first.stderr]);
    expect(cached()).toHaveLength(1);
    expect(readFileSync(file).equals(Buffer.alloc(made.length, 7))).toBe(false);
    expect(readFileSync(file).length).toBeGreaterThan(50_000);
    // Where dpull runs on Node 24 (e2e-node24), a run on the machine's Node 20 keeps a cache of
    // its own beside it: neither drops the other's, and each is taken the next time.
    if (inject('dpullNode') !== undefined) {
      const bin = `${app}/node_modules/dpull/bin/dpull.js`;
      const env = { ...offline, XDG_CACHE_HOME: cache, DOCKER_HOST: s.dockerHost };
      expect(spawnSync(process.execPath, [bin, '-q', ref], { encoding: 'utf8', env }).status).toBe(0);
      expect(cached()).toHaveLength(2);
      const inodes = cached().map((f) => statSync(`${folder}/${f}`).ino);
      expect(run('-q', ref).status).toBe(0);
      expect(spawnSync(process.execPath, [bin, '-q', ref], { encoding: 'utf8', env }).status).toBe(0);
      expect(cached().map((f) => statSync(`${folder}/${f}`).ino)).toEqual(inodes);
    }
  });

  test("a pull from a registry (which sets V8's optimizing compiler off while it runs) leaves a cache the next start takes", () => {
    const cache = `${work}/xdg-cache-registry`;
    const folder = `${cache}/dpull/compile-cache`;
    const run = () => {
      rmSync(`${work}/registry-layout`, { recursive: true, force: true });
      return spawnSync('npx', ['--offline', 'dpull', '-q', '-o', `oci:${work}/registry-layout`, `${s.registry}/demo/three:1.0`], { cwd: app, encoding: 'utf8', env: { ...offline, XDG_CACHE_HOME: cache } });
    };
    expect(run().status).toBe(0);
    const [file] = readdirSync(folder).filter((f) => f.startsWith('cli.cjs-'));
    const { ino } = statSync(`${folder}/${file}`);
    // Made under the settings a run starts with: taken, not written again.
    expect(run().status).toBe(0);
    expect(readdirSync(folder).filter((f) => f.startsWith('cli.cjs-'))).toEqual([file]);
    expect(statSync(`${folder}/${file}`).ino).toBe(ino);
  });

  test("Node's modules load with the code cache Node ships for them: a pull's V8 settings do not turn it down", () => {
    // V8 turns down that cache when any of its settings differs from the default; dpull puts the
    // defaults back while Node loads one of its modules (bin/v8-settings.js). Node reports each
    // module's cache, taken or not, under NODE_DEBUG_NATIVE=CODE_CACHE.
    const run = (...args: string[]) =>
      spawnSync(dpullNode(), [`${app}/node_modules/.bin/dpull`, ...args], {
        cwd: app,
        encoding: 'utf8',
        env: { ...offline, DOCKER_HOST: s.dockerHost, NODE_DEBUG_NATIVE: 'CODE_CACHE', XDG_CACHE_HOME: `${work}/cache-check-home` },
      });
    const image = `${s.registry}/demo/three:1.0`;
    for (const pull of [run('-q', image), run('-q', '-o', `oci:${work}/cache-check`, image), run('-q', '-o', `docker-archive:${work}/cache-check.tar`, '--cache-dir', `${work}/cache-check-blobs`, image)]) {
      expect(pull.status).toBe(0);
      const reports = pull.stderr.split('\n').filter((line) => line.startsWith('Code cache of '));
      expect(reports.filter((line) => line.endsWith(' is accepted')).length).toBeGreaterThan(20);
      expect(reports.filter((line) => !line.endsWith(' is accepted'))).toEqual([]);
    }
  });

  test('the library imports by name, with its types', () => {
    const script = `import { pull } from 'dpull'; const r = await pull(process.argv[1], { host: process.env.DOCKER_HOST }).result; console.log(JSON.stringify(r));`;
    const run = spawnSync(dpullNode(), ['--input-type=module', '-e', script, `${s.registry}/demo/three:1.0`], { cwd: app, encoding: 'utf8', env: { ...offline, DOCKER_HOST: s.dockerHost } });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toMatchObject({ reference: `${s.registry}/demo/three:1.0`, upToDate: true });
    const pkg = JSON.parse(readFileSync(`${app}/node_modules/dpull/package.json`, 'utf8'));
    expect(existsSync(`${app}/node_modules/dpull/${pkg.exports['.'].types}`)).toBe(true);
    expect(readFileSync(`${app}/node_modules/dpull/${pkg.exports['.'].types}`, 'utf8')).toContain('pull');
  });
});

test('in this checkout, after npm ci, npx dpull runs the project itself (no download)', () => {
  const help = spawnSync('npx', ['--offline', 'dpull', '--help'], { cwd: root, encoding: 'utf8', env: offline });
  expect(help.status).toBe(0);
  expect(help.stdout).toContain('Usage: dpull [options] <image...>');
});

describe('the bundle', () => {
  const terminalLibraries = /cli-spinners|RGI_Emoji|eastAsianWidth/;
  const cli = readFileSync(`${root}/dist/cli.cjs`, 'utf8');

  test('the command is one file that loads the terminal libraries (ora, string-width), tar-stream and gRPC only when needed, each a CommonJS bundle of its own', () => {
    expect(cli).not.toMatch(terminalLibraries);
    expect(cli).not.toMatch(/\brequire\("\.{1,2}\//); // no other file of ours loaded by require
    expect(cli).not.toMatch(/\bimport\(/); // no ES module loader started for them
    for (const vendor of ['ora', 'string-width', 'tar-stream', '@grpc/grpc-js', '@grpc/proto-loader']) {
      expect(cli).toContain(`__dpullImport("./vendor/${vendor}.cjs")`);
      expect(existsSync(`${root}/dist/vendor/${vendor}.cjs`)).toBe(true);
    }
    expect(readFileSync(`${root}/dist/vendor/ora.cjs`, 'utf8')).toMatch(terminalLibraries);
    expect(readFileSync(`${root}/dist/vendor/string-width.cjs`, 'utf8')).toMatch(terminalLibraries);
  });
});
