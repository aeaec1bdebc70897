import net from 'node:net';
import tls from 'node:tls';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, expect, test } from 'vitest';
import { BlobConnections, type BlobBody, type DirectRequest } from '../../src/registry/blob-connection.js';
import { scratchDir } from '../support/scratch.js';

// The blob reader against servers that write HTTP/1.1 by hand, byte by byte where it matters: what
// comes out must be the body's bytes whatever way the answer is cut, and a read buffer is reused
// only once what was read into it is released.

const servers: net.Server[] = [];
const pools: BlobConnections[] = [];
afterEach(() => {
  for (const pool of pools.splice(0)) pool.close();
  for (const server of servers.splice(0)) server.close();
});

/** A server that answers each request on a connection with what `answer` writes; counts connections. */
async function serve(answer: (socket: net.Socket, request: string) => void | Promise<void>, make: (onSocket: (s: net.Socket) => void) => net.Server = (l) => net.createServer(l)) {
  const stats = { connections: 0, requests: [] as string[] };
  const server = make((socket) => {
    stats.connections++;
    let pending = '';
    socket.on('data', (data) => {
      pending += data.toString('latin1');
      let end;
      while ((end = pending.indexOf('\r\n\r\n')) >= 0) {
        const request = pending.slice(0, end);
        pending = pending.slice(end + 4);
        stats.requests.push(request);
        void answer(socket, request);
      }
    });
    socket.on('error', () => {});
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: (path = '/v2/x/blobs/sha256:1') => new URL(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}${path}`), stats };
}

/** `serve` over plain HTTP or TLS (a certificate for localhost): its counts, and a request to it with the secure context that trusts it. */
async function serveOver(over: string, answer: (socket: net.Socket, request: string) => void | Promise<void>) {
  const tlsServer = over === 'TLS' ? tlsKeyAndCert() : undefined;
  const server = await serve(answer, tlsServer && ((onSocket) => tls.createServer(tlsServer, onSocket)));
  const secure = tlsServer && { secureContext: tls.createSecureContext({ ca: tlsServer.cert }), rejectUnauthorized: true };
  const url = new URL(server.url().href.replace('http://127.0.0.1', tlsServer ? 'https://localhost' : 'http://127.0.0.1'));
  return { stats: server.stats, ask: (extra: Partial<DirectRequest> = {}) => request(url, { ...(secure && { secure }), ...extra }) };
}

const pool = () => {
  const p = new BlobConnections();
  pools.push(p);
  return p;
};
const request = (url: URL, extra: Partial<DirectRequest> = {}): DirectRequest => ({ url, headers: { 'User-Agent': 'dpull' }, timeoutMs: 5000, ...extra });

/** The whole body, each chunk copied when it is released (late: a buffer reused too soon shows as wrong bytes). */
function readBody(body: BlobBody, releaseAfterMs = 0): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const kept: Buffer[] = [];
    const copies: Buffer[] = [];
    let offset = 0;
    let releasing = Promise.resolve();
    body.on('data', (view: Buffer) => {
      kept.push(view);
      offset += view.length;
      const upTo = offset;
      releasing = releasing.then(() => (releaseAfterMs > 0 ? new Promise((r) => setTimeout(r, releaseAfterMs)) : undefined)).then(() => {
        while (kept.length > 0 && copies.reduce((n, c) => n + c.length, 0) + kept[0].length <= upTo) copies.push(Buffer.from(kept.shift()!));
        body.release(upTo);
      });
    });
    body.on('end', () => releasing.then(() => resolve(Buffer.concat(copies))));
    body.on('aborted', () => reject(new Error('aborted')));
  });
}

const writeInPieces = async (socket: net.Socket, bytes: Buffer, size: number) => {
  for (let at = 0; at < bytes.length; at += size) {
    socket.write(bytes.subarray(at, at + size));
    await new Promise((r) => setImmediate(r));
  }
};

test.each(['plain HTTP', 'TLS'])('over %s, a Content-Length body, the head and body cut at odd places: the bytes, and the connection kept for the next blob', async (over) => {
  const content = randomBytes(700_001);
  const server = await serveOver(over, (socket) => writeInPieces(socket, Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${content.length}\r\nX-A: b\r\n\r\n`), content]), 7919));
  const connections = pool();
  for (let i = 0; i < 3; i++) {
    const body = await connections.get(server.ask());
    expect(body.statusCode).toBe(200);
    expect(body.headers['x-a']).toBe('b');
    expect((await readBody(body)).equals(content)).toBe(true);
    expect(body.complete).toBe(true);
  }
  expect(server.stats.connections).toBe(1);
  expect(server.stats.requests[0]).toMatch(/^GET \/v2\/x\/blobs\/sha256:1 HTTP\/1\.1\r\nHost: (127\.0\.0\.1|localhost):\d+\r\nUser-Agent: dpull$/);
});

