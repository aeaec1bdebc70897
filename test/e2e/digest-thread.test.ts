// Large blobs are hashed on a worker thread, read back from their files as they are written
// (src/registry/blob-digest.ts). DPULL_WORKER_DIGEST_BYTES=0 sends every blob there: the same
// guarantees hold — every blob in the layout hashes to its name, a corrupt blob is refused and
// nothing of it kept, a partial file of garbage left from before is found out and fetched again.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { stack } from '../support/stack.js';
import { runDpull } from '../support/run-dpull.js';
import { scratchDir } from '../support/scratch.js';

const s = stack();
const pushed = JSON.parse(readFileSync('/tmp/dpull-stack/pushed.json', 'utf8')) as { corrupt: string; corruptLayer: string };
const onWorker = () => ({ DOCKER_HOST: 'unix:///nonexistent/docker.sock', XDG_CACHE_HOME: scratchDir('dpull-cache-'), DPULL_WORKER_DIGEST_BYTES: '0' });

/** Every blob of a layout: named by the digest of its bytes; how many. */
function checkBlobs(dir: string): number {
  const blobs = readdirSync(join(dir, 'blobs', 'sha256'));
  for (const hex of blobs) expect(createHash('sha256').update(readFileSync(join(dir, 'blobs', 'sha256', hex))).digest('hex')).toBe(hex);
  return blobs.length;
}

describe('every digest read back on the worker thread', () => {
  test('a layout and an archive: whole, every blob its name', async () => {
    const dir = join(scratchDir('dpull-oci-'), 'layout');
    const layout = await runDpull(['-q', '-o', `oci:${dir}`, `${s.registry}/demo/eight:1.0`], onWorker());
    expect(layout.code, layout.stderr).toBe(0);
    expect(checkBlobs(dir)).toBe(10);
    const archive = join(scratchDir('dpull-archive-'), 'eight.tar');
    const packed = await runDpull(['-q', '-o', `docker-archive:${archive}`, `${s.registry}/demo/eight:1.0`], onWorker());
    expect(packed.code, packed.stderr).toBe(0);
    expect(existsSync(archive)).toBe(true);
  });

  test('a blob the registry serves corrupted: refused, nothing of it kept', async () => {
    const dir = join(scratchDir('dpull-oci-'), 'layout');
    const run = await runDpull(['-o', `oci:${dir}`, `${s.registry}/${pushed.corrupt}`], onWorker());
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^dpull: blob ${pushed.corruptLayer} from ${s.registry} does not match its digest \\(got sha256:[0-9a-f]{64}\\); nothing was kept$`));
    expect(readdirSync(join(dir, 'blobs', 'sha256')).filter((f) => f.startsWith(pushed.corruptLayer.slice(7)))).toEqual([]);
  });

  test('a partial file of garbage where a layer was being fetched: continued, found out, fetched again from zero', async () => {
    const dir = join(scratchDir('dpull-oci-'), 'layout');
    const manifest = await (await fetch(`http://${s.registry}/v2/demo/three/manifests/1.0`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } })).json();
    const layer = manifest.layers[0] as { digest: string; size: number };
    mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(dir, 'blobs', 'sha256', `${layer.digest.slice(7)}.partial`), Buffer.alloc(layer.size >> 1, 0x5a));
    const run = await runDpull(['-q', '-o', `oci:${dir}`, `${s.registry}/demo/three:1.0`], onWorker());
    expect(run.code, run.stderr).toBe(0);
    expect(checkBlobs(dir)).toBe(5);
    expect(readdirSync(join(dir, 'blobs', 'sha256')).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });
});
