// --retry against a real engine and the real registry behind a proxy that fails the engine's
// first attempts (503, 429 with Retry-After and rate-limit headers, a reset connection).
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { engineRequest, removeAllImages, stack } from '../support/stack.js';
import { runDpull } from '../support/run-dpull.js';
import { runInPty } from '../support/pty.js';
import { screenOf, someFrameShows } from '../support/screen.js';
import { faultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { scratchDir } from '../support/scratch.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const s = stack();
const engines = [
  { name: 'dockerd', host: s.dockerHost, socket: s.socketPath },
  { name: 'Docker 26', host: s.docker26Host, socket: s.docker26Socket },
];
let proxy: FaultProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

describe.each(engines)('a flaky registry, through $name', ({ host, socket }) => {
  const has = async (ref: string) => (await engineRequest('GET', `/images/${encodeURIComponent(ref)}/json`, socket)).status === 200;
  beforeEach(() => removeAllImages(socket));

  test('503 twice: --retry 3 pulls it, saying each retry; without --retry it fails at once', async () => {
    proxy = await faultProxy(s.registry, '503', 2);
    const ref = `${proxy.address}/demo/three:1.0`;
    const run = await runDpull(['--no-tty', '--retry', '3', '--retry-delay', '1s', ref], { DOCKER_HOST: host });
    expect(run.stderr).toMatch(new RegExp(`^${ref}  retrying in \\ds \\(attempt 2 of 4\\): .*503 Service Unavailable$`, 'm'));
    expect(run.stderr).toMatch(new RegExp(`^${ref}  retrying in \\ds \\(attempt 3 of 4\\): .*503 Service Unavailable$`, 'm'));
    expect(run.code).toBe(0);
    expect(proxy.attempts()).toBe(3);
    expect(await has(ref)).toBe(true);

    await proxy.close();
    proxy = await faultProxy(s.registry, '503', 2);
    const once = await runDpull(['--no-tty', `${proxy.address}/demo/three:1.0`], { DOCKER_HOST: host });
    expect(once.code).toBe(1);
    expect(once.stderr).toMatch(/503 Service Unavailable\n$/);
    expect(proxy.attempts()).toBe(1);
  });

  test('a reset connection is retried; json has the retry event before the result', async () => {
    proxy = await faultProxy(s.registry, 'reset', 1);
    const ref = `${proxy.address}/demo/three:1.0`;
    const run = await runDpull(['--progress', 'json', '--retry', '2', '--retry-delay', '1s', ref], { DOCKER_HOST: host });
    expect(run.code).toBe(0);
    const objects = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const retry = objects.findIndex((o) => o.type === 'retry');
    expect(objects[retry]).toMatchObject({ type: 'retry', attempt: 2, of: 3, delayMs: expect.any(Number), reason: expect.stringMatching(/EOF/) });
    expect(objects.at(-1).type).toBe('result');
    expect(retry).toBeLessThan(objects.length - 1);
  });

  test('429: asks the registry, waits at least its Retry-After, says the limit', async () => {
    proxy = await faultProxy(s.registry, '429', 1, 3);
    const ref = `${proxy.address}/demo/three:1.0`;
    const started = Date.now();
    const run = await runDpull(['--no-tty', '--retry', '3', '--retry-delay', '100ms', ref], { DOCKER_HOST: host });
    expect(run.code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    expect(run.stderr).toMatch(new RegExp(`^${ref}  rate limited by ${proxy.address}: 0 of 100 pulls left per 6h; retrying in 3s \\(attempt 2 of 4\\)$`, 'm'));
    // dpull asked with a HEAD, which the registry does not count.
    expect(proxy.manifestRequests.some((r) => r.method === 'HEAD' && !r.failed)).toBe(true);
  });
});

describe('a flaky registry, pulled from without an engine (--output)', () => {
  const noEngine = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };

  test.each([
    ['503', 2, /503 Service Unavailable/],
    ['reset', 1, /connection was reset/],
  ] as const)('%s: retried and pulled', async (fault, count, reason) => {
    proxy = await faultProxy(s.registry, fault, count);
    const dir = join(scratchDir('dpull-retry-'), 'layout');
    const run = await runDpull(['--progress', 'json', '--retry', '3', '--retry-delay', '1s', '-o', `oci:${dir}`, `${proxy.address}/demo/three:1.0`], noEngine);
    expect(run.code).toBe(0);
    const retries = run.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((o) => o.type === 'retry');
    expect(retries).toHaveLength(count);
    for (const retry of retries) expect(retry.reason).toMatch(reason);
    expect(proxy.attempts()).toBe(count + 1);
  });

  test('429: waits its Retry-After, and the summary says what is left of the limit', async () => {
    proxy = await faultProxy(s.registry, '429', 1, 2);
    const dir = join(scratchDir('dpull-retry-'), 'layout');
    const ref = `${proxy.address}/demo/three:1.0`;
    const started = Date.now();
    const run = await runDpull(['--no-tty', '--retry', '2', '--retry-delay', '100ms', '-o', `oci:${dir}`, ref], noEngine);
    expect(run.code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(run.stderr).toMatch(new RegExp(`^${ref}  rate limited by ${proxy.address}: 0 of 100 pulls left per 6h; retrying in 2s \\(attempt 2 of 3\\)$`, 'm'));
    expect(run.stderr).toMatch(new RegExp(`, 99 of 100 pulls left per 6h at ${proxy.address}$`, 'm'));
  });

  test.each([
    ['a missing tag', () => `${s.registry}/demo/three:9.9`],
    ['a denied pull', () => `${s.tokenRegistry}/private/three:1.0`],
  ])('%s: one attempt, at once', async (_, image) => {
    const dir = join(scratchDir('dpull-retry-'), 'layout');
    const started = Date.now();
    const run = await runDpull(['--no-tty', '--retry', '5', '-o', `oci:${dir}`, image()], noEngine);
    expect(run.code).toBe(1);
    expect(run.stderr).not.toContain('retrying');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  test('a registry gone for good: the attempts run out, and the error says how many', async () => {
    const dir = join(scratchDir('dpull-retry-'), 'layout');
    const run = await runDpull(['--no-tty', '--retry', '2', '--retry-delay', '200ms', '-o', `oci:${dir}`, `${s.downRegistry}/demo/three:1.0`], noEngine);
    expect(run.code).toBe(1);
    expect(run.stderr.match(/retrying in/g)).toHaveLength(2);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(/^dpull: cannot reach the registry .*: connection refused \(gave up after 3 attempts\)$/);
  });

  test('a corrupt blob is a lasting failure: one attempt', async () => {
    const pushed = JSON.parse(readFileSync('/tmp/dpull-stack/pushed.json', 'utf8'));
    const dir = join(scratchDir('dpull-retry-'), 'layout');
    const run = await runDpull(['--no-tty', '--retry', '3', '-o', `oci:${dir}`, `${s.registry}/${pushed.corrupt}`], noEngine);
    expect(run.code).toBe(1);
    expect(run.stderr).not.toContain('retrying');
  });
});

describe('lasting failures are not retried', () => {
  test.each([
    ['a missing tag', () => `${s.registry}/demo/three:9.9`],
    ['a denied pull', () => `${s.authRegistry}/private/three:1.0`],
  ])('%s with --retry 5: one attempt, at once', async (_, image) => {
    const started = Date.now();
    const run = await runDpull(['--no-tty', '--retry', '5', image()], { DOCKER_HOST: s.dockerHost });
    expect(run.code).toBe(1);
    expect(run.stderr).not.toContain('retrying');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  test('a registry gone for good: the attempts run out, and the error says how many', async () => {
    const run = await runDpull(['--no-tty', '--retry', '2', '--retry-delay', '200ms', `${s.downRegistry}/demo/three:1.0`], { DOCKER_HOST: s.dockerHost });
    expect(run.code).toBe(1);
    expect(run.stderr.match(/retrying in/g)).toHaveLength(2);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(/^dpull: .*connection refused \(gave up after 3 attempts\)$/);
  });

  test('DPULL_RETRY sets the retries; a bad value is a usage error', async () => {
    proxy = await faultProxy(s.registry, '503', 1);
    await removeAllImages();
    const run = await runDpull(['-q', `${proxy.address}/demo/three:1.0`], { DOCKER_HOST: s.dockerHost, DPULL_RETRY: '1' });
    expect(run.code).toBe(0);
    const bad = await runDpull(['-q', `${s.registry}/demo/three:1.0`], { DOCKER_HOST: s.dockerHost, DPULL_RETRY: 'lots' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('dpull: invalid --retry "lots": expected a whole number of retries from 0 to 100\n');
  });
});

test('on a terminal: the countdown, and Ctrl-C during the wait ends it at once (130)', async () => {
  proxy = await faultProxy(s.registry, '503', 5);
  const ref = `${proxy.address}/demo/three:1.0`;
  let typedAt = 0;
  const run = await runInPty(['--retry', '3', '--retry-delay', '30s', ref], { DOCKER_HOST: s.dockerHost }, { cols: 160, rows: 20 }, {
    act: { when: (out) => out.includes('retrying in'), act: (term) => setTimeout(() => { typedAt = Date.now(); term.write('\x03'); }, 2500) },
  });
  expect(run.exitCode).toBe(130);
  expect(Date.now() - typedAt).toBeLessThan(2000);
  const screen = await screenOf(run.output, 160, 20, false);
  // The frames while it waited: the countdown went down (no event came to redraw it).
  const seconds = new Set<string>();
  await someFrameShows(run.output, 160, 20, (lines) => {
    for (const l of lines) {
      const m = /^retrying in (\d+)s \(attempt 2 of 4\): received unexpected HTTP status: 503 Service Unavailable$/.exec(l);
      if (m) seconds.add(m[1]);
    }
    return false;
  }, false);
  expect(seconds.size).toBeGreaterThanOrEqual(2);
  expect(screen.cursorHidden).toBe(false);
  expect(screen.lines.at(-1)).toBe('✘ interrupted — the engine cancelled the pull');
});
