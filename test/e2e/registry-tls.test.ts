// Registries as companies run them: HTTPS with a private CA, mutual TLS. The reference registry
// serves the stack's images over TLS by a host name (registry.dpull.test, in /etc/hosts); its CA
// is nowhere dpull looks until a test puts it there. NODE_EXTRA_CA_CERTS and SSL_CERT_FILE are
// never passed on unless a test sets them (runDpull gives the child PATH and HOME only): some
// machines set them to the system's bundle, which would hide what a user's machine does.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { stack } from '../support/stack.js';
import { runDpull } from '../support/run-dpull.js';
import { scratchDir } from '../support/scratch.js';

const s = stack();
const auth = () => JSON.stringify({ auths: { [s.tlsRegistry]: { auth: Buffer.from(`${s.authUser}:${s.authPassword}`).toString('base64') } } });

/** A certs.d root holding, for `registry`, the given files of the stack's (`ca.pem` becomes `ca.crt`). */
function certsD(registry: string, files: string[]): string {
  const root = scratchDir('dpull-certs-d-');
  mkdirSync(join(root, registry));
  for (const file of files) copyFileSync(join(s.registryCerts, file), join(root, registry, file === 'ca.pem' ? 'ca.crt' : file));
  return root;
}

const pull = (image: string, env: Record<string, string>, args: string[] = []) =>
  runDpull(['-q', ...args, '-o', `oci:${scratchDir('dpull-oci-')}/out`, image], {
    DOCKER_HOST: 'unix:///nonexistent/docker.sock',
    DPULL_CERTS_D: scratchDir('dpull-no-certs-'),
    ...env,
  });

describe('a registry whose certificate a private CA signed', () => {
  const image = () => `${s.tlsRegistry}/demo/three:1.0`;

  test('trusted nowhere: one line naming the registry and where its CA would go, exit 1', async () => {
    const run = await pull(image(), { DOCKER_AUTH_CONFIG: auth() });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^dpull: cannot reach the registry ${s.tlsRegistry} \\(https://${s.tlsRegistry}\\): TLS: its certificate is not trusted \\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\\); put the CA that signed it in .*/${s.tlsRegistry}/ca\\.crt, or in the system's store \\(update-ca-certificates\\), or use --insecure-registry ${s.tlsRegistry}\\n$`));
  });

  test('its CA in a certs.d folder (ca.crt): pulled, with the credentials, over TLS', async () => {
    const run = await pull(image(), { DOCKER_AUTH_CONFIG: auth(), DPULL_CERTS_D: certsD(s.tlsRegistry, ['ca.pem']) });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  test("a CA in one registry's certs.d folder is trusted for it alone, also within one command", async () => {
    // Both registries have certificates the same CA signed; only the first has it in certs.d.
    // (Each registry's secure context adds its CAs to a copy of Node's shared store of roots.)
    const other = `${s.tlsTokenRegistry}/private/three:1.0`;
    const run = await runDpull(['--no-tty', '-o', `oci:${scratchDir('dpull-oci-')}/out`, image(), other], {
      DOCKER_HOST: 'unix:///nonexistent/docker.sock',
      DOCKER_AUTH_CONFIG: auth(),
      DPULL_CERTS_D: certsD(s.tlsRegistry, ['ca.pem']),
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^dpull: 1 of 2 pulls failed:$/m);
    expect(run.stderr).toContain(`${other}: cannot reach the registry ${s.tlsTokenRegistry} (https://${s.tlsTokenRegistry}): TLS: its certificate is not trusted`);
    expect(run.stderr).not.toContain(`${image()}: `);
  });

  test.each(['SSL_CERT_FILE', 'NODE_EXTRA_CA_CERTS'])('its CA in %s: pulled', async (variable) => {
    const run = await pull(image(), { DOCKER_AUTH_CONFIG: auth(), [variable]: join(s.registryCerts, 'ca.pem') });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  test('its CA in the system store (update-ca-certificates), as skopeo reads it: pulled', async () => {
    const installed = '/usr/local/share/ca-certificates/dpull-test-registry.crt';
    copyFileSync(join(s.registryCerts, 'ca.pem'), installed);
    try {
      execFileSync('update-ca-certificates', [], { stdio: 'ignore' });
      const run = await pull(image(), { DOCKER_AUTH_CONFIG: auth() });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
    } finally {
      rmSync(installed, { force: true });
      execFileSync('update-ca-certificates', ['--fresh'], { stdio: 'ignore' });
    }
    expect(existsSync('/etc/ssl/certs/dpull-test-registry.pem')).toBe(false);
  });

  test('--insecure-registry HOST: HTTPS without checking the certificate', async () => {
    const run = await pull(image(), { DOCKER_AUTH_CONFIG: auth() }, ['--insecure-registry', s.tlsRegistry]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  test('the same registry by a loopback address: plain HTTP first, then HTTPS unchecked (the engine\'s way for loopback)', async () => {
    const loopback = s.tlsRegistry.replace(/^[^:]+/, '127.0.0.1');
    const run = await pull(`${loopback}/demo/three:1.0`, { DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { [loopback]: { auth: Buffer.from(`${s.authUser}:${s.authPassword}`).toString('base64') } } }) });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });
});

test('token auth over HTTPS (a registry in Docker Hub\'s shape with a private CA): a private image with the credentials', async () => {
  const image = `${s.tlsTokenRegistry}/private/three:1.0`;
  const credentials = JSON.stringify({ auths: { [s.tlsTokenRegistry]: { auth: Buffer.from(`${s.authUser}:${s.authPassword}`).toString('base64') } } });
  const denied = await pull(image, { DPULL_CERTS_D: certsD(s.tlsTokenRegistry, ['ca.pem']) });
  expect(denied.code).toBe(1);
  expect(denied.stderr).toMatch(/denied access to private\/three/);
  const run = await pull(image, { DOCKER_AUTH_CONFIG: credentials, DPULL_CERTS_D: certsD(s.tlsTokenRegistry, ['ca.pem']) });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
});

describe('a registry that asks for a client certificate (mutual TLS)', () => {
  const image = () => `${s.mtlsRegistry}/demo/three:1.0`;

  test('without one: one line saying so and where it goes, exit 1', async () => {
    const run = await pull(image(), { DPULL_CERTS_D: certsD(s.mtlsRegistry, ['ca.pem']) });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/: TLS: it asks for a client certificate \(put client\.cert and client\.key in .*\/\)\n$/);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  test('client.cert and client.key beside its CA in certs.d: pulled', async () => {
    const run = await pull(image(), { DPULL_CERTS_D: certsD(s.mtlsRegistry, ['ca.pem', 'client.cert', 'client.key']) });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  test('a client.cert without its key: a usage error naming it', async () => {
    const run = await pull(image(), { DPULL_CERTS_D: certsD(s.mtlsRegistry, ['ca.pem', 'client.cert']) });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/client\.cert has no key beside it \(.*client\.key\): a client certificate needs both\n$/);
  });
});
