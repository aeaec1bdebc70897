// A hostile registry for the real engine to pull from: it asks for credentials (Basic, or a
// Bearer token from its own token endpoint) and then denies the pull with an error that quotes
// back what it was sent — what no real registry does, and what dpull must never print.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EchoingRegistry {
  /** `127.0.0.1:PORT`, a loopback registry the engine reaches without TLS. */
  address: string;
  close(): Promise<void>;
}

/** A JWT-shaped token, as Docker Hub's and GHCR's are. */
export const ECHOED_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImFjY2VzcyI6InB1bGwifQ.c2lnbmF0dXJlLW9mLWFsaWNl';

export async function echoingRegistry(scheme: 'Basic' | 'Bearer'): Promise<EchoingRegistry> {
  const server = http.createServer((req, res) => {
    req.on('error', () => {}); // a client that hangs up: expected
    const url = new URL(req.url ?? '/', 'http://registry');
    const authorization = req.headers.authorization;
    if (url.pathname === '/token') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify({ token: ECHOED_TOKEN, access_token: ECHOED_TOKEN, expires_in: 300 }));
    }
    if (authorization === undefined) {
      const { port } = server.address() as AddressInfo;
      const challenge = scheme === 'Basic' ? 'Basic realm="echo"' : `Bearer realm="http://127.0.0.1:${port}/token",service="echo"`;
      res.writeHead(401, { 'WWW-Authenticate': challenge, 'Content-Type': 'application/json', 'Docker-Distribution-API-Version': 'registry/2.0' });
      return res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
    }
    const decoded = authorization.startsWith('Basic ') ? Buffer.from(authorization.slice(6), 'base64').toString('utf8') : authorization.slice(7);
    res.writeHead(403, { 'Content-Type': 'application/json', 'Docker-Distribution-API-Version': 'registry/2.0' });
    res.end(JSON.stringify({ errors: [{ code: 'DENIED', message: `you sent [${authorization}] which is [${decoded}]` }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
