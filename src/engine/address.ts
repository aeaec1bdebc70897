import { usageError } from '../errors.js';

/** Client TLS for a tcp:// engine: file contents, and whether the server's certificate is checked. */
export interface EngineTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  verify: boolean;
}

/** Where the engine listens, parsed from a `unix://` or `tcp://` URL. */
export type EngineAddress =
  | { kind: 'unix'; url: string; socketPath: string }
  | { kind: 'tcp'; url: string; host: string; port: number; tls?: EngineTls };

export const DEFAULT_SOCKET = '/var/run/docker.sock';
const DEFAULT_TCP_PORT = 2375;
const DEFAULT_TLS_PORT = 2376;

/**
 * Parses `unix:///path`, `tcp://host[:port]` (and a bare `/path` as unix) like the docker CLI.
 * The default port is 2376 when TLS is in use, else 2375.
 */
export function parseEngineUrl(url: string, tls?: EngineTls): EngineAddress {
  if (url.startsWith('/')) return { kind: 'unix', url: `unix://${url}`, socketPath: url };
  const match = /^([a-z]+):\/\/(.*)$/.exec(url);
  if (!match) throw usageError(`invalid engine address "${url}": expected unix:///path or tcp://host:port`);
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
  throw usageError(`unsupported engine address "${url}": dpull speaks unix:// and tcp://`);
}

/** True for an address only this machine can reach. */
export function isLoopback(address: EngineAddress): boolean {
  if (address.kind === 'unix') return true;
  return address.host === 'localhost' || address.host === '::1' || /^127\./.test(address.host);
}
