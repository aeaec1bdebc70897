import { closeSync, constants, linkSync, lstatSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { ownName } from './file-moves.js';

// Two dpull processes on one layout or cache must never write the same file: each blob's partial
// file and each index.json is written only by the holder of a lock file beside it. The lock is a
// file made with O_EXCL (which never follows a planted symlink) holding its owner's pid, start
// time and host; one whose owner is gone (killed, crashed) is taken over. Node has no flock(2):
// this is what lockfile-style tools do without it.

/** How long to wait between looks at a lock another process holds (growing to the second). */
const FIRST_WAIT_MS = 25;
const LONGEST_WAIT_MS = 250;

/** A process's start time in clock ticks since boot (Linux); tells a reused pid from its first owner. */
function startTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

let me: string | undefined;
const owner = () => (me ??= `${process.pid} ${startTime(process.pid)} ${hostname()}\n`);

/** True when the lock's content names a process on this host that is gone (or a pid now reused). */
function isAbandoned(content: string): boolean {
  const [pid, started, host] = content.trim().split(' ');
  // Another host's lock (a shared folder) cannot be judged from here; one being written is not yet readable.
  if (host !== hostname() || !/^\d+$/.test(pid ?? '')) return false;
  try {
    process.kill(Number(pid), 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  const now = startTime(Number(pid));
  return started !== undefined && started !== '' && now !== '' && now !== started;
}

function readLock(path: string): string | undefined {
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      return readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined; // gone meanwhile, or a symlink: looked at again on the next round
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** One try: true when the lock is now ours. */
function tryLock(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, owner());
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Takes an abandoned lock away: renamed aside (atomic), then removed if it is still the one judged
 * abandoned; a live owner's lock, taken by a race with another taker, is linked back (link never
 * replaces a file).
 */
function breakLock(path: string, seen: string | undefined): void {
  const aside = ownName(path, 'stale');
  try {
    renameSync(path, aside);
  } catch {
    return;
  }
  if (!isSymlink(aside) && readLock(aside) !== seen) {
    try {
      linkSync(aside, path);
    } catch {
      // Someone took the lock meanwhile: theirs stands.
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    // Already gone.
  }
}

export interface FileLock {
  release(): void;
}

/**
 * Holds the lock file `path` (waiting while another live process holds it; `onWait` is told once
 * when that happens). Rejects with the signal's reason when aborted while waiting.
 */
export async function lockFile(path: string, signal?: AbortSignal, onWait?: () => void): Promise<FileLock> {
  let waitMs = FIRST_WAIT_MS;
  let told = false;
  for (;;) {
    if (signal?.aborted) throw signal.reason;
    if (tryLock(path)) break;
    if (isSymlink(path)) {
      // Never a lock dpull made: planted, and taken away (not followed).
      breakLock(path, undefined);
      continue;
    }
    const content = readLock(path);
    if (content !== undefined && isAbandoned(content)) {
      breakLock(path, content);
      continue;
    }
    if (!told) {
      told = true;
      onWait?.();
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, waitMs);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    waitMs = Math.min(LONGEST_WAIT_MS, waitMs * 2);
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      try {
        unlinkSync(path);
      } catch {
        // Gone already: nothing to release.
      }
    },
  };
}
