'use strict';
// An experiment behind issue #32's memory goal: one blob read off a plain socket into one reused
// 256 kB buffer (net's `onread`: no allocation per chunk), hashed and written with writeSync, the
// HTTP/1.1 response read by hand (Content-Length only). Its peak RSS is what Node itself takes,
// whatever the blob's size; node:http's per-chunk buffers are what puts the other floors ~40 MB
// above it (BENCHMARKS.md, notes).
//   python3 bench/rusage.py OUT node bench/onread-floor.cjs HOST:PORT REPOSITORY DIGEST FILE
const net = require('node:net');
const { createHash } = require('node:crypto');
const { closeSync, openSync, writeSync } = require('node:fs');

const [host, repository, digest, out] = process.argv.slice(2);
const [hostname, port] = host.split(':');
const fd = openSync(out, 'w');
const hash = createHash('sha256');
let head = Buffer.alloc(0);
let inBody = false;
let left = 0;
const socket = net.connect({
  host: hostname,
  port: Number(port),
  onread: {
    buffer: Buffer.allocUnsafe(256 * 1024),
    callback: (n, buffer) => {
      let chunk = buffer.subarray(0, n);
      if (!inBody) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        left = Number(/content-length: *(\d+)/i.exec(head.subarray(0, end).toString('latin1'))[1]);
        chunk = head.subarray(end + 4);
        inBody = true;
      }
      hash.update(chunk);
      writeSync(fd, chunk);
      left -= chunk.length;
      if (left > 0) return;
      closeSync(fd);
      socket.end();
      if (`sha256:${hash.digest('hex')}` !== digest) {
        console.error('the blob did not match its digest');
        process.exitCode = 1;
      }
    },
  },
});
socket.write(`GET /v2/${repository}/blobs/${digest} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
