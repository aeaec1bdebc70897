import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import type { SecureContext } from 'node:tls';
import { tls } from '../builtins.js';
import { ReadBuffers, type Piece, type Slab } from './read-buffers.js';

// A blob's GET, spoken in HTTP/1.1 over net or tls sockets whose reads land in reused buffers
// (read-buffers.ts), so that a pull's memory is its write queues and not every chunk node:http
// allocates, copies and leaves for the collector. Only a registry's (or its blob store's) answer
// to a GET is read here, and read as node:http reads it: a status line and headers of at most
// 16 KiB, then a body framed by Content-Length, chunked, or the connection's end; connections
// kept for the next blob when the answer allows it. Everything else — tokens, manifests, proxies,
// the first contact that settles the protocol — goes through node:http (registry-client.ts).

/** Node's own limit on an answer's status line and headers. */
const MAX_HEAD = 16 << 10;
/** A chunk-size line (hex size and extensions) longer than this is not a registry's. */
const MAX_CHUNK_LINE = 4096;
/** Bytes of chunk extensions and trailers a body may carry in all. */
const MAX_CHUNK_EXTRA = 16 << 10;
/** A body read only to keep the connection (a 401's, a redirect's) longer than this closes it instead. */
const MAX_DISCARD = 1 << 20;

export interface DirectRequest {
  url: URL;
  headers: Record<string, string>;
  /** For https: the registry's secure context (certs.d, client certificate). */
  secure?: { secureContext: SecureContext; rejectUnauthorized: boolean };
  signal?: AbortSignal;
  timeoutMs: number;
  /** Called when the request has been written. */
  whileWaiting?: () => void;
}

/** A protocol error of the answer (as node:http's HPE_ codes: the same words reach the user). */
const notHttp = (what: string) => Object.assign(new Error(what), { code: 'HPE_INVALID' });
const headersTooLarge = () => Object.assign(new Error('its answer has headers too large to be one'), { code: 'HPE_HEADER_OVERFLOW' });

/**
 * The answer to one GET, shaped as much like node:http's IncomingMessage as blob-fetch.ts uses it:
 * 'data' (a view of a read buffer: valid until `release`d), 'end' (with `complete`), 'aborted'
 * (the connection broke off mid-body), pause/resume (resume with no 'data' listener reads the
 * body away), destroy. As with node:http, nothing is emitted before a 'data' listener or a
 * resume() (the body's first bytes often come with the head, before the caller has its answer).
 */
export class BlobBody extends EventEmitter {
  complete = false;
  from = '';
  private readonly pieces: { piece: Piece; end: number }[] = [];
  private delivered = 0;
  private discarding = false;
  private flowing = false;
  private paused = false;
  /** The connection has told its end: it may be carrying the next answer, and is not this one's to pause. */
  private over = false;
  private readonly queue: ([name: 'data', view: Buffer] | [name: 'end' | 'aborted'])[] = [];

  constructor(
    readonly statusCode: number,
    readonly statusMessage: string,
    readonly httpVersion: string,
    readonly headers: IncomingHttpHeaders,
    private readonly connection: Connection,
  ) {
    super();
    this.on('newListener', (name) => {
      if (name === 'data' && !this.flowing) {
        this.flowing = true;
        if (!this.paused && !this.over) this.connection.resume();
        process.nextTick(() => this.flush());
      }
    });
  }

  /** Body bytes [0, n) are no longer wanted (written to their file): their buffers may be read into again. */
  release(n: number): void {
    while (this.pieces.length > 0 && this.pieces[0].end <= n) this.connection.buffers.release(this.pieces.shift()!.piece);
  }

  /** (The connection's) a body chunk, read into `slab`. */
  deliver(view: Buffer, slab: Slab): void {
    const piece = { slab, length: view.length };
    this.delivered += view.length;
    if (this.discarding) {
      this.connection.buffers.release(piece);
      if (this.delivered > MAX_DISCARD) this.connection.destroy();
      return;
    }
    this.pieces.push({ piece, end: this.delivered });
    this.send(['data', view]);
  }

