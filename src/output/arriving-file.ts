import { close, constants, fstat, lstat, open, read, type Stats } from 'node:fs';
import { pullError } from '../errors.js';
import type { ReadInto } from './buffer-ring.js';

/** Bytes read at a time. */
const CHUNK = 1 << 20;
/** Waits while no new bytes are on disk: from 1 ms, doubling to 8 ms (a file writer flushes often), back to 1 ms with the next bytes. */
const FIRST_WAIT_MS = 1;
const LONGEST_WAIT_MS = 8;

/**
 * The file behind a blob being fetched changed under the reader (its fetch started it again from
 * zero, or another process's fetch of it did not verify): what was read cannot be trusted to be
 * the blob that is now whole. The archive is made again from the finished files.
 */
export class ArrivingFileReplaced extends Error {
  constructor(readonly path: string) {
    super(`${path} was replaced while it was read`);
  }
}

/** A blob whose fetch may still be under way: its final file, the partial one it is written into, and the fetch. */
export interface ArrivingBlob {
  /** The blob's file once whole and verified (made by renaming `partial`: the same file). */
  path: string;
  partial: string;
  size: number;
  /** Settles when the fetch has ended: the file at `path` is whole and verified, or the fetch failed. */
  done: Promise<unknown>;
}

const openFile = (path: string) =>
  new Promise<number | undefined>((resolve, reject) =>
    open(path, constants.O_RDONLY | constants.O_NOFOLLOW, (err, fd) => (err ? (err.code === 'ENOENT' ? resolve(undefined) : reject(err)) : resolve(fd))),
  );
const statOf = (fd: number) => new Promise<Stats>((resolve, reject) => fstat(fd, (err, stats) => (err ? reject(err) : resolve(stats))));
const lstatOf = (path: string) => new Promise<Stats | undefined>((resolve) => lstat(path, (err, stats) => resolve(err ? undefined : stats)));
const closeFile = (fd: number) => new Promise<void>((resolve) => close(fd, () => resolve()));
const readAt = (fd: number, position: number, buffer: Buffer) =>
  new Promise<Buffer>((resolve, reject) => {
    read(fd, buffer, 0, buffer.length, position, (err, n) => (err ? reject(err) : resolve(n === buffer.length ? buffer : buffer.subarray(0, n))));
  });

/**
 * Hands a blob's bytes to `onChunk` in order as they reach the disk, while its fetch writes them
 * (an archive made in the same pass as the fetch): read from the partial file as it grows, or from
 * the finished file if it is already there, up to the blob's size. Ends once every byte was handed
 * over and the fetch has finished the very file that was read (same device and inode, a regular
 * file no other name links to); rejects with the fetch's failure, or ArrivingFileReplaced when the
 * file that became the blob is not the one read.
 */
export async function readArriving(
  blob: ArrivingBlob,
  onChunk: (chunk: Buffer) => void | Promise<void>,
  /** Where each read goes (as readChunks takes it); by default a new buffer. */
  buffers?: ReadInto,
): Promise<void> {
  let settled = false;
  let failure: unknown;
  blob.done.then(
    () => (settled = true),
    (err: unknown) => {
      settled = true;
      failure = err ?? new Error('the fetch failed');
    },
  );
  let fd: number | undefined;
  let wait = FIRST_WAIT_MS;
  const pause = () => new Promise<void>((resolve) => setTimeout(resolve, wait)).then(() => (wait = Math.min(wait * 2, LONGEST_WAIT_MS)));
  try {
    let position = 0;
    for (;;) {
      if (failure !== undefined) throw failure;
      if (fd === undefined) {
        // The finished file first: a partial file by that name may be a later fetch's.
        const wasSettled = settled;
        fd = await openFile(blob.path);
        if (fd !== undefined) {
          const stats = await statOf(fd);
          if (!stats.isFile() || stats.nlink !== 1) throw pullError(`${blob.path} is not a file of dpull's own`);
        } else if (!wasSettled) {
          // A partial file that is not a plain file of its own (a symlink, a hard link planted
          // there) is the fetch's to take away: waited out, as one not there yet.
          fd = await openFile(blob.partial).catch(() => undefined);
          const stats = fd !== undefined ? await statOf(fd) : undefined;
          if (fd !== undefined && (!stats!.isFile() || stats!.nlink !== 1)) {
            await closeFile(fd);
            fd = undefined;
          }
        }
        if (fd === undefined) {
          if (wasSettled) throw failure ?? pullError(`${blob.path} is missing after its fetch`);
          await pause();
          continue;
        }
      }
      if (position < blob.size) {
        const wasSettled = settled;
        const into = buffers === undefined ? Buffer.allocUnsafe(CHUNK) : await buffers.take();
        let chunk: Buffer;
        try {
          chunk = await readAt(fd, position, into.subarray(0, Math.min(into.length, blob.size - position)));
        } catch (err) {
          buffers?.giveBack(into);
          throw err;
        }
        if (chunk.length === 0) buffers?.giveBack(into);
        if (chunk.length > 0) {
          position += chunk.length;
          wait = FIRST_WAIT_MS;
          await onChunk(chunk);
          continue;
        }
        // Nothing more on disk yet; once the fetch has ended, nothing more will come to this file.
        if (!wasSettled) {
          await pause();
          continue;
        }
      } else if (!settled) {
        await new Promise<void>((resolve) => blob.done.then(() => resolve(), () => resolve()));
        continue;
      }
      if (failure !== undefined) throw failure;
      // The fetch has finished: the file it finished must be the one read, and whole.
      const [mine, final] = [await statOf(fd), await lstatOf(blob.path)];
      if (final === undefined || final.ino !== mine.ino || final.dev !== mine.dev || !final.isFile() || final.nlink !== 1) {
        throw new ArrivingFileReplaced(blob.path);
      }
      if (position !== blob.size || mine.size !== blob.size) throw new ArrivingFileReplaced(blob.path);
      return;
    }
  } finally {
    if (fd !== undefined) await closeFile(fd);
  }
}
