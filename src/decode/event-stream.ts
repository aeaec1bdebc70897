import { JsonMessageDecoder } from './json-stream.js';
import { toPullEvent, type PullEvent } from './pull-event.js';
import { pullError } from '../errors.js';

/**
 * The engine's response body as typed events, fed a chunk at a time (one hand-over per chunk,
 * not per message, keeps a flood of events cheap). An in-stream error is the last event it
 * gives: the stream has failed, whatever came before, and nothing after the error counts.
 */
export class PullEventDecoder {
  private readonly messages = new JsonMessageDecoder();
  /** The engine's in-stream error, once it has come. */
  error?: string;

  /** The events in this chunk. Throws a pull error for bytes that are not the engine's JSON. */
  push(chunk: Uint8Array): PullEvent[] {
    const events: PullEvent[] = [];
    if (this.error !== undefined) return events;
    for (const message of this.messages.push(chunk)) {
      const event = toPullEvent(message);
      if (event === undefined) continue;
      events.push(event);
      if (event.type === 'error') {
        this.error = event.message;
        break;
      }
    }
    return events;
  }

  /** The stream has ended: throws if it failed (an in-stream error, or a message cut short). */
  end(): void {
    if (this.error !== undefined) throw pullError(this.error);
    this.messages.end();
  }
}
