import { decodeMessageBatches } from './json-stream.js';
import { toPullEvent, type PullEvent } from './pull-event.js';
import { pullError } from '../errors.js';

/**
 * The engine's response body as typed events, a batch per chunk. An in-stream error is yielded
 * and then thrown as a pull error: a stream with an error has failed, whatever came before, and
 * nothing after the error counts.
 */
export async function* eventBatches(body: AsyncIterable<Uint8Array>): AsyncGenerator<PullEvent[]> {
  for await (const messages of decodeMessageBatches(body)) {
    const events: PullEvent[] = [];
    let error: string | undefined;
    for (const message of messages) {
      const event = toPullEvent(message);
      if (event === undefined) continue;
      events.push(event);
      if (event.type === 'error') {
        error = event.message;
        break;
      }
    }
    if (events.length > 0) yield events;
    if (error !== undefined) throw pullError(error);
  }
}
