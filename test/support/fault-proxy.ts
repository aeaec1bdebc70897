// An HTTP proxy in front of the stack's open registry that fails the first `count` manifest
// requests the way a flaky registry does: 503, 429 with Retry-After and rate-limit headers, or a
// reset connection; every other request (and every manifest request after those) is forwarded.
// The engine reaches it as an insecure loopback registry, like the registry itself.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** `cut`: the first `count` blob answers are cut off half way (the connection dropped mid-blob). */
export type Fault = '503' | '429' | 'reset' | 'cut' | 'none';

export interface FaultProxy {
  /** `127.0.0.1:PORT`. */
  address: string;
  /** Manifest requests seen so far, GET and HEAD, failed or not. */
  manifestRequests: { method: string; failed: boolean }[];
  /** The engine's attempts at the pull seen so far. */
  attempts(): number;
  /** Bytes of blob bodies sent to the client so far, and Range requests seen. */
  blobBytes(): number;
  ranges: string[];
  /** Every request forwarded or failed, `METHOD PATH STATUS`, in the order of their answers. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * Fails the engine's manifest requests during its first `count` attempts at the pull. An engine
 * makes one to several manifest requests per attempt (a HEAD, a GET, its own quick retries); a
 * new attempt is one that begins after `gapMs` of quiet, which dpull's wait before a retry is.
 */
export async function faultProxy(registry: string, fault: Fault, count: number, retryAfterSeconds = 2, gapMs = 400): Promise<FaultProxy> {
  const [host, port] = registry.split(':');
  const manifestRequests: FaultProxy['manifestRequests'] = [];
  let attempts = 0; // the engine's attempts seen so far
  let lastAt = -Infinity;
  let blobBytes = 0;
  let cuts = 0;
  const ranges: string[] = [];
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    req.on('error', () => {}); // a client that hangs up (dpull interrupted): expected
    const isManifest = /^\/v2\/.+\/manifests\/[^/]+$/.test(req.url ?? '');
    // The engine's manifest requests fail (HEAD and GET); dpull's own rate-limit question never:
    // it is what asks about the limit.
    const fromDpull = req.method === 'HEAD' && /^dpull\b/.test(req.headers['user-agent'] ?? '');
    let fail = false;
    if (isManifest && !fromDpull && fault !== 'cut' && fault !== 'none') {
      const now = Date.now();
      if (now - lastAt > gapMs) attempts++;
      lastAt = now;
      fail = attempts <= count;
    }
    if (isManifest) manifestRequests.push({ method: req.method ?? '', failed: fail });
    if (fail) {
      requests.push(`${req.method} ${req.url} ${fault}`);
      if (fault === 'reset') return req.socket.destroy();
      if (fault === '429') {
        res.writeHead(429, {
          'Content-Type': 'application/json',
          'Retry-After': String(retryAfterSeconds),
          'RateLimit-Limit': '100;w=21600',
          'RateLimit-Remaining': '0;w=21600',
        });
        return res.end(JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'You have reached your pull rate limit.' }] }));
      }
      res.writeHead(503, { 'Content-Type': 'text/plain' });
      return res.end('service unavailable\n');
    }
    if (isManifest && !fromDpull && fault === '429') {
      // Docker Hub says the limit on every manifest it serves.
      res.setHeader('RateLimit-Limit', '100;w=21600');
      res.setHeader('RateLimit-Remaining', '99;w=21600');
    }
    if (isManifest && fromDpull && fault === '429') {
      // Docker Hub answers a HEAD with the limit it counts (and does not count the HEAD).
      res.setHeader('RateLimit-Limit', '100;w=21600');
      res.setHeader('RateLimit-Remaining', attempts <= count ? '0;w=21600' : '1;w=21600');
      if (attempts <= count) res.setHeader('Retry-After', String(retryAfterSeconds));
    }
    const isBlob = /^\/v2\/.+\/blobs\/sha256:/.test(req.url ?? '') && req.method === 'GET';
    if (isBlob && typeof req.headers.range === 'string') ranges.push(req.headers.range);
    const upstream = http.request({ host, port: Number(port), method: req.method, path: req.url, headers: req.headers }, (up) => {
      requests.push(`${req.method} ${req.url} ${up.statusCode}`);
      res.writeHead(up.statusCode ?? 502, up.headers);
      const length = Number(up.headers['content-length'] ?? 0);
      const cutAt = fault === 'cut' && isBlob && up.statusCode === 200 && cuts < count && length > 1 ? Math.floor(length / 2) : undefined;
      if (cutAt !== undefined) cuts++;
      let sent = 0;
      up.on('data', (chunk: Buffer) => {
        if (cutAt !== undefined && sent + chunk.length >= cutAt) {
          const part = chunk.subarray(0, cutAt - sent);
          sent += part.length;
          if (isBlob) blobBytes += part.length;
          res.write(part, () => res.socket?.destroy());
          up.destroy();
          return;
        }
        sent += chunk.length;
        if (isBlob) blobBytes += chunk.length;
        res.write(chunk);
      });
      up.on('end', () => res.end());
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    manifestRequests,
    attempts: () => attempts,
    blobBytes: () => blobBytes,
    ranges,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
