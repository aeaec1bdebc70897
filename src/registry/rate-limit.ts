import http from 'node:http';
import https from 'node:https';
import type { ImageReference } from '../reference/reference.js';
import { rememberSecret } from '../secrets.js';

/** What a registry says of its pull limit (Docker Hub's `ratelimit-*` headers) and when to come back. */
export interface RateLimit {
  limit?: number;
  remaining?: number;
  /** The limit's window in seconds (`w=21600`). */
  windowSeconds?: number;
  retryAfterSeconds?: number;
}

const TIMEOUT_MS = 10_000;
const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(url: URL, method: 'GET' | 'HEAD', headers: Record<string, string>, signal?: AbortSignal): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, { method, headers: { 'User-Agent': 'dpull', ...headers }, timeout: TIMEOUT_MS, signal, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (body.length < 64 * 1024) body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** `Bearer realm="…",service="…"` → its parameters. */
function challenge(header: string | undefined): { scheme: string; params: Record<string, string> } | undefined {
  const m = header === undefined ? null : /^(\w+)\s+(.*)$/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const [, key, value] of m[2].matchAll(/(\w+)="([^"]*)"/g)) params[key.toLowerCase()] = value;
  return { scheme: m[1].toLowerCase(), params };
}

/** Credentials from the engine's `X-Registry-Auth` value (base64url JSON), as the registry wants them. */
function basicFrom(registryAuth: string | undefined): string | undefined {
  if (registryAuth === undefined) return undefined;
  try {
    const { username, password } = JSON.parse(Buffer.from(registryAuth.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
    return typeof username === 'string' && typeof password === 'string' ? Buffer.from(`${username}:${password}`).toString('base64') : undefined;
  } catch {
    return undefined;
  }
}

const number = (header: string | string[] | undefined) => {
  const m = typeof header === 'string' ? /^\s*(\d+)/.exec(header) : null;
  return m ? Number(m[1]) : undefined;
};
const windowOf = (header: string | string[] | undefined) => {
  const m = typeof header === 'string' ? /w=(\d+)/.exec(header) : null;
  return m ? Number(m[1]) : undefined;
};

/** Where the registry of a reference answers: Docker Hub's API host, plain HTTP for loopback ones. */
function registryBase(domain: string): URL {
  const host = domain === 'docker.io' ? 'registry-1.docker.io' : domain;
  const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(host);
  return new URL(`${loopback ? 'http' : 'https'}://${host}`);
}

/**
 * Asks the registry itself about its pull limit with a HEAD of the manifest (which Docker Hub
 * does not count against the limit), as the user (their credentials, a token for the
 * repository's pull scope when the registry asks for one). Undefined when it cannot be asked.
 */
export async function askRateLimit(ref: ImageReference, registryAuth: string | undefined, signal?: AbortSignal): Promise<RateLimit | undefined> {
  try {
    const url = new URL(`/v2/${ref.path}/manifests/${ref.digest ?? ref.tag ?? 'latest'}`, registryBase(ref.domain));
    const basic = basicFrom(registryAuth);
    let answer = await request(url, 'HEAD', { Accept: MANIFEST_TYPES }, signal);
    const asked = challenge(answer.headers['www-authenticate'] as string | undefined);
    if (answer.status === 401 && asked?.scheme === 'basic' && basic !== undefined) {
      answer = await request(url, 'HEAD', { Accept: MANIFEST_TYPES, Authorization: `Basic ${basic}` }, signal);
    } else if (answer.status === 401 && asked?.scheme === 'bearer' && asked.params.realm) {
      const realm = new URL(asked.params.realm);
      if (asked.params.service) realm.searchParams.set('service', asked.params.service);
      realm.searchParams.set('scope', `repository:${ref.path}:pull`);
      const tokenAnswer = await request(realm, 'GET', basic !== undefined ? { Authorization: `Basic ${basic}` } : {}, signal);
      const { token, access_token: accessToken } = JSON.parse(tokenAnswer.body) as { token?: string; access_token?: string };
      const bearer = token ?? accessToken;
      if (bearer === undefined) return undefined;
      rememberSecret(bearer);
      answer = await request(url, 'HEAD', { Accept: MANIFEST_TYPES, Authorization: `Bearer ${bearer}` }, signal);
    }
    const limit: RateLimit = {
      ...(number(answer.headers['ratelimit-limit']) !== undefined && { limit: number(answer.headers['ratelimit-limit']) }),
      ...(number(answer.headers['ratelimit-remaining']) !== undefined && { remaining: number(answer.headers['ratelimit-remaining']) }),
      ...(windowOf(answer.headers['ratelimit-limit']) !== undefined && { windowSeconds: windowOf(answer.headers['ratelimit-limit']) }),
      ...(number(answer.headers['retry-after']) !== undefined && { retryAfterSeconds: number(answer.headers['retry-after']) }),
    };
    return Object.keys(limit).length > 0 ? limit : undefined;
  } catch {
    if (signal?.aborted) throw signal.reason;
    return undefined;
  }
}
