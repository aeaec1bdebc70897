// The fault matrix: each row a real process where one exists (dockerd, the registry, a real
// terminal, an unprivileged user), a scripted stand-in engine where a fault must be made on demand.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { inspectImage, removeAllImages, stack } from '../support/stack.js';
import { dpullBin, runDpull } from '../support/run-dpull.js';
import { runInPty } from '../support/pty.js';
import { screenOf } from '../support/screen.js';
import { fakeEngine, streamOf, type FakeEngine } from '../support/fake-engine.js';
import { scratchDir } from '../support/scratch.js';

const s = stack();
const env = { DOCKER_HOST: s.dockerHost };
let engine: FakeEngine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

const layer = (id: string, status: string, progressDetail: object = {}) => ({ status, progressDetail, id });

describe('the engine', () => {
  test('a socket that exists with nothing listening: exit 3, connection refused', async () => {
    const dir = scratchDir('dpull-dead-');
    // Bound but never listening: what a crashed daemon leaves behind.
    execFileSync('python3', ['-c', `import socket; s = socket.socket(socket.AF_UNIX); s.bind('${dir}/docker.sock')`]);
    const run = await runDpull([`${s.registry}/demo/three:1.0`], { DOCKER_HOST: `unix://${dir}/docker.sock` });
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(`dpull: cannot connect to the Docker engine at unix://${dir}/docker.sock: connection refused (is the Docker daemon running?)\n`);
  });

  test('permission denied on the root-owned socket, for an unprivileged user: exit 3', () => {
    const run = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, dpullBin, `${s.registry}/demo/three:1.0`], {
      env: { PATH: process.env.PATH, DOCKER_HOST: s.dockerHost },
      encoding: 'utf8',
    });
    expect(run.status).toBe(3);
    expect(run.stderr).toBe(`dpull: cannot connect to the Docker engine at ${s.dockerHost}: permission denied (run as root, or join the group that owns the socket)\n`);
  });

  test('something that answers HTTP with a web page is not taken for an engine: exit 3', async () => {
    const html = (_req: unknown, res: import('node:http').ServerResponse) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<html><body>Welcome to nginx!</body></html>');
    };
    engine = await fakeEngine(html, html);
    const run = await runDpull(['x:1'], { DOCKER_HOST: engine.host });
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(`dpull: ${engine.host} does not answer like a Docker engine (GET /_ping: HTTP 200)\n`);
  });

  test('the engine dies mid-stream: exit 1, "connection lost", never a success', async () => {
    engine = await fakeEngine(streamOf([{ status: 'Pulling from demo/three', id: '1.0' }, layer('aaaaaaaaaaaa', 'Pulling fs layer'), layer('aaaaaaaaaaaa', 'Downloading', { current: 10, total: 100 })], 'cut'));
    const run = await runDpull(['x:1'], { DOCKER_HOST: engine.host });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n').at(-1)).toBe(`dpull: the connection to the engine at ${engine.host} was lost before the pull finished`);
  });

  test('an engine that goes silent: --timeout ends the pull with a clear message, exit 1', async () => {
    engine = await fakeEngine(streamOf([{ status: 'Pulling from demo/three', id: '1.0' }], 'hang'));
    const started = Date.now();
    const run = await runDpull(['--timeout', '800ms', 'x:1'], { DOCKER_HOST: engine.host });
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toBe('dpull: nothing from the engine for 800ms (--timeout); the pull was cancelled');
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
  });

  test('an engine that never answers the ping: --timeout 1 (seconds) ends it too', async () => {
    engine = await fakeEngine(() => {}, () => {});
    const run = await runDpull(['--timeout', '1', 'x:1'], { DOCKER_HOST: engine.host });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('nothing from the engine for 1s (--timeout)');
  });

  test('an engine that never answers: a terminal shows the spinner connecting to it', async () => {
    engine = await fakeEngine(() => {}, () => {});
    const run = await runInPty(['--timeout', '1', 'x:1'], { DOCKER_HOST: engine.host }, { cols: 80, rows: 20 });
    expect(run.exitCode).toBe(1);
    expect(run.output).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏](?:\x1b\[\d+m)* Connecting to unix:\/\//);
    const screen = await screenOf(run.output, 80, 20, false);
    expect(screen.cursorHidden).toBe(false);
    expect(screen.lines.at(-1)).toBe('dpull: nothing from the engine for 1s (--timeout); the pull was cancelled');
  });

  test('while a silent engine is waited on, the spinner keeps going on a terminal', async () => {
    engine = await fakeEngine(streamOf([], 'hang'));
    const run = await runInPty(['--timeout', '1500ms', 'x:1'], { DOCKER_HOST: engine.host }, { cols: 80, rows: 20 });
    expect(run.exitCode).toBe(1);
    // The pull accepted at once (no spinner before SPINNER_DELAY_MS), then what the engine is doing.
    const frames = new Set([...run.output.matchAll(/([⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏])(?:\x1b\[\d+m)* Resolving docker\.io\/library\/x:1/g)].map((m) => m[1]));
    expect(frames.size).toBeGreaterThan(3);
    const screen = await screenOf(run.output, 80, 20, false);
    expect(screen.cursorHidden).toBe(false);
    expect(screen.lines.at(-1)).toBe('dpull: nothing from the engine for 2s (--timeout); the pull was cancelled');
  });

  test.each(['--timeout=soon', '--timeout=0', '--timeout=-1s'])('%s is a usage error', async (arg) => {
    const run = await runDpull([arg, 'x:1'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^dpull: invalid --timeout ".*": expected a duration such as 30s, 500ms or 2m\n$/);
  });
});

