/**
 * The memory one connection reads into: a few slabs of SLAB bytes, handed to the socket a region
 * at a time (net's `onread`) and reused once every body byte read into them has been written out.
 * Read by node:http, every read is a new buffer and every body chunk a copy of it, left for the
 * collector: a blob pull held 40–60 MB of them at any moment whatever the image's size
 * (BENCHMARKS.md). Here a pull holds what its write queues hold, and no more.
 */
const SLAB = 256 << 10;
/** A region smaller than this is not offered for a read: the rest of the slab is left unused. */
const MIN_READ = 32 << 10;
/**
 * Slabs per connection (2 MB): the file writer asks to pause at 1 MB queued, so these are seldom
 * all held; when they are, reading stops until one is free. (Five were as fast on plain HTTP and
 * 1 MB smaller, but a TLS socket's 16 kB reads leave more of each slab unused: with five, every
 * slab was held often enough that late bytes made a slab more 576 times in a 1.5 GB pull.)
 */
const MAX_SLABS = 8;

export interface Slab {
  bytes: Buffer;
  /** Bytes read into it that are still wanted (handed out and not yet released). */
  held: number;
}

/** Bytes of one slab that were read into it: given back with `release`. */
export interface Piece {
  slab: Slab;
  length: number;
}

export class ReadBuffers {
  private readonly slabs: Slab[] = [];
  private current: Slab;
  private at = 0;
  /** A small buffer the socket is given when every slab is held: what lands in it is copied out. */
  private parking: Buffer | undefined;
  /** Called when a slab was held by all and one became free (the socket, paused, may read again). */
  onFree: (() => void) | undefined;

  constructor() {
    this.current = this.add();
  }

  private add(): Slab {
    const slab = { bytes: Buffer.allocUnsafe(SLAB), held: 0 };
    this.slabs.push(slab);
    return slab;
  }

  /** Whether the socket was last given the parking buffer (the caller pauses reading until `onFree`). */
  get parked(): boolean {
    return this.parking !== undefined && this.offered === this.parking;
  }

  /** Parked, and no slab free yet: reading waits (what lands in the parking buffer must have a slab to go to). */
  get full(): boolean {
    return this.parked && !this.slabs.some((s) => s.held === 0) && this.slabs.length >= MAX_SLABS;
  }

  private offered: Buffer | undefined;

  /** The region the socket reads into next. */
  next(): Buffer {
    if (SLAB - this.at < MIN_READ) {
      const free = this.slabs.find((s) => s.held === 0) ?? (this.slabs.length < MAX_SLABS ? this.add() : undefined);
      if (free === undefined) return (this.offered = this.parking ??= Buffer.allocUnsafe(MIN_READ));
      this.current = free;
      this.at = 0;
      this.trim();
    }
    return (this.offered = this.current.bytes.subarray(this.at));
  }

  /**
   * The socket read `n` bytes into `region` (what `next` gave): their view, and the slab that holds
   * them (each byte is released once, in pieces, when no longer wanted). Bytes read into the parking buffer are copied into a
   * slab first (one is free by then: reading resumed because of it).
   */
  took(region: Buffer, n: number): { view: Buffer; slab: Slab } {
    if (region === this.parking) {
      let into = this.next();
      if (into === this.parking) {
        // Read while every slab is held: a TLS socket hands over what it had already decrypted
        // after reading was stopped (a record or two). A slab more, for as long as it is held.
        this.current = this.add();
        this.at = 0;
        into = this.offered = this.current.bytes;
      }
      region.copy(into, 0, 0, n);
      region = into;
    }
    this.current.held += n;
    this.at += n;
    return { view: region.subarray(0, n), slab: this.current };
  }

  /** Bytes no longer wanted: their slab may be read into again once none of its bytes are. */
  release(piece: Piece): void {
    piece.slab.held -= piece.length;
    if (piece.slab.held !== 0) return;
    this.trim();
    if (this.parked) this.onFree?.();
  }

  /** Slabs beyond the number (made for a TLS socket's late bytes), once free and not read into, are let go. */
  private trim(): void {
    for (let i = this.slabs.length - 1; i >= 0 && this.slabs.length > MAX_SLABS; i--) {
      if (this.slabs[i].held === 0 && this.slabs[i] !== this.current) this.slabs.splice(i, 1);
    }
  }

  /** How many slabs there are now (MAX_SLABS, and one more for a while after a TLS socket's late bytes). */
  get count(): number {
    return this.slabs.length;
  }
}
