// Resuming a pull without an engine: what arrived before an interruption is kept and continued
// with Range, across runs and within one; counted in bytes the registry serves (a counting proxy).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { stack } from '../support/stack.js';
import { dpullBin, runDpull } from '../support/run-dpull.js';
import { scratchDir } from '../support/scratch.js';
import { faultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { throttledRegistry } from '../support/throttled.js';

const s = stack();
const noEngine = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
let proxy: FaultProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});
/** The blobs an image's pull fetches (config and layers), from the registry's manifest. */
async function blobsOf(repository: string, tag: string): Promise<{ digest: string; size: number }[]> {
  const manifest = await (await fetch(`http://${s.registry}/v2/${repository}/manifests/${tag}`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } })).json();
  return [manifest.config, ...manifest.layers];
}

/**
 * Bytes a folder of blobs holds already, whole or partial; with `of`, of those blobs only (an
 * archive's cache also holds the manifest, written there as soon as it is known: not a blob fetched).
 */
function bytesOnDisk(blobsDir: string, of?: { digest: string }[]): number {
  if (!existsSync(blobsDir)) return 0;
  const mine = of && new Set(of.map((b) => b.digest.slice('sha256:'.length)));
  return readdirSync(blobsDir)
    .filter((f) => mine === undefined || mine.has(f.replace(/\.partial$/, '')))
    .reduce((sum, f) => sum + statSync(join(blobsDir, f)).size, 0);
}

/** Starts a throttled pull and interrupts it (SIGINT) once about half the bytes have come. */
async function interruptAtHalf(args: string[], total: number): Promise<number | null> {
  const child = spawn(process.execPath, [dpullBin, '--progress', 'json', ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...noEngine }, stdio: ['ignore', 'pipe', 'pipe'] });
  const current = new Map<string, number>();
  let sent = false;
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    buffered += text;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      const event = JSON.parse(line);
      if (event.type === 'layer' && event.current !== undefined) current.set(event.layer, event.current);
    }
    if (!sent && [...current.values()].reduce((a, b) => a + b, 0) >= total / 2) {
      sent = true; // once: a second Ctrl-C would end dpull at once
      child.kill('SIGINT');
    }
  });
  return new Promise((resolve) => child.on('exit', resolve));
}

test('interrupted at about half, run again: the registry serves only the rest, and the layout is whole', async () => {
  const blobs = await blobsOf('demo/eight', '1.0');
  const total = blobs.reduce((sum, b) => sum + b.size, 0);
  const dir = join(scratchDir('dpull-resume-'), 'layout');
  expect(await interruptAtHalf(['-o', `oci:${dir}`, `${await throttledRegistry(s.registry, 500_000)}/demo/eight:1.0`], total)).toBe(130);
  const kept = bytesOnDisk(join(dir, 'blobs', 'sha256'));
  expect(kept).toBeGreaterThan(total / 4);
  expect(kept).toBeLessThan(total);
  expect(readdirSync(join(dir, 'blobs', 'sha256')).some((f) => f.endsWith('.partial'))).toBe(true);

  proxy = await faultProxy(s.registry, 'none', 0);
  const run = await runDpull(['-q', '-o', `oci:${dir}`, `${proxy.address}/demo/eight:1.0`], noEngine);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  // What was missing, to the byte: the partial blobs continued with Range, the whole ones not fetched.
  expect(proxy.blobBytes()).toBe(total - kept);
  expect(proxy.ranges.length).toBeGreaterThan(0);
  for (const blob of blobs) {
    const file = join(dir, 'blobs', ...blob.digest.split(':'));
    expect(`sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`).toBe(blob.digest);
  }
  expect(readdirSync(join(dir, 'blobs', 'sha256')).filter((f) => f.endsWith('.partial'))).toEqual([]);
});

test('a connection dropped in the middle of a blob: continued in the same run, every byte fetched once', async () => {
  const blobs = await blobsOf('demo/three', '1.0');
  const total = blobs.reduce((sum, b) => sum + b.size, 0);
  proxy = await faultProxy(s.registry, 'cut', 2);
  // Cut half way, twice: each continued from where it broke off.
  const dir = join(scratchDir('dpull-resume-'), 'layout');
  const run = await runDpull(['-q', '-o', `oci:${dir}`, `${proxy.address}/demo/three:1.0`], noEngine);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(proxy.blobBytes()).toBe(total);
  expect(proxy.ranges).toHaveLength(2);
});

test('an archive interrupted and run again resumes from the cache folder; the archive appears only when whole', async () => {
  const blobs = await blobsOf('demo/eight', '1.0');
  const total = blobs.reduce((sum, b) => sum + b.size, 0);
  const folder = scratchDir('dpull-resume-');
  const cache = join(folder, 'cache');
  const file = join(folder, 'eight.tar');
  expect(await interruptAtHalf(['--cache-dir', cache, '-o', file, `${await throttledRegistry(s.registry, 500_000)}/demo/eight:1.0`], total)).toBe(130);
  expect(existsSync(file)).toBe(false);
  expect(readdirSync(folder)).toEqual(['cache']);
  const kept = bytesOnDisk(join(cache, 'layout', 'blobs', 'sha256'), blobs);
  expect(kept).toBeGreaterThan(0);

  proxy = await faultProxy(s.registry, 'none', 0);
  const run = await runDpull(['-q', '--cache-dir', cache, '-o', file, `${proxy.address}/demo/eight:1.0`], noEngine);
  expect(run.code).toBe(0);
  expect(proxy.blobBytes()).toBe(total - kept);
  expect(readdirSync(folder).sort()).toEqual(['cache', 'eight.tar']);
});
