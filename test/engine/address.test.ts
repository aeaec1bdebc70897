// Engine addresses of every kind, and the engine chosen when none is named, on Linux and Windows.
// (ssh and the sockets run for real in test/e2e; Windows' named pipes can only be unit-tested here.)
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseEngineUrl } from '../../src/engine/address.js';
import { candidateSockets, resolveEngine } from '../../src/engine/engine-resolution.js';
import { sshArguments } from '../../src/engine/ssh-connection.js';
import { requestEngine } from '../../src/engine/transport.js';
import { DpullError } from '../../src/errors.js';
import { scratchDir } from '../support/scratch.js';

const scratch = scratchDir('dpull-address-test-');

describe('ssh:// addresses', () => {
  test.each([
    ['ssh://build-1', { host: 'build-1', url: 'ssh://build-1' }],
    ['ssh://deploy@build-1', { host: 'build-1', user: 'deploy', url: 'ssh://deploy@build-1' }],
    ['ssh://deploy@build-1:2222', { host: 'build-1', user: 'deploy', port: 2222 }],
    ['ssh://deploy@build-1/', { host: 'build-1', user: 'deploy', url: 'ssh://deploy@build-1' }],
    ['ssh://build-1/run/user/1000/docker.sock', { host: 'build-1', socketPath: '/run/user/1000/docker.sock' }],
    ['ssh://[::1]:22', { host: '::1', port: 22 }],
  ])('%s', (url, expected) => {
    const address = parseEngineUrl(url);
    expect(address).toMatchObject({ kind: 'ssh', ...expected });
  });

  test.each([
    ['ssh://u:pw@h', /a password in an ssh:\/\/ address is not supported/],
    ['ssh://h?socket=x', /takes no query/],
    ['ssh://h#x', /takes no fragment/],
    ['ssh://', /no host|expected ssh:\/\//],
  ])('%s is a usage error (exit 2)', (url, message) => {
    const err = (() => {
      try {
        parseEngineUrl(url);
      } catch (e) {
        return e as DpullError;
      }
    })();
    expect(err).toBeInstanceOf(DpullError);
    expect(err!.exitCode).toBe(2);
    expect(err!.message).toMatch(message);
    expect(err!.message).not.toContain('pw');
  });

  test("the ssh command line is the docker CLI's", () => {
    expect(sshArguments({ kind: 'ssh', url: '', host: 'build-1', user: 'deploy', port: 2222 })).toEqual(
      ['-o', 'ConnectTimeout=30', '-T', '-l', 'deploy', '-p', '2222', '--', 'build-1', 'docker', 'system', 'dial-stdio'],
    );
    expect(sshArguments({ kind: 'ssh', url: '', host: 'h', socketPath: '/var/run/docker.sock' })).toEqual(
      ['-o', 'ConnectTimeout=30', '-T', '--', 'h', 'docker', '--host=unix:///var/run/docker.sock', 'system', 'dial-stdio'],
    );
  });

  test('a socket path the far shell would read as more than a word is quoted for it', () => {
    const args = sshArguments({ kind: 'ssh', url: '', host: 'h', socketPath: "/tmp/a b;rm -rf ~'x" });
    expect(args.at(-3)).toBe(`'--host=unix:///tmp/a b;rm -rf ~'\\''x'`);
  });
});

describe('npipe:// addresses (Windows)', () => {
  test.each([
    ['npipe:////./pipe/docker_engine', '\\\\.\\pipe\\docker_engine'],
    ['npipe:////./pipe/dockerDesktopLinuxEngine', '\\\\.\\pipe\\dockerDesktopLinuxEngine'],
    ['npipe://./pipe/docker_engine', '\\\\.\\pipe\\docker_engine'],
    ['npipe:////build-host/pipe/docker_engine', '\\\\build-host\\pipe\\docker_engine'],
  ])('%s is the pipe %s', (url, pipePath) => {
    expect(parseEngineUrl(url)).toEqual({ kind: 'npipe', url, pipePath });
  });

  test('an npipe address that names no pipe is a usage error', () => {
    expect(() => parseEngineUrl('npipe:////./docker_engine')).toThrow(/expected npipe:\/\/\/\/\.\/pipe\/NAME/);
  });

  test('off Windows, connecting to a pipe says it is a Windows engine (exit 3), not an unknown one', async () => {
    const err = await requestEngine(parseEngineUrl('npipe:////./pipe/docker_engine'), { method: 'GET', path: '/_ping' }).catch((e) => e);
    expect(err).toBeInstanceOf(DpullError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe('npipe:// engines exist only on Windows (npipe:////./pipe/docker_engine)');
  });

  test("on Windows with nothing configured: Docker's pipe, then Docker Desktop's Linux engine", () => {
    expect(candidateSockets({}, 'win32')).toEqual(['\\\\.\\pipe\\docker_engine', '\\\\.\\pipe\\dockerDesktopLinuxEngine']);
    const err = (() => {
      try {
        resolveEngine({}, { HOME: scratch, DOCKER_CONFIG: scratch }, 'win32');
      } catch (e) {
        return e as DpullError;
      }
    })();
    // No pipe exists on this machine: the error lists both, exit 3.
    expect(err?.exitCode).toBe(3);
    expect(err?.message).toContain('nothing listens at \\\\.\\pipe\\docker_engine, \\\\.\\pipe\\dockerDesktopLinuxEngine');
  });

  test("a context whose endpoint is Docker Desktop's pipe", () => {
    const dir = join(scratch, 'config');
    const id = createHash('sha256').update('desktop-linux').digest('hex');
    mkdirSync(join(dir, 'contexts', 'meta', id), { recursive: true });
    writeFileSync(join(dir, 'contexts', 'meta', id, 'meta.json'), JSON.stringify({ Name: 'desktop-linux', Endpoints: { docker: { Host: 'npipe:////./pipe/dockerDesktopLinuxEngine' } } }));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ currentContext: 'desktop-linux' }));
    expect(resolveEngine({ configDir: dir }, {}, 'win32')).toEqual({
      kind: 'npipe', url: 'npipe:////./pipe/dockerDesktopLinuxEngine', pipePath: '\\\\.\\pipe\\dockerDesktopLinuxEngine',
    });
  });
});

