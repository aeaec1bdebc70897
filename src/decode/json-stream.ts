import { pullError } from '../errors.js';
import { sanitize } from '../sanitize.js';

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** No engine message comes near this; a stream that does is not one we can show. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

const malformed = (why: string) => pullError(`malformed message from the engine: ${why}`);

/**
 * Splits the engine's byte stream into JSON objects, whatever the chunking: objects split
 * anywhere (a multibyte UTF-8 character included, since objects are cut on ASCII bytes only and
 * decoded whole), several in one chunk, separated by `\r\n`, `\n` or nothing, the last one with
 * no newline. It scans bytes for the object's end rather than lines, like the docker CLI's
 * json.Decoder, so a missing newline is no problem.
 */
export class JsonMessageDecoder {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private readonly utf8 = new TextDecoder('utf-8');

  /** Feeds one chunk; returns the objects it completed, in order. */
  push(chunk: Uint8Array): object[] {
    const out: object[] = [];
    if (this.depth === 0) chunk = chunk.subarray(this.wholeLines(chunk, out));
    let start = this.depth > 0 ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (this.depth === 0) {
        if (isSpace(b)) continue;
        if (b !== OPEN_BRACE) throw malformed(`expected "{" but got ${JSON.stringify(String.fromCharCode(b))}`);
        this.depth = 1;
        start = i;
      } else if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) this.inString = false;
      } else if (b === QUOTE) {
        this.inString = true;
      } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
        this.depth++;
      } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        this.depth--;
        if (this.depth === 0) {
          out.push(this.complete(chunk.subarray(start, i + 1)));
          start = -1;
        }
      }
    }
    if (this.depth > 0) this.keep(chunk.subarray(start));
    return out;
  }

  /**
   * The common case, taken first: lines that each hold one whole object (the engines end every
   * message with a newline). Found with the native indexOf and read by JSON.parse, not scanned
   * byte by byte in JavaScript, which on a slow pull is cold code run for every byte. Stops at
   * the first line that is not one plain object (several on a line, one over several lines,
   * anything malformed) and returns where: the scanner below takes it from there, as it would
   * have from the start, with the same result and the same errors.
   */
  private wholeLines(chunk: Uint8Array, out: object[]): number {
    let at = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, at);
      if (newline === -1) return at;
      let first = at;
      let last = newline - 1;
      while (first <= last && isSpace(chunk[first])) first++;
      while (last >= first && isSpace(chunk[last])) last--;
      if (first <= last) {
        if (chunk[first] !== OPEN_BRACE || chunk[last] !== CLOSE_BRACE) return at;
        let value: unknown;
        try {
          value = JSON.parse(this.utf8.decode(chunk.subarray(first, last + 1)));
        } catch {
          return at;
        }
        if (value === null || typeof value !== 'object' || Array.isArray(value)) return at;
        out.push(value);
      }
      at = newline + 1;
    }
  }

  /** Call when the stream has ended: an object left open means the stream was cut short. */
  end(): void {
    if (this.depth > 0) {
      throw pullError('the connection to the engine was lost in the middle of a message');
    }
  }

  private keep(part: Uint8Array): void {
    this.pendingBytes += part.length;
    if (this.pendingBytes > MAX_MESSAGE_BYTES) throw malformed(`a message larger than ${MAX_MESSAGE_BYTES} bytes`);
    // Copy: the caller may reuse the chunk's buffer.
    this.pending.push(Uint8Array.prototype.slice.call(part));
  }

  private complete(tail: Uint8Array): object {
    let bytes = tail;
    if (this.pending.length > 0) {
      this.pending.push(tail);
      bytes = Buffer.concat(this.pending);
      this.pending = [];
      this.pendingBytes = 0;
    }
    const text = this.utf8.decode(bytes);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw malformed(`not JSON: ${JSON.stringify(sanitize(text.slice(0, 60)))}${text.length > 60 ? '…' : ''}`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw malformed('not an object');
    return value;
  }
}