  /** (The connection's) 'end' or 'aborted'. */
  send(event: [name: 'data', view: Buffer] | [name: 'end' | 'aborted']): void {
    if (event[0] !== 'data') this.over = true;
    if (this.queue.length === 0 && this.flowing && !this.paused) this.emitQueued(event);
    else {
      this.queue.push(event);
      if (!this.flowing && !this.over) this.connection.pause(); // (until the caller reads)
    }
  }

  private emitQueued(event: [name: string, view?: Buffer]): void {
    if (event[1] === undefined) this.emit(event[0]);
    else this.emit(event[0], event[1]);
  }

  private flush(): void {
    while (this.queue.length > 0 && this.flowing && !this.paused) this.emitQueued(this.queue.shift()!);
  }

  pause(): void {
    this.paused = true;
    if (!this.over) this.connection.pause();
  }

  resume(): void {
    this.paused = false;
    // Never read: read away. (A body that was read keeps its pieces until released: they may be in a write queue still.)
    if (!this.flowing && this.listenerCount('data') === 0) {
      this.discarding = true;
      this.flowing = true;
      this.release(Infinity);
      for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i][0] === 'data') this.queue.splice(i, 1);
    }
    if (!this.over) this.connection.resume();
    process.nextTick(() => this.flush()); // (as a stream's resume: what was queued comes after the caller's turn)
  }

  destroy(): void {
    if (!this.over) this.connection.destroy();
  }
}

type Framing = { kind: 'length'; left: number } | { kind: 'chunked'; state: 'size' | 'data' | 'data-end' | 'trailer'; left: number; line: string; extra: number } | { kind: 'close' } | { kind: 'none' };

/** One socket and the answer it is reading. */
class Connection {
  readonly buffers = new ReadBuffers();
  readonly socket: net.Socket;
  private head: Buffer[] = [];
  private headBytes = 0;
  private framing: Framing = { kind: 'none' };
  private body: BlobBody | undefined;
  private waiting: { resolve: (b: BlobBody) => void; reject: (e: Error) => void } | undefined;
  private state: 'head' | 'body' | 'idle' = 'idle';
  private reusable = false;
  private consumerPaused = false;
  private error: Error | undefined;
  private answered = false;
  /** Answers read on this socket (a kept one that closes before its next answer is tried again, fresh). */
  served = 0;
  private unhookAbort: (() => void) | undefined;
  /**
   * Over TLS, body bytes read and not handed over yet. A TLS socket hands over each 16 kB record
   * as a read of its own (several for one read of the socket beneath, each its own callback with
   * the ticks run after it: process.nextTick gathers nothing): reads that follow each other in one
   * slab go to the body as one chunk once the event loop's round of reads is over (setImmediate).
   * 1.5 GB over HTTPS: 91 629 chunks became 8 496, the pull's CPU 3.44 → 3.14 s (medians of 7,
   * interleaved). Plain sockets read up to a slab at a time: there, holding reads back only held
   * slabs longer.
   */
  private pending: { slab: Slab; from: number; to: number } | undefined;
  private readonly handOverSoon = () => this.handOver();
  private readonly gathers: boolean;

