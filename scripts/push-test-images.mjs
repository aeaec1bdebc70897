#!/usr/bin/env node
// Test images the docker CLI of the stack cannot build, pushed to the open registry through its
// API: a multi-platform index (`demo/three:multi`: linux/amd64 is demo/three:1.0, linux/arm64 the
// same layers under an arm64 config), and an image whose layer is then corrupted on the
// registry's disk (`demo/corrupt:1.0`: the registry serves the changed bytes as they are).
//   node push-test-images.mjs REGISTRY REGISTRY_DATA_DIR
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [registry, dataDir] = process.argv.slice(2);
const base = `http://${registry}`;
const digestOf = (bytes) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function pushBlob(repository, bytes) {
  const digest = digestOf(bytes);
  const start = await fetch(`${base}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`upload to ${repository}: ${start.status}`);
  const location = new URL(start.headers.get('location'), base);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', body: bytes, headers: { 'Content-Type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`blob ${digest}: ${put.status} ${await put.text()}`);
  return { digest, size: bytes.length };
}

async function pushManifest(repository, reference, manifest) {
  const bytes = Buffer.from(JSON.stringify(manifest));
  const put = await fetch(`${base}/v2/${repository}/manifests/${reference}`, { method: 'PUT', body: bytes, headers: { 'Content-Type': manifest.mediaType } });
  if (put.status !== 201) throw new Error(`manifest ${repository}:${reference}: ${put.status} ${await put.text()}`);
  return { digest: digestOf(bytes), size: bytes.length, mediaType: manifest.mediaType };
}

const getJson = async (path, accept) => {
  const response = await fetch(`${base}${path}`, { headers: { Accept: accept } });
  return { body: Buffer.from(await response.arrayBuffer()), type: response.headers.get('content-type') };
};

// The multi-platform index.
const V2 = 'application/vnd.docker.distribution.manifest.v2+json';
const amd64 = await getJson('/v2/demo/three/manifests/1.0', V2);
const amd64Manifest = JSON.parse(amd64.body);
const config = JSON.parse((await getJson(`/v2/demo/three/blobs/${amd64Manifest.config.digest}`, '*/*')).body);
const armConfig = await pushBlob('demo/three', Buffer.from(JSON.stringify({ ...config, architecture: 'arm64', variant: 'v8' })));
const arm64 = await pushManifest('demo/three', `sha256-arm64`, { ...amd64Manifest, config: { ...amd64Manifest.config, ...armConfig } });
await pushManifest('demo/three', 'multi', {
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [
    { mediaType: V2, digest: digestOf(amd64.body), size: amd64.body.length, platform: { os: 'linux', architecture: 'amd64' } },
    { mediaType: V2, digest: arm64.digest, size: arm64.size, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
  ],
});

// The corrupt image: its one layer's bytes changed on disk after the push, size kept.
const layer = randomBytes(200_000);
const layerBlob = await pushBlob('demo/corrupt', layer);
const corruptConfig = await pushBlob('demo/corrupt', Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layerBlob.digest] }, config: {} })));
await pushManifest('demo/corrupt', '1.0', {
  schemaVersion: 2,
  mediaType: V2,
  config: { mediaType: 'application/vnd.docker.container.image.v1+json', ...corruptConfig },
  layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', ...layerBlob }],
});
const hex = layerBlob.digest.slice('sha256:'.length);
writeFileSync(join(dataDir, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data'), randomBytes(layer.length));
console.log(JSON.stringify({ multi: 'demo/three:multi', corrupt: 'demo/corrupt:1.0', corruptLayer: layerBlob.digest }));
