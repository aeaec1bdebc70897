// Property tests on real recorded streams: any chunking decodes the same; no mutation of a real
// stream crashes the decoder, the state or a renderer, or turns a failed pull into a success.
import { PassThrough } from 'node:stream';
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { PullEventDecoder } from '../../src/decode/event-stream.js';
import type { PullEvent } from '../../src/decode/pull-event.js';
import { PullState } from '../../src/state/pull-state.js';
import { DpullError } from '../../src/errors.js';
import { TtyRenderer } from '../../src/render/tty/tty-renderer.js';
import { PlainRenderer } from '../../src/render/plain/plain-renderer.js';
import { JsonRenderer } from '../../src/render/json/json-renderer.js';
import type { RendererOptions } from '../../src/render/renderer.js';
import { recording, recordingNames } from '../support/recordings.js';
import { FakeTty, asWriteStream } from '../support/fake-tty.js';

/** Cuts bytes at the given offsets (any order, any count). */
function cut(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, p));
    start = p;
  }
  return chunks;
}

/** Runs the stream through decoding, state and every renderer; the outcome and the events. */
async function consume(chunks: Uint8Array[]): Promise<{ ok: boolean; error?: unknown; events: PullEvent[] }> {
  const state = new PullState(0);
  let now = 0;
  const options = (stream: NodeJS.WriteStream): RendererOptions => ({
    stream,
    out: new PassThrough(),
    label: 'x',
    reference: 'x',
    clock: () => now,
    env: {},
  });
  const renderers = [
    new TtyRenderer(options(asWriteStream(new FakeTty(60, 12)))),
    new PlainRenderer(options(new PassThrough() as unknown as NodeJS.WriteStream)),
    new JsonRenderer(options(new PassThrough() as unknown as NodeJS.WriteStream)),
  ];
  const events: PullEvent[] = [];
  let result: { ok: boolean; error?: unknown } = { ok: true };
  try {
    const decoder = new PullEventDecoder();
    for (const chunk of chunks) {
      const batch = decoder.push(chunk);
      if (batch.length > 0) {
        now += 50;
        for (const event of batch) state.apply(event, now);
        events.push(...batch);
        for (const r of renderers) r.update(state, batch);
      }
      if (decoder.error !== undefined) break;
    }
    decoder.end();
  } catch (error) {
    result = { ok: false, error };
  }
  for (const r of renderers) {
    r.finish(state, result.ok ? { kind: 'pulled' } : { kind: 'failed', error: result.error as DpullError });
  }
  return { ...result, events };
}

describe('properties of the decoder on real streams', () => {
  test.each(recordingNames())('%s: any chunking gives the same events and outcome', async (name) => {
    const bytes = recording(name);
    const whole = await consume([bytes]);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { maxLength: 40 }), async (offsets) => {
        const cutUp = await consume(cut(bytes, offsets));
        expect(cutUp.events).toEqual(whole.events);
        expect(cutUp.ok).toBe(whole.ok);
      }),
      { numRuns: 60 },
    );
  });

  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 20 }) }),
  );

  function mutate(bytes: Uint8Array, mutations: fc.RecordValue<any>[], limit: number): Uint8Array {
    let out = Buffer.from(bytes);
    for (const m of mutations) {
      const at = m.at % Math.max(1, Math.min(limit, out.length));
      if (m.kind === 'flip') out[at] = m.value;
      if (m.kind === 'delete') out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(at + m.length, limit))]);
      if (m.kind === 'insert') out = Buffer.concat([out.subarray(0, at), Buffer.from(m.bytes), out.subarray(at)]);
    }
    return out;
  }

  test.each(recordingNames())('%s: mutations never crash anything; a failure is always a DpullError', async (name) => {
    const bytes = recording(name);
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), async (mutations, offsets) => {
        const result = await consume(cut(mutate(bytes, mutations, bytes.length), offsets));
        if (!result.ok) expect(result.error).toBeInstanceOf(DpullError);
      }),
      { numRuns: 80 },
    );
  });

  test('a stream that ends in an engine error never succeeds, however the bytes before it are mangled', async () => {
    const bytes = recording('eight-registry-lost');
    const text = bytes.toString('utf8');
    const errorAt = text.lastIndexOf('{"errorDetail"');
    expect(errorAt).toBeGreaterThan(0);
    const before = Buffer.byteLength(text.slice(0, errorAt));
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), async (mutations, offsets) => {
        // Mutations stay before the error line (which is kept whole after a newline).
        const mangled = Buffer.concat([mutate(bytes.subarray(0, before), mutations, before), Buffer.from('\n'), bytes.subarray(before)]);
        const result = await consume(cut(mangled, offsets));
        expect(result.ok).toBe(false);
        expect(result.error).toBeInstanceOf(DpullError);
      }),
      { numRuns: 100 },
    );
  });
});
