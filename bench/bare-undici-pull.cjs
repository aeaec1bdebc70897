'use strict';
// The same floor as bench/bare-node-pull.cjs with undici (the npm package Node's fetch is built
// from) instead of node:http: the manifest, then the blobs 4 at once over one pool of 4
// connections, each written to a file as it arrives and hashed, each digest checked. Beside the
// node:http floor in bench/registry.mjs, it measures what changing dpull's HTTP client would buy.
//   node bench/bare-undici-pull.cjs HOST:PORT REPOSITORY TAG DIR
const { createHash } = require('node:crypto');
const { createWriteStream, mkdirSync } = require('node:fs');
const { Pool } = require('undici');

const [host, repository, tag, dir] = process.argv.slice(2);
const pool = new Pool(`http://${host}`, { connections: 4 });
const get = (path, headers) => pool.request({ method: 'GET', path: `/v2/${repository}/${path}`, headers });

async function manifest() {
  const accept = 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json';
  const { body } = await get(`manifests/${tag}`, { accept });
  return body.json();
}

async function blob(digest) {
  const { body } = await get(`blobs/${digest}`, {});
  const hash = createHash('sha256');
  const file = createWriteStream(`${dir}/${digest.slice('sha256:'.length)}`, { highWaterMark: 8 << 20 });
  body.on('data', (chunk) => hash.update(chunk));
  await new Promise((resolve, reject) => {
    file.on('finish', resolve).on('error', reject);
    body.on('error', reject);
    body.pipe(file);
  });
  return `sha256:${hash.digest('hex')}` === digest;
}

(async () => {
  mkdirSync(dir, { recursive: true });
  const { config, layers } = await manifest();
  const todo = [config, ...layers].map((d) => d.digest);
  let next = 0;
  let bad = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < todo.length) if (!(await blob(todo[next++]))) bad++;
  }));
  await pool.close();
  if (bad > 0) {
    console.error(`${bad} blobs did not match their digests`);
    process.exitCode = 1;
  }
})().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