  constructor(
    readonly key: string,
    url: URL,
    secure: DirectRequest['secure'],
    private readonly onIdle: (c: Connection) => void,
  ) {
    this.gathers = secure !== undefined;
    const onread = { buffer: () => this.nextRegion(), callback: (n: number, region: Uint8Array): boolean => (this.onRead(n, region as Buffer), true) };
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(url.port || (secure ? 443 : 80));
    this.socket = secure
      ? tls().connect({ host, port, ...(net.isIP(host) === 0 && { servername: host }), ...secure, onread } as import('node:tls').ConnectionOptions)
      : net.connect({ host, port, onread });
    this.buffers.onFree = () => this.readOrNot();
    this.socket.on('error', (err) => (this.error ??= err));
    this.socket.on('timeout', () => this.socket.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    this.socket.on('close', () => this.closed());
    this.socket.resume(); // (flowing: the end of the stream is seen, and the socket closes with it)
  }

  private nextRegion(): Buffer {
    const region = this.buffers.next();
    this.readOrNot();
    return region;
  }

  /**
   * The socket reads while the caller wants the body and a buffer can take what comes; else it
   * waits. Asked after every read, when a buffer is freed, and when the caller pauses or resumes
   * (a TLS socket may hand over bytes after it was stopped: the buffers then grow by a slab and are
   * no longer full, and reading must go on though no buffer was freed).
   */
  private readOrNot(): void {
    if (this.socket === undefined) return; // (net asks for the first buffer while the socket is being made)
    const read = !this.consumerPaused && !this.buffers.full;
    if (read && this.socket.isPaused()) this.socket.resume();
    else if (!read && !this.socket.isPaused()) this.socket.pause();
  }

  /** Sends a GET; resolves with the answer's head once read. */
  send(request: DirectRequest): Promise<BlobBody> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.state = 'head';
      this.answered = false;
      this.socket.ref();
      this.socket.setTimeout(request.timeoutMs);
      const { signal } = request;
      if (signal !== undefined) {
        const onAbort = () => this.socket.destroy(signal.reason as Error);
        signal.addEventListener('abort', onAbort, { once: true });
        this.unhookAbort = () => signal.removeEventListener('abort', onAbort);
      }
      const { url, headers } = request;
      const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      if (lines.some((l) => /[\r\n]/.test(l))) return this.fail(new Error('a header with a line break cannot be sent'));
      this.socket.write(`${lines.join('\r\n')}\r\n\r\n`, 'latin1', () => request.whileWaiting?.());
    });
  }

  pause(): void {
    this.consumerPaused = true;
    this.readOrNot();
  }

  resume(): void {
    this.consumerPaused = false;
    // (Parked with a slab free again meanwhile: reading goes on, what lands in the parking buffer is copied there.)
    this.readOrNot();
  }

  destroy(): void {
    this.reusable = false;
    this.socket.destroy();
  }

  private fail(err: Error): void {
    this.error ??= err;
    this.socket.destroy();
  }

  private onRead(n: number, region: Buffer): void {
    const { view, slab } = this.buffers.took(region, n);
    this.answered = true;
    let offset = 0;
    let delivered = 0;
    try {
      while (offset < view.length) {
        if (this.state === 'head') offset = this.readHead(view, offset);
        else if (this.state === 'body') {
          const [from, to, next] = this.bodySpan(view, offset);
          if (to > from) {
            delivered += to - from;
            this.hold(view, from, to, slab);
          }
          offset = next;
          if (this.state === 'body' && this.framingDone()) this.finishBody();
        } else throw notHttp('bytes after the answer');
      }
    } catch (err) {
      this.fail(err as Error);
    } finally {
      this.buffers.release({ slab, length: n - delivered });
    }
  }

  /** Body bytes [from, to) of `view` (read into `slab`): to the body, or (TLS) added to those held for it, or held after handing those over. */
  private hold(view: Buffer, from: number, to: number, slab: Slab): void {
    if (!this.gathers) return this.body!.deliver(view.subarray(from, to), slab);
    const start = view.byteOffset - slab.bytes.byteOffset + from;
    const pending = this.pending;
    if (pending !== undefined && pending.slab === slab && pending.to === start) {
      pending.to = start + (to - from);
      return;
    }
    if (pending !== undefined) this.handOver();
    else setImmediate(this.handOverSoon);
    this.pending = { slab, from: start, to: start + (to - from) };
  }

  /** Hands the held body bytes to the body (before anything else is told to it). */
  private handOver(): void {
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    this.body?.deliver(pending.slab.bytes.subarray(pending.from, pending.to), pending.slab);
  }

  /** Reads head bytes from `offset`; returns where the body starts (or the end of the read). */
  private readHead(view: Buffer, offset: number): number {
    const part = view.subarray(offset);
    this.head.push(Buffer.from(part)); // (a copy: the read buffer is reused)
    this.headBytes += part.length;
    const all = this.head.length === 1 ? this.head[0] : Buffer.concat(this.head);
    const end = all.indexOf('\r\n\r\n');
    if (end < 0) {
      if (this.headBytes > MAX_HEAD) throw headersTooLarge();
      this.head = [all];
      return view.length;
    }
    if (end > MAX_HEAD) throw headersTooLarge();
    this.head = [];
    this.headBytes = 0;
    const consumed = end + 4 - (all.length - part.length);
    this.startAnswer(all.subarray(0, end).toString('latin1'));
    return offset + consumed;
  }

  private startAnswer(text: string): void {
    const [statusLine, ...lines] = text.split('\r\n');
    const status = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?$/.exec(statusLine);
    if (!status) throw notHttp('its answer is not HTTP/1.1');
    const headers: IncomingHttpHeaders = {};
    for (const line of lines) {
      const header = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([^\x00-\x08\x0a-\x1f\x7f]*?)[ \t]*$/.exec(line);
      if (!header) throw notHttp('its answer has a header that is not one');
      const name = header[1].toLowerCase();
      const known = headers[name];
      if (name === 'content-length' && known !== undefined && known !== header[2]) throw notHttp('its answer has two lengths');
      if (name === 'set-cookie') headers[name] = [...((known as string[] | undefined) ?? []), header[2]];
      else headers[name] = known === undefined || name === 'content-length' ? header[2] : `${known as string}, ${header[2]}`;
    }
    const code = Number(status[2]);
    if (code < 200) return; // 100 Continue and the like: the answer follows
    const version = `1.${status[1]}`;
    const transfer = headers['transfer-encoding'];
    const length = headers['content-length'];
    if (code === 204 || code === 304) this.framing = { kind: 'length', left: 0 };
    else if (transfer !== undefined) {
      this.framing = /(?:^|,)\s*chunked\s*$/i.test(transfer) ? { kind: 'chunked', state: 'size', left: 0, line: '', extra: 0 } : { kind: 'close' };
    } else if (length !== undefined) {
      if (!/^\d{1,15}$/.test(length)) throw notHttp('its answer has a length that is not one');
      this.framing = { kind: 'length', left: Number(length) };
    } else this.framing = { kind: 'close' };
    const connection = String(headers.connection ?? '').toLowerCase();
    // Kept for the next blob when HTTP/1.1 frames the answer and does not say it is the last (never
    // when a Transfer-Encoding and a Content-Length both came: who frames it is in doubt).
    this.reusable = version === '1.1' && !/\bclose\b/.test(connection) && this.framing.kind !== 'close' && !(transfer !== undefined && length !== undefined);
    const waiting = this.waiting!;
    this.waiting = undefined;
    this.body = new BlobBody(code, status[3] ?? '', version, headers, this);
    this.state = 'body';
    this.served++;
    waiting.resolve(this.body);
    if (this.framingDone()) this.finishBody();
  }

  /** The body bytes in the read from `offset`: [from, to) of them, and where reading goes on. */
  private bodySpan(view: Buffer, offset: number): [number, number, number] {
    const framing = this.framing;
    if (framing.kind === 'close') return [offset, view.length, view.length];
    if (framing.kind === 'length') {
      const to = Math.min(view.length, offset + framing.left);
      framing.left -= to - offset;
      return [offset, to, to];
    }
    if (framing.kind !== 'chunked') throw notHttp('bytes after the answer');
    let at = offset;
    while (at < view.length) {
      if (framing.state === 'data') {
        const to = Math.min(view.length, at + framing.left);
        framing.left -= to - at;
        if (framing.left === 0) framing.state = 'data-end';
        return [at, to, to];
      }
      // A line: a chunk's size, the CRLF after its data, or a trailer (the last is an empty line).
      const eol = view.indexOf(0x0a, at);
      const piece = view.subarray(at, eol < 0 ? view.length : eol + 1).toString('latin1');
      at = eol < 0 ? view.length : eol + 1;
      framing.line += piece;
      if (framing.line.length > MAX_CHUNK_LINE) throw notHttp('its answer has a chunk line too long to be one');
      if (eol < 0) break;
      const line = framing.line.replace(/\r?\n$/, '');
      framing.line = '';
      if (framing.state === 'data-end') {
        if (line !== '') throw notHttp('its answer has a chunk longer than it said');
        framing.state = 'size';
      } else if (framing.state === 'size') {
        const size = /^([0-9a-fA-F]{1,12})[ \t]*(?:;.*)?$/.exec(line);
        if (!size) throw notHttp('its answer has a chunk size that is not one');
        framing.extra += line.length - size[1].length;
        framing.left = parseInt(size[1], 16);
        framing.state = framing.left === 0 ? 'trailer' : 'data';
      } else if (line === '') {
        framing.left = -1; // the end
        return [at, at, at];
      } else framing.extra += line.length;
      // Chunk extensions and trailers carry nothing dpull reads: a body made mostly of them is
      // bytes without end that the blob's size does not bound (Node caps extensions the same way).
      if (framing.extra > MAX_CHUNK_EXTRA) throw notHttp('its answer has chunk extensions or trailers without end');
    }
    return [at, at, at];
  }

  private framingDone(): boolean {
    const f = this.framing;
    return (f.kind === 'length' && f.left === 0) || (f.kind === 'chunked' && f.left === -1);
  }

  private finishBody(): void {
    this.handOver();
    const body = this.body!;
    this.body = undefined;
    this.state = 'idle';
    this.framing = { kind: 'none' };
    this.unhookAbort?.();
    this.unhookAbort = undefined;
    body.complete = true;
    if (this.reusable && !this.socket.destroyed) {
      this.socket.setTimeout(0);
      this.socket.unref();
      this.consumerPaused = false;
      this.readOrNot(); // (reading on, so that a close or stray bytes while idle are seen; unless every buffer is still held)
      this.onIdle(this);
    } else this.socket.destroy();
    body.send(['end']);
  }

  private closed(): void {
    this.unhookAbort?.();
    this.unhookAbort = undefined;
    if (this.waiting !== undefined) {
      const { reject } = this.waiting;
      this.waiting = undefined;
      reject(this.error ?? Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', unanswered: !this.answered && this.served > 0 }));
      return;
    }
    this.handOver();
    const body = this.body;
    if (body === undefined) return;
    this.body = undefined;
    this.state = 'idle';
    if (this.framing.kind === 'close' && this.error === undefined) {
      body.complete = true;
      body.send(['end']);
    } else body.send(['aborted']);
  }

  /** Whether this (idle) connection can carry another request. */
  get usable(): boolean {
    return this.state === 'idle' && !this.socket.destroyed && this.reusable;
  }
}

