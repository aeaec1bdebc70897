// dpull run as a child process against the real test stack: a real dockerd and real registries.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { engineRequest, inspectImage, removeAllImages, stack } from '../support/stack.js';
import { runDpull } from '../support/run-dpull.js';
import { runInPty } from '../support/pty.js';
import { screenOf, someFrameShows } from '../support/screen.js';

const s = stack();
const engineEnv = { DOCKER_HOST: s.dockerHost };
const dpull = (...args: string[]) => runDpull(args, engineEnv);

const pulledLayers = (stderr: string) => stderr.split('\n').filter((l) => / [0-9a-f]{12}: Pull complete$/.test(l));
const reusedLayers = (stderr: string) => stderr.split('\n').filter((l) => / [0-9a-f]{12}: Already exists$/.test(l));

// The core of a pull against both generations of Docker's engine: the classic image store
// (dockerd 20.10) and the containerd image store (Docker 26.1), whose streams differ (DESIGN.md).
const engines = [
  { name: 'dockerd, classic image store', host: s.dockerHost, socket: s.socketPath, containerd: false },
  { name: 'Docker 26, containerd image store', host: s.docker26Host, socket: s.docker26Socket, containerd: true },
];

describe.each(engines)('pulling from a real registry through $name', ({ host, socket, containerd }) => {
  const pullOn = (...args: string[]) => runDpull(args, { DOCKER_HOST: host });
  const has = async (ref: string) => (await engineRequest('GET', `/images/${encodeURIComponent(ref)}/json`, socket)).status === 200;
  const inspect = async (ref: string) => JSON.parse((await engineRequest('GET', `/images/${encodeURIComponent(ref)}/json`, socket)).body);
  beforeAll(() => removeAllImages(socket));
  afterAll(() => removeAllImages(socket));

  test('a fresh pull downloads every layer, prints the reference on stdout and leaves the image in the engine', async () => {
    const ref = `${s.registry}/demo/three:1.0`;
    const run = await pullOn(ref);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${ref}\n`);
    expect(pulledLayers(run.stderr)).toHaveLength(3);
    expect(run.stderr).toMatch(new RegExp(`^${ref}  Digest: sha256:[0-9a-f]{64}$`, 'm'));
    expect(run.stderr).toContain(`Status: Downloaded newer image for ${ref}`);
    expect(run.stderr).toMatch(/3 layers pulled, 0 reused; image sha256:[0-9a-f]{12}, [\d.]+ MB on disk, linux\/amd64$/m);
    expect(run.stderr).not.toContain('\x1b');
    const image = await inspect(ref);
    expect(image.RepoTags).toContain(ref);
    const digest = /Digest: (sha256:[0-9a-f]{64})/.exec(run.stderr)?.[1];
    expect(image.RepoDigests).toContain(`${s.registry}/demo/three@${digest}`);
  });

  test('a pull of an image whose layers partly exist downloads only the missing one', async () => {
    const ref = `${s.registry}/demo/three:1.1`;
    const run = await pullOn(ref);
    expect(run.code).toBe(0);
    expect(pulledLayers(run.stderr)).toHaveLength(1);
    // The containerd store says nothing of the layers it has; the classic one says Already exists.
    expect(reusedLayers(run.stderr)).toHaveLength(containerd ? 0 : 3);
    expect(run.stderr).toMatch(containerd ? /1 layer pulled, 0 reused; image /m : /1 layer pulled, 3 reused; image /m);
    expect(await has(ref)).toBe(true);
  });

  test('pulling again says the image is up to date', async () => {
    const ref = `${s.registry}/demo/three:1.1`;
    const run = await pullOn(ref);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`Status: Image is up to date for ${ref}`);
    expect(run.stderr).toMatch(new RegExp(`^${ref}  Up to date: ${ref} \\(sha256:[0-9a-f]{64}\\), checked in \\d+s; image sha256:[0-9a-f]{12}, [\\d.]+ MB on disk, linux/amd64$`, 'm'));
    expect(run.stderr).not.toContain('layers pulled');
    expect(pulledLayers(run.stderr)).toHaveLength(0);
    const json = await pullOn('--progress', 'json', ref);
    expect(JSON.parse(json.stdout.trim().split('\n').at(-1)!)).toMatchObject({ type: 'result', upToDate: true, layers: { pulled: 0 } });
    expect(run.stdout).toBe(`${ref}\n`);
  });

  test('json: the result names the digest the engine keeps and the layers pulled', async () => {
    const ref = `${s.registry}/demo/eight:1.0`;
    const run = await pullOn('--progress', 'json', ref);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const result = lines.at(-1);
    expect(result).toMatchObject({ type: 'result', reference: ref, upToDate: false, layers: { total: 8, pulled: 8, reused: 0 } });
    expect((await inspect(ref)).RepoDigests).toContain(`${s.registry}/demo/eight@${result.digest}`);
  });

  test('-q prints exactly the reference and nothing on stderr', async () => {
    const ref = `${s.registry}/demo/forty:1.0`;
    const run = await pullOn('-q', ref);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${ref}\n`);
    expect(run.stderr).toBe('');
    expect(await has(ref)).toBe(true);
  });

  test('a missing tag: exit 1 with the engine\'s own words, nothing on stdout', async () => {
    const run = await pullOn(`${s.registry}/demo/three:9.9`);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      containerd
        ? `dpull: failed to resolve reference "${s.registry}/demo/three:9.9": ${s.registry}/demo/three:9.9: not found\n`
        : `dpull: manifest for ${s.registry}/demo/three:9.9 not found: manifest unknown: manifest unknown\n`,
    );
  });

  test('on a terminal, 40 layers in 15 rows: folded to the height, every line whole, the image pulled', async () => {
    const ref = `${s.slowRegistry}/demo/forty:1.0`;
    await removeAllImages(socket);
    const run = await runInPty([ref], { DOCKER_HOST: host }, { cols: 100, rows: 15 });
    expect(run.exitCode).toBe(0);
    const screen = await screenOf(run.output, 100, 15, false);
    expect(screen.wrapped).toBe(0);
    expect(screen.cursorHidden).toBe(false);
    // No frame ever drew more rows than the terminal has.
    expect(await someFrameShows(run.output, 100, 15, (lines) => lines.length > 15, false)).toBe(false);
    expect(screen.lines).toContain(`Status: Downloaded newer image for ${ref}`);
    expect(screen.lines.at(-1)).toBe(ref);
    expect(await has(ref)).toBe(true);
  });
});

