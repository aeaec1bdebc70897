import { JsonMessageDecoder } from '../../src/decode/json-stream.js';
import { toPullEvent, type PullEvent } from '../../src/decode/pull-event.js';
import { recording } from './recordings.js';

/** The typed events of a recorded stream. */
export function recordedEvents(name: string): PullEvent[] {
  const decoder = new JsonMessageDecoder();
  const events = decoder.push(recording(name)).map(toPullEvent);
  decoder.end();
  return events.filter((e): e is PullEvent => e !== undefined);
}

/** Each layer's size as the engine announced it in the raw stream (read apart from dpull's code). */
export function announcedSizes(name: string): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const line of recording(name).toString('utf8').split('\n')) {
    if (!line.includes('"Downloading"')) continue;
    const message = JSON.parse(line);
    sizes.set(message.id, message.progressDetail.total);
  }
  return sizes;
}
