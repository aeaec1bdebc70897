import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { IncomingMessage } from 'node:http';
import { DpullError, pullError } from '../errors.js';
import type { Descriptor } from './manifest.js';
import type { RegistryClient } from './registry-client.js';
import { monotonicMs } from '../clock.js';

/** Times a blob whose connection drops is continued in the same run before the pull fails. */
const CONTINUATIONS = 3;

/** The bytes a partial file already holds and their hash, read back from disk. */
async function partialState(partial: string, size: number): Promise<{ bytes: number; hash: Hash }> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    bytes = statSync(partial).size;
  } catch {
    return { bytes: 0, hash };
  }
  if (bytes > size && size >= 0) {
    await rm(partial, { force: true });
    return { bytes: 0, hash };
  }
  if (bytes > 0) await pipeline(createReadStream(partial), async function* (chunks) {
    for await (const chunk of chunks) hash.update(chunk as Buffer);
  });
  return { bytes, hash };
}

const diskFailure = (partial: string, err: unknown): DpullError | undefined => {
  const code = (err as NodeJS.ErrnoException).code;
  if (err instanceof DpullError || code === undefined || !/^E(NOSPC|ROFS|ACCES|PERM|DQUOT|IO|NOENT|ISDIR)$/.test(code)) return undefined;
  return pullError(`cannot write ${partial}: ${code === 'ENOSPC' ? 'no space left on device' : code}`);
};

/**
 * Writes the response to the partial file. If the connection drops, what arrived is still
 * written out in full (the file ended, not destroyed) before the failure is passed on: the next
 * attempt continues from the bytes on disk, and none is fetched twice.
 */
function writeAll(response: IncomingMessage, partial: string, append: boolean): Promise<void> {
  // Chunks gather while a write is under way and go out together (writev): far fewer calls.
  const out = createWriteStream(partial, { flags: append ? 'a' : 'w', highWaterMark: 8 << 20 });
  return new Promise((resolve, reject) => {
    let broken: Error | undefined;
    const breakOff = (err: Error) => {
      if (broken !== undefined) return;
      broken = err;
      response.unpipe(out);
      out.end();
    };
    response.on('error', breakOff);
    response.on('aborted', () => breakOff(new Error('aborted')));
    out.on('error', (err) => {
      response.destroy();
      reject(err);
    });
    out.on('finish', () => (broken === undefined && response.complete ? resolve() : reject(broken ?? new Error('the answer ended early'))));
    response.pipe(out);
  });
}

/**
 * Streams a blob to `file` through sha256, never holding it in memory. It is written to
 * `file.partial` and renamed into place only when its digest matches; a mismatch removes the
 * partial file, so nothing unverified is ever kept under a digest's name. A partial file left by
 * an interrupted pull (Ctrl-C, a cut connection, --timeout) is kept and continued with
 * `Range: bytes=N-`, its hash rebuilt from the bytes on disk; a registry that answers 200 or 416
 * to the range gets the whole blob again. A connection that drops mid-blob is continued the same
 * way within the run. `onProgress` gets the bytes so far, at most every 100 ms and at the end.
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
  const partial = `${file}.partial`;
  for (let continuation = 0; ; continuation++) {
    let { bytes, hash } = await partialState(partial, blob.size);
    if (bytes > 0) onProgress(bytes);
    if (bytes === blob.size && bytes > 0) {
      // All there from before: only the check is left.
      if (hash.digest('hex') === expected) return rename(partial, file);
      await rm(partial, { force: true });
      continue;
    }
    const response = await client.request(`/v2/${repository}/blobs/${blob.digest}`, {
      repository,
      ...(bytes > 0 && { headers: { Range: `bytes=${bytes}-` } }),
    });
    const continues = response.statusCode === 206 && new RegExp(`^bytes ${bytes}-`).test(String(response.headers['content-range'] ?? ''));
    if (bytes > 0 && !continues) {
      // 200 (the whole blob), 416, or a range that starts elsewhere: from the start.
      response.resume();
      await rm(partial, { force: true });
      if (response.statusCode === 200 || response.statusCode === 416 || response.statusCode === 206) continue;
    }
    if (response.statusCode !== 200 && !continues) {
      response.resume();
      throw pullError(`${client.domain}: ${response.statusCode} ${response.statusMessage ?? ''} for blob ${blob.digest}`);
    }
    let reportedAt = 0;
    // Hashed and counted as the chunks go by to the file: no stream of its own in between.
    response.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
      const now = monotonicMs();
      if (now - reportedAt >= 100) {
        reportedAt = now;
        onProgress(bytes);
      }
    });
    try {
      await writeAll(response, partial, continues);
    } catch (err) {
      const disk = diskFailure(partial, err);
      if (disk !== undefined) throw disk;
      // The connection dropped: what arrived is kept; continued from there, a few times.
      if (!client.aborted && continuation < CONTINUATIONS && response.statusCode !== undefined) continue;
      throw err instanceof DpullError ? err : pullError(`the registry ${client.domain} broke off blob ${blob.digest} (what arrived is kept for the next run)`);
    }
    if (bytes !== blob.size && blob.size >= 0) {
      if (bytes < blob.size && continuation < CONTINUATIONS) continue; // cut short: continue it
      await rm(partial, { force: true });
      throw pullError(`blob ${blob.digest} has ${bytes} bytes, not the ${blob.size} its manifest says; nothing was kept`);
    }
    const actual = hash.digest('hex');
    if (actual !== expected) {
      await rm(partial, { force: true });
      throw pullError(`blob ${blob.digest} does not match its digest (got sha256:${actual}); nothing was kept`);
    }
    onProgress(bytes);
    await rename(partial, file);
    return;
  }
}
