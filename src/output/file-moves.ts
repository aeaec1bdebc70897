import { lstatSync, rename, unlink } from 'node:fs';

// node:fs's callbacks wrapped by hand: node:fs/promises brings 8 of Node's modules with it
// (readline and the fs watchers among them), a few ms of every daemonless start.

/** Renames `from` to `to` (replacing it). */
export const moveFile = (from: string, to: string) =>
  new Promise<void>((resolve, reject) => rename(from, to, (err) => (err ? reject(err) : resolve())));

/** Removes a file; one that is not there is no error. */
export const removeFile = (path: string) =>
  new Promise<void>((resolve, reject) => unlink(path, (err) => (err && err.code !== 'ENOENT' ? reject(err) : resolve())));

/**
 * A name beside `path` that only this process uses (`PATH.PID-RANDOM.ENDING`): for a file made
 * with O_EXCL and renamed into place, never another run's, never a planted one.
 */
export const ownName = (path: string, ending: string) => `${path}.${process.pid}-${Math.random().toString(36).slice(2, 10)}.${ending}`;

/** True for a regular file at `path`; false for none, a folder, or a symlink (never followed). */
export function isRegularFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}
