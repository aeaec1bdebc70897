import http from 'node:http';
import type { EngineAddress } from './address.js';
import { DpullError, ExitCode } from '../errors.js';

export interface EngineRequest {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** Why a connection to the engine failed, in words a user can act on. */
function describeConnectError(address: EngineAddress, err: NodeJS.ErrnoException): string {
  const where = `the Docker engine at ${address.url}`;
  switch (err.code) {
    case 'ENOENT':
      return `cannot connect to ${where}: no such socket (is the Docker daemon running?)`;
    case 'ECONNREFUSED':
      return `cannot connect to ${where}: connection refused (is the Docker daemon running?)`;
    case 'EACCES':
    case 'EPERM':
      return `cannot connect to ${where}: permission denied (run as root, or join the group that owns the socket)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot connect to ${where}: unknown host`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `cannot connect to ${where}: host unreachable`;
    default:
      return `cannot connect to ${where}: ${err.message}`;
  }
}

/**
 * Sends one request to the engine and resolves with the response once its headers arrive.
 * Failing to connect is an `engineUnreachable` error; an abort rejects with the signal's reason.
 */
export function requestEngine(address: EngineAddress, req: EngineRequest): Promise<http.IncomingMessage> {
  const target =
    address.kind === 'unix'
      ? { socketPath: address.socketPath, host: 'localhost' }
      : { host: address.host, port: address.port };
  return new Promise((resolve, reject) => {
    const request = http.request({
      ...target,
      method: req.method,
      path: req.path,
      headers: { 'User-Agent': 'dpull', ...req.headers },
      signal: req.signal,
      agent: false, // no pooled keep-alive socket holding the process open after the pull
    });
    let connected = false;
    request.on('socket', (socket) => {
      socket.once('connect', () => { connected = true; });
      if (!socket.connecting) connected = true;
    });
    request.on('response', resolve);
    request.on('error', (err: NodeJS.ErrnoException) => {
      if (req.signal?.aborted) return reject(req.signal.reason);
      if (!connected) {
        return reject(new DpullError(describeConnectError(address, err), ExitCode.engineUnreachable, { cause: err }));
      }
      reject(new DpullError(`the connection to the engine at ${address.url} failed: ${err.message}`, ExitCode.pullFailed, { cause: err }));
    });
    request.end();
  });
}

/** Reads a whole (small) response body, up to `limit` bytes. */
export async function readBody(response: http.IncomingMessage, limit = 1 << 20): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += chunk.length;
    if (size > limit) break;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
