import type { Hash } from 'node:crypto';
import { crypto } from '../builtins.js';
import { statSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { DpullError, pullError } from '../errors.js';
import type { Descriptor } from './manifest.js';
import type { RegistryClient } from './registry-client.js';
import { monotonicMs } from '../clock.js';
import { moveFile, removeFile } from '../output/file-moves.js';
import { readChunks } from '../output/file-reader.js';
import { FileWriter } from '../output/file-writer.js';
import { writeFailure } from '../output/write-failure.js';

/** Times a blob whose connection drops is continued in the same run before the pull fails. */
const CONTINUATIONS = 3;

/** The bytes a partial file already holds and their hash, read back from disk. */
async function partialState(partial: string, size: number): Promise<{ bytes: number; hash: Hash }> {
  const hash = crypto().createHash('sha256');
  let bytes = 0;
  try {
    bytes = statSync(partial).size;
  } catch {
    return { bytes: 0, hash };
  }
  if (bytes > size && size >= 0) {
    await removeFile(partial);
    return { bytes: 0, hash };
  }
  if (bytes > 0) {
    await readChunks(partial, (chunk) => {
      hash.update(chunk);
    });
  }
  return { bytes, hash };
}

/**
 * Writes the response to the partial file, handing each chunk to `onChunk` first. If the
 * connection drops, what arrived is still written out in full (the file ended, not destroyed)
 * before the failure is passed on: the next attempt continues from the bytes on disk, and none is
 * fetched twice.
 */
function writeAll(response: IncomingMessage, partial: string, append: boolean, onChunk: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const file = new FileWriter(partial, append, (err) => {
      settled = true;
      response.destroy();
      reject(err);
    });
    const finish = (broken: Error | undefined) => {
      if (settled) return;
      settled = true;
      response.removeListener('data', onData);
      file.end().then(() => (broken === undefined ? resolve() : reject(broken)), reject);
    };
    const onData = (chunk: Buffer) => {
      onChunk(chunk);
      if (!file.write(chunk)) {
        response.pause();
        file.onDrain(() => response.resume());
      }
    };
    response.on('data', onData);
    response.on('end', () => finish(response.complete ? undefined : new Error('the answer ended early')));
    response.on('error', finish);
    response.on('aborted', () => finish(new Error('aborted')));
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
      if (hash.digest('hex') === expected) return moveFile(partial, file);
      await removeFile(partial);
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
      await removeFile(partial);
      if (response.statusCode === 200 || response.statusCode === 416 || response.statusCode === 206) continue;
    }
    if (response.statusCode !== 200 && !continues) {
      response.resume();
      throw pullError(`${client.domain}: ${response.statusCode} ${response.statusMessage ?? ''} for blob ${blob.digest}`);
    }
    let reportedAt = 0;
    try {
      // Hashed and counted as the chunks go by to the file: no stream of its own in between.
      await writeAll(response, partial, continues, (chunk) => {
        hash.update(chunk);
        bytes += chunk.length;
        const now = monotonicMs();
        if (now - reportedAt >= 100) {
          reportedAt = now;
          onProgress(bytes);
        }
      });
    } catch (err) {
      const disk = writeFailure(err, partial);
      if (disk !== undefined) throw disk;
      // The connection dropped: what arrived is kept; continued from there, a few times.
      if (!client.aborted && continuation < CONTINUATIONS && response.statusCode !== undefined) continue;
      throw err instanceof DpullError ? err : pullError(`the registry ${client.domain} broke off blob ${blob.digest} (what arrived is kept for the next run)`);
    }
    if (bytes !== blob.size && blob.size >= 0) {
      if (bytes < blob.size && continuation < CONTINUATIONS) continue; // cut short: continue it
      await removeFile(partial);
      throw pullError(`blob ${blob.digest} has ${bytes} bytes, not the ${blob.size} its manifest says; nothing was kept`);
    }
    const actual = hash.digest('hex');
    if (actual !== expected) {
      await removeFile(partial);
      throw pullError(`blob ${blob.digest} does not match its digest (got sha256:${actual}); nothing was kept`);
    }
    onProgress(bytes);
    await moveFile(partial, file);
    return;
  }
}
