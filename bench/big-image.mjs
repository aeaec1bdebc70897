// The benches' big image: COUNT layers, each a tar of one file of BYTES random (incompressible)
// bytes, gzipped, pushed through the registry API (not by CI) with a Docker v2 manifest. Real
// tars, so that engines can load and unpack it (bench/fleet.mjs), not only copy it.
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';

const digestOf = (bytes) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** A ustar archive of one regular file (test/support/hostile-registry.ts makes its layers with it too). */
export function tarOf(name, content) {
  const header = Buffer.alloc(512);
  header.write(name, 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return Buffer.concat([header, content, Buffer.alloc((512 - (content.length % 512)) % 512), Buffer.alloc(1024)]);
}

async function pushBlob(registry, repository, bytes) {
  const start = await fetch(`http://${registry}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  const location = new URL(start.headers.get('location'), `http://${registry}`);
  location.searchParams.set('digest', digestOf(bytes));
  const put = await fetch(location, { method: 'PUT', body: bytes, headers: { 'Content-Type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`push: ${put.status}`);
  return { digest: digestOf(bytes), size: bytes.length };
}

async function pushManifest(registry, repository, tag, layers, diffIds) {
  const config = await pushBlob(registry, repository, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds }, config: {} })));
  const manifest = { schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: { mediaType: 'application/vnd.docker.container.image.v1+json', ...config }, layers };
  const put = await fetch(`http://${registry}/v2/${repository}/manifests/${tag}`, { method: 'PUT', body: JSON.stringify(manifest), headers: { 'Content-Type': manifest.mediaType } });
  if (put.status !== 201) throw new Error(`manifest: ${put.status}`);
}

/**
 * Pushes REPOSITORY:1.0 of `count` layers of `bytes` each; resolves with the layers' total size.
 * With `base` > 0, REPOSITORY:base as well: an image of the first `base` of those layers, which
 * an engine can hold before it is sent 1.0 (then only the other layers are missing).
 */
export async function pushBigImage(registry, repository, count, bytes, base = 0) {
  const layers = [];
  const diffIds = [];
  for (let i = 0; i < count; i++) {
    const tar = tarOf(`layer${i}`, randomBytes(bytes));
    diffIds.push(digestOf(tar));
    layers.push({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', ...(await pushBlob(registry, repository, gzipSync(tar, { level: 1 }))) });
  }
  await pushManifest(registry, repository, '1.0', layers, diffIds);
  if (base > 0) await pushManifest(registry, repository, 'base', layers.slice(0, base), diffIds.slice(0, base));
  return layers.reduce((sum, l) => sum + l.size, 0);
}
