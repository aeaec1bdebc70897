import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { DpullError, pullError } from '../errors.js';
import type { Descriptor } from './descriptor.js';
import { statusText, type BlobResponse, type RegistryClient } from './registry-client.js';
import { monotonicMs } from '../clock.js';
import { isRegularFile, moveFile, removeFile } from '../output/file-moves.js';
import { lockFile } from '../output/file-lock.js';
import { FileWriter } from '../output/file-writer.js';
import { writeFailure } from '../output/write-failure.js';
import { blobDigest, type BlobDigest } from './blob-digest.js';

/** Times a blob whose connection drops is continued in the same run before the pull fails. */
const CONTINUATIONS = 3;
const READ_CHUNK = 1 << 20;

/**
 * How many bytes a partial file left by an interrupted pull holds, checked through one descriptor
 * opened without following a symlink; on the main thread its bytes are fed to `digest` as they are
 * read (the digest's thread reads them itself). Anything that is not a plain file of its own (a
 * symlink, a hard link to another file, a folder), or larger than the blob, is removed: -1, and
 * the blob starts from zero with a new digest (this one may have been fed part of it).
 */
async function partialState(partial: string, size: number, digest: BlobDigest): Promise<number> {
  let fd: number;
  try {
    fd = openSync(partial, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') await removeFile(partial);
    return 0;
  }
  let bytes = 0;
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile() || stats.nlink !== 1 || stats.size > size) throw new Error('not ours to continue');
    if (digest.fromFile) bytes = stats.size; // (read back by the digest's thread)
    else {
      const buffer = Buffer.allocUnsafe(READ_CHUNK);
      for (let n; (n = readSync(fd, buffer, 0, READ_CHUNK, bytes)) > 0; bytes += n) digest.update(buffer.subarray(0, n));
      if (bytes !== stats.size) throw new Error('changed while read');
    }
  } catch {
    closeSync(fd);
    await removeFile(partial);
    return -1;
  }
  closeSync(fd);
  if (bytes === 0) await removeFile(partial); // made anew (O_EXCL) below
  return bytes;
}

/**
 * Writes the response to the partial file (appending to the `from` bytes it holds), handing each
 * chunk to `onChunk` first; never more than `limit` bytes in all: a body longer than its
 * descriptor is cut there and the pull fails. If the connection drops, what arrived is still
 * written out in full before the failure is passed on: the next attempt continues from there.
 */
function writeAll(response: BlobResponse, partial: string, from: number, limit: number, onChunk: (chunk: Buffer) => void, onWritten: (bytesOnDisk: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let written = from;
    const file = new FileWriter(partial, from > 0 ? { append: from } : { create: true }, (err) => {
      settled = true;
      response.destroy();
      reject(err);
    }, (onDisk) => {
      // Read into reused buffers: what is on disk may be read into again.
      if ('release' in response) response.release(onDisk - from);
      onWritten(onDisk);
    });
    const finish = (broken: Error | undefined) => {
      if (settled) return;
      settled = true;
      response.removeListener('data', onData);
      file.end().then(() => (broken === undefined ? resolve() : reject(broken)), reject);
    };
    const onData = (data: Buffer) => {
      const chunk = written + data.length > limit ? data.subarray(0, limit - written) : data;
      written += chunk.length;
      onChunk(chunk);
      if (!file.write(chunk)) {
        response.pause();
        file.onDrain(() => response.resume());
      }
      if (chunk !== data) {
        finish(new TooLong()); // before destroy(), whose 'aborted' would be taken for a cut connection
        response.destroy();
      }
    };
    response.on('data', onData);
    response.on('end', () => finish(response.complete ? undefined : new Error('the answer ended early')));
    response.on('error', finish);
    response.on('aborted', () => finish(new Error('aborted')));
  });
}

class TooLong extends Error {}

/**
 * Streams a blob to `file` through its digest's hash, never holding it in memory, and renames it
 * into place only when the bytes written match the digest and the size: nothing unverified is
 * ever kept under a digest's name. One process at a time fetches a blob into a folder (a lock
 * file beside it; `onWait` is told when another holds it, and the blob it leaves is taken as
 * it is: resolves `present`). A partial file left by an interrupted pull is continued with
 * `Range: bytes=N-`, its hash rebuilt from the bytes on disk; if the whole then does not match
 * (the partial came from elsewhere) it starts again from zero once, blaming no one. A registry
 * that answers 200 or 416 to the range gets the whole blob again; a connection that drops
 * mid-blob is continued the same way within the run. `onProgress` gets the bytes so far, at most
 * every 100 ms and at the end. The digest and size are checked ones (descriptor.ts).
 */
export async function fetchBlob(
  client: RegistryClient,
  repository: string,
  blob: Descriptor,
  file: string,
  onProgress: (bytes: number) => void,
  onWait?: () => void,
): Promise<'fetched' | 'present'> {
  const [algorithm, expected] = blob.digest.split(':');
  const lock = await lockFile(`${file}.lock`, client.signal, onWait);
  try {
    if (isRegularFile(file)) return 'present';
    await fetchLocked(client, repository, blob, file, algorithm, expected, onProgress);
    return 'fetched';
  } finally {
    lock.release();
  }
}

