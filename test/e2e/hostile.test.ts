// dpull attacked as a hostile registry, engine, config file, credential helper and terminal would.
// Each case asserts the exit code and that no secret appears anywhere in what dpull printed.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { engineHas, removeAllImages, stack } from '../support/stack.js';
import { dpullBin, runDpull, type DpullRun } from '../support/run-dpull.js';
import { runInPty } from '../support/pty.js';
import { screenOf } from '../support/screen.js';
import { scratchDir } from '../support/scratch.js';
import { fakeEngine, streamOf, type FakeEngine } from '../support/fake-engine.js';
import { ECHOED_TOKEN, echoingRegistry, type EchoingRegistry } from '../support/echoing-registry.js';

const s = stack();
const ref = `${s.registry}/demo/three:1.0`;
const PASSWORD = 's3cret-pw';
const USER = 'alice';
const basic = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
/** Every form a secret of this file may take in output. */
const SECRETS = [PASSWORD, basic, basic.replace(/=+$/, ''), `${USER}:${PASSWORD}`, ECHOED_TOKEN, ECHOED_TOKEN.split('.')[1]];
const expectNoSecret = (run: { stdout: string; stderr: string } | { output: string }) => {
  const all = 'output' in run ? run.output : run.stdout + run.stderr;
  for (const secret of SECRETS) expect(all, `printed ${secret}`).not.toContain(secret);
};

/** A script on PATH, as a credential helper `docker-credential-NAME`. */
function helperDir(name: string, body: string): string {
  const dir = scratchDir('dpull-helper-');
  writeFileSync(join(dir, `docker-credential-${name}`), `#!/bin/sh\n${body}\n`);
  chmodSync(join(dir, `docker-credential-${name}`), 0o755);
  return dir;
}

function configDir(config: object | string): string {
  const dir = scratchDir('dpull-config-');
  writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}

describe('a registry that echoes the credentials it was sent', () => {
  let registry: EchoingRegistry | undefined;
  afterEach(async () => {
    await registry?.close();
    registry = undefined;
  });

  test.each(['plain', 'json', 'quiet', 'tty'])('Basic: denied, exit 1, no form of the password printed (%s)', async (mode) => {
    registry = await echoingRegistry('Basic');
    const auth = JSON.stringify({ auths: { [registry.address]: { auth: basic } } });
    const image = `${registry.address}/private/app:1.0`;
    const env = { DOCKER_HOST: s.dockerHost, DOCKER_AUTH_CONFIG: auth };
    const run: DpullRun | { output: string; exitCode: number } =
      mode === 'tty' ? await runInPty([image], env, { cols: 200, rows: 20 }) : await runDpull(['--progress', mode, image], env);
    expect('exitCode' in run ? run.exitCode : run.code).toBe(1);
    const printed = 'output' in run ? run.output : run.stdout + run.stderr;
    expect(printed).toContain('you sent [Basic [redacted]] which is [[redacted]]');
    expectNoSecret(run);
  });

  test('Bearer: the registry token it hands out and echoes back is not printed either', async () => {
    registry = await echoingRegistry('Bearer');
    const auth = JSON.stringify({ auths: { [registry.address]: { auth: basic } } });
    const run = await runDpull(['--progress', 'json', `${registry.address}/private/app:1.0`], { DOCKER_HOST: s.dockerHost, DOCKER_AUTH_CONFIG: auth });
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toContain('[redacted]');
    expectNoSecret(run);
  });
});

