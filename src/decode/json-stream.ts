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
