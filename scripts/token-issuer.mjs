#!/usr/bin/env node
// A token issuer in Docker Hub's shape, for the reference registry's `auth: token` in the test
// stack: `GET /token?service=…&scope=repository:NAME:ACTIONS` answers `{token, access_token,
// expires_in, issued_at}`, a JWT signed RS256 with the key whose certificate the registry trusts
// (sent in the `x5c` header). Repositories under `public/` may be pulled anonymously; anything
// else needs Basic credentials (USER:PASSWORD), which may also push.
//   node token-issuer.mjs PORT KEY.pem CERT.pem ISSUER SERVICE USER PASSWORD
import http from 'node:http';
import { createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

const [port, keyFile, certFile, issuer, service, user, password] = process.argv.slice(2);
if (!password) {
  console.error('usage: token-issuer.mjs PORT KEY.pem CERT.pem ISSUER SERVICE USER PASSWORD');
  process.exit(2);
}
const key = createPrivateKey(readFileSync(keyFile));
const certificate = new X509Certificate(readFileSync(certFile));
const b64url = (data) => Buffer.from(data).toString('base64url');

function token(access) {
  const now = Math.floor(Date.now() / 1000);
  const header = { typ: 'JWT', alg: 'RS256', x5c: [certificate.raw.toString('base64')] };
  const claims = { iss: issuer, sub: access.subject, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access: access.grants };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`;
}

http
  .createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://issuer');
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    const auth = req.headers.authorization ?? '';
    const decoded = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8') : undefined;
    if (decoded !== undefined && decoded !== `${user}:${password}`) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"details":"incorrect username or password"}');
      return;
    }
    const known = decoded !== undefined;
    const grants = url.searchParams.getAll('scope').flatMap((scope) => {
      const [type, name, actions] = scope.split(':');
      if (type !== 'repository' || !name) return [];
      const allowed = (actions ?? '').split(',').filter((a) => (known ? a === 'pull' || a === 'push' : a === 'pull' && name.startsWith('public/')));
      return allowed.length > 0 ? [{ type, name, actions: allowed }] : [];
    });
    const jwt = token({ subject: known ? user : '', grants });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ token: jwt, access_token: jwt, expires_in: 300, issued_at: new Date().toISOString() }));
  })
  .listen(Number(port), '127.0.0.1');