test.each(['plain HTTP', 'TLS'])('over %s, a chunked body cut one byte at a time, with extensions and trailers: the bytes', async (over) => {
  const content = randomBytes(3000);
  const framed = Buffer.concat([
    Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'),
    Buffer.from('3e8;name=value\r\n'), content.subarray(0, 1000), Buffer.from('\r\n'),
    Buffer.from('7D0\r\n'), content.subarray(1000), Buffer.from('\r\n'),
    Buffer.from('0\r\nX-Trailer: yes\r\n\r\n'),
  ]);
  const server = await serveOver(over, (socket) => writeInPieces(socket, framed, 1));
  const connections = pool();
  const body = await connections.get(server.ask());
  expect((await readBody(body)).equals(content)).toBe(true);
  // Kept: the next answer on the same connection.
  const again = await connections.get(server.ask());
  expect((await readBody(again)).equals(content)).toBe(true);
  expect(server.stats.connections).toBe(1);
});

test.each(['plain HTTP', 'TLS'])('over %s, a large body read by a slow writer: no read buffer is reused before its bytes are released', async (over) => {
  const content = randomBytes(6 << 20);
  const server = await serveOver(over, (socket) => void socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${content.length}\r\n\r\n`), content])));
  const body = await pool().get(server.ask());
  let paused = 0;
  // A consumer that pauses now and then (as a full write queue does) and releases late.
  body.on('data', () => {
    if (++paused % 7 === 0) {
      body.pause();
      setTimeout(() => body.resume(), 2);
    }
  });
  expect((await readBody(body, 1)).equals(content)).toBe(true);
});

test('a body to the end of the connection (no length): the bytes, complete; the connection not kept', async () => {
  const content = randomBytes(100_000);
  const server = await serve((socket) => socket.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\n\r\n'), content])));
  const connections = pool();
  const body = await connections.get(request(server.url()));
  expect((await readBody(body)).equals(content)).toBe(true);
  expect(body.complete).toBe(true);
  await readBody(await connections.get(request(server.url())));
  expect(server.stats.connections).toBe(2);
});

test.each(['plain HTTP', 'TLS'])('over %s, a connection cut mid-body: aborted after the bytes that came, not complete', async (over) => {
  const server = await serveOver(over, (socket) => socket.end(`HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n${'a'.repeat(400)}`));
  const body = await pool().get(server.ask());
  let before = 0;
  body.on('data', (view: Buffer) => (before += view.length));
  await expect(readBody(body)).rejects.toThrow('aborted');
  expect(before).toBe(400);
  expect(body.complete).toBe(false);
});

test('over TLS, the records of one read of the socket reach the body as one chunk, in order', async () => {
  // (A TLS socket hands each 16 kB record over on its own: a chunk each cost the pull's JavaScript as much again.)
  const content = randomBytes(4 << 20);
  const server = await serveOver('TLS', (socket) => void socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${content.length}\r\n\r\n`), content])));
  const body = await pool().get(server.ask());
  let chunks = 0;
  body.on('data', () => chunks++);
  expect((await readBody(body)).equals(content)).toBe(true);
  expect(chunks).toBeLessThanOrEqual(content.length / (16 << 10) / 2);
});

