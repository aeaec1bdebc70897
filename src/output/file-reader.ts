import { close, constants, open, read } from 'node:fs';
import type { ReadInto } from './buffer-ring.js';

/** Bytes read at a time. */
const CHUNK = 1 << 20;

/**
 * Hands each chunk of a file to `onChunk`, in order, reading the next once the promise it returns
 * (if any) has settled; resolves at the file's end. What fs.createReadStream does, by fs
 * callbacks: its streams load node:fs/promises, readline and the fs watchers with them (8 of
 * Node's modules, a few ms of an archive's start). Each chunk is a buffer of its own that may be
 * kept, unless read into `buffers` (then it is theirs to give out again). A symlink is not followed (a blob file planted as one is an error, not another file's bytes).
 */
export function readChunks(
  path: string,
  onChunk: (chunk: Buffer) => void | Promise<void>,
  /** Where each read goes (a buffer of a BufferRing, taken back unless handed to `onChunk`); by default a new one. */
  buffers?: ReadInto,
): Promise<void> {
  return new Promise((resolve, reject) => {
    open(path, constants.O_RDONLY | constants.O_NOFOLLOW, (err, fd) => {
      if (err) return reject(err);
      const finish = (failure?: Error) =>
        close(fd, (closeErr) => {
          const error = failure ?? closeErr;
          if (error) reject(error);
          else resolve();
        });
      const readInto = (buffer: Buffer) =>
        read(fd, buffer, 0, buffer.length, null, (readErr, bytes) => {
          if (readErr || bytes === 0) {
            buffers?.giveBack(buffer);
            return finish(readErr ?? undefined);
          }
          try {
            const handed = onChunk(bytes === buffer.length ? buffer : buffer.subarray(0, bytes));
            if (handed instanceof Promise) handed.then(next, finish);
            else next();
          } catch (failure) {
            finish(failure as Error);
          }
        });
      const next = () => (buffers === undefined ? readInto(Buffer.allocUnsafe(CHUNK)) : void buffers.take().then(readInto, finish));
      next();
    });
  });
}