async function fetchLocked(
  client: RegistryClient,
  repository: string,
  blob: Descriptor,
  file: string,
  algorithm: string,
  expected: string,
  onProgress: (bytes: number) => void,
): Promise<void> {
  const partial = `${file}.partial`;
  let restarted = false;
  const startAgain = async () => {
    await removeFile(partial);
    restarted = true;
  };
  for (let continuation = 0; ; continuation++) {
    const digests: BlobDigest[] = [];
    const newDigest = () => {
      digests.push(blobDigest(partial, algorithm, blob.size));
      return digests.at(-1)!;
    };
    try {
      if (await fetchOnce(newDigest, continuation)) return;
    } finally {
      for (const digest of digests) digest.drop(); // (those that gave no answer)
    }
  }

  /** One attempt from what the partial file holds; true when the blob is in place, false to go round again. */
  async function fetchOnce(newDigest: () => BlobDigest, continuation: number): Promise<boolean> {
    let digest = newDigest();
    let bytes = await partialState(partial, blob.size, digest);
    if (bytes < 0) {
      // A partial file that was not ours to continue, removed: from zero, with a new hash.
      digest = newDigest();
      bytes = 0;
    }
    const resumed = bytes > 0;
    if (resumed) onProgress(bytes);
    if (bytes === blob.size && resumed) {
      // All there from before: only the check is left.
      if ((await digest.digest(blob.size)).hex === expected) {
        await moveFile(partial, file);
        return true;
      }
      if (restarted) throw mismatch(blob, client);
      await startAgain();
      return false;
    }
    const response = await client.request(`/v2/${repository}/blobs/${blob.digest}`, {
      repository,
      direct: true,
      ...(resumed && { headers: { Range: `bytes=${bytes}-` } }),
    });
    const continues = resumed && response.statusCode === 206 && new RegExp(`^bytes ${bytes}-`).test(String(response.headers['content-range'] ?? ''));
    if (resumed && !continues) {
      // 200 (the whole blob), 416, or a range that starts elsewhere: from the start.
      response.resume();
      await removeFile(partial);
      if (response.statusCode === 200 || response.statusCode === 416 || response.statusCode === 206) return false;
    }
    if (response.statusCode !== 200 && !continues) {
      response.resume();
      throw pullError(`${response.from}: ${statusText(response)} for blob ${blob.digest}`);
    }
    let reportedAt = 0;
    try {
      // Hashed (on this thread as the chunks go by, or read back from the file on the digest's) and
      // counted: no stream of its own in between.
      await writeAll(response, partial, bytes, blob.size, (chunk) => {
        digest.update(chunk);
        bytes += chunk.length;
        const now = monotonicMs();
        if (now - reportedAt >= 100) {
          reportedAt = now;
          onProgress(bytes);
        }
      }, (onDisk) => digest.written(onDisk));
    } catch (err) {
      if (err instanceof TooLong) {
        await removeFile(partial);
        throw pullError(`blob ${blob.digest} from ${response.from} is longer than the ${blob.size} bytes its manifest says; nothing was kept`);
      }
      const disk = writeFailure(err, partial);
      if (disk !== undefined) throw disk;
      if ((err as NodeJS.ErrnoException).code === 'ECHANGED' || (err as NodeJS.ErrnoException).code === 'EEXIST' || (err as NodeJS.ErrnoException).code === 'ELOOP') {
        // The partial file was changed or replaced under the lock: not ours to trust, from zero.
        if (restarted) throw pullError(`cannot write ${partial}: it keeps changing under dpull`);
        await startAgain();
        return false;
      }
      // The connection dropped: what arrived is kept; continued from there, a few times.
      if (!client.aborted && continuation < CONTINUATIONS && response.statusCode !== undefined) return false;
      throw err instanceof DpullError ? err : pullError(`the registry ${client.domain} broke off blob ${blob.digest} (what arrived is kept for the next run)`);
    }
    if (bytes < blob.size) {
      if (continuation < CONTINUATIONS) return false; // cut short: continue it
      throw pullError(`blob ${blob.digest} from ${response.from} ended at ${bytes} of its ${blob.size} bytes (what arrived is kept for the next run)`);
    }
    const { hex: actual, file: hashed } = await digest.digest(blob.size);
    // What was hashed is what this process wrote to a file only it writes (or that file read back);
    // the file must hold exactly that much, and be the one read.
    if (actual !== expected || !holds(partial, blob.size, hashed)) {
      if (resumed && !restarted) {
        await startAgain();
        return false;
      }
      await removeFile(partial);
      throw mismatch(blob, client, `${algorithm}:${actual}`);
    }
    onProgress(bytes);
    await moveFile(partial, file);
    return true;
  }
}

/** True when `path` is a regular file of exactly `size` bytes (and the very file `read`, when given). */
function holds(path: string, size: number, read?: { dev: number; ino: number }): boolean {
  try {
    const stats = lstatSync(path);
    return stats.isFile() && stats.size === size && (read === undefined || (stats.dev === read.dev && stats.ino === read.ino));
  } catch {
    return false;
  }
}

const mismatch = (blob: Descriptor, client: RegistryClient, got?: string) =>
  pullError(`blob ${blob.digest} from ${client.domain} does not match its digest${got !== undefined ? ` (got ${got})` : ''}; nothing was kept`);