test('a kept connection the server closed meanwhile: the next blob is asked on a new one', async () => {
  const server = await serve((socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    setTimeout(() => socket.destroy(), 20);
  });
  const connections = pool();
  expect((await readBody(await connections.get(request(server.url())))).toString()).toBe('ok');
  await new Promise((r) => setTimeout(r, 100));
  expect((await readBody(await connections.get(request(server.url())))).toString()).toBe('ok');
  expect(server.stats.connections).toBe(2);
});

test('a 100 Continue before the answer, a 401 read away, a redirect with no body: each as node:http gives it', async () => {
  const server = await serve((socket, req) => {
    if (req.includes('/continue')) socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nyes');
    else if (req.includes('/denied')) socket.write('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm="x"\r\nContent-Length: 5\r\n\r\nnope!');
    else socket.write('HTTP/1.1 307 Temporary Redirect\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n');
  });
  const connections = pool();
  expect((await readBody(await connections.get(request(server.url('/continue'))))).toString()).toBe('yes');
  const denied = await connections.get(request(server.url('/denied')));
  expect([denied.statusCode, denied.statusMessage, denied.headers['www-authenticate']]).toEqual([401, 'Unauthorized', 'Bearer realm="x"']);
  denied.resume();
  await new Promise((r) => denied.once('end', r));
  const moved = await connections.get(request(server.url('/moved')));
  expect([moved.statusCode, moved.headers.location]).toEqual([307, '/elsewhere']);
  moved.resume();
  expect(server.stats.connections).toBe(1);
});

test.each([
  ['headers of 200 KB', `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(200_000)}\r\n\r\n`, /headers too large/],
  ['not HTTP', 'SSH-2.0-OpenSSH_9.2\r\n\r\n', /not HTTP/],
  ['two lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', /two lengths/],
  ['a length that is not a number', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', /length that is not one/],
  ['a header with an escape', 'HTTP/1.1 200 OK\r\nX-A: \x1b[31m\r\n\r\n', /header that is not one/],
])('an answer with %s: refused with words of its own', async (_, answer, words) => {
  const server = await serve((socket) => void socket.write(answer));
  await expect(pool().get(request(server.url()))).rejects.toThrow(words);
});

test('a chunked body whose chunk is longer than it said, and one with a size that is not hex: aborted', async () => {
  for (const framed of ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n']) {
    const server = await serve((socket) => void socket.write(framed));
    await expect(readBody(await pool().get(request(server.url())))).rejects.toThrow('aborted');
  }
});

test('no answer: the timeout ends the wait (ETIMEDOUT); an abort ends it with its reason', async () => {
  const server = await serve(() => {});
  await expect(pool().get(request(server.url(), { timeoutMs: 200 }))).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  const controller = new AbortController();
  const asked = pool().get(request(server.url(), { signal: controller.signal }));
  setTimeout(() => controller.abort(new Error('stop')), 50);
  await expect(asked).rejects.toThrow('stop');
});

test('over TLS, the registry\'s own CA in the secure context: the bytes', async () => {
  const content = randomBytes(1 << 20);
  const server = await serveOver('TLS', (socket) => void socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${content.length}\r\n\r\n`), content])));
  expect((await readBody(await pool().get(server.ask()))).equals(content)).toBe(true);
  // Not trusted without it: the certificate error as node:http gives it.
  const untrusted = { secureContext: tls.createSecureContext({}), rejectUnauthorized: true };
  await expect(pool().get(server.ask({ secure: untrusted }))).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
});

/** A TLS server's key and certificate (CN and name localhost), made once. */
let tlsFiles: { key: Buffer; cert: Buffer } | undefined;
function tlsKeyAndCert() {
  if (tlsFiles !== undefined) return tlsFiles;
  const dir = scratchDir('dpull-tls-');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
  return (tlsFiles = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) });
}

test.each(['plain HTTP', 'TLS'])('over %s, a writer slower than the wire that pauses at every chunk: reading stops when every buffer is held and goes on when one is free', async (over) => {
  const content = randomBytes(8 << 20);
  const server = await serveOver(over, (socket) => void socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${content.length}\r\n\r\n`), content])));
  const body = await pool().get(server.ask());
  const copies: Buffer[] = [];
  const held: { view: Buffer; end: number; at: number }[] = [];
  let offset = 0;
  let ended = false;
  // As a file writer does: what arrived more than 30 ms ago is written (released) every 5 ms,
  // whether more comes or not; meanwhile more arrives than the read buffers hold, so they fill.
  const writer = setInterval(() => {
    let upTo = -1;
    while (held.length > 0 && (ended || performance.now() - held[0].at > 30)) {
      const { view, end } = held.shift()!;
      copies.push(Buffer.from(view));
      upTo = end;
    }
    if (upTo >= 0) body.release(upTo);
  }, 5);
  const done = new Promise<void>((resolve, reject) => {
    body.on('data', (view: Buffer) => {
      offset += view.length;
      held.push({ view, end: offset, at: performance.now() });
      body.pause();
      setTimeout(() => body.resume(), 1); // (so that buffers are freed while it is paused, too)
    });
    body.on('end', () => {
      ended = true;
      setTimeout(resolve, 20);
    });
    body.on('aborted', () => reject(new Error('aborted')));
  });
  await done.finally(() => setTimeout(() => clearInterval(writer), 30));
  await new Promise((r) => setTimeout(r, 40));
  expect(Buffer.concat(copies).equals(content)).toBe(true);
}, 15_000);

