import { rename, unlink } from 'node:fs';

// node:fs's callbacks wrapped by hand: node:fs/promises brings 8 of Node's modules with it
// (readline and the fs watchers among them), a few ms of every daemonless start.

/** Renames `from` to `to` (replacing it). */
export const moveFile = (from: string, to: string) =>
  new Promise<void>((resolve, reject) => rename(from, to, (err) => (err ? reject(err) : resolve())));

/** Removes a file; one that is not there is no error. */
export const removeFile = (path: string) =>
  new Promise<void>((resolve, reject) => unlink(path, (err) => (err && err.code !== 'ENOENT' ? reject(err) : resolve())));
