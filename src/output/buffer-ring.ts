/**
 * A few buffers that files are read into on their way to a file writer, each given out again only
 * once the bytes last read into it are on disk: an archive made from blob files holds these and
 * nothing more (read into a new buffer each time, 1.5 GB went through ~30 MB of buffers waiting
 * for the collector at any moment). The writer says what it has written (`written`); the chunks
 * it is handed are matched to their buffer as they go to it (`placed`).
 */
/** Where a reader of files reads into: a buffer taken, and given back when nothing was read into it. */
export type ReadInto = Pick<BufferRing, 'take' | 'giveBack'>;

export class BufferRing {
  private readonly slots: { buffer: Buffer; state: 'free' | 'reading' | 'placed'; end: number }[];
  private next = 0;
  private onDisk = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(count = 4, size = 256 << 10) {
    // (Each with an ArrayBuffer of its own, by which a chunk is known: allocUnsafe may share a pool.)
    this.slots = Array.from({ length: count }, () => ({ buffer: Buffer.allocUnsafeSlow(size), state: 'free' as const, end: 0 }));
  }

  /** The next buffer to read into, once it is free (read into and taken back, or its bytes written). */
  async take(): Promise<Buffer> {
    const slot = this.slots[this.next];
    this.next = (this.next + 1) % this.slots.length;
    while (slot.state === 'reading' || (slot.state === 'placed' && slot.end > this.onDisk)) await new Promise<void>((resolve) => this.waiters.push(resolve));
    slot.state = 'reading';
    return slot.buffer;
  }

  /** A buffer taken and not handed to the writer after all (nothing was read into it). */
  giveBack(buffer: Buffer): void {
    const slot = this.slots.find((s) => s.buffer.buffer === buffer.buffer);
    if (slot !== undefined && slot.state === 'reading') {
      slot.state = 'free';
      this.wake();
    }
  }

  /** `chunk` went to the writer, its last byte at `end` of its output (chunks of no buffer of these are left alone). */
  placed(chunk: Buffer, end: number): void {
    const slot = this.slots.find((s) => s.buffer.buffer === chunk.buffer);
    if (slot === undefined) return;
    slot.state = 'placed';
    slot.end = end;
  }

  /** The writer has `bytes` of its output on disk. */
  written(bytes: number): void {
    this.onDisk = bytes;
    this.wake();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
