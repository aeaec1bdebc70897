import { Writable } from 'node:stream';

/**
 * A stream that says it is a terminal of a given size and keeps every byte written to it, with
 * the cursor methods of tty.WriteStream (which ora uses) writing the same sequences they do.
 */
export class FakeTty extends Writable {
  readonly isTTY = true;
  output = '';
  constructor(public columns: number, public rows: number) {
    super();
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.output += chunk.toString();
    done();
  }
  cursorTo(x: number): boolean {
    this.output += `\x1b[${x + 1}G`;
    return true;
  }
  moveCursor(dx: number, dy: number): boolean {
    if (dy < 0) this.output += `\x1b[${-dy}A`;
    if (dy > 0) this.output += `\x1b[${dy}B`;
    if (dx !== 0) this.output += `\x1b[${Math.abs(dx)}${dx < 0 ? 'D' : 'C'}`;
    return true;
  }
  clearLine(): boolean {
    this.output += '\x1b[2K';
    return true;
  }
  /** Changes the size the way a terminal does on resize. */
  resize(columns: number, rows: number): void {
    this.columns = columns;
    this.rows = rows;
    this.emit('resize');
  }
}

export const asWriteStream = (tty: FakeTty) => tty as unknown as NodeJS.WriteStream;
