import { close, constants, fstat, open, writev } from 'node:fs';

/**
 * Bytes waiting to be written before `write` asks its caller to wait for `onDrain`. Each queued
 * chunk is memory held: with the hashing on its own thread the sockets outrun the writes on
 * loopback, and at 8 MB a 4-blob pull peaked at 150 MB against 105 MB at 1 MB, at the same speed
 * (bench/throughput.mjs). 1 MB still gathers a writev of many chunks.
 */
const HIGH_WATER = 1 << 20;
/**
 * Bytes worth a write of their own; less waits up to GATHER_MS for more. A slow link hands over
 * chunks of a few kB each: written one by one, each is a round trip to libuv's threads.
 */
const GATHER_BYTES = 256 << 10;
const GATHER_MS = 5;

/**
 * A file written in order, by fs callbacks: the chunks that arrive while a write is under way go
 * out together in one writev. What fs.createWriteStream does, without loading node:fs/promises,
 * readline and the fs watchers with it (~6 ms of a daemonless start).
 */
export class FileWriter {
  private fd: number | undefined;
  private queue: Buffer[] = [];
  private queued = 0;
  private busy = true; // until the file is open
  private failed: Error | undefined;
  private drained: (() => void) | undefined;
  private closed: ((err?: Error) => void) | undefined;
  private gathering: NodeJS.Timeout | undefined;
  private onDisk: number;

  /**
   * `create` makes a new file (one already there, or a symlink planted there, fails: O_EXCL);
   * `append` adds to a regular file of exactly `size` bytes that nothing else links to, never
   * through a symlink. `onError` hears of a failed open or write at once (the caller stops
   * feeding it).
   */
  constructor(
    path: string,
    how: { create: true } | { append: number },
    private readonly onError: (err: Error) => void,
    /** Told the file's size after each write that completes (what a reader of the file may read). */
    private readonly onWritten?: (bytesOnDisk: number) => void,
  ) {
    this.onDisk = 'append' in how ? how.append : 0;
    const { O_WRONLY, O_CREAT, O_EXCL, O_APPEND, O_NOFOLLOW } = constants;
    open(path, 'create' in how ? O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW : O_WRONLY | O_APPEND | O_NOFOLLOW, 0o644, (err, fd) => {
      if (err) return this.fail(err);
      this.fd = fd;
      if ('create' in how) return this.opened();
      fstat(fd, (statErr, stats) => {
        if (statErr) return this.fail(statErr);
        if (!stats.isFile() || stats.nlink !== 1 || stats.size !== how.append) {
          return this.fail(Object.assign(new Error(`${path} changed under dpull`), { code: 'ECHANGED' }));
        }
        this.opened();
      });
    });
  }

  private opened(): void {
    this.busy = false;
    this.flush();
  }

  /** Queues a chunk; false when enough is waiting that the caller should pause until `onDrain`. */
  write(chunk: Buffer): boolean {
    if (this.failed !== undefined || this.closed !== undefined) return true;
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (!this.busy) {
      if (this.queued >= GATHER_BYTES) this.flush();
      else this.gathering ??= setTimeout(() => {
        this.gathering = undefined;
        if (!this.busy) this.flush();
      }, GATHER_MS);
    }
    return this.queued < HIGH_WATER;
  }

  /** Called once, when what is queued has fallen below the mark again. */
  onDrain(callback: () => void): void {
    this.drained = callback;
  }

  /** Writes what is queued and closes the file; rejects with the first write's failure. */
  end(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.closed = (err) => (err ? reject(err) : resolve());
      if (this.failed !== undefined) return this.closed(this.failed);
      if (!this.busy) this.flush();
    });
  }

  private flush(): void {
    if (this.gathering !== undefined) {
      clearTimeout(this.gathering);
      this.gathering = undefined;
    }
    if (this.queue.length === 0) {
      if (this.closed !== undefined && this.fd !== undefined) {
        const fd = this.fd;
        this.fd = undefined;
        this.busy = true;
        close(fd, (err) => this.closed!(err ?? undefined));
      }
      return;
    }
    const chunks = this.queue;
    this.queue = [];
    this.busy = true;
    writev(this.fd!, chunks, (err, written) => {
      if (err) return this.fail(err);
      this.queued -= written;
      this.onDisk += written;
      this.onWritten?.(this.onDisk);
      this.queue.unshift(...unwritten(chunks, written)); // a short write: the rest again (else none)
      this.busy = false;
      if (this.drained !== undefined && this.queued < HIGH_WATER) {
        const drained = this.drained;
        this.drained = undefined;
        drained();
      }
      // (The caller, told of the drain, may have written and ended meanwhile: a write may be under way.)
      if (!this.busy) this.flush();
    });
  }

  /** Passed on once the file is closed: the caller may remove it (an open file cannot be, on Windows). */
  private fail(err: Error): void {
    this.failed = err;
    this.queue = [];
    this.drained = undefined;
    const report = () => (this.closed !== undefined ? this.closed(err) : this.onError(err));
    const fd = this.fd;
    this.fd = undefined;
    if (fd === undefined) report();
    else close(fd, report);
  }
}

/** The chunks' bytes after the first `written`. */
function unwritten(chunks: Buffer[], written: number): Buffer[] {
  let skip = written;
  const rest: Buffer[] = [];
  for (const chunk of chunks) {
    if (skip >= chunk.length) skip -= chunk.length;
    else {
      rest.push(skip > 0 ? chunk.subarray(skip) : chunk);
      skip = 0;
    }
  }
  return rest;
}