test('elsewhere, the sockets tried end with the macOS engines: colima, OrbStack, Rancher Desktop, podman machine', () => {
  expect(candidateSockets({ HOME: '/Users/me', TMPDIR: '/var/folders/x/T' }, 'darwin')).toEqual([
    '/var/run/docker.sock',
    '/Users/me/.docker/run/docker.sock',
    '/run/podman/podman.sock',
    '/Users/me/.colima/default/docker.sock',
    '/Users/me/.orbstack/run/docker.sock',
    '/Users/me/.rd/docker.sock',
    '/Users/me/.local/share/containers/podman/machine/podman.sock',
    '/var/folders/x/T/podman/podman-machine-default-api.sock',
  ]);
});

test.each([
  ['unix:///var/run/docker.sock', 'unix'],
  ['tcp://10.0.0.6:2376', 'tcp'],
  ['ssh://build-1', 'ssh'],
  ['npipe:////./pipe/docker_engine', 'npipe'],
])('resolveEngine reports the kind of %s: %s', (host, kind) => {
  expect(resolveEngine({ host }, {}).kind).toBe(kind);
});

describe('containerd:// addresses', () => {
  test('containerd:///path is the socket at the path', () => {
    expect(parseEngineUrl('containerd:///run/containerd/containerd.sock')).toEqual({ kind: 'containerd', url: 'containerd:///run/containerd/containerd.sock', socketPath: '/run/containerd/containerd.sock' });
  });

  test('a relative path is a usage error', () => {
    expect(() => parseEngineUrl('containerd://run/containerd.sock')).toThrow('invalid engine address "containerd://run/containerd.sock": expected containerd:///path/to/containerd.sock');
  });

  test.each([
    ['/run/k3s/containerd/containerd.sock', 'containerd:///run/k3s/containerd/containerd.sock'],
    ['unix:///run/containerd/containerd.sock', 'containerd:///run/containerd/containerd.sock'],
  ])('CONTAINERD_ADDRESS=%s (as ctr takes it) is %s, after every setting that names a docker engine', (address, url) => {
    const env = { HOME: scratch, DOCKER_CONFIG: scratch, CONTAINERD_ADDRESS: address };
    expect(resolveEngine({}, env).url).toBe(url);
    expect(resolveEngine({}, { ...env, DOCKER_HOST: 'tcp://10.0.0.5:2375' }).url).toBe('tcp://10.0.0.5:2375');
    expect(resolveEngine({ host: 'unix:///tmp/docker.sock' }, env).url).toBe('unix:///tmp/docker.sock');
  });
});
