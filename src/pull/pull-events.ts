import type { EngineAddress } from '../engine/address.js';
import { negotiateApiVersion } from '../engine/api-version.js';
import { requestPull } from '../engine/pull-request.js';
import type { IncomingMessage } from 'node:http';
import { eventBatches } from '../decode/event-stream.js';
import type { PullEvent } from '../decode/pull-event.js';
import { DpullError, pullError } from '../errors.js';
import { IdleTimeout } from './idle-timeout.js';

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
}

/**
 * The pull as typed events, in batches (one per chunk the engine sent): negotiates the API
 * version, asks the engine to pull, decodes its stream. Throws a DpullError on any failure, an
 * in-stream error included (after yielding it), and the signal's reason when aborted. With
 * `idleTimeoutMs`, a pull that receives nothing for that long is cancelled with a pull error.
 * Stopping the iteration early closes the connection, which makes the engine cancel the pull.
 */
export async function* pullEventBatches(options: PullEventsOptions): AsyncGenerator<PullEvent[]> {
  const { engine } = options;
  const idle = new IdleTimeout(options.idleTimeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, idle.signal]) : idle.signal;
  let body: IncomingMessage | undefined;
  try {
    const apiVersion = await negotiateApiVersion(engine, signal);
    idle.touch();
    body = await requestPull(engine, apiVersion, { ...options, signal });
    idle.touch();
    // Any byte from the engine counts as life, chunk framing included.
    body.socket?.on('data', () => idle.touch());
    for await (const batch of eventBatches(body)) yield batch;
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