test('a writer that releases only while it is paused: reading goes on when it resumes and a buffer is free', async () => {
  const WINDOW = (2 << 20) - (256 << 10);
  const content = randomBytes(8 << 20);
  const server = await serve((socket) => void socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${content.length}\r\n\r\n`), content])));
  const body = await pool().get(request(server.url()));
  const copies: Buffer[] = [];
  const held: { view: Buffer; end: number }[] = [];
  let offset = 0;
  await new Promise<void>((resolve, reject) => {
    body.on('data', (view: Buffer) => {
      offset += view.length;
      held.push({ view, end: offset });
      body.pause();
      setImmediate(() => {
        // Frees what is more than 1.75 MB behind (the buffers hold 2 MB: they fill) while paused, then resumes.
        while (held.length > 0 && held[0].end <= offset - WINDOW) copies.push(Buffer.from(held.shift()!.view));
        body.release(offset - WINDOW);
        body.resume();
      });
    });
    body.on('end', () => {
      copies.push(...held.map(({ view }) => Buffer.from(view)));
      resolve();
    });
    body.on('aborted', () => reject(new Error('aborted')));
  });
  expect(Buffer.concat(copies).equals(content)).toBe(true);
}, 15_000);

test('asked after the pull was given up: rejected at once with the reason, nothing sent', async () => {
  const server = await serve(() => {});
  const controller = new AbortController();
  controller.abort(new Error('given up'));
  await expect(pool().get(request(server.url(), { signal: controller.signal }))).rejects.toThrow('given up');
  expect(server.stats.connections).toBe(0);
});

test('a chunked body of endless extensions or trailers (no body bytes, so no size bounds it): aborted', async () => {
  // (Two thousand lines, then a proper end: read to the end, the body would be whole.)
  const endless = (start: string, line: string, end: string) => async (socket: net.Socket) => {
    socket.write(start);
    for (let i = 0; i < 2000 && !socket.destroyed; i++) {
      socket.write(line);
      await new Promise((r) => setImmediate(r));
    }
    if (!socket.destroyed) socket.write(end);
  };
  const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
  for (const answer of [endless(head, `1;${'e'.repeat(100)}\r\nx\r\n`, '0\r\n\r\n'), endless(`${head}1\r\nx\r\n0\r\n`, `X-Trailer: ${'t'.repeat(100)}\r\n`, '\r\n')]) {
    const server = await serve((socket) => void answer(socket));
    await expect(readBody(await pool().get(request(server.url())))).rejects.toThrow('aborted');
  }
});
