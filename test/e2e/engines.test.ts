// Finding and reaching the engine like the docker CLI: DOCKER_HOST, -H, contexts, TLS, sockets.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, test } from 'vitest';
import { inspectImage, removeAllImages, stack } from '../support/stack.js';
import { runDpull } from '../support/run-dpull.js';
import { scratchDir } from '../support/scratch.js';

const s = stack();
const ref = `${s.registry}/demo/three:1.0`;
beforeEach(() => removeAllImages());

/** A docker config directory with a context named `name` pointing at `host`, with the stack's client TLS files. */
function configWithContext(name: string, host: string, current = false): string {
  const dir = scratchDir('dpull-contexts-');
  const id = createHash('sha256').update(name).digest('hex');
  mkdirSync(join(dir, 'contexts', 'meta', id), { recursive: true });
  writeFileSync(join(dir, 'contexts', 'meta', id, 'meta.json'), JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }));
  const tls = join(dir, 'contexts', 'tls', id, 'docker');
  mkdirSync(tls, { recursive: true });
  for (const f of ['ca.pem', 'cert.pem', 'key.pem']) copyFileSync(join(s.certPath, f), join(tls, f));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(current ? { currentContext: name } : {}));
  return dir;
}

describe('TLS to a tcp:// engine', () => {
  test('DOCKER_HOST + DOCKER_TLS_VERIFY + DOCKER_CERT_PATH', async () => {
    const run = await runDpull(['--no-tty', ref], { DOCKER_HOST: s.tlsHost, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: s.certPath });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${ref}\n`);
    expect(await inspectImage(ref)).toBeDefined();
  });

  test('DOCKER_TLS_VERIFY=0 still verifies (any non-empty value), like the docker CLI', async () => {
    const run = await runDpull(['-q', ref], { DOCKER_HOST: s.tlsHost, DOCKER_TLS_VERIFY: '0', DOCKER_CERT_PATH: s.otherCertPath });
    expect(run.code).toBe(3);
  });

  test('-H with --tlsverify and the --tls* files', async () => {
    const run = await runDpull(['-q', '-H', s.tlsHost, '--tlsverify', '--tlscacert', join(s.certPath, 'ca.pem'), '--tlscert', join(s.certPath, 'cert.pem'), '--tlskey', join(s.certPath, 'key.pem'), ref]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${ref}\n`);
  });

  test('a CA the engine was not signed by: a clear TLS error, exit 3', async () => {
    const run = await runDpull(['-q', ref], { DOCKER_HOST: s.tlsHost, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: s.otherCertPath });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(new RegExp(`^dpull: cannot connect to the Docker engine at ${s.tlsHost}: TLS: the engine's certificate is not signed by the CA given \\(\\w+\\)\\n$`));
  });

  test('the TLS port spoken to without TLS: exit 3', async () => {
    const run = await runDpull(['-q', '-H', s.tlsHost, ref]);
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(`dpull: ${s.tlsHost} speaks TLS: use --tlsverify (with its CA and a client certificate), or --tls\n`);
  });
});

