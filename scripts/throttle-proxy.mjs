#!/usr/bin/env node
// A TCP proxy that forwards LISTEN_PORT to TARGET_PORT on 127.0.0.1 and limits the bytes
// sent back to the client to RATE bytes per second per connection, so that a pull from the
// local registry lasts long enough to watch (demo) and to see interval output (tests).
// Usage: node throttle-proxy.mjs LISTEN_PORT TARGET_PORT RATE
import net from 'node:net';

const [listenPort, targetPort, rate] = process.argv.slice(2).map(Number);
if (!listenPort || !targetPort || !rate) {
  console.error('usage: throttle-proxy.mjs LISTEN_PORT TARGET_PORT BYTES_PER_SECOND');
  process.exit(2);
}

const TICK_MS = 50;
const perTick = Math.max(1, Math.floor((rate * TICK_MS) / 1000));

function throttle(from, to) {
  const queue = [];
  let queued = 0;
  let ended = false;
  const timer = setInterval(() => {
    let budget = perTick;
    while (budget > 0 && queue.length > 0) {
      const head = queue[0];
      const part = head.subarray(0, budget);
      if (part.length === head.length) queue.shift();
      else queue[0] = head.subarray(part.length);
      budget -= part.length;
      queued -= part.length;
      to.write(part);
    }
    if (queued < perTick * 40) from.resume();
    if (ended && queue.length === 0) {
      clearInterval(timer);
      to.end();
    }
  }, TICK_MS);
  from.on('data', (chunk) => {
    queue.push(chunk);
    queued += chunk.length;
    if (queued >= perTick * 40) from.pause();
  });
  from.on('end', () => { ended = true; });
  // Upstream may close while bytes are still queued: only the client going away stops the flush.
  to.on('close', () => clearInterval(timer));
}

net.createServer((client) => {
  const upstream = net.connect(targetPort, '127.0.0.1');
  client.pipe(upstream);
  throttle(upstream, client);
  const close = () => { client.destroy(); upstream.destroy(); };
  client.on('error', close);
  upstream.on('error', close);
  client.on('close', close);
}).listen(listenPort, '127.0.0.1');
