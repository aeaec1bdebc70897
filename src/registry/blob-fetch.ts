import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { DpullError, pullError } from '../errors.js';
import type { Descriptor } from './manifest.js';
import type { RegistryClient } from './registry-client.js';

/**
 * Streams a blob to `file` through sha256, never holding it in memory: written to `file.partial`
 * and renamed into place only when its digest matches; on a mismatch or any failure the partial
 * file is removed, so nothing unverified is ever kept under a digest's name. `onProgress` gets
 * the bytes so far, at most every 100 ms and at the end.
 */
export async function fetchBlob(
  client: RegistryClient,
  repository: string,
  blob: Descriptor,
  file: string,
  onProgress: (bytes: number) => void,
): Promise<void> {
  const [algorithm, expected] = blob.digest.split(':');
  if (algorithm !== 'sha256' || !/^[a-f0-9]{64}$/.test(expected ?? '')) throw pullError(`blob ${blob.digest}: dpull verifies sha256 digests only`);
  const response = await client.request(`/v2/${repository}/blobs/${blob.digest}`, { repository });
  if (response.statusCode !== 200) {
    response.resume();
    throw pullError(`${client.domain}: ${response.statusCode} ${response.statusMessage ?? ''} for blob ${blob.digest}`);
  }
  const hash = createHash('sha256');
  let bytes = 0;
  let reportedAt = 0;
  // Hashed and counted as the chunks go by to the file: no stream of its own in between.
  response.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
    const now = performance.now();
    if (now - reportedAt >= 100) {
      reportedAt = now;
      onProgress(bytes);
    }
  });
  const partial = `${file}.partial`;
  try {
    // Chunks gather while a write is under way and go out together (writev): far fewer calls.
    await pipeline(response, createWriteStream(partial, { highWaterMark: 8 << 20 }));
    const actual = hash.digest('hex');
    if (actual !== expected) {
      throw pullError(`blob ${blob.digest} does not match its digest (got sha256:${actual}); nothing was kept`);
    }
    if (blob.size >= 0 && bytes !== blob.size) throw pullError(`blob ${blob.digest} has ${bytes} bytes, not the ${blob.size} its manifest says`);
    onProgress(bytes);
    await rename(partial, file);
  } catch (err) {
    await rm(partial, { force: true });
    // The disk's failures (full, read-only, no permission) in one line naming the file.
    const code = (err as NodeJS.ErrnoException).code;
    if (!(err instanceof DpullError) && code !== undefined && /^E[A-Z]+$/.test(code) && !/^(ECONNRESET|ETIMEDOUT|EPIPE)$/.test(code)) {
      throw pullError(`cannot write ${partial}: ${code === 'ENOSPC' ? 'no space left on device' : code}`);
    }
    throw err;
  }
}