describe('contexts', () => {
  test.each([
    ['--context', (dir: string) => ({ args: ['--config', dir, '--context', 'tlsctx'], env: {} })],
    ['DOCKER_CONTEXT', (dir: string) => ({ args: [], env: { DOCKER_CONFIG: dir, DOCKER_CONTEXT: 'tlsctx' } })],
  ])('a TLS context chosen with %s', async (_, how) => {
    const { args, env } = how(configWithContext('tlsctx', s.tlsHost));
    const run = await runDpull([...args, '-q', ref], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${ref}\n`);
  });

  test('currentContext in config.json', async () => {
    const run = await runDpull(['-q', ref], { DOCKER_CONFIG: configWithContext('cur', s.tlsHost, true) });
    expect(run.code).toBe(0);
  });

  test('DOCKER_HOST wins over the current context; --context wins over DOCKER_HOST', async () => {
    const dir = configWithContext('cur', 'tcp://127.0.0.1:1', true);
    expect((await runDpull(['-q', ref], { DOCKER_CONFIG: dir, DOCKER_HOST: s.dockerHost })).code).toBe(0);
    const ctx = configWithContext('tlsctx', s.tlsHost);
    expect((await runDpull(['--config', ctx, '--context', 'tlsctx', '-q', ref], { DOCKER_HOST: 'unix:///nonexistent.sock' })).code).toBe(0);
  });

  test('--context with -H, and an unknown context, are usage errors', async () => {
    const both = await runDpull(['--context', 'x', '-H', s.dockerHost, ref]);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe('dpull: conflicting options: either specify --host or --context, not both\n');
    const dir = scratchDir('dpull-contexts-');
    const unknown = await runDpull(['--config', dir, '--context', 'nope', ref]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^dpull: context "nope" does not exist/);
  });
});

describe('with nothing set, the usual sockets are tried in turn', () => {
  test("Docker Desktop's ~/.docker/run/docker.sock is found", async () => {
    const home = scratchDir('dpull-home-');
    mkdirSync(join(home, '.docker', 'run'), { recursive: true });
    symlinkSync(s.dockerHost.replace('unix://', ''), join(home, '.docker', 'run', 'docker.sock'));
    const run = await runDpull(['-q', ref], { HOME: home });
    expect(run.code).toBe(0);
  });

  test("colima's ~/.colima/default/docker.sock is found (macOS's engines come after the others)", async () => {
    const home = scratchDir('dpull-home-');
    mkdirSync(join(home, '.colima', 'default'), { recursive: true });
    symlinkSync(s.dockerHost.replace('unix://', ''), join(home, '.colima', 'default', 'docker.sock'));
    const run = await runDpull(['-q', ref], { HOME: home });
    expect(run.code).toBe(0);
  });

  test('a rootless $XDG_RUNTIME_DIR/docker.sock is found', async () => {
    const runtime = scratchDir('dpull-runtime-');
    symlinkSync(s.dockerHost.replace('unix://', ''), join(runtime, 'docker.sock'));
    const run = await runDpull(['-q', ref], { HOME: scratchDir('dpull-home-'), XDG_RUNTIME_DIR: runtime });
    expect(run.code).toBe(0);
  });

  test('when none answers, the error lists what was tried: exit 3', async () => {
    expect(existsSync('/var/run/docker.sock'), 'this test needs a machine without /var/run/docker.sock').toBe(false);
    expect(existsSync('/run/containerd/containerd.sock'), 'this test needs a machine without /run/containerd/containerd.sock').toBe(false);
    const home = scratchDir('dpull-home-');
    const run = await runDpull(['-q', ref], { HOME: home, XDG_RUNTIME_DIR: '/run/user/4242' });
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(
      `dpull: cannot find a Docker engine or containerd: nothing listens at /var/run/docker.sock, /run/user/4242/docker.sock, ${home}/.docker/run/docker.sock, /run/user/4242/podman/podman.sock, /run/podman/podman.sock, ` +
        `${home}/.colima/default/docker.sock, ${home}/.orbstack/run/docker.sock, ${home}/.rd/docker.sock, ${home}/.local/share/containers/podman/machine/podman.sock, ` +
        '/run/containerd/containerd.sock, /run/k3s/containerd/containerd.sock, /run/user/4242/containerd/containerd.sock ' +
        '(is the Docker daemon running? or set DOCKER_HOST / -H)\n',
    );
  });
});

test('plain tcp:// to an address beyond this machine prints a one-line warning', async () => {
  // 0.0.0.0 is not loopback by name yet never leaves the machine: connecting to port 1 is refused.
  const run = await runDpull(['-H', 'tcp://0.0.0.0:1', ref]);
  expect(run.code).toBe(3);
  expect(run.stderr.split('\n')[0]).toBe("dpull: warning: tcp://0.0.0.0:1 is not encrypted: anyone who can reach that port has root on the engine's host");
  const local = await runDpull(['-H', 'tcp://127.0.0.1:1', ref]);
  expect(local.stderr).not.toContain('warning');
});
