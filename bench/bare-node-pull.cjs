'use strict';
// The floor under dpull --output on this machine: the least a Node program does to copy an image
// from a registry to disk, with none of dpull (no options, no display, no auth, no layout, no
// resume). It asks for the manifest, then fetches its blobs 4 at once with node:http, each
// written to a file as it arrives and hashed, and checks each digest. bench/registry.mjs times
// it beside dpull and skopeo: what dpull costs above it is dpull's; what it costs above skopeo
// is Node's (its start, its HTTP client, one thread).
//   node bench/bare-node-pull.cjs HOST:PORT REPOSITORY TAG DIR
const { createHash } = require('node:crypto');
const { createWriteStream, mkdirSync } = require('node:fs');
const http = require('node:http');

const [host, repository, tag, dir] = process.argv.slice(2);
const [hostname, port] = host.split(':');
const agent = new http.Agent({ keepAlive: true });
const get = (path, headers, onResponse) =>
  http.get({ hostname, port, path: `/v2/${repository}/${path}`, headers, agent }, onResponse).on('error', (err) => {
    console.error(err.message);
    process.exit(1);
  });

function manifest() {
  const accept = 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json';
  return new Promise((resolve) => get(`manifests/${tag}`, { Accept: accept }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c)).on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
  }));
}

function blob(digest) {
  return new Promise((resolve) => get(`blobs/${digest}`, {}, (res) => {
    const hash = createHash('sha256');
    const file = createWriteStream(`${dir}/${digest.slice('sha256:'.length)}`, { highWaterMark: 8 << 20 });
    res.on('data', (chunk) => hash.update(chunk));
    file.on('finish', () => resolve(`sha256:${hash.digest('hex')}` === digest));
    res.pipe(file);
  }));
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
  agent.destroy();
  if (bad > 0) {
    console.error(`${bad} blobs did not match their digests`);
    process.exitCode = 1;
  }
})();
