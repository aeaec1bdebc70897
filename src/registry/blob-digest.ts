import type { Worker } from 'node:worker_threads';
import { crypto, workerThreads } from '../builtins.js';
import { pullError } from '../errors.js';

// A blob's digest, taken one of two ways. Hashing costs a core ~0.6 s per GB (sha256 with the
// CPU's SHA instructions): as much as reading the socket and writing the file together. By
// default a blob is hashed on the main thread as its chunks go by. Asked for
// (DPULL_WORKER_DIGEST_BYTES), blobs from a size on are hashed on a worker thread, from the file
// as it is written (the bytes on disk, read back), and the main thread is left the sockets, the
// writes and the display: both cores work. It pays only into an archive, where the main thread
// also reads each blob back (1.5 GB: 1.88 s against 2.15 s), and a worker costs ~12 MB of RSS
// whatever it does (70 MB against 58): over issue #32's memory goal, so not by default.

/** The worker is told of written bytes at most this often (in bytes), and at the end. */
const TELL_EVERY = 1 << 20;

export interface BlobDigest {
  /** On the main thread: a chunk, in order, as it goes to the file. */
  update(chunk: Buffer): void;
  /** On the worker: bytes [0, n) of the file are written. */
  written(n: number): void;
  /** Whether the hash is taken from the file (then `update` is not needed, `written` is). */
  readonly fromFile: boolean;
  /** The hex digest of bytes [0, size); with `fromFile`, and the file's identity it was read from. */
  digest(size: number): Promise<{ hex: string; file?: { dev: number; ino: number } }>;
  /** The hash is not wanted any more (a failure, a start from zero). */
  drop(): void;
}

/**
 * DPULL_WORKER_DIGEST_BYTES: blobs from that size on are hashed on the worker (0: all; the tests
 * use it); unset, none.
 */
const workerFrom = (): number | undefined => {
  const n = Number(process.env.DPULL_WORKER_DIGEST_BYTES ?? NaN);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
};

/** A digest of the blob at `path` (of `size` bytes), taken where DPULL_WORKER_DIGEST_BYTES says. */
export function blobDigest(path: string, algorithm: string, size: number): BlobDigest {
  const from = workerFrom();
  return from !== undefined && size >= from ? workerDigest(path, algorithm) : inlineDigest(algorithm);
}

export function inlineDigest(algorithm: string): BlobDigest {
  const hash = crypto().createHash(algorithm);
  return {
    fromFile: false,
    update: (chunk) => hash.update(chunk),
    written: () => {},
    digest: async () => ({ hex: hash.digest('hex') }),
    drop: () => {},
  };
}

// The worker: jobs by id, each a file read from its start up to what the main thread says is
// written, through one reused buffer, into a hash; the file opened without following a symlink.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync, fstatSync, constants } = require('node:fs');
const jobs = new Map();
const buffer = Buffer.allocUnsafe(1 << 20);
function advance(job, to) {
  if (job.error) return;
  try {
    if (job.fd === undefined) {
      job.fd = openSync(job.path, constants.O_RDONLY | constants.O_NOFOLLOW);
      const stats = fstatSync(job.fd);
      job.file = { dev: stats.dev, ino: stats.ino };
    }
    while (job.at < to) {
      const n = readSync(job.fd, buffer, 0, Math.min(buffer.length, to - job.at), job.at);
      if (n === 0) throw new Error('the file is shorter than what was written to it');
      job.hash.update(buffer.subarray(0, n));
      job.at += n;
    }
  } catch (err) {
    job.error = String(err && err.message || err);
  }
}
function end(id) {
  const job = jobs.get(id);
  jobs.delete(id);
  if (job && job.fd !== undefined) closeSync(job.fd);
  return job;
}
parentPort.on('message', (m) => {
  if (m.type === 'open') jobs.set(m.id, { path: m.path, hash: createHash(m.algorithm), at: 0 });
  else if (m.type === 'written') { const job = jobs.get(m.id); if (job) advance(job, m.to); }
  else if (m.type === 'digest') {
    const job = jobs.get(m.id);
    if (job) advance(job, m.to);
    end(m.id);
    parentPort.postMessage(job && !job.error ? { id: m.id, hex: job.hash.digest('hex'), file: job.file || null } : { id: m.id, error: job ? job.error : 'no such job' });
  } else if (m.type === 'drop') end(m.id);
});
`;

let worker: Worker | undefined;
let nextId = 0;
const waiting = new Map<number, { resolve: (answer: { hex: string; file?: { dev: number; ino: number } }) => void; reject: (err: Error) => void }>();
let jobsOpen = 0;

function theWorker(): Worker {
  if (worker !== undefined) return worker;
  const { Worker } = workerThreads();
  const started = new Worker(WORKER_SOURCE, { eval: true });
  const fail = (why: string) => {
    if (worker === started) worker = undefined;
    for (const { reject } of waiting.values()) reject(pullError(`the thread that checks blobs' digests stopped: ${why}`));
    waiting.clear();
  };
  started.on('message', (m: { id: number; hex?: string; file?: { dev: number; ino: number } | null; error?: string }) => {
    const answer = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.hex !== undefined) answer?.resolve({ hex: m.hex, ...(m.file && { file: m.file }) });
    else answer?.reject(pullError(`cannot read back a blob to check its digest: ${m.error}`));
  });
  started.on('error', (err) => fail(err.message));
  started.on('exit', (code) => fail(`exit ${code}`));
  started.unref(); // (held only while a job is open: see job())
  worker = started;
  return started;
}

/** A job opened (the worker holds the process open) or ended (it may let the process exit). */
function job(open: boolean): void {
  jobsOpen += open ? 1 : -1;
  if (jobsOpen === 1 && open) worker?.ref();
  if (jobsOpen === 0) worker?.unref();
}

export function workerDigest(path: string, algorithm: string): BlobDigest {
  const id = nextId++;
  const thread = theWorker();
  thread.postMessage({ type: 'open', id, path, algorithm });
  job(true);
  let told = 0;
  let ended = false;
  const finish = () => {
    if (!ended) job(false);
    ended = true;
  };
  return {
    fromFile: true,
    update: () => {},
    written: (n) => {
      if (ended || n - told < TELL_EVERY) return;
      told = n;
      thread.postMessage({ type: 'written', id, to: n });
    },
    digest: (size) =>
      new Promise((resolve, reject) => {
        if (ended) return reject(new Error('digest asked twice'));
        waiting.set(id, {
          resolve: (answer) => {
            finish();
            resolve(answer);
          },
          reject: (err) => {
            finish();
            reject(err);
          },
        });
        thread.postMessage({ type: 'digest', id, to: size });
      }),
    drop: () => {
      if (ended) return;
      thread.postMessage({ type: 'drop', id });
      finish();
    },
  };
}
