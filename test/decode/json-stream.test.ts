import { describe, expect, test } from 'vitest';
import { JsonMessageDecoder } from '../../src/decode/json-stream.js';
import { toPullEvent } from '../../src/decode/pull-event.js';
import { DpullError } from '../../src/errors.js';
import { rememberSecret } from '../../src/secrets.js';
import { recording, recordingNames } from '../support/recordings.js';

function decode(chunks: Uint8Array[]) {
  const decoder = new JsonMessageDecoder();
  const out = chunks.flatMap((chunk) => decoder.push(chunk));
  decoder.end();
  return out.map(toPullEvent);
}

const bytes = (s: string) => new TextEncoder().encode(s);

describe('recorded engine streams decode the same however they are cut', () => {
  test.each(recordingNames())('%s, split at every byte offset', (name) => {
    const stream = recording(name);
    const whole = decode([stream]);
    expect(whole.length).toBeGreaterThan(0);
    // A cut only touches the message it falls in (between messages the decoder is at rest), so
    // each message, with its line ending, is cut at every offset inside it: together, every
    // offset of the stream, in linear time rather than quadratic.
    let start = 0;
    let index = 0;
    while (start < stream.length) {
      const newline = stream.indexOf(0x0a, start);
      const end = newline === -1 ? stream.length : newline + 1;
      const message = stream.subarray(start, end);
      const expected = decode([message]);
      expect(expected).toEqual(whole.slice(index, index + expected.length));
      for (let i = 1; i < message.length; i++) {
        const events = decode([message.subarray(0, i), message.subarray(i)]);
        if (events.length !== expected.length || JSON.stringify(events) !== JSON.stringify(expected)) expect(events).toEqual(expected);
      }
      index += expected.length;
      start = end;
    }
    expect(index).toBe(whole.length);
    // And the whole stream a byte at a time: every offset a cut at once.
    expect(decode([...stream].map((b) => Uint8Array.of(b)))).toEqual(whole);
  });
});

describe('the decoder takes any framing the engine may use', () => {
  const a = '{"status":"Pulling fs layer","progressDetail":{},"id":"aaaaaaaaaaaa"}';
  const b = '{"status":"Download complete","progressDetail":{},"id":"aaaaaaaaaaaa"}';
  test.each([
    ['\\r\\n between objects', `${a}\r\n${b}\r\n`],
    ['\\n between objects', `${a}\n${b}\n`],
    ['nothing between objects', `${a}${b}`],
    ['no newline after the last', `${a}\n${b}`],
    ['blank lines and spaces', `\n\n  ${a} \r\n\r\n${b}\n\n`],
  ])('%s', (_, text) => {
    expect(decode([bytes(text)])).toEqual([
      { type: 'layer', id: 'aaaaaaaaaaaa', phase: 'pending', status: 'Pulling fs layer' },
      { type: 'layer', id: 'aaaaaaaaaaaa', phase: 'downloaded', status: 'Download complete' },
    ]);
  });

  test('a multibyte character split across chunks arrives whole', () => {
    const text = bytes('{"status":"Status: Image is up to date for ünïcødé/名前:✓"}\n');
    for (let i = 1; i < text.length; i++) {
      expect(decode([text.subarray(0, i), text.subarray(i)])).toEqual([
        { type: 'status', message: 'Image is up to date for ünïcødé/名前:✓', upToDate: true },
      ]);
    }
  });

  test('braces and escaped quotes inside strings do not end an object', () => {
    expect(decode([bytes('{"status":"odd } \\" { ] [ text","id":"x"}')])).toEqual([
      { type: 'layer', id: 'x', phase: 'other', status: 'odd } " { ] [ text' },
    ]);
  });

  test('a malformed line is a clear pull error, not a crash', () => {
    expect(() => decode([bytes('{"status":"ok"}\nnot json\n')])).toThrowError(
      new DpullError('malformed message from the engine: expected "{" but got "n"', 1),
    );
    expect(() => decode([bytes('{"status": nope}\n')])).toThrowError(/malformed message from the engine: not JSON/);
  });

  test('a stream cut inside an object is a lost connection', () => {
    expect(() => decode([bytes('{"status":"Downloading","progressDetail":{"cur')])).toThrowError(
      'the connection to the engine was lost in the middle of a message',
    );
  });
});

describe('engine messages become typed events', () => {
  test.each([
    [{ status: 'Pulling from demo/big', id: '2.0' }, { type: 'pulling', repository: 'demo/big', tag: '2.0' }],
    [{ status: 'Digest: sha256:abc' }, { type: 'digest', digest: 'sha256:abc' }],
    [{ status: 'Status: Downloaded newer image for x:1' }, { type: 'status', message: 'Downloaded newer image for x:1', upToDate: false }],
    [{ status: 'Retrying in 5 seconds', id: 'l1' }, { type: 'layer', id: 'l1', phase: 'retrying', status: 'Retrying in 5 seconds', retryIn: 5 }],
    [{ status: 'Extracting', progressDetail: { current: 3, units: 's' }, id: 'l1' }, { type: 'layer', id: 'l1', phase: 'extracting', status: 'Extracting', current: 3, units: 's' }],
    [{ status: 'Download complete', progressDetail: { hidecounts: true }, id: 'l1' }, { type: 'layer', id: 'l1', phase: 'downloaded', status: 'Download complete' }],
    [{ status: 'Downloading', progressDetail: { current: 5, total: 0 }, id: 'l1' }, { type: 'layer', id: 'l1', phase: 'downloading', status: 'Downloading', current: 5 }],
    [{ errorDetail: { message: 'boom' }, error: 'boom' }, { type: 'error', message: 'boom' }],
    [{ errorDetail: { message: 'only detail' } }, { type: 'error', message: 'only detail' }],
    [{ error: 'only error' }, { type: 'error', message: 'only error' }],
    [{ status: 'Something new', id: 'l1' }, { type: 'layer', id: 'l1', phase: 'other', status: 'Something new' }],
    [{ status: 'Trying to pull x' }, { type: 'message', message: 'Trying to pull x' }],
    [{ status: '\x1b[2J\x1b]0;pwned\x07Evil\x07 text\x9b31m' }, { type: 'message', message: 'Evil text' }],
  ])('%j', (message, event) => {
    expect(toPullEvent(message)).toEqual(event);
  });

  test('a line with nothing to show is skipped', () => {
    expect(toPullEvent({ id: 'sha256:abc' })).toBeUndefined();
    expect(toPullEvent({ progressDetail: {} })).toBeUndefined();
  });

  test('a status named like a property of every object is an unknown status, shown as sent', () => {
    for (const status of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(toPullEvent({ status, id: 'aaaaaaaaaaaa' })).toEqual({ type: 'layer', id: 'aaaaaaaaaaaa', phase: 'other', status });
    }
  });

  test('a secret learnt mid-pull is redacted from a status seen before it was', () => {
    const status = 'Downloading with s3cr3t-t0ken-xyz';
    expect(toPullEvent({ status, id: 'aaaaaaaaaaaa' })).toMatchObject({ status });
    rememberSecret('s3cr3t-t0ken-xyz');
    expect(toPullEvent({ status, id: 'aaaaaaaaaaaa' })).toMatchObject({ status: 'Downloading with [redacted]' });
  });
});