describe('config files', () => {
  test.each([
    ['config.json', (dir: string) => ({ args: ['--config', dir], env: {} }), (dir: string) => `${dir}/config.json`],
    ['DOCKER_AUTH_CONFIG', () => ({ args: [], env: { DOCKER_AUTH_CONFIG: `{"auths": {"x": {"password": ${PASSWORD}}}}` } }), () => 'DOCKER_AUTH_CONFIG'],
  ])('%s that is not JSON: exit 2, where it breaks, nothing of what it holds', async (_, how, source) => {
    const dir = configDir(`{\n  "auths": {\n    "r": { "password": ${PASSWORD} }\n  }\n}\n`);
    const { args, env } = how(dir);
    const run = await runDpull([...args, ref], { DOCKER_HOST: s.dockerHost, ...env });
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(new RegExp(`^dpull: ${source(dir)} is not valid JSON: line \\d+, column \\d+\\n$`));
    expectNoSecret(run);
  });

  test('a context file that is not JSON: the same', async () => {
    const dir = configDir({ currentContext: 'evil' });
    const meta = join(dir, 'contexts', 'meta', '2b9fc6b2a37cd87e8d0a6e6ba2b0dbc4cb7ae25e5a1a55ed7a3a40e4e9d2db43');
    mkdirSync(meta, { recursive: true });
    // the context name's hash does not matter for this case: the current context is looked up by name
    const id = (await import('node:crypto')).createHash('sha256').update('evil').digest('hex');
    mkdirSync(join(dir, 'contexts', 'meta', id), { recursive: true });
    writeFileSync(join(dir, 'contexts', 'meta', id, 'meta.json'), `{"Endpoints": {"docker": {"Host": ${PASSWORD}}}}`);
    const run = await runDpull([ref], { DOCKER_CONFIG: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/meta\.json is not valid JSON: line 1, column \d+\n$/);
    expectNoSecret(run);
  });

  test('a context Host with an escape sequence and a newline reaches the terminal clean', async () => {
    const dir = configDir({ currentContext: 'evil' });
    const id = (await import('node:crypto')).createHash('sha256').update('evil').digest('hex');
    mkdirSync(join(dir, 'contexts', 'meta', id), { recursive: true });
    writeFileSync(join(dir, 'contexts', 'meta', id, 'meta.json'), JSON.stringify({ Endpoints: { docker: { Host: 'tcp://x\x1b]0;PWN\x07y\nz:1' } } }));
    const run = await runDpull([ref], { DOCKER_CONFIG: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).not.toMatch(/[\x00-\x08\x0b-\x1f]/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('with HOME empty, ./.docker/config.json in the working directory is never read', async () => {
    const cwd = scratchDir('dpull-cwd-');
    mkdirSync(join(cwd, '.docker'));
    // Were it read, this would choose the engine (or fail to parse): neither may happen.
    writeFileSync(join(cwd, '.docker', 'config.json'), '{"currentContext": "planted", oops');
    const run = spawnSync(process.execPath, [dpullBin, ref], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '', DOCKER_HOST: s.dockerHost } });
    expect(run.stderr).not.toContain('config.json');
    expect(run.status).toBe(0);
  });

  test('a reference with an escape sequence is refused with it taken out', async () => {
    const run = await runDpull(['x\x1b]0;PWN\x07y'], { DOCKER_HOST: s.dockerHost });
    expect(run.code).toBe(2);
    expect(run.stderr).not.toContain('\x1b');
    expect(run.stderr).not.toContain('\x07');
  });
});

describe('credential helpers that misbehave', () => {
  const withHelper = (dir: string, name: string) => ({ DOCKER_HOST: s.dockerHost, PATH: `${dir}:${process.env.PATH}`, DOCKER_CONFIG: configDir({ credsStore: name }) });

  test('a helper that answers without reading stdin: its answer counts, no crash', async () => {
    await removeAllImages();
    const dir = helperDir('noread', `printf '{"Username":"${USER}","Secret":"${PASSWORD}"}'`);
    const run = await runDpull(['--no-tty', ref], withHelper(dir, 'noread'));
    expect(run.stderr).not.toMatch(/EPIPE|Unhandled|at .*\.js/);
    expect(run.code).toBe(0);
    expectNoSecret(run);
  });

  test('"credentials not found" with exit 1 means none: the pull goes on anonymously', async () => {
    await removeAllImages();
    const dir = helperDir('none', 'echo "credentials not found in native keychain"; exit 1');
    const run = await runDpull(['-q', ref], withHelper(dir, 'none'));
    expect(run.code).toBe(0);
    expect(await engineHas(ref)).toBe(true);
  });

  /** A helper that ignores TERM and never answers; its pid file says whether it is still there. */
  function hangingHelper() {
    const dir = scratchDir('dpull-hang-');
    const helper = helperDir('hang', `echo $$ > ${dir}/pid; trap '' TERM; while :; do sleep 1; done`);
    const alive = () => {
      if (!existsSync(`${dir}/pid`)) return false;
      const pid = Number(execFileSync('cat', [`${dir}/pid`], { encoding: 'utf8' }));
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    return { env: withHelper(helper, 'hang'), alive, dir };
  }

  test('--timeout covers a helper that hangs: exit 1 in time, the helper ended', async () => {
    const { env, alive } = hangingHelper();
    const started = Date.now();
    const run = await runDpull(['--timeout', '1s', ref], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('dpull: credential helper docker-credential-hang did not answer within 1s\n');
    expect(Date.now() - started).toBeLessThan(5000);
    await new Promise((r) => setTimeout(r, 500));
    expect(alive()).toBe(false);
  });

  test.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s while a helper hangs ends dpull at once (%i), and the helper with it', async (signal, code) => {
    const { env, alive, dir } = hangingHelper();
    const child = spawn(process.execPath, [dpullBin, ref], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: 'ignore' });
    for (let i = 0; i < 50 && !existsSync(`${dir}/pid`); i++) await new Promise((r) => setTimeout(r, 100));
    const sent = Date.now();
    child.kill(signal);
    const exit = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(exit).toBe(code);
    expect(Date.now() - sent).toBeLessThan(1500);
    await new Promise((r) => setTimeout(r, 500));
    expect(alive()).toBe(false);
  });
});

describe('writes that fail', () => {
  test('stdout full (> /dev/full): one line, exit 1, no stack trace', async () => {
    const run = spawnSync('sh', ['-c', `"${process.execPath}" "${dpullBin}" -q ${ref} > /dev/full`], { encoding: 'utf8', env: { PATH: process.env.PATH, DOCKER_HOST: s.dockerHost } });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe('dpull: cannot write to standard output: no space left on device\n');
  });

  test('stderr closed early (2>&1 | head -1): the pull goes on to the end, the image is pulled', async () => {
    await removeAllImages();
    const slow = `${s.slowRegistry}/demo/three:1.0`;
    const run = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${dpullBin}" --no-tty ${slow} 2>&1 | head -1`], {
      encoding: 'utf8', env: { PATH: process.env.PATH, DOCKER_HOST: s.dockerHost },
    });
    expect(run.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    expect(run.status).toBe(0);
    expect(await engineHas(slow)).toBe(true);
  });
});

describe('durations a timer cannot hold', () => {
  test.each([
    ['597h', 'dpull: invalid --timeout "597h": the longest is 596h (2^31-1 ms, what a timer holds)'],
    ['0.4ms', 'dpull: invalid --timeout "0.4ms": the shortest is 1ms'],
  ])('--timeout %s: exit 2', async (value, message) => {
    const run = await runDpull(['--timeout', value, ref], { DOCKER_HOST: s.dockerHost });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`${message}\n`);
  });
});

