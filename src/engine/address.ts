import { usageError } from '../errors.js';

/** Client TLS for a tcp:// engine: file contents, and whether the server's certificate is checked. */
export interface EngineTls {
  ca?: Uint8Array;
  cert?: Uint8Array;
  key?: Uint8Array;
  verify: boolean;
}

/** An engine reached by running `ssh … docker system dial-stdio` (the docker CLI's way). */
export interface SshEngineAddress {
  kind: 'ssh';
  url: string;
  host: string;
  user?: string;
  port?: number;
  /** The engine's socket on the far side (the URL's path); default: the far docker CLI's own choice. */
  socketPath?: string;
}

/** Where the engine listens, parsed from a `unix://`, `tcp://`, `ssh://` or `npipe://` URL. */
export type EngineAddress =
  | { kind: 'unix'; url: string; socketPath: string }
  | { kind: 'tcp'; url: string; host: string; port: number; tls?: EngineTls }
  | SshEngineAddress
  /** A Windows named pipe; `pipePath` is what Node connects to (`\\.\pipe\docker_engine`). */
  | { kind: 'npipe'; url: string; pipePath: string }
  | ContainerdAddress;

/**
 * containerd (gRPC over its unix socket, not the Engine API): `containerd:///path`. The namespace
 * is the pull's (--namespace, CONTAINERD_NAMESPACE, else `default`), not the address's.
 */
export interface ContainerdAddress {
  kind: 'containerd';
  url: string;
  socketPath: string;
  /** Set for a pull (preparePull): the namespace, and the snapshotter if one was named. */
  namespace?: string;
  snapshotter?: string;
}

export type EngineKind = EngineAddress['kind'];

export const DEFAULT_SOCKET = '/var/run/docker.sock';
const DEFAULT_TCP_PORT = 2375;
const DEFAULT_TLS_PORT = 2376;

/**
 * `ssh://[user@]host[:port][/socket/path]`, refused as the docker CLI refuses it: a password,
 * a query or a fragment in the URL is an error (a password belongs in ssh's keys or agent).
 */
function parseSshUrl(url: string): SshEngineAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usageError(`invalid engine address "${url}": expected ssh://[user@]host[:port][/socket/path]`);
  }
  const shown = `ssh://${parsed.username ? `${parsed.username}@` : ''}${parsed.host}`;
  if (parsed.password !== '') throw usageError(`invalid engine address "${shown}": a password in an ssh:// address is not supported (use a key or ssh-agent)`);
  if (parsed.search !== '') throw usageError(`invalid engine address "${shown}": an ssh:// address takes no query ("${parsed.search}")`);
  if (parsed.hash !== '') throw usageError(`invalid engine address "${shown}": an ssh:// address takes no fragment ("${parsed.hash}")`);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (host === '') throw usageError(`invalid engine address "${url}": no host after ssh://`);
  const user = parsed.username === '' ? undefined : decodeURIComponent(parsed.username);
  const socketPath = parsed.pathname === '' || parsed.pathname === '/' ? undefined : decodeURIComponent(parsed.pathname);
  return {
    kind: 'ssh',
    url: `ssh://${parsed.username ? `${parsed.username}@` : ''}${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`,
    host,
    ...(user !== undefined && { user }),
    ...(parsed.port !== '' && { port: Number(parsed.port) }),
    ...(socketPath !== undefined && { socketPath }),
  };
}

/**
 * `npipe:////./pipe/NAME` (four slashes: `npipe://` and then `//./pipe/NAME`) is the pipe
 * `\\.\pipe\NAME`; the docker CLI also takes `npipe://./pipe/NAME`.
 */
function parseNpipeUrl(url: string, rest: string): EngineAddress {
  const path = rest.replace(/\\/g, '/').replace(/^\/*/, '');
  const m = /^([^/]+)\/pipe\/([^/]+)$/.exec(path);
  if (!m) throw usageError(`invalid engine address "${url}": expected npipe:////./pipe/NAME`);
  return { kind: 'npipe', url, pipePath: `\\\\${m[1]}\\pipe\\${m[2]}` };
}

/**
 * Parses `unix:///path`, `tcp://host[:port]`, `ssh://[user@]host[:port][/path]`,
 * `npipe:////./pipe/NAME` (and a bare `/path` as unix) like the docker CLI. The default tcp port
 * is 2376 when TLS is in use, else 2375.
 */
export function parseEngineUrl(url: string, tls?: EngineTls): EngineAddress {
  if (url.startsWith('/')) return { kind: 'unix', url: `unix://${url}`, socketPath: url };
  const match = /^([a-z]+):\/\/(.*)$/.exec(url);
  if (!match) throw usageError(`invalid engine address "${url}": expected unix:///path, tcp://host:port, ssh://[user@]host or containerd:///path`);
  const [, scheme, rest] = match;
  if (scheme === 'unix') {
    if (!rest.startsWith('/')) throw usageError(`invalid engine address "${url}": the socket path must be absolute`);
    return { kind: 'unix', url, socketPath: rest };
  }
  if (scheme === 'tcp' || scheme === 'http' || scheme === 'https') {
    const hostPort = rest.replace(/\/+$/, '');
    const m = /^(\[[0-9a-fA-F:]+\]|[^:/]+)(?::(\d{1,5}))?$/.exec(hostPort);
    const port = m?.[2] === undefined ? (tls ? DEFAULT_TLS_PORT : DEFAULT_TCP_PORT) : Number(m[2]);
    if (!m || port < 1 || port > 65535) {
      throw usageError(`invalid engine address "${url}": expected tcp://host:port`);
    }
    const host = m[1].replace(/^\[|\]$/g, '');
    return { kind: 'tcp', url: `tcp://${m[1]}:${port}`, host, port, ...(tls && { tls }) };
  }
  if (scheme === 'ssh') return parseSshUrl(url);
  if (scheme === 'containerd') {
    if (!rest.startsWith('/')) throw usageError(`invalid engine address "${url}": expected containerd:///path/to/containerd.sock`);
    return { kind: 'containerd', url, socketPath: rest };
  }
  if (scheme === 'npipe') return parseNpipeUrl(url, rest);
  throw usageError(`unsupported engine address "${url}": dpull speaks unix://, tcp://, ssh://, npipe:// and containerd://`);
}

/** True for an address only this machine can reach (ssh is encrypted whatever the host). */
export function isLoopback(address: EngineAddress): boolean {
  if (address.kind !== 'tcp') return true;
  return address.host === 'localhost' || address.host === '::1' || /^127\./.test(address.host);
}
