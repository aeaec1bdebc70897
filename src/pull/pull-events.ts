import { finished } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { EngineAddress } from '../engine/address.js';
import { negotiateApiVersion } from '../engine/api-version.js';
import { requestPull } from '../engine/pull-request.js';
import { lookUpImage } from '../engine/image-lookup.js';
import { PullEventDecoder } from '../decode/event-stream.js';
import type { PullEvent } from '../decode/pull-event.js';
import { DpullError, pullError } from '../errors.js';
import { IdleTimeout } from './idle-timeout.js';
import { TrickleReader, TRICKLE_READ_MS } from './trickle-reader.js';

export interface PullEventsOptions {
  engine: EngineAddress;
  /** `fromImage`: the full repository name. */
  name: string;
  /** Tag or digest; absent to pull all tags. */
  tag?: string;
  platform?: string;
  registryAuth?: string;
  signal?: AbortSignal;
  /** Cancel the pull when nothing has arrived from the engine for this long. */
  idleTimeoutMs?: number;
  /** The engine has accepted the pull (its answer's headers came); its messages follow. */
  onAccepted?: () => void;
}

/** What the engine is asked about after the pull: `name:tag`, `name@digest`, or the repository with -a. */
const lookupReference = (name: string, tag: string | undefined) =>
  tag === undefined ? name : /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:/.test(tag) ? `${name}@${tag}` : `${name}:${tag}`;

/**
 * A flood arrives in 64 KiB reads; handed over in slices of this much, fewer events are alive at
 * once, V8 keeps its young generation smaller, and a flood's peak memory is ~8 MB lower (bench/).
 */
const HAND_OVER_BYTES = 8192;

/** Events handed over together at most: a flood's batches stay small (see HAND_OVER_BYTES). */
const HAND_OVER_EVENTS = 64;

/**
 * Hands the events of each read from the socket to `onBatch` together, straight from the data
 * events: no async iterator between the engine and the state. (A read holds as many HTTP chunks
 * as the engine wrote meanwhile, each its own data event: handed over once, after the read, at
 * most HAND_OVER_EVENTS at a time.) Resolves when the stream ends cleanly; rejects on a decoding
 * error, an in-stream error (after handing it over) or a stream that breaks off.
 */
function readEvents(body: IncomingMessage, onBatch: (events: PullEvent[]) => void, batched: boolean): Promise<void> {
  const decoder = new PullEventDecoder();
  const socket = body.socket;
  const trickle = new TrickleReader(batched ? socket : undefined);
  let pending: PullEvent[] = [];
  let flushQueued = false;
  const flush = () => {
    flushQueued = false;
    if (pending.length === 0) return;
    const events = pending;
    pending = [];
    onBatch(events);
  };
  const onRead = (chunk: Buffer) => trickle.afterRead(chunk.length);
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (err?: unknown) => {
      if (settled) return;
      settled = true;
      trickle.stop();
      socket?.removeListener('data', onRead);
      if (err === undefined) resolve();
      else {
        body.destroy();
        reject(err);
      }
    };
    body.on('data', (chunk: Buffer) => {
      if (settled) return;
      try {
        for (let at = 0; at < chunk.length; at += HAND_OVER_BYTES) {
          for (const event of decoder.push(chunk.subarray(at, at + HAND_OVER_BYTES))) pending.push(event);
          if (decoder.error !== undefined) {
            flush();
            decoder.end(); // throws the in-stream error
          }
          if (pending.length >= HAND_OVER_EVENTS) flush();
        }
        if (!flushQueued && pending.length > 0) {
          flushQueued = true;
          queueMicrotask(() => {
            if (!settled) flush();
          });
        }
      } catch (err) {
        flush();
        settle(err);
      }
    });
    // The socket's own data event comes after the HTTP parser's: the size of the read itself.
    socket?.on('data', onRead);
    finished(body, (err) => {
      if (!settled) flush();
      if (err) return settle(err);
      try {
        decoder.end();
        settle();
      } catch (error) {
        settle(error);
      }
    });
  });
}

/**
 * Runs the pull, handing its typed events to `onBatch` a read at a time: negotiates the API
 * version, asks the engine to pull, decodes its stream. Rejects with a DpullError on any failure,
 * an in-stream error included (after handing it over), and with the signal's reason when
 * aborted (closing the connection, which makes the engine cancel the pull). With
 * `idleTimeoutMs`, a pull that receives nothing for that long is cancelled with a pull error.
 */
export async function streamPullEvents(options: PullEventsOptions, onBatch: (events: PullEvent[]) => void): Promise<void> {
  const { engine } = options;
  const idle = new IdleTimeout(options.idleTimeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, idle.signal]) : idle.signal;
  let body: IncomingMessage | undefined;
  try {
    const apiVersion = await negotiateApiVersion(engine, signal);
    idle.touch();
    body = await requestPull(engine, apiVersion, { ...options, signal });
    idle.touch();
    options.onAccepted?.();
    // Any byte from the engine counts as life, chunk framing included.
    body.socket?.on('data', () => idle.touch());
    let closed = false; // the engine's closing `Status:` line came
    // A --timeout shorter than a few batches' pause is read as it comes (the pause is no silence).
    const batched = options.idleTimeoutMs === undefined || options.idleTimeoutMs >= 5 * TRICKLE_READ_MS;
    await readEvents(body, (events) => {
      if (!closed && events.some((e) => e.type === 'status')) closed = true;
      onBatch(events);
    }, batched);
    body.destroy();
    idle.touch();
    const named = lookupReference(options.name, options.tag);
    const image = await lookUpImage(engine, apiVersion, named, options.tag === undefined, signal);
    // A stream that ended without the engine's word of success is a success only if the engine
    // says it has the image (podman never says the word; an engine cut short never does).
    if (!closed && (image === undefined || image.warning !== undefined)) {
      throw pullError(`the engine ended the pull without saying it succeeded, and it has no image ${named}`);
    }
    onBatch([{ type: 'image', ...(image ?? { warning: `the engine lists no image ${named}` }) }]);
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    if (err instanceof DpullError) throw err;
    // The body broke off (engine killed, connection reset): whatever came before, no success.
    throw pullError(`the connection to the engine at ${engine.url} was lost before the pull finished`);
  } finally {
    idle.stop();
    body?.destroy();
  }
}
