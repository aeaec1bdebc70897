'use strict';
// A second floor, beside bench/bare-node-pull.cjs: the same copy (the manifest, then its blobs 4
// at once, each hashed and written to a file as it arrives, each digest checked) with HTTP/1.1
// read off node:net sockets by hand instead of through node:http. It tells how much of Node's
// distance to skopeo is node:http (its parser's copy of every body chunk, its streams, its cold
// first request) and how much is Node's start. A measuring tool only: loopback, plain HTTP,
// answers with a Content-Length, no auth, no redirects, no chunked bodies. dpull itself speaks
// node:http to registries, as its brief says.
//   node bench/raw-socket-pull.cjs HOST:PORT REPOSITORY TAG DIR
const { createHash } = require('node:crypto');
const { close, mkdirSync, openSync, writev } = require('node:fs');
const net = require('node:net');

const [host, repository, tag, dir] = process.argv.slice(2);
const [hostname, port] = host.split(':');
const fail = (message) => {
  console.error(message);
  process.exit(1);
};

/** A keep-alive connection that sends one GET at a time and hands the body's chunks to `onData`. */
function connection() {
  const socket = net.connect(Number(port), hostname).on('error', (err) => fail(err.message));
  let current; // { onData, onEnd }
  let head = '';
  let left = -1; // body bytes still to come; -1 while reading the head
  socket.on('data', (chunk) => {
    if (left < 0) {
      head += chunk.latin1Slice(0, chunk.length);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!head.startsWith('HTTP/1.1 200')) fail(`${head.slice(0, head.indexOf('\r\n'))} for ${current.path}`);
      left = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? fail(`no Content-Length for ${current.path}`));
      chunk = chunk.subarray(chunk.length - (head.length - end - 4));
      head = '';
    }
    if (chunk.length > 0) {
      left -= chunk.length;
      current.onData(chunk);
    }
    if (left === 0) {
      left = -1;
      current.onEnd();
    }
  });
  return {
    get(path, headers, onData, onEnd) {
      current = { path, onData, onEnd };
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${headers}\r\n`);
    },
    close: () => socket.destroy(),
  };
}

/** Fetches one blob into DIR on `conn`, hashed and written as it arrives; resolves with whether its digest matched. */
function blob(conn, digest) {
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    const fd = openSync(`${dir}/${digest.slice('sha256:'.length)}`, 'w');
    let queue = [];
    let writing = false;
    let ended = false;
    const flush = () => {
      if (writing) return;
      if (queue.length === 0) {
        if (ended) close(fd, () => resolve(`sha256:${hash.digest('hex')}` === digest));
        return;
      }
      const chunks = queue;
      queue = [];
      writing = true;
      writev(fd, chunks, (err) => {
        if (err) fail(err.message);
        writing = false;
        flush();
      });
    };
    conn.get(`/v2/${repository}/blobs/${digest}`, '', (chunk) => {
      hash.update(chunk);
      queue.push(chunk);
      flush();
    }, () => {
      ended = true;
      flush();
    });
  });
}

mkdirSync(dir, { recursive: true });
const first = connection();
const parts = [];
const accept = 'Accept: application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json\r\n';
first.get(`/v2/${repository}/manifests/${tag}`, accept, (chunk) => parts.push(Buffer.from(chunk)), async () => {
  const { config, layers } = JSON.parse(Buffer.concat(parts).toString('utf8'));
  const todo = [config, ...layers].map((d) => d.digest);
  let next = 0;
  let bad = 0;
  await Promise.all([first, connection(), connection(), connection()].map(async (conn) => {
    while (next < todo.length) if (!(await blob(conn, todo[next++]))) bad++;
    conn.close();
  }));
  if (bad > 0) fail(`${bad} blobs did not match their digests`);
});