describe('with the classic engine', () => {
  beforeAll(() => removeAllImages());

  test('a name without a tag pulls latest and says so', async () => {
    const run = await dpull(`${s.registry}/demo/three`);
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n')[0]).toBe('Using default tag: latest');
    expect(run.stderr).toContain(`dpull: manifest for ${s.registry}/demo/three:latest not found`);
  });

  test('-a pulls every tag of the repository', async () => {
    await removeAllImages();
    const run = await dpull('-a', `${s.registry}/demo/three`);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${s.registry}/demo/three\n`);
    expect(run.stderr).toContain('1.0: Pulling from demo/three');
    expect(run.stderr).toContain('1.1: Pulling from demo/three');
    expect(await inspectImage(`${s.registry}/demo/three:1.0`)).toBeDefined();
    expect(await inspectImage(`${s.registry}/demo/three:1.1`)).toBeDefined();
  });

  test('-a with a tag is a usage error', async () => {
    const run = await dpull('-a', `${s.registry}/demo/three:1.0`);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("dpull: tag can't be used with --all-tags/-a\n");
  });
});

describe('a pull that fails says why, in one line, with exit code 1', () => {
  test('an unknown repository', async () => {
    const run = await dpull(`${s.registry}/demo/nothing-here:1`);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^dpull: manifest for .*\/demo\/nothing-here:1 not found: manifest unknown/);
  });

  test('a registry that is down', async () => {
    const run = await dpull(`${s.downRegistry}/demo/three:1.0`);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`dpull: Get "http://${s.downRegistry}/v2/": dial tcp ${s.downRegistry}: connect: connection refused\n`);
  });

  test('a registry that wants credentials', async () => {
    const run = await dpull(`${s.authRegistry}/private/three:1.0`);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^dpull: .*(no basic auth credentials|unauthorized)/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('bad input never reaches the engine', () => {
  test.each([
    ['Bad/Name', 'dpull: invalid reference format: repository name (Name) must be lowercase'],
    ['a:b:c', 'dpull: invalid reference format: expected [registry/]name[:tag][@digest] (in "a:b:c")'],
    ['', 'dpull: invalid reference format: the image name is empty'],
    ['x@sha256:123', 'dpull: invalid reference format: the digest must look like sha256:<64 hex digits> (in "x@sha256:123")'],
  ])('reference %j: exit 2', async (ref, message) => {
    // An engine address that does not exist: reaching it would be exit 3, not 2.
    const run = await runDpull([ref], { DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`${message}\n`);
  });

  test.each([
    [['--bogus', 'x'], "dpull: unknown option '--bogus'"],
    [[], "dpull: missing required argument 'image'"],
    [['--progres', 'json', 'x'], "dpull: unknown option '--progres'\n(Did you mean --progress?)"],
  ])('%j: exit 2, the error, the usage line and where help is', async (args, message) => {
    const run = await dpull(...args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`${message}\nUsage: dpull [options] <image...>\nRun 'dpull --help' for more.\n`);
  });

  test('a bad platform: exit 2', async () => {
    const run = await dpull('--platform', 'linux', 'x');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('invalid platform "linux": expected os/arch[/variant]');
  });
});

describe('an engine that cannot be reached: exit 3, naming the address', () => {
  test('no socket at DOCKER_HOST', async () => {
    const run = await runDpull([`${s.registry}/demo/three:1.0`], { DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(
      'dpull: cannot connect to the Docker engine at unix:///nonexistent/docker.sock: no such socket (is the Docker daemon running?)\n',
    );
  });

  test('-H wins over DOCKER_HOST; nothing listening on the port', async () => {
    const run = await runDpull(['-H', 'tcp://127.0.0.1:1', `${s.registry}/demo/three:1.0`], engineEnv);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('cannot connect to the Docker engine at tcp://127.0.0.1:1: connection refused');
  });

  test('something that is not a Docker engine', async () => {
    // The registry speaks HTTP but is no engine.
    const run = await runDpull(['-H', `tcp://${s.registry}`, `${s.registry}/demo/three:1.0`]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`tcp://${s.registry} does not answer like a Docker engine`);
  });
});
