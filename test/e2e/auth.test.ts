// Registry credentials, found like the docker CLI finds them, against the real htpasswd registry.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { inspectImage, removeAllImages, stack } from '../support/stack.js';
import { runDpull, type DpullRun } from '../support/run-dpull.js';
import { scratchDir } from '../support/scratch.js';

const s = stack();
const ref = `${s.authRegistry}/private/three:1.0`;
const fixtures = fileURLToPath(new URL('../fixtures/bin', import.meta.url));
const outputs: DpullRun[] = [];

/** A docker config directory holding this config.json. */
function configWith(config: object | string): string {
  const dir = scratchDir('dpull-config-');
  writeFileSync(`${dir}/config.json`, typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}
const basic = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

async function dpull(args: string[], env: Record<string, string> = {}) {
  const run = await runDpull(args, {
    DOCKER_HOST: s.dockerHost,
    PATH: `${fixtures}:${process.env.PATH}`,
    DPULL_FIXTURE_SERVER: s.authRegistry,
    DPULL_FIXTURE_USER: s.authUser,
    DPULL_FIXTURE_SECRET: s.authPassword,
    ...env,
  });
  outputs.push(run);
  return run;
}

beforeEach(() => removeAllImages());

describe('pulling from a registry that wants credentials', () => {
  test('with "auths" in DOCKER_CONFIG', async () => {
    const dir = configWith({ auths: { [s.authRegistry]: { auth: basic(s.authUser, s.authPassword) } } });
    const run = await dpull(['--no-tty', ref], { DOCKER_CONFIG: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${ref}\n`);
    expect(await inspectImage(ref)).toBeDefined();
  });

  test('with a legacy https://host/v1/ key, through --config', async () => {
    const dir = configWith({ auths: { [`https://${s.authRegistry}/v1/`]: { auth: basic(s.authUser, s.authPassword) } } });
    const run = await dpull(['--config', dir, '-q', ref]);
    expect(run.code).toBe(0);
  });

  test('with a credential helper as credsStore', async () => {
    const run = await dpull(['-q', ref], { DOCKER_CONFIG: configWith({ credsStore: 'dpulltest' }) });
    expect(run.code).toBe(0);
    expect(await inspectImage(ref)).toBeDefined();
  });

  test('with a credential helper in credHelpers, which wins over auths', async () => {
    const dir = configWith({ credHelpers: { [s.authRegistry]: 'dpulltest' }, auths: { [s.authRegistry]: { auth: basic('wrong', 'wrong') } } });
    const run = await dpull(['-q', ref], { DOCKER_CONFIG: dir });
    expect(run.code).toBe(0);
  });

  test('with DOCKER_AUTH_CONFIG, which goes in front of the config file', async () => {
    const run = await dpull(['-q', ref], {
      DOCKER_CONFIG: configWith({ auths: { [s.authRegistry]: { auth: basic('wrong', 'wrong') } } }),
      DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { [s.authRegistry]: { auth: basic(s.authUser, s.authPassword) } } }),
    });
    expect(run.code).toBe(0);
  });

  test("wrong credentials: exit 1 with the registry's message", async () => {
    const run = await dpull(['--no-tty', ref], { DOCKER_CONFIG: configWith({ auths: { [s.authRegistry]: { auth: basic(s.authUser, 'not-the-password') } } }) });
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(/^dpull: .*unauthorized/);
  });

  test('no credentials: exit 1', async () => {
    const run = await dpull(['--no-tty', ref], { DOCKER_CONFIG: configWith({}) });
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(/^dpull: .*(no basic auth credentials|unauthorized)/);
  });

  test('a helper that fails: a clear error naming it', async () => {
    const run = await dpull(['--no-tty', ref], { DOCKER_CONFIG: configWith({ credsStore: 'dpulltest' }), DPULL_FIXTURE_FAIL: '1' });
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toBe('dpull: credential helper docker-credential-dpulltest failed (exit 3)');
  });

  test('a helper that is not installed, and one whose name is not a plain word', async () => {
    const missing = await dpull(['--no-tty', ref], { DOCKER_CONFIG: configWith({ credsStore: 'nosuch' }) });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('dpull: credential helper docker-credential-nosuch not found on PATH');
    const sneaky = await dpull(['--no-tty', ref], { DOCKER_CONFIG: configWith({ credsStore: '../../bin/sh' }) });
    expect(sneaky.code).toBe(2);
    expect(sneaky.stderr).toContain('dpull: refusing credential helper "../../bin/sh": a helper name is a plain word');
  });

  test('a malformed config.json: a clear error naming the file, exit 2', async () => {
    const dir = configWith('{"auths": {');
    const run = await dpull(['--no-tty', ref], { DOCKER_CONFIG: dir });
    expect(run.code).toBe(2);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^dpull: ${dir}/config\\.json is not valid JSON: `));
  });

  test('json mode with credentials works and its events carry no secret', async () => {
    const dir = configWith({ auths: { [s.authRegistry]: { auth: basic(s.authUser, s.authPassword) } } });
    const run = await dpull(['--progress', 'json', ref], { DOCKER_CONFIG: dir });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout.trimEnd().split('\n').at(-1)!)).toMatchObject({ type: 'result', reference: ref });
  });
});

afterAll(() => {
  // No secret in any output of any of the tests above, in any form a header or config holds it.
  const secrets = [s.authPassword, basic(s.authUser, s.authPassword), Buffer.from(s.authPassword).toString('base64')];
  expect(outputs.length).toBeGreaterThanOrEqual(11);
  for (const run of outputs) {
    for (const secret of secrets) {
      expect(run.stdout).not.toContain(secret);
      expect(run.stderr).not.toContain(secret);
    }
  }
});