describe('engines that are not quite engines', () => {
  let server: net.Server | undefined;
  let engine: FakeEngine | undefined;
  afterEach(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
    await engine?.close();
    engine = undefined;
  });

  async function listener(answer: (socket: net.Socket) => void): Promise<string> {
    server = net.createServer((socket) => {
      socket.on('error', () => {}); // dpull hangs up as soon as it has seen enough: expected
      answer(socket);
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return `tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  }

  test.each([
    ['something that is not HTTP', (socket: net.Socket) => socket.end('SSH-2.0-OpenSSH_9.2\r\n\r\n'), 'its answer is not HTTP'],
    ['a /_ping with a 200 KB header', (socket: net.Socket) => socket.end(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(200_000)}\r\n\r\nOK`), 'its answer has headers too large to be one'],
  ])('%s: exit 3, "does not answer like a Docker engine"', async (_, answer, why) => {
    const host = await listener((socket) => socket.once('data', () => answer(socket)));
    const run = await runDpull(['-H', host, ref], {});
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(`dpull: ${host} does not answer like a Docker engine: ${why}\n`);
  });

  test('--tlsverify to a plain-HTTP port: one line, exit 3', async () => {
    const host = await listener((socket) => socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n')));
    const run = await runDpull(['-H', host, '--tlsverify', '--tlscacert', join(s.certPath, 'ca.pem'), ref], {});
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(`dpull: cannot connect to the Docker engine at ${host}: it does not speak TLS (a plain-HTTP port: leave out --tls/--tlsverify, or use the engine's TLS port)\n`);
  });

  test('plain HTTP to the engine\'s TLS port: one line saying it speaks TLS, exit 3', async () => {
    const run = await runDpull(['-H', s.tlsHost, ref], {});
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(`dpull: ${s.tlsHost} speaks TLS: use --tlsverify (with its CA and a client certificate), or --tls\n`);
  });

  test.each([
    ['--tlscacert', 'the CA certificate FILE is not a PEM certificate'],
    ['--tlscert', 'the client certificate FILE is not a PEM certificate'],
    ['--tlskey', 'the client key FILE is not a PEM private key (or it is encrypted)'],
  ])('a garbage %s file: exit 2, naming it', async (flag, message) => {
    const garbage = join(scratchDir('dpull-tls-'), 'garbage.pem');
    writeFileSync(garbage, 'not a certificate\n');
    const files = { '--tlscacert': join(s.certPath, 'ca.pem'), '--tlscert': join(s.certPath, 'cert.pem'), '--tlskey': join(s.certPath, 'key.pem'), [flag]: garbage };
    const run = await runDpull(['-H', s.tlsHost, '--tlsverify', ...Object.entries(files).flat(), ref], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`dpull: ${message.replace('FILE', garbage)}\n`);
  });

  test('an engine that answers 200 with an empty body: not a success, exit 1', async () => {
    engine = await fakeEngine(streamOf([]));
    const run = await runDpull(['-q', 'x:1'], { DOCKER_HOST: engine.host });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('dpull: the engine ended the pull without saying it succeeded, and it has no image docker.io/library/x:1\n');
  });

  test('an engine whose image lookup fails after a pull that worked: exit 0, the json says why', async () => {
    engine = await fakeEngine((req, res) => {
      if (req.url?.includes('/images/create')) return streamOf([{ status: 'Pulling from library/x', id: '1' }, { status: 'Status: Downloaded newer image for x:1' }])(req, res);
      res.writeHead(500).end('{"message":"no"}');
    });
    const run = await runDpull(['--progress', 'json', 'x:1'], { DOCKER_HOST: engine.host });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1)!)).toMatchObject({ type: 'result', warning: 'the engine did not list the image (GET /images/json: HTTP 500)' });
  });
});

