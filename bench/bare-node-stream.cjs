'use strict';
// The floor under dpull's live display on this machine: the least a Node program does to follow
// an engine's pull stream — node:http over the engine's socket, each chunk of the answer counted
// and dropped; no decoding, no state, no display. bench/run.mjs runs it beside dpull at the
// recorded pace: what it costs is Node's (its HTTP client and event loop, a wake-up per chunk);
// what dpull costs above it is dpull's.
//   DOCKER_HOST=unix:///path/to/engine.sock node bench/bare-node-stream.cjs
const http = require('node:http');

const socketPath = (process.env.DOCKER_HOST ?? '').replace(/^unix:\/\//, '');
let chunks = 0;
http
  .request({ socketPath, method: 'POST', path: '/v1.41/images/create?fromImage=demo%2Fthree&tag=1.0' }, (res) => {
    res.on('data', () => chunks++);
    res.on('end', () => process.stdout.write(`${chunks} chunks\n`));
  })
  .on('error', (err) => {
    console.error(err.message);
    process.exitCode = 1;
  })
  .end();
