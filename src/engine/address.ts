import { usageError } from '../errors.js';

/** Where the engine listens, parsed from a `unix://` or `tcp://` URL. */
export type EngineAddress =
  | { kind: 'unix'; url: string; socketPath: string }
  | { kind: 'tcp'; url: string; host: string; port: number };

export const DEFAULT_SOCKET = '/var/run/docker.sock';
const DEFAULT_TCP_PORT = 2375;

/** Parses `unix:///path`, `tcp://host[:port]` (and a bare `/path` as unix) like the docker CLI. */
export function parseEngineUrl(url: string): EngineAddress {
  if (url.startsWith('/')) return { kind: 'unix', url: `unix://${url}`, socketPath: url };
  const match = /^([a-z]+):\/\/(.*)$/.exec(url);
  if (!match) throw usageError(`invalid engine address "${url}": expected unix:///path or tcp://host:port`);
  const [, scheme, rest] = match;
  if (scheme === 'unix') {
    if (!rest.startsWith('/')) throw usageError(`invalid engine address "${url}": the socket path must be absolute`);
    return { kind: 'unix', url, socketPath: rest };
  }
  if (scheme === 'tcp' || scheme === 'http') {
    const hostPort = rest.replace(/\/+$/, '');
    const m = /^(\[[0-9a-fA-F:]+\]|[^:/]+)(?::(\d{1,5}))?$/.exec(hostPort);
    const port = m?.[2] === undefined ? DEFAULT_TCP_PORT : Number(m[2]);
    if (!m || port < 1 || port > 65535) {
      throw usageError(`invalid engine address "${url}": expected tcp://host:port`);
    }
    const host = m[1].replace(/^\[|\]$/g, '');
    return { kind: 'tcp', url: `tcp://${m[1]}:${port}`, host, port };
  }
  throw usageError(`unsupported engine address "${url}": dpull speaks unix:// and tcp://`);
}

/**
 * The engine to talk to, in the docker CLI's order: `-H/--host`, then a non-empty
 * DOCKER_HOST, then the default socket.
 */
export function resolveEngineAddress(host: string | undefined, env: NodeJS.ProcessEnv): EngineAddress {
  if (host !== undefined) return parseEngineUrl(host);
  if (env.DOCKER_HOST) return parseEngineUrl(env.DOCKER_HOST);
  return parseEngineUrl(`unix://${DEFAULT_SOCKET}`);
}
