// A registry on loopback that serves one small, real image honestly unless a test tells it to lie:
// the manifest can be replaced by anything, and any request can be answered by the test's own
// handler (endless bodies, echoed credentials, escapes in reason phrases, redirects …). It counts
// what it was asked and records the Authorization it was sent.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
// @ts-ignore: a plain ES module of the benches', no types
import { tarOf } from '../../bench/big-image.mjs';

export const sha256 = (bytes: Buffer | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export interface TestImage {
  manifest: Record<string, unknown>;
  config: Buffer;
  layers: Buffer[];
  /** digest → bytes, of the config and the layers. */
  blobs: Map<string, Buffer>;
}

/** A real image of `count` small gzip layers (random content) with an OCI manifest. */
export function testImage(count = 3, configExtra: Record<string, unknown> = {}): TestImage {
  const tars = Array.from({ length: count }, (_, i) => tarOf(`file${i}`, randomBytes(2000 + i)));
  const layers = tars.map((t) => gzipSync(t));
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: tars.map((t) => sha256(t)) }, config: {}, ...configExtra }),
  );
  const blobs = new Map<string, Buffer>([[sha256(config), config], ...layers.map((l): [string, Buffer] => [sha256(l), l])]);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(l), size: l.length })),
  };
  return { manifest, config, layers, blobs };
}

export interface HostileRegistry {
  /** `127.0.0.1:PORT` */
  address: string;
  image: TestImage;
  /** Every request's method and path, in order. */
  requests: string[];
  /** Every Authorization header received. */
  authorizations: string[];
  /** Replaces what the manifest request returns (bytes as given, or JSON of an object). */
  setManifest(manifest: object | Buffer): void;
  close(): Promise<void>;
}

/**
 * `handle` sees each request first; it returns true when it answered. Blobs are served from the
 * image's map by the digest in the path (any digest the map holds, whatever its form).
 */
export async function hostileRegistry(
  handle: (req: http.IncomingMessage, res: http.ServerResponse, registry: HostileRegistry) => boolean | void = () => false,
  image: TestImage = testImage(),
): Promise<HostileRegistry> {
  let manifestBytes: Buffer = Buffer.from(JSON.stringify(image.manifest));
  const open = new Set<import('node:net').Socket>();
  const registry: HostileRegistry = {
    address: '',
    image,
    requests: [],
    authorizations: [],
    setManifest(manifest) {
      manifestBytes = Buffer.isBuffer(manifest) ? manifest : Buffer.from(JSON.stringify(manifest));
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    req.on('error', () => {});
    res.on('error', () => {});
    registry.requests.push(`${req.method} ${req.url}`);
    if (req.headers.authorization !== undefined) registry.authorizations.push(req.headers.authorization);
    if (handle(req, res, registry) === true) return;
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path === '/v2/') return res.writeHead(200).end('{}');
    if (/\/manifests\//.test(path)) {
      res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json', 'Content-Length': manifestBytes.length });
      return res.end(req.method === 'HEAD' ? undefined : manifestBytes);
    }
    const blob = /\/blobs\/(.+)$/.exec(path)?.[1];
    const bytes = blob === undefined ? undefined : image.blobs.get(blob);
    if (bytes === undefined) return res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN"}]}');
    res.writeHead(200, { 'Content-Length': bytes.length });
    res.end(bytes);
  });
  server.on('connection', (socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registry.address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return registry;
}
