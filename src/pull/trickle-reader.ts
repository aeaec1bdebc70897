import { monotonicMs } from '../clock.js';

/** A read smaller than this, after a gap of at least TRICKLE_GAP_MS, is a trickle (a paced pull), not a flood. */
const TRICKLE_BYTES = 4096;
/** Reads closer together than this are a flood, however small (the reader outran the writer). */
const TRICKLE_GAP_MS = 20;
/** A pull's first second is read as it comes (an up-to-date pull is over by then). */
const READ_AS_IT_COMES_MS = 1000;
/** After that, a trickle is read this often: what came meanwhile waits in the kernel, read as one. */
export const TRICKLE_READ_MS = 200;

/** The libuv handle of a unix or TCP socket: reading stops and starts on it (net's own calls). */
interface ReadHandle {
  reading: boolean;
  readStart(): number;
  readStop(): number;
}

/**
 * Reads a trickling stream in batches: after a small read, the socket stops reading for
 * TRICKLE_READ_MS; the engine's messages meanwhile wait in the kernel and come as one chunk, so a
 * paced pull wakes dpull (and Node's stream machinery) once per batch instead of once per
 * message. A message comes at most TRICKLE_READ_MS later than it would have (the display draws
 * at most every 150 ms anyway). A flood (large reads, or reads in quick succession) is read
 * without pause. Only sockets with a libuv handle (unix, TCP; not ssh://'s pipe to a child) are
 * paced; the timer is cleared when reading ends.
 */
export class TrickleReader {
  private readonly started = monotonicMs();
  private lastReadAt = this.started;
  private timer: NodeJS.Timeout | undefined;
  private resting = false;
  private stopped = false;

  constructor(private readonly socket: { _handle?: unknown; destroyed: boolean } | null | undefined) {}

  private handle(): ReadHandle | undefined {
    const handle = this.socket?._handle as Partial<ReadHandle> | undefined | null;
    return handle && typeof handle.readStop === 'function' && typeof handle.readStart === 'function' && typeof handle.reading === 'boolean'
      ? (handle as ReadHandle)
      : undefined;
  }

  /** The socket has read `bytes` (and the HTTP parser has handed them on). */
  afterRead(bytes: number): void {
    const now = monotonicMs();
    const gap = now - this.lastReadAt;
    this.lastReadAt = now;
    if (this.stopped || this.resting || bytes >= TRICKLE_BYTES || gap < TRICKLE_GAP_MS || now - this.started < READ_AS_IT_COMES_MS) return;
    this.resting = true;
    // After the stream's own read-ahead (its next tick), which would start reading again.
    setImmediate(() => {
      const handle = this.handle();
      if (this.stopped || handle === undefined || !handle.reading || this.socket!.destroyed) {
        this.resting = false;
        return;
      }
      handle.reading = false;
      handle.readStop();
      this.timer = setTimeout(() => this.wake(), TRICKLE_READ_MS);
    });
  }

  private wake(): void {
    this.timer = undefined;
    this.resting = false;
    const handle = this.handle();
    if (handle === undefined || handle.reading || this.socket!.destroyed) return;
    handle.reading = true;
    handle.readStart();
  }

  /** Reading has ended: no more pauses, and a socket resting now reads again. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.wake();
    }
  }
}
