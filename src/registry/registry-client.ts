import http from 'node:http';
import { DpullError, ExitCode, pullError, usageError } from '../errors.js';
import { rememberSecret } from '../secrets.js';
import { sanitize } from '../sanitize.js';
import { clip } from './descriptor.js';
import { registryTls, type RegistryTls } from '../config/registry-certificates.js';
import { proxyFor, type ProxyChoice } from '../config/proxy.js';
import type { SecureContext } from 'node:tls';
import type { Environment } from '../environment.js';
import { https, tls } from '../builtins.js';
import { BlobConnections, type BlobBody } from './blob-connection.js';

/** What the user may send a registry: a password, or an identity token (refresh token). */
export interface RegistryCredentials {
  username?: string;
  password?: string;
  identitytoken?: string;
}

export interface RegistryRequest {
  method?: 'GET' | 'HEAD';
  headers?: Record<string, string>;
  /** The repository the request is about: a token is asked for its pull scope. */
  repository: string;
  /** Work to do while the registry answers: called when the request has gone out. */
  whileWaiting?: () => void;
  /**
   * A blob's GET: its body read into reused buffers (blob-connection.ts) when no proxy stands
   * between and the registry's protocol is settled; else through node:http.
   */
  direct?: boolean;
}

const TIMEOUT_MS = 30_000;

/** A registry's answer, and the host that gave it (after redirects, not always the registry). */
export type RegistryResponse = http.IncomingMessage & { from: string };
/** A blob's answer: read by node:http, or into reused buffers. */
export type BlobResponse = RegistryResponse | (BlobBody & { from: string });
const MAX_REDIRECTS = 5;

