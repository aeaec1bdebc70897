// A stand-in engine on a unix socket that answers /_ping and serves one recorded pull stream
// for POST /images/create: all at once (`flood`), or chunk by chunk at the recorded pace
// (`paced`, from NAME.timing.json). For benchmarks only; the engine path is tested for real.
import http from 'node:http';
import { rmSync } from 'node:fs';

export function startReplayEngine(socketPath, body, timing) {
  rmSync(socketPath, { force: true });
  const server = http.createServer((req, res) => {
    res.setHeader('Api-Version', '1.41');
    if (req.url === '/_ping') {
      res.setHeader('Content-Type', 'text/plain');
      res.end(req.method === 'HEAD' ? undefined : 'OK');
      return;
    }
    if (req.method === 'POST' && /^\/v[\d.]+\/images\/create\?/.test(req.url)) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (!timing) {
        // A flood: as fast as the client reads it, in 64 KiB writes.
        let offset = 0;
        const pump = () => {
          while (offset < body.length) {
            const chunk = body.subarray(offset, offset + 65536);
            offset += chunk.length;
            if (!res.write(chunk)) return res.once('drain', pump);
          }
          res.end();
        };
        return pump();
      }
      const start = performance.now();
      timing.forEach(([offset, ms], i) => {
        const end = i + 1 < timing.length ? timing[i + 1][0] : body.length;
        setTimeout(() => {
          res.write(body.subarray(offset, end));
          if (i === timing.length - 1) res.end();
        }, Math.max(0, ms - (performance.now() - start)));
      });
      return;
    }
    if (req.method === 'GET' && /^\/v[\d.]+\/images\/json\?/.test(req.url)) {
      // The image lookup after a pull: a stand-in holds no images.
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end('[]');
    }
    process.stderr.write(`replay-engine: unexpected ${req.method} ${req.url}\n`);
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end('{"message":"not in this recording"}');
  });
  return new Promise((resolve) => server.listen(socketPath, () => resolve(server)));
}
