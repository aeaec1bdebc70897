import { describe, expect, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import { resolveAuth, registryKey, NO_CREDENTIALS } from '../../src/config/registry-auth.js';
import type { DockerConfig } from '../../src/config/docker-config.js';

const config = (c: Partial<DockerConfig>): DockerConfig => ({ auths: {}, credHelpers: {}, ...c });
/** What the engine reads: Go's base64.URLEncoding, padded. */
const decodeLikeTheEngine = (header: string) => {
  expect(header.length % 4).toBe(0);
  expect(header).toMatch(/^[A-Za-z0-9_-]*={0,2}$/);
  return JSON.parse(Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
};
const basic = (u: string, p: string) => Buffer.from(`${u}:${p}`).toString('base64');

describe('the X-Registry-Auth header', () => {
  test('no credentials is {} (e30=), as the docker CLI sends', async () => {
    expect(await resolveAuth('ghcr.io', config({}), {})).toBe(NO_CREDENTIALS);
  });

  test.each(['a', 'ab', 'abc', 'abcd'])('is padded URL-safe base64 whatever its length (password %j)', async (password) => {
    const header = await resolveAuth('r.example', config({ auths: { 'r.example': { auth: basic('u?>', password) } } }), {});
    expect(decodeLikeTheEngine(header)).toEqual({ username: 'u?>', password, serveraddress: 'r.example' });
  });

  test("Docker Hub's key is https://index.docker.io/v1/", async () => {
    expect(registryKey('docker.io')).toBe('https://index.docker.io/v1/');
    const header = await resolveAuth('docker.io', config({ auths: { 'https://index.docker.io/v1/': { identitytoken: 'tok' } } }), {});
    expect(decodeLikeTheEngine(header)).toEqual({ identitytoken: 'tok', serveraddress: 'https://index.docker.io/v1/' });
  });

  test('a legacy https://host/v1/ key matches by host', async () => {
    const header = await resolveAuth('r.example:5000', config({ auths: { 'https://r.example:5000/v1/': { auth: basic('u', 'p') } } }), {});
    expect(decodeLikeTheEngine(header)).toMatchObject({ username: 'u', password: 'p' });
  });

  test('a helper that answers Username <token> gives an identity token', async () => {
    const fixtures = fileURLToPath(new URL('../fixtures/bin', import.meta.url));
    // The helper runs as a child of this process: it sees this process's environment.
    const saved = { ...process.env };
    Object.assign(process.env, {
      PATH: `${fixtures}:${process.env.PATH}`,
      DPULL_FIXTURE_SERVER: 'r.example',
      DPULL_FIXTURE_USER: '<token>',
      DPULL_FIXTURE_SECRET: 'idt',
    });
    try {
      const header = await resolveAuth('r.example', config({ credsStore: 'dpulltest' }), {});
      expect(decodeLikeTheEngine(header)).toEqual({ identitytoken: 'idt', serveraddress: 'r.example' });
      // "credentials not found" from a helper is no credentials, not an error.
      expect(await resolveAuth('other.example', config({ credsStore: 'dpulltest' }), {})).toBe(NO_CREDENTIALS);
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });
});