/** Credentials from the engine's `X-Registry-Auth` value (base64url JSON), for a registry asked directly. */
export function credentialsFromHeader(registryAuth: string | undefined): RegistryCredentials {
  if (registryAuth === undefined) return {};
  try {
    const decoded = JSON.parse(Buffer.from(registryAuth.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as Record<string, unknown>;
    const pick = (key: string) => (typeof decoded[key] === 'string' && decoded[key] !== '' ? { [key]: decoded[key] as string } : {});
    return { ...pick('username'), ...pick('password'), ...pick('identitytoken') };
  } catch {
    return {};
  }
}

/** `Bearer realm="…",service="…"` → its scheme and parameters. */
function parseChallenge(header: string | undefined): { scheme: string; params: Record<string, string> } | undefined {
  const m = header === undefined ? null : /^(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const [, key, value] of m[2].matchAll(/(\w+)="([^"]*)"/g)) params[key.toLowerCase()] = value;
  return { scheme: m[1].toLowerCase(), params };
}

/** True for a registry on this machine, spoken to in plain HTTP as the engine does. */
export const isLoopbackRegistry = (host: string) => /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(host);

/**
 * One registry, spoken to directly: `/v2/` requests over HTTPS (the system's CAs), or plain HTTP
 * for loopback registries and those the user lists as insecure; Basic or Bearer auth as the
 * registry asks (Docker Hub, GHCR and the reference registry's token auth), a token cached per
 * repository scope; redirects to blob storage followed without the credentials.
 */
export class RegistryClient {
  base: URL;
  private readonly tokens = new Map<string, string>();
  // Connections kept open between requests (a pull is many blobs from one host), closed by close():
  // one agent per protocol and proxy.
  private readonly agents = new Map<string, http.Agent>();
  private basicOnly = false;
  /** Blobs' connections (blob-connection.ts). */
  private readonly blobs = new BlobConnections();
  /** The protocol is chosen (the registry answered the first way, or it was turned to the other): no more turning. */
  private settled = false;

  constructor(
    readonly domain: string,
    private readonly credentials: RegistryCredentials,
    options: { insecure?: boolean; plain?: boolean; signal?: AbortSignal; env?: Environment } = {},
  ) {
    const host = domain === 'docker.io' ? 'registry-1.docker.io' : domain;
    // A loopback registry is spoken to in plain HTTP first, as the engine does; one the user calls
    // insecure in HTTPS without checking its certificate first, then in plain HTTP (the daemon's
    // --insecure-registry). Either turns to the other when the first way meets the wrong protocol.
    this.insecure = options.insecure === true || options.plain === true || isLoopbackRegistry(host);
    this.base = new URL(`${isLoopbackRegistry(host) || options.plain === true ? 'http' : 'https'}://${host}`);
    this.signal = options.signal;
    this.env = options.env ?? process.env;
  }

  private readonly insecure: boolean;
  private readonly env: Environment;
  private tlsSettings: RegistryTls | undefined;
  private tlsOptions: { secureContext: SecureContext; rejectUnauthorized: boolean } | undefined;

  /**
   * What an HTTPS request to this registry is made with: its CAs and client certificate (certs.d)
   * in one secure context, made once (given per request, it reaches through a proxy's tunnel too,
   * and an agent's pool is not keyed by a long CA list); no check of the certificate when insecure.
   */
  private secure(): { secureContext: SecureContext; rejectUnauthorized: boolean } {
    if (this.tlsOptions !== undefined) return this.tlsOptions;
    this.tlsSettings = registryTls(this.domain, this.env);
    const { extraCa, cert, key } = this.tlsSettings;
    try {
      const secureContext = tls().createSecureContext(cert && key ? { cert, key } : {});
      const more = extraCa.filter((pem) => pem !== '').join('\n');
      if (more !== '') secureContext.context.addCACert(more);
      this.tlsOptions = { secureContext, rejectUnauthorized: !this.insecure };
    } catch (err) {
      throw usageError(`the certificates for ${this.domain} (${this.tlsSettings.certsDirs.join(', ')}) cannot be used: ${clip((err as Error).message, 120)}`);
    }
    return this.tlsOptions;
  }

  /** The agent for a request to `url`: direct, or through `proxy` (the one the environment names for it). */
  private async agentFor(url: URL, proxy: ProxyChoice | undefined): Promise<http.Agent> {
    const key = `${url.protocol}${proxy?.url.href ?? ''}`;
    let agent = this.agents.get(key);
    if (agent === undefined) {
      if (proxy === undefined) agent = url.protocol === 'https:' ? new (https().Agent)({ keepAlive: true }) : new http.Agent({ keepAlive: true });
      else if (url.protocol === 'https:') agent = new (await import('https-proxy-agent')).HttpsProxyAgent(proxy.url, { keepAlive: true });
      else agent = new (await import('http-proxy-agent')).HttpProxyAgent(proxy.url, { keepAlive: true });
      this.agents.set(key, agent);
    }
    return agent;
  }

  /** Turns to the other protocol for good (once): see the constructor. */
  private switchProtocol(): URL {
    this.settled = true;
    this.base = new URL(`${this.base.protocol === 'https:' ? 'http' : 'https'}://${this.base.host}`);
    return this.base;
  }

  /** Aborts every request (Ctrl-C, --timeout). */
  readonly signal: AbortSignal | undefined;

  /** The pull was aborted (Ctrl-C, --timeout): nothing more is asked. */
  get aborted(): boolean {
    return this.signal?.aborted === true;
  }

  /** Closes the connections kept open, so that nothing holds the process after the pull. */
  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.blobs.close();
  }

  /** Sends a request for `path` (`/v2/…`), authenticating as the registry asks; resolves with the response. */
  async request(path: string, req: RegistryRequest & { direct: true }): Promise<BlobResponse>;
  async request(path: string, req: RegistryRequest): Promise<RegistryResponse>;
  async request(path: string, req: RegistryRequest): Promise<BlobResponse> {
    const scope = `repository:${req.repository}:pull`;
    let response = await this.send(new URL(path, this.base), req, this.authorization(scope));
    if (response.statusCode === 401) {
      response.resume();
      const challenge = parseChallenge(response.headers['www-authenticate'] as string | undefined);
      const auth = await this.authenticate(challenge, scope);
      if (auth === undefined) throw this.denied(path);
      response = await this.send(new URL(path, this.base), req, auth);
      if (response.statusCode === 401 || response.statusCode === 403) {
        response.resume();
        throw this.denied(path);
      }
    }
    return response;
  }

  private authorization(scope: string): string | undefined {
    if (this.tokens.has(scope)) return `Bearer ${this.tokens.get(scope)}`;
    return this.basicOnly ? this.basic() : undefined;
  }

  private basic(): string | undefined {
    const { username, password } = this.credentials;
    return username !== undefined && password !== undefined ? `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` : undefined;
  }

  private async authenticate(challenge: ReturnType<typeof parseChallenge>, scope: string): Promise<string | undefined> {
    if (challenge?.scheme === 'basic') {
      this.basicOnly = true;
      return this.basic();
    }
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm) return undefined;
    const realm = URL.canParse(challenge.params.realm) ? new URL(challenge.params.realm) : undefined;
    if (realm === undefined || (realm.protocol !== 'https:' && realm.protocol !== 'http:')) {
      throw pullError(`${this.domain} names a token service that is not an http or https address ("${clip(challenge.params.realm)}")`);
    }
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    realm.searchParams.set('scope', scope);
    const basic = this.basic();
    // An identity token is exchanged with a POST (OAuth2 refresh token), as the docker CLI does.
    const answer = this.credentials.identitytoken !== undefined
      ? await this.readJson(await this.send(realm, { repository: '' }, undefined, 'POST', new URLSearchParams({
          grant_type: 'refresh_token', refresh_token: this.credentials.identitytoken, service: challenge.params.service ?? '', scope, client_id: 'dpull',
        }).toString()))
      : await this.readJson(await this.send(realm, { repository: '' }, basic));
    const token = typeof answer?.token === 'string' && answer.token !== '' ? answer.token : typeof answer?.access_token === 'string' ? answer.access_token : undefined;
    if (token === undefined) return undefined;
    // It goes into a header: printable ASCII only (anything else could never be sent; say so, not crash).
    if (!/^[\x21-\x7e]{1,16384}$/.test(token)) throw pullError(`the token service of ${this.domain} answered with something that is not a token`);
    rememberSecret(token);
    this.tokens.set(scope, token);
    return `Bearer ${token}`;
  }

  private async readJson(answer: BlobResponse): Promise<Record<string, unknown> | undefined> {
    const response = answer as RegistryResponse; // (a token service's answer: node:http's, never direct)
    const body = await readAll(response, 1 << 20, `the token from ${this.domain}'s token service`);
    if (response.statusCode !== 200) return undefined;
    try {
      return JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }

  private denied(path: string): DpullError {
    const who = this.credentials.username !== undefined || this.credentials.identitytoken !== undefined ? 'with your credentials' : 'without credentials (none found for it)';
    return pullError(`${this.domain} denied access to ${sanitize(path.replace(/^\/v2\//, ''))} ${who}`);
  }

  /** One request, redirects followed (blob storage: without the Authorization header on another origin). */
  private async send(url: URL, req: RegistryRequest, authorization: string | undefined, method?: 'POST', body?: string, hops = 0, origin = url.origin): Promise<BlobResponse> {
    const secure = url.protocol === 'https:';
    const tlsOptions = secure ? this.secure() : undefined;
    const headers: Record<string, string> = { 'User-Agent': 'dpull', ...req.headers };
    // Credentials go where they were meant to (the registry, its token realm); a redirect to
    // another origin (blob storage, or the same host in plain HTTP) gets none.
    if (authorization !== undefined && url.origin === origin) headers.Authorization = authorization;
    if (body !== undefined) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    const mayTurn = this.insecure && !this.settled && hops === 0 && url.origin === this.base.origin;
    // The first way to an insecure registry met the other protocol: the same request the other way.
    const otherWay = () => {
      const next = new URL(url.pathname + url.search, this.switchProtocol());
      return this.send(next, req, authorization, method, body, hops, next.origin);
    };
    const proxy = proxyFor(url, this.env);
    let response: http.IncomingMessage | BlobBody;
    try {
      response = req.direct === true && proxy === undefined && !mayTurn && method === undefined
        ? await this.blobs.get({ url, headers, secure: tlsOptions, signal: this.signal, timeoutMs: TIMEOUT_MS, whileWaiting: req.whileWaiting })
        : await this.sendHttp(url, req, headers, method, body, tlsOptions, proxy);
    } catch (caught) {
      const err = caught as NodeJS.ErrnoException;
      if (this.signal?.aborted) throw this.signal.reason;
      if (proxy !== undefined && PROXY_UNREACHABLE.has(err.code ?? '')) {
        throw new DpullError(`cannot reach the proxy ${proxy.label} (${proxy.variable}) for ${this.domain}: ${describe(err, this.domain, undefined)}`, ExitCode.engineUnreachable, { cause: err });
      }
      if (mayTurn && secure && NOT_TLS.has(err.code ?? '')) return otherWay();
      throw new DpullError(`cannot reach the registry ${this.domain} (${url.protocol}//${url.host}): ${describe(err, this.domain, this.tlsSettings)}`, ExitCode.pullFailed, { cause: err });
    }
    // Go's TLS servers answer plain HTTP with a bare HTTP/1.0 400 ("Client sent an HTTP request to an HTTPS server").
    if (mayTurn && !secure && response.statusCode === 400 && response.httpVersion === '1.0' && response.headers['content-type'] === undefined) {
      response.resume();
      return otherWay();
    }
    if (url.origin === this.base.origin) this.settled = true;
    if (response.statusCode === 407 && proxy !== undefined) {
      response.resume();
      throw pullError(`the proxy ${proxy.label} (${proxy.variable}) refused dpull: 407 Proxy Authentication Required (${proxy.url.username !== '' ? 'the user and password in its URL were not accepted' : 'give them in its URL: http://USER:PASSWORD@HOST:PORT'})`);
    }
    const location = response.headers.location;
    if (response.statusCode !== undefined && [301, 302, 303, 307, 308].includes(response.statusCode) && location !== undefined) {
      response.resume();
      if (hops >= MAX_REDIRECTS) throw pullError(`${this.domain}: too many redirects for ${clip(url.pathname)}`);
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw pullError(`${url.host} redirected ${clip(url.pathname)} to an invalid address`);
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw pullError(`${url.host} redirected ${clip(url.pathname)} to a ${clip(next.protocol, 20)} address; dpull follows http and https only`);
      }
      return this.send(next, req, authorization, method, body, hops + 1, origin);
    }
    return Object.assign(response, { from: url.host });
  }

  /** One exchange through node:http (and the proxy the environment names): resolves with the answer's head. */
  private async sendHttp(url: URL, req: RegistryRequest, headers: Record<string, string>, method: 'POST' | undefined, body: string | undefined, tlsOptions: object | undefined, proxy: ProxyChoice | undefined): Promise<http.IncomingMessage> {
    const agent = await this.agentFor(url, proxy);
    return new Promise((resolve, reject) => {
      const request = (tlsOptions !== undefined ? https() : http).request(url, {
        method: method ?? req.method ?? 'GET',
        headers,
        agent,
        ...tlsOptions,
        timeout: TIMEOUT_MS,
        ...(this.signal !== undefined && { signal: this.signal }),
      });
      request.on('response', resolve);
      if (req.whileWaiting !== undefined) request.once('finish', req.whileWaiting);
      request.on('timeout', () => request.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      request.on('error', reject);
      request.end(body);
    });
  }
}

/** Failures to connect: through a proxy, they are the proxy's. */
const PROXY_UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** What a plain-HTTP server answering a TLS handshake looks like from here. */
const NOT_TLS = new Set(['EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ECONNRESET']);

function describe(err: NodeJS.ErrnoException, domain: string, settings: RegistryTls | undefined): string {
  const where = settings?.certsDirs.slice(0, 2).join('/ or ') ?? `/etc/docker/certs.d/${domain}`;
  if (/ALERT_CERTIFICATE_REQUIRED|ALERT_BAD_CERTIFICATE|ALERT_HANDSHAKE_FAILURE|certificate required/i.test(`${err.code} ${err.message}`)) {
    return `TLS: it asks for a client certificate${settings?.cert ? ' and refused the one in certs.d' : ''} (put client.cert and client.key in ${where}/)`;
  }
  if (err.code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `TLS: its certificate is for another name (${clip(err.message.replace(/^Hostname\/IP does not match certificate's altnames: /, ''), 100)})`;
  if (err.code === 'CERT_HAS_EXPIRED') return 'TLS: its certificate has expired';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(err.code ?? '')) {
    return `TLS: its certificate is not trusted (${err.code}); put the CA that signed it in ${where}/ca.crt, or in the system's store (update-ca-certificates), or use --insecure-registry ${domain}`;
  }
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host';
    case 'ETIMEDOUT':
      return 'timed out';
    case 'ECONNRESET':
      return 'the connection was reset';
    case 'EPROTO':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return 'it does not speak TLS (use --insecure-registry for a plain-HTTP registry)';
    default:
      return sanitize((err.message ?? '').split('\n')[0]);
  }
}

/** `404 Not Found`: a response's status, its reason phrase made printable and short. */
export const statusText = (response: { statusCode?: number; statusMessage?: string }) => `${response.statusCode} ${clip(response.statusMessage ?? '', 60)}`.trim();

/** A whole (small) body; `what` names it when it is larger than `limit`. */
export async function readAll(response: http.IncomingMessage, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += chunk.length;
    if (size > limit) {
      response.destroy();
      throw pullError(`${what} is larger than ${limit >= 1 << 20 ? `${limit / (1 << 20)} MiB` : `${limit} bytes`}: dpull reads no more of it`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
