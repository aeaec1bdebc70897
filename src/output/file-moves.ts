import { createReadStream, rename, unlink } from 'node:fs';

// node:fs's callbacks wrapped by hand: node:fs/promises and node:stream/promises bring ~15 of
// Node's modules with them (readline among them), ~10 ms of every daemonless start.

/** Renames `from` to `to` (replacing it). */
export const moveFile = (from: string, to: string) =>
  new Promise<void>((resolve, reject) => rename(from, to, (err) => (err ? reject(err) : resolve())));

/** Removes a file; one that is not there is no error. */
export const removeFile = (path: string) =>
  new Promise<void>((resolve, reject) => unlink(path, (err) => (err && err.code !== 'ENOENT' ? reject(err) : resolve())));

/** Hands each chunk of a file to `onChunk`, in order; resolves at its end. */
export const readChunks = (path: string, onChunk: (chunk: Buffer) => void) =>
  new Promise<void>((resolve, reject) => {
    createReadStream(path).on('data', (chunk) => onChunk(chunk as Buffer)).on('error', reject).on('end', resolve);
  });