describe('text that is not quite printable', () => {
  const invisible = '\u2028\u2029\u200b\u200f\u202e\u00ad\u2066\ufeff';
  const stream = [
    { status: `Pulling from demo/app${invisible}`, id: '1.0' },
    { status: 'Pulling fs layer', id: 'aaaaaaaaaaaa', progressDetail: {} },
    { status: `Downloading ส่วนที่ดาวน์โหลดสำหรับชั้น${invisible}`, id: 'aaaaaaaaaaaa', progressDetail: { current: 10, total: 100 } },
    { status: `Note ${invisible} with\u2028a separator` },
    { status: 'Status: Downloaded newer image for x:1' },
  ];
  let engine: FakeEngine | undefined;
  afterEach(async () => {
    await engine?.close();
    engine = undefined;
  });

  test.each(['plain', 'json', 'quiet'])('%s: none of them reaches the output; json has no phantom layer', async (mode) => {
    engine = await fakeEngine(streamOf(stream));
    const run = await runDpull(['--progress', mode, 'x:1'], { DOCKER_HOST: engine.host });
    expect(run.stdout + run.stderr).not.toMatch(/[\u2028\u2029\u200b\u200f\u202e\u00ad\u2066\ufeff]/);
    if (mode === 'json') {
      const layers = run.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((o) => o.type === 'layer');
      expect(new Set(layers.map((l) => l.layer))).toEqual(new Set(['aaaaaaaaaaaa']));
    }
  });

  test.each([40, 100])('on a terminal of %i columns: no line wraps', async (cols) => {
    engine = await fakeEngine(streamOf(stream));
    const run = await runInPty(['x:1'], { DOCKER_HOST: engine.host }, { cols, rows: 20 });
    const screen = await screenOf(run.output, cols, 20, false);
    expect(screen.wrappedLines.filter((l) => !/^(Digest|Status): |^✔ /.test(l))).toEqual([]);
    expect(run.output).not.toMatch(/[\u2028\u2029\u200b\u200f\u202e\u00ad\u2066\ufeff]/);
  });
});

test('--ignore-pull-failures with a config error says one thing: the error, exit 2', async () => {
  const dir = configDir('{ not json');
  const run = await runDpull(['--ignore-pull-failures', '--config', dir, ref, `${s.registry}/demo/eight:1.0`], { DOCKER_HOST: s.dockerHost });
  expect(run.code).toBe(2);
  expect(run.stderr).not.toContain('ignored');
  expect(run.stderr).not.toContain('warning');
});

