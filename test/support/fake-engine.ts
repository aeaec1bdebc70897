// A stand-in for the engine on a unix socket, for faults a real engine cannot be made to show on
// demand: a body cut short, silence, hostile content, something that is not an engine at all.
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

export interface FakeEngine {
  host: string;
  close(): Promise<void>;
}

/** `/_ping` answers like an engine (API 1.41) unless `ping` says otherwise; the rest goes to `handle`. */
export async function fakeEngine(
  handle: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  ping: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_req, res) => {
    res.writeHead(200, { 'Api-Version': '1.41', 'Content-Type': 'text/plain' });
    res.end('OK');
  },
): Promise<FakeEngine> {
  const dir = mkdtempSync(`${tmpdir()}/dpull-fake-engine-`);
  const socketPath = `${dir}/engine.sock`;
  const open = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => (req.url === '/_ping' ? ping(req, res) : handle(req, res)));
  server.on('connection', (socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    host: `unix://${socketPath}`,
    close: () =>
      new Promise((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}

/** A handler that starts a 200 pull stream and writes these messages as JSON lines. */
export const streamOf =
  (messages: object[], after: 'end' | 'cut' | 'hang' = 'end') =>
  (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders(); // as the engine does: the pull is accepted before its first message
    for (const message of messages) res.write(`${JSON.stringify(message)}\r\n`);
    if (after === 'end') res.end();
    if (after === 'cut') setTimeout(() => res.socket?.destroy(), 50);
  };
