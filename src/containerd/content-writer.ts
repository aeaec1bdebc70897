import { createReadStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { callError, ContainerdCallError, Status, type ContainerdClient } from './containerd-client.js';

/** Bytes per write message (containerd takes up to 16 MiB; ctr sends 1 MiB). */
const CHUNK = 1 << 20;
/** Write messages sent before the first is answered: the socket stays busy while containerd writes. */
const IN_FLIGHT = 4;
/** A message unanswered this long ends the write: a containerd that stopped is not waited for forever. */
const ANSWER_MS = 60_000;

export interface ContentBlob {
  digest: string;
  size: number;
  /** A file holding the verified bytes, or the bytes themselves (a manifest). */
  path?: string;
  bytes?: Buffer;
  /** Set when committed (gc references, the source it came from). */
  labels: Record<string, string>;
}

/**
 * Writes a blob into containerd's content store through the content service's `Write` stream,
 * as containerd's own remote writer does: `STAT` opens the ingest (one writer per `ref`: another
 * process writing the same blob holds it, and this one waits for its result), `WRITE`s from
 * offset 0 (an ingest an interrupted run left is started over), `COMMIT` with the expected digest
 * and size, which containerd checks against the bytes it received. A blob containerd has is
 * not sent again ('present').
 */
export async function writeContent(client: ContainerdClient, blob: ContentBlob, onBytes: (bytes: number) => void, signal: AbortSignal): Promise<'written' | 'present'> {
  for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
    try {
      await writeOnce(client, blob, onBytes, signal);
      return 'written';
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (!(err instanceof ContainerdCallError)) throw err;
      if (err.code === Status.ALREADY_EXISTS) return 'present';
      if (!(err.code === Status.UNAVAILABLE && /locked/.test(err.details))) throw err;
      // Another writer has the ingest: its blob, once committed, is this one.
      await sleep(wait, undefined, { signal });
      if (await hasContent(client, blob.digest, signal)) return 'present';
    }
  }
}

/** Whether containerd holds a blob (in this namespace). */
export async function hasContent(client: ContainerdClient, digest: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await client.call('content', 'Info', { digest }, { ...(signal && { signal }) });
    return true;
  } catch (err) {
    if (err instanceof ContainerdCallError && err.code === Status.NOT_FOUND) return false;
    throw err;
  }
}

async function writeOnce(client: ContainerdClient, blob: ContentBlob, onBytes: (bytes: number) => void, signal: AbortSignal): Promise<void> {
  // (A write queued behind others may start after the pull was given up: its abort is past.)
  if (signal.aborted) throw signal.reason;
  const ref = `dpull-${blob.digest}`;
  const call = client.stream('content', 'Write');
  const answers: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  let failure: unknown;
  const fail = (err: unknown) => {
    failure ??= err;
    for (const waiter of answers.splice(0)) waiter.reject(failure);
  };
  // Each answer (or the first message) starts the wait for the next afresh.
  let silent: NodeJS.Timeout | undefined;
  const expectAnswer = () => {
    clearTimeout(silent);
    if (answers.length > 0) silent = setTimeout(() => {
      fail(new ContainerdCallError(Status.DEADLINE_EXCEEDED, `no answer to a write of ${blob.digest} for ${ANSWER_MS / 1000}s`));
      call.cancel();
    }, ANSWER_MS);
  };
  call.on('data', () => {
    answers.shift()?.resolve();
    expectAnswer();
  });
  call.on('error', (err: import('@grpc/grpc-js').ServiceError) => fail(err.code === Status.CANCELLED && signal.aborted ? signal.reason : callError(err)));
  // (The status, not 'end': a refusal may end the stream before its code is known.)
  call.on('status', (status: { code: number }) => status.code === 0 && fail(new ContainerdCallError(Status.UNKNOWN, 'containerd ended the write before it was committed')));
  const onAbort = () => call.cancel();
  signal.addEventListener('abort', onAbort, { once: true });
  const send = (request: object): Promise<void> => {
    if (failure !== undefined) return Promise.reject(failure);
    const answered = new Promise<void>((resolve, reject) => answers.push({ resolve, reject }));
    if (answers.length === 1) expectAnswer();
    call.write(request);
    return answered;
  };
  const sent: Promise<void>[] = [];
  try {
    await send({ action: 'STAT', ref, total: blob.size, expected: blob.digest });
    let offset = 0;
    const pieces = blob.bytes !== undefined ? [blob.bytes] : createReadStream(blob.path!, { highWaterMark: CHUNK, signal });
    for await (const piece of pieces as AsyncIterable<Buffer>) {
      for (let at = 0; at < piece.length; at += CHUNK) {
        const data = piece.subarray(at, at + CHUNK);
        const answered = send({ action: 'WRITE', ref, offset, data }).then(() => onBytes(data.length));
        // (Awaited below, or in the end: one that fails while an earlier one is awaited must not
        // count as a failure nobody handles, which ends the process.)
        answered.catch(() => {});
        sent.push(answered);
        offset += data.length;
        if (sent.length >= IN_FLIGHT) await sent.shift();
      }
    }
    await Promise.all(sent.splice(0));
    if (offset !== blob.size) throw new Error(`${blob.path ?? blob.digest} holds ${offset} bytes, not ${blob.size}`);
    await send({ action: 'COMMIT', ref, total: blob.size, expected: blob.digest, offset, labels: blob.labels });
  } finally {
    clearTimeout(silent);
    signal.removeEventListener('abort', onAbort);
    call.removeAllListeners('status');
    call.on('error', () => {}); // (a cancel after the end is nobody's failure)
    if (failure === undefined) call.end();
    else call.cancel();
    await Promise.allSettled(sent);
  }
}