describe('signals on a real terminal (tmux)', () => {
  const slow = `${s.slowRegistry}/demo/eight:1.0`;
  const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
  const pane = (session: string) => {
    const lines = tmux('capture-pane', '-p', '-J', '-t', session).split('\n').map((l) => l.trimEnd());
    while (lines.length > 0 && lines.at(-1) === '') lines.pop();
    return lines;
  };
  const cursorShown = (session: string) => tmux('display-message', '-p', '-t', session, '#{cursor_flag}').trim() === '1';
  async function until(session: string, test: (lines: string[]) => boolean, what: string): Promise<string[]> {
    for (let i = 0; i < 300; i++) {
      const lines = pane(session);
      if (test(lines)) return lines;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`tmux never showed ${what}:\n${pane(session).join('\n')}`);
  }
  /** A bash in tmux, dpull typed at its prompt as a user would. */
  async function shell(name: string, command: string, run: (session: string) => Promise<void>) {
    const session = `dpull-${name}-${process.pid}`;
    tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '30', 'env', '-i', `PATH=${process.env.PATH}`, `HOME=${process.env.HOME}`, 'TERM=xterm-256color', 'PS1=$ ', 'bash', '--norc', '--noprofile');
    try {
      tmux('send-keys', '-t', session, `export DOCKER_HOST=${s.dockerHost}; clear; ${command}`, 'Enter');
      await run(session);
    } finally {
      tmux('kill-session', '-t', session);
    }
  }
  const dpullPid = (session: string) => {
    const shellPid = tmux('display-message', '-p', '-t', session, '#{pane_pid}').trim();
    return Number(execFileSync('pgrep', ['-P', shellPid, '-f', 'dpull.js'], { encoding: 'utf8' }).trim().split('\n')[0]);
  };

  test.each([
    ['SIGHUP', 129],
    ['SIGQUIT', 131],
  ] as const)('%s: exit %i, the cursor shown again, the engine cancels the pull', async (signal, code) => {
    await removeAllImages();
    await shell(signal.toLowerCase(), `"${process.execPath}" "${dpullBin}" ${slow}; echo "exit=$?"`, async (session) => {
      await until(session, (lines) => lines.some((l) => /Downloading +█/.test(l)), 'a download');
      process.kill(dpullPid(session), signal);
      const lines = await until(session, (l) => l.some((x) => x.startsWith('exit=')), 'the exit');
      expect(lines).toContain(`exit=${code}`);
      expect(cursorShown(session)).toBe(true);
    });
    await new Promise((r) => setTimeout(r, 3000));
    expect(await engineHas(slow)).toBe(false);
  });

  test('Ctrl-Z shows the cursor at the shell; fg draws the display anew below the job-control lines', async () => {
    await removeAllImages();
    // Alone on its line: bash would go on to the rest of a list when the job stops.
    await shell('ctrlz', `"${process.execPath}" "${dpullBin}" ${slow}`, async (session) => {
      await until(session, (lines) => lines.some((l) => /Downloading +█/.test(l)), 'a download');
      tmux('send-keys', '-t', session, 'C-z');
      await until(session, (lines) => lines.some((l) => /Stopped/.test(l)) && lines.at(-1) === '$', 'the job stopped, the prompt back');
      expect(cursorShown(session)).toBe(true);
      tmux('send-keys', '-t', session, 'fg', 'Enter');
      await until(session, (l) => l.at(-1) === '$' && l.includes(slow), 'the pull finished');
      tmux('send-keys', '-t', session, 'echo "exit=$?"', 'Enter');
      const lines = await until(session, (l) => l.some((x) => x.startsWith('exit=')), 'the exit');
      expect(lines).toContain('exit=0');
      const stopped = lines.findIndex((l) => /Stopped/.test(l));
      expect(lines[stopped]).toMatch(/^\[1\]\+\s+Stopped\s/);
      // Below the shell's lines, the display drawn whole once more: every layer complete.
      const after = lines.slice(stopped + 1);
      // Nothing was drawn over the shell's lines: the prompt and `fg` stand as typed.
      expect(after[0]).toBe('$ fg');
      expect(after.filter((l) => /^[0-9a-f]{12}  Pull complete/.test(l))).toHaveLength(8);
      expect(after).toContain(`Status: Downloaded newer image for ${slow}`);
      expect(cursorShown(session)).toBe(true);
    });
  });
});
