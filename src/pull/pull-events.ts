import type { EngineAddress } from '../engine/address.js';
import { negotiateApiVersion } from '../engine/api-version.js';
import { startPull } from '../engine/pull-request.js';
import { decodeMessageBatches } from '../decode/json-stream.js';
import { toPullEvent, type PullEvent } from '../decode/pull-event.js';
import { DpullError, pullError } from '../errors.js';

export interface PullEventsOptions {
  engine: EngineAddress;
  /** `fromImage`: the full repository name. */
  name: string;
  /** Tag or digest; absent to pull all tags. */
  tag?: string;
  platform?: string;
  registryAuth?: string;
  signal?: AbortSignal;
}

/**
 * The pull as typed events, in batches (one per chunk the engine sent): negotiates the API
 * version, asks the engine to pull, decodes its stream. Throws a DpullError on any failure, an
 * in-stream error included (after yielding it), and the signal's reason when aborted. Stopping
 * the iteration early closes the connection, which makes the engine cancel the pull.
 */
export async function* pullEventBatches(options: PullEventsOptions): AsyncGenerator<PullEvent[]> {
  const { engine, signal } = options;
  const apiVersion = await negotiateApiVersion(engine, signal);
  const body = await startPull(engine, apiVersion, options);
  try {
    for await (const messages of decodeMessageBatches(body)) {
      const events: PullEvent[] = [];
      let error: string | undefined;
      for (const message of messages) {
        const event = toPullEvent(message);
        if (event === undefined) continue;
        events.push(event);
        if (event.type === 'error') {
          error = event.message;
          break; // a failed pull: nothing after the error counts
        }
      }
      if (events.length > 0) yield events;
      if (error !== undefined) throw pullError(error);
    }
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    if (err instanceof DpullError) throw err;
    // The body broke off (engine killed, connection reset): whatever came before, no success.
    throw pullError(`the connection to the engine at ${engine.url} was lost before the pull finished`);
  } finally {
    body.destroy();
  }
}

/** The same, one event at a time. */
export async function* pullEvents(options: PullEventsOptions): AsyncGenerator<PullEvent> {
  for await (const batch of pullEventBatches(options)) yield* batch;
}
