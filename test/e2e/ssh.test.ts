// Engines over ssh://, the docker CLI's way: the system ssh runs `docker system dial-stdio` on the
// far side. The stack's sshd (loopback, its own keys) reaches the stack's dockerd; `s.sshPath`
// puts an `ssh` first on PATH that reads the stack's client config, as ~/.ssh/config would.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, test } from 'vitest';
import { inspectImage, removeAllImages, stack } from '../support/stack.js';
import { runDpull } from '../support/run-dpull.js';
import { runInPty } from '../support/pty.js';
import { screenOf } from '../support/screen.js';
import { pull } from '../../src/index.js';
import { scratchDir } from '../support/scratch.js';

const s = stack();
const ref = `${s.registry}/demo/three:1.0`;
const viaSsh = { PATH: s.sshPath };
const scratch = scratchDir('dpull-ssh-test-');
beforeEach(() => removeAllImages());

/** The ssh and dial-stdio processes of this stack's sshd still running (ssh client and far side). */
function sshProcesses(): string[] {
  const table = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n');
  return table.filter((line) => line.includes('dial-stdio') && !line.includes('ps -eo'));
}

async function noSshProcessesLeft(): Promise<string[]> {
  for (let i = 0; i < 50 && sshProcesses().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  return sshProcesses();
}

describe('pulling through an engine reached over ssh://', () => {
  test('-H ssh://user@host:port: the image lands in the far engine, the reference on stdout, no ssh left', async () => {
    const run = await runDpull(['-H', s.sshHost, '--no-tty', ref], viaSsh);
    expect(run.stderr).toContain(`${ref}  Status: Downloaded newer image for ${ref}`);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${ref}\n`);
    expect(await inspectImage(ref)).toBeDefined();
    expect(await noSshProcessesLeft()).toEqual([]);
  });

  test('DOCKER_HOST=ssh://… with a socket path, in json: the result as from a local engine', async () => {
    const run = await runDpull(['--progress', 'json', ref], { ...viaSsh, DOCKER_HOST: `${s.sshHost}${s.socketPath}` });
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    expect(result).toMatchObject({ type: 'result', reference: ref, layers: { total: 3, pulled: 3, reused: 0 } });
    expect(result.digest).toBe((await inspectImage(ref))!.RepoDigests[0].split('@')[1]);
  });

  test('a docker context whose endpoint is ssh://', async () => {
    const dir = join(scratch, 'config');
    const id = createHash('sha256').update('remote').digest('hex');
    mkdirSync(join(dir, 'contexts', 'meta', id), { recursive: true });
    writeFileSync(join(dir, 'contexts', 'meta', id, 'meta.json'), JSON.stringify({ Name: 'remote', Metadata: {}, Endpoints: { docker: { Host: s.sshHost, SkipTLSVerify: false } } }));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ currentContext: 'remote' }));
    const run = await runDpull(['-q', ref], { ...viaSsh, DOCKER_CONFIG: dir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(await inspectImage(ref)).toBeDefined();
  });

  test('the library: pull(ref, { host: "ssh://…" })', async () => {
    const path = process.env.PATH;
    process.env.PATH = s.sshPath; // the program's own ssh, as a user's program would have it
    try {
      const p = pull(ref, { host: s.sshHost });
      expect(p.engine.kind).toBe('ssh');
      const events = [];
      for await (const event of p) events.push(event);
      expect(events.filter((e) => e.type === 'layer' && e.phase === 'complete')).toHaveLength(3);
      expect((await p.result).layers.pulled).toBe(3);
    } finally {
      process.env.PATH = path;
    }
    expect(await inspectImage(ref)).toBeDefined();
  });

  test('ssh and a local engine at once: both get the image', async () => {
    const run = await runDpull(['-H', s.sshHost, '-H', s.docker26Host, '--no-tty', ref], viaSsh);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`${ref} (${s.sshHost})  Status: Downloaded newer image`);
    expect(run.stderr).toContain(`${ref} (${s.docker26Host})  Pulled`);
    expect(await inspectImage(ref)).toBeDefined();
    await removeAllImages(s.docker26Socket);
  });

  test('on a terminal: the live display, then the reference; Ctrl-C mid-pull: 130, nothing pulled, no ssh left', async () => {
    const slow = `${s.slowRegistry}/demo/eight:1.0`;
    const run = await runInPty(['-H', s.sshHost, slow], viaSsh, { cols: 100, rows: 30 }, {
      act: { when: (out) => out.includes('█'), act: (term) => term.write('\x03') },
    });
    expect(run.exitCode).toBe(130);
    const screen = await screenOf(run.output, 100, 30, false);
    expect(screen.cursorHidden).toBe(false);
    expect(screen.lines.some((l) => /^[0-9a-f]{12}  Downloading/.test(l))).toBe(true);
    expect(screen.lines.some((l) => l.startsWith('dpull:'))).toBe(false);
    expect(await noSshProcessesLeft()).toEqual([]);
    // The far engine cancelled the pull when the connection closed.
    await new Promise((r) => setTimeout(r, 4000));
    expect(await inspectImage(slow)).toBeUndefined();
  });

  test('a whole pull on a terminal over ssh ends with every layer complete', async () => {
    const run = await runInPty(['-H', s.sshHost, ref], viaSsh, { cols: 100, rows: 30 });
    expect(run.exitCode).toBe(0);
    const screen = await screenOf(run.output, 100, 30, false);
    expect(screen.lines.filter((l) => /^[0-9a-f]{12}  Pull complete/.test(l))).toHaveLength(3);
    expect(screen.lines.at(-1)).toBe(ref);
  });
});

test('one ssh session carries a whole pull (ping, pull, image lookup), as the docker CLI\'s does; none is left after', async () => {
  // An `ssh` first on PATH that notes each start, then runs the stack's.
  const dir = scratchDir('dpull-ssh-count-');
  const log = join(dir, 'starts');
  writeFileSync(join(dir, 'ssh'), `#!/bin/sh\necho start >> ${log}\nexec ${s.sshPath.split(':')[0]}/ssh "$@"\n`, { mode: 0o755 });
  const env = { PATH: `${dir}:${s.sshPath}` };
  expect((await runDpull(['-q', '-H', s.sshHost, ref], env)).code).toBe(0);
  writeFileSync(log, '');
  const upToDate = await runDpull(['--no-tty', '-H', s.sshHost, ref], env);
  expect(upToDate.code, upToDate.stderr).toBe(0);
  expect(upToDate.stderr).toContain('Image is up to date');
  const { readFileSync } = await import('node:fs');
  expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual(['start']);
  expect(await noSshProcessesLeft()).toEqual([]);
});

describe('failures over ssh are one line naming the host, exit 3, with no ssh left behind', () => {
  test.each([
    ['nothing listening on the port', () => ({ host: 'ssh://root@127.0.0.1:1', path: s.sshPath }),
      'dpull: cannot connect to the Docker engine at ssh://root@127.0.0.1:1: ssh: connect to host 127.0.0.1 port 1: Connection refused'],
    ['a key the server refuses', () => ({ host: s.sshHost, path: s.sshWrongKeyPath }),
      `dpull: cannot connect to the Docker engine at ${s.sshHost}: ssh refused: root@127.0.0.1: Permission denied (publickey).`],
    ['no docker on the far side', () => ({ host: s.sshNoDockerHost, path: s.sshPath }),
      `dpull: cannot connect to the Docker engine at ${s.sshNoDockerHost}: there is no docker command on 127.0.0.1 (dial-stdio needs the docker CLI 18.09 or newer there): bash: line 1: docker: command not found`],
    ['the far engine is down', () => ({ host: `${s.sshHost}/run/no-such-engine.sock`, path: s.sshPath }),
      `dpull: cannot connect to the Docker engine at ${s.sshHost}/run/no-such-engine.sock: the engine on 127.0.0.1 does not answer: failed to open the raw stream connection: dial unix /run/no-such-engine.sock: connect: no such file or directory`],
    // (The stack's sshd takes the same key for every account; nobody's shell is nologin, which says so on stdout.)
    ['an account whose shell refuses it', () => ({ host: s.sshHost.replace('root@', 'nobody@'), path: s.sshPath }),
      `dpull: cannot connect to the Docker engine at ${s.sshHost.replace('root@', 'nobody@')}: the far side said: This account is currently not available.`],
    ['no ssh client on this machine', () => ({ host: s.sshHost, path: '/nonexistent' }),
      `dpull: cannot connect to the Docker engine at ${s.sshHost}: no ssh client found on this machine (install OpenSSH: the ssh command)`],
  ])('%s', async (_, given, message) => {
    const { host, path } = given();
    const run = await runDpull(['-H', host, ref], { PATH: path });
    expect(run.stderr).toBe(`${message}\n`);
    expect(run.code).toBe(3);
    expect(await noSshProcessesLeft()).toEqual([]);
  });

  test.each([
    ['ssh://root:hunter2@127.0.0.1', 'dpull: invalid engine address "ssh://root@127.0.0.1": a password in an ssh:// address is not supported (use a key or ssh-agent)'],
    ['ssh://127.0.0.1?x=1', 'dpull: invalid engine address "ssh://127.0.0.1": an ssh:// address takes no query ("?x=1")'],
    ['ssh://127.0.0.1#f', 'dpull: invalid engine address "ssh://127.0.0.1": an ssh:// address takes no fragment ("#f")'],
  ])('%s is refused before anything runs: exit 2, the password not printed', async (host, message) => {
    const run = await runDpull(['-H', host, ref], viaSsh);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`${message}\n`);
    expect(run.stderr + run.stdout).not.toContain('hunter2');
  });
});