/**
 * The connections of one registry client, kept between blobs per origin; closed by `close`.
 */
export class BlobConnections {
  private readonly idle = new Map<string, Connection[]>();
  private readonly all = new Set<Connection>();

  /** Sends a GET for `request.url`: on a kept connection, or a new one; a kept one the server closed meanwhile is replaced once. */
  async get(request: DirectRequest): Promise<BlobBody> {
    if (request.signal?.aborted) throw request.signal.reason; // (its 'abort' is past: nothing would end the wait)
    const key = request.url.origin; // (one secure context per registry client: the origin tells connections apart)
    const kept = this.take(key);
    if (kept !== undefined) {
      try {
        return await kept.send(request);
      } catch (err) {
        if (!(err as { unanswered?: boolean }).unanswered || request.signal?.aborted) throw err;
      }
    }
    const connection = new Connection(key, request.url, request.secure, (c) => this.keep(c));
    this.all.add(connection);
    connection.socket.once('close', () => this.forget(connection));
    return connection.send(request);
  }

  private take(key: string): Connection | undefined {
    const list = this.idle.get(key) ?? [];
    let connection: Connection | undefined;
    while ((connection = list.pop()) !== undefined && !connection.usable);
    return connection;
  }

  private keep(connection: Connection): void {
    const list = this.idle.get(connection.key) ?? [];
    list.push(connection);
    this.idle.set(connection.key, list);
  }

  private forget(connection: Connection): void {
    this.all.delete(connection);
    const list = this.idle.get(connection.key);
    if (list?.includes(connection)) list.splice(list.indexOf(connection), 1);
  }

  close(): void {
    for (const connection of this.all) connection.destroy();
  }
}
