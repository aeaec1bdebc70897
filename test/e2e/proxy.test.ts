// Registries behind a company's proxy: a real squid asking for a user and password, its access log
// the witness of what went through it. The registries are named by a host name
// (registry.dpull.test, in /etc/hosts): loopback addresses are never proxied.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { stack } from '../support/stack.js';
import { runDpull } from '../support/run-dpull.js';
import { scratchDir } from '../support/scratch.js';

const s = stack();
const proxyUrl = new URL(s.proxy);
const proxyPassword = decodeURIComponent(proxyUrl.password);
const plainRegistry = () => `${s.registryHost}:${s.registry.split(':')[1]}`;
const logLines = () => (existsSync(s.proxyLog) ? readFileSync(s.proxyLog, 'utf8').trim().split('\n').filter((l) => l !== '') : []);

function certsD(): string {
  const root = scratchDir('dpull-certs-d-');
  mkdirSync(join(root, s.tlsRegistry));
  copyFileSync(join(s.registryCerts, 'ca.pem'), join(root, s.tlsRegistry, 'ca.crt'));
  return root;
}
const tlsAuth = () => JSON.stringify({ auths: { [s.tlsRegistry]: { auth: Buffer.from(`${s.authUser}:${s.authPassword}`).toString('base64') } } });

const pull = (args: string[], env: Record<string, string>) =>
  runDpull(['-o', `oci:${scratchDir('dpull-oci-')}/out`, ...(args.some((a) => a === '-q' || a === '--progress') ? [] : ['--no-tty']), ...args], { DOCKER_HOST: 'unix:///nonexistent/docker.sock', DPULL_CERTS_D: certsD(), DOCKER_AUTH_CONFIG: tlsAuth(), ...env });

/** No form of the proxy's password in what dpull printed. */
const expectNoProxySecret = (printed: string) => {
  for (const secret of [proxyPassword, encodeURIComponent(proxyPassword), Buffer.from(`${proxyUrl.username}:${proxyPassword}`).toString('base64'), s.proxy]) {
    expect(printed).not.toContain(secret);
  }
};

describe('through an authenticating proxy (squid)', () => {
  test('HTTPS_PROXY with a user and password: an HTTPS registry through a CONNECT tunnel, the credentials never printed', async () => {
    const before = logLines().length;
    const run = await pull([`${s.tlsRegistry}/demo/three:1.0`], { HTTPS_PROXY: s.proxy });
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`  Pulled ${s.tlsRegistry}/demo/three:1\\.0 \\(sha256:`));
    expect(run.code, run.stderr).toBe(0);
    const through = logLines().slice(before);
    expect(through.some((l) => l.includes(`CONNECT ${s.tlsRegistry}`) && l.includes(proxyUrl.username))).toBe(true);
    expectNoProxySecret(run.stdout + run.stderr);
  });

  test('lower-case https_proxy is read too (Go reads the upper-case name first)', async () => {
    const before = logLines().length;
    const run = await pull([`${s.tlsRegistry}/demo/three:1.0`], { https_proxy: s.proxy });
    expect(run.code, run.stderr).toBe(0);
    expect(logLines().slice(before).some((l) => l.includes(`CONNECT ${s.tlsRegistry}`))).toBe(true);
  });

  test('HTTP_PROXY for a plain-HTTP registry (--insecure-registry): HTTPS tried through the tunnel, then absolute URLs through the proxy', async () => {
    const before = logLines().length;
    const run = await pull(['--insecure-registry', plainRegistry(), `${plainRegistry()}/demo/three:1.0`], { HTTPS_PROXY: s.proxy, HTTP_PROXY: s.proxy });
    expect(run.code, run.stderr).toBe(0);
    const through = logLines().slice(before);
    expect(through.some((l) => new RegExp(`GET http://${plainRegistry().replace(/\./g, '\\.')}/v2/demo/three/blobs/sha256:`).test(l))).toBe(true);
  });

  test.each([
    ['the host', () => s.registryHost],
    ['the host and its port', () => s.tlsRegistry],
    ['a domain suffix', () => '.dpull.test'],
    ['*', () => '*'],
    ['a CIDR of the address it resolves to?  no: NO_PROXY matches the name as written', () => `other.example, ${s.registryHost}`],
  ])('NO_PROXY naming %s: not proxied', async (_, noProxy) => {
    const before = logLines().length;
    const run = await pull([`${s.tlsRegistry}/demo/three:1.0`], { HTTPS_PROXY: s.proxy, NO_PROXY: noProxy() });
    expect(run.code, run.stderr).toBe(0);
    expect(logLines().slice(before)).toEqual([]);
  });

  test('a wrong proxy password: 407 is one line, exit 1, the password not printed', async () => {
    const wrong = `http://${proxyUrl.username}:not-${proxyPassword}@${proxyUrl.host}`;
    const run = await pull(['--progress', 'json', `${s.tlsRegistry}/demo/three:1.0`], { HTTPS_PROXY: wrong });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`dpull: the proxy ${proxyUrl.host} (HTTPS_PROXY) refused dpull: 407 Proxy Authentication Required (the user and password in its URL were not accepted)\n`);
    expect(run.stdout + run.stderr).not.toContain(`not-${proxyPassword}`);
  });

  test('a proxy that is not there: one line naming it (not its URL), exit 3', async () => {
    const run = await pull(['-q', `${s.tlsRegistry}/demo/three:1.0`], { HTTPS_PROXY: `http://someone:hunter22@127.0.0.1:${Number(s.registry.split(':')[1]) + 12}` });
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(`dpull: cannot reach the proxy 127.0.0.1:${Number(s.registry.split(':')[1]) + 12} (HTTPS_PROXY) for ${s.tlsRegistry}: connection refused\n`);
  });

  test('a loopback registry is never proxied', async () => {
    const before = logLines().length;
    const run = await pull([`${s.registry}/demo/three:1.0`], { HTTPS_PROXY: s.proxy, HTTP_PROXY: s.proxy });
    expect(run.code, run.stderr).toBe(0);
    expect(logLines().slice(before)).toEqual([]);
  });
});