describe('the registry dies mid-pull (real engine, real registry behind a proxy that is killed)', () => {
  test("the engine's retry countdown is shown, then its error; exit 1", async () => {
    await removeAllImages();
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const proxy = spawn(process.execPath, [new URL('../../scripts/throttle-proxy.mjs', import.meta.url).pathname, String(port), s.registry.split(':')[1], '1000000'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
    const ref = `127.0.0.1:${port}/demo/three:1.0`;
    const run = await runDpull(['--no-tty', ref], env, () => setTimeout(() => proxy.kill('SIGKILL'), 1500));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/[0-9a-f]{12}: Retrying in \d+s/);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^dpull: .*127\\.0\\.0\\.1:${port}.*connection refused`));
    expect(run.stdout).toBe('');
    expect(await inspectImage(ref)).toBeUndefined();
  }, 200_000);
});

describe('hostile or odd stream content', () => {
  const hostile = [
    { status: 'Pulling from demo/\u001b]0;pwned\u0007three', id: '1.0' },
    layer('aaaaaaaaaaaa', 'Pulling fs layer'),
    layer('aaaaaaaaaaaa', 'Downloading', { current: 500, total: 0 }),
    layer('aaaaaaaaaaaa', 'Downloading', { current: 900, total: 100 }),
    layer('bbbbbbbbbbbb', 'Extracting', { current: 3, units: 's' }), // never announced
    layer('cccccccccccc', 'Frobnicating \u001b[2J\u001b[H'), // unknown status, with a screen clear
    { status: `Note: ${'x'.repeat(3_000_000)}` }, // one line of several MB
    layer('aaaaaaaaaaaa', 'Pull complete'),
    layer('bbbbbbbbbbbb', 'Pull complete'),
    { status: 'Digest: sha256:' + 'a'.repeat(64) },
    { status: 'Status: Downloaded newer image for x:1\u001b[31m' },
  ];

  test('plain: printed harmlessly, no escape byte, exit 0', async () => {
    engine = await fakeEngine(streamOf(hostile));
    const run = await runDpull(['--no-tty', 'x:1'], { DOCKER_HOST: engine.host });
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('\x1b');
    expect(run.stderr).toContain('Pulling from demo/]0;pwnedthree'.replace(']0;pwned', ''));
    expect(run.stderr).toContain('cccccccccccc: Frobnicating');
    expect(run.stdout).toBe('docker.io/library/x:1\n');
  });

  test('on a terminal: only dpull\'s own sequences reach it, no line wraps, exit 0', async () => {
    engine = await fakeEngine(streamOf(hostile));
    const run = await runInPty(['x:1'], { DOCKER_HOST: engine.host }, { cols: 80, rows: 24 });
    expect(run.exitCode).toBe(0);
    expect(run.output).not.toContain(']0;pwned');
    expect(run.output).not.toContain('\x1b[2J');
    const screen = await screenOf(run.output, 80, 24, false);
    // What is printed for good (the closing ✔ line) may wrap; the live display never.
    expect(screen.wrappedLines.filter((l) => !/^(Digest|Status): |^✔ /.test(l))).toEqual([]);
    expect(screen.lines.filter((l) => /^[abc]{12}  /.test(l))).toHaveLength(3);
  });

  test.each([
    [{ errorDetail: { message: 'detail only \u001b[31mred' } }, 'dpull: detail only red'],
    [{ error: 'error only' }, 'dpull: error only'],
    [{ errorDetail: {}, error: '' }, 'dpull: the engine reported an error without a message'],
  ])('an in-stream error %j fails the pull with its message', async (error, line) => {
    engine = await fakeEngine(streamOf([layer('aaaaaaaaaaaa', 'Pulling fs layer'), error, { status: 'Status: Downloaded newer image for x:1' }]));
    const run = await runDpull(['x:1'], { DOCKER_HOST: engine.host });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n').at(-1)).toBe(line);
  });

  test('malformed JSON from the engine: a clear error, exit 1', async () => {
    engine = await fakeEngine((_req, res) => {
      res.writeHead(200);
      res.end('{"status":"Pulling fs layer","id":"aaaaaaaaaaaa"}\r\n{"status": oops}\r\n');
    });
    const run = await runDpull(['x:1'], { DOCKER_HOST: engine.host });
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toBe('dpull: malformed message from the engine: not JSON: "{\\"status\\": oops}"');
  });
});

describe('the process and the terminal', () => {
  test('SIGTERM mid-pull: exit 143, cursor shown, request aborted', async () => {
    await removeAllImages();
    const ref = `${s.slowRegistry}/demo/three:1.0`;
    const run = await runInPty([ref], env, { cols: 100, rows: 30 }, {
      act: { when: (out) => out.includes('█'), act: (term) => process.kill(term.pid, 'SIGTERM') },
    });
    expect(run.exitCode).toBe(143);
    const screen = await screenOf(run.output, 100, 30, false);
    expect(screen.cursorHidden).toBe(false);
    expect(screen.lines.some((l) => l.startsWith('dpull:'))).toBe(false);
  });

  test('stdout closed early (dpull -q … | head -c 0): no EPIPE, no stack trace, exit 0', async () => {
    await removeAllImages();
    const run = spawnSync('sh', ['-c', `{ "${process.execPath}" "${dpullBin}" -q ${s.registry}/demo/three:1.0; echo "dpull=$?" >&2; } | head -c 0`], {
      env: { PATH: process.env.PATH, DOCKER_HOST: s.dockerHost },
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('dpull=0\n');
  });

  test('stderr not a terminal while stdout is: plain lines in the file, the reference on the terminal', async () => {
    await removeAllImages();
    const dir = scratchDir('dpull-stderr-');
    const ref = `${s.registry}/demo/three:1.0`;
    const term = await runInPty([], {}, { cols: 80, rows: 20 }, {
      command: ['bash', '-c', `DOCKER_HOST=${s.dockerHost} "${process.execPath}" "${dpullBin}" ${ref} 2>${dir}/err`],
    });
    expect(term.exitCode).toBe(0);
    expect(term.output.trim()).toBe(ref);
    const err = readFileSync(`${dir}/err`, 'utf8');
    expect(err).not.toContain('\x1b');
    expect(err).toContain(`${ref}  Status: Downloaded newer image for ${ref}`);
  });

  test('a terminal 20 columns wide: no line wider than it', async () => {
    await removeAllImages();
    const ref = `${s.slowRegistry}/demo/three:1.0`;
    const run = await runInPty([ref], env, { cols: 20, rows: 24 });
    const screen = await screenOf(run.output, 20, 24, false);
    expect(run.exitCode, screen.lines.join('\n')).toBe(0);
    // Only what is printed for good may wrap: the digest, the status and the reference on stdout, whole.
    expect(screen.wrappedLines.filter((l) => !/^(Digest|Status): |^✔ /.test(l) && l !== ref)).toEqual([]);
    expect(screen.logical).toContainEqual(expect.stringMatching(/^Digest: sha256:[0-9a-f]{64}$/));
    expect(screen.logical.at(-1)).toBe(ref);
    expect(screen.lines.filter((l) => /^[0-9a-f]{12}  Pull…$/.test(l))).toHaveLength(3);
  });
});
