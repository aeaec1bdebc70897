import http from 'node:http';
import type { EngineAddress } from './address.js';
import { DpullError, ExitCode } from '../errors.js';
import { sanitize } from '../sanitize.js';
import { SshConnection, sshAgent } from './ssh-connection.js';
import { https } from '../builtins.js';

export interface EngineRequest {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** The first request to an engine (`/_ping`): a failure before its answer means no engine there (exit 3). */
  probe?: boolean;
  /** A body to stream to the engine (`POST /images/load`: an archive). */
  body?: import('node:stream').Readable;
  /** Told how many of the body's bytes have gone to the connection (their buffers may be reused). */
  onSent?: (bytes: number) => void;
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
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_SIGNATURE_FAILURE':
      return `cannot connect to ${where}: TLS: the engine's certificate is not signed by the CA given (${err.code})`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `cannot connect to ${where}: TLS: the engine's certificate is not for this host name`;
    case 'CERT_HAS_EXPIRED':
      return `cannot connect to ${where}: TLS: the engine's certificate has expired`;
    case 'EPROTO':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return `cannot connect to ${where}: it does not speak TLS (a plain-HTTP port: leave out --tls/--tlsverify, or use the engine's TLS port)`;
    case 'ECONNRESET':
      return `cannot connect to ${where}: the connection was reset (a TLS port without --tls, or a client certificate the engine refused?)`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `cannot connect to ${where}: host unreachable`;
    default:
      return `cannot connect to ${where}: ${sanitize(err.message.split("\n")[0])}`;
  }
}

/**
 * Something answered the first request, but not in HTTP an engine speaks: a garbled answer, a
 * header too large, or a connection closed at once (a TLS port spoken to in plain HTTP).
 */
function notAnEngine(address: EngineAddress, tls: boolean, err: NodeJS.ErrnoException, socket?: unknown): DpullError {
  // Over ssh, text where HTTP was due is the far side's own word (its shell refusing the account): pass it on.
  const said = socket instanceof SshConnection ? socket.saidInstead : undefined;
  if (said !== undefined && err.code?.startsWith('HPE_')) {
    return new DpullError(`cannot connect to the Docker engine at ${address.url}: the far side said: ${said}`, ExitCode.engineUnreachable, { cause: err });
  }
  const where = `${address.url} does not answer like a Docker engine`;
  const why =
    err.code === 'HPE_HEADER_OVERFLOW' ? 'its answer has headers too large to be one'
    : err.code?.startsWith('HPE_') ? `its answer is not HTTP${address.kind === 'unix' ? ` (containerd's socket? that is -H containerd://${address.socketPath})` : ''}`
    : err.code === 'ECONNRESET' && !tls ? 'it closed the connection at once (a TLS port? use --tlsverify)'
    : err.code ?? 'the connection failed';
  return new DpullError(`${where}: ${why}`, ExitCode.engineUnreachable, { cause: err });
}

/** How node:http reaches the engine: a socket path (unix, a Windows pipe), a host, or ssh's stdio. */
function connectionTarget(address: EngineAddress): http.RequestOptions {
  switch (address.kind) {
    case 'unix':
      return { socketPath: address.socketPath, host: 'localhost' };
    case 'npipe':
      return { socketPath: address.pipePath, host: 'localhost' };
    case 'tcp':
      return { host: address.host, port: address.port };
    case 'ssh':
      return { host: 'localhost' }; // the connection is the ssh agent's
    case 'containerd':
      // (A bug if reached: containerd is filled through load-into-containerd.ts, over gRPC.)
      throw new DpullError(`${address.url} is containerd, which has no Docker Engine API`, ExitCode.engineUnreachable);
  }
}

/**
 * Sends one request to the engine and resolves with the response once its headers arrive.
 * Failing to connect is an `engineUnreachable` error; an abort rejects with the signal's reason.
 */
export function requestEngine(address: EngineAddress, req: EngineRequest): Promise<http.IncomingMessage> {
  if (address.kind === 'npipe' && process.platform !== 'win32') {
    return Promise.reject(new DpullError(`npipe:// engines exist only on Windows (${address.url})`, ExitCode.engineUnreachable));
  }
  const target = connectionTarget(address);
  const tls = address.kind === 'tcp' ? address.tls : undefined;
  const asBuffer = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const tlsOptions = tls && { ca: asBuffer(tls.ca), cert: asBuffer(tls.cert), key: asBuffer(tls.key), rejectUnauthorized: tls.verify };
  return new Promise((resolve, reject) => {
    const request = (tls ? https() : http).request({
      ...tlsOptions,
      ...target,
      method: req.method,
      path: req.path,
      headers: { 'User-Agent': 'dpull', ...req.headers },
      signal: req.signal,
      // No pooled keep-alive socket holding the process open after the pull; ssh keeps its session
      // for the next request (its agent: starting ssh is the slow part).
      agent: address.kind === 'ssh' ? sshAgent(address) : false,
      // No TLS, no server name to send: saying so spares node:http working one out from the
      // host, which compiles its IPv6 expression (~8 ms of a pull's start).
      ...(tls === undefined && { servername: '' }),
    });
    // Connected means ready to talk: for TLS, after the handshake (a TLS failure is "unreachable").
    let connected = false;
    request.on('socket', (socket) => {
      socket.once(tls ? 'secureConnect' : 'connect', () => { connected = true; });
      if (!tls && !socket.connecting) connected = true;
    });
    request.on('response', resolve);
    request.on('error', (err: NodeJS.ErrnoException) => {
      if (req.signal?.aborted) return reject(req.signal.reason);
      if (err instanceof DpullError) return reject(err); // the transport's own account (ssh)
      if (!connected) {
        return reject(new DpullError(describeConnectError(address, err), ExitCode.engineUnreachable, { cause: err }));
      }
      if (req.probe === true) return reject(notAnEngine(address, tls !== undefined, err, request.socket));
      reject(new DpullError(`the connection to the engine at ${address.url} failed: ${err.message}`, ExitCode.pullFailed, { cause: err }));
    });
    if (req.body === undefined) request.end();
    else {
      const body = req.body;
      body.on('error', (err) => request.destroy(err));
      // An engine that hangs up mid-upload: the body stops being made (and read from disk).
      request.on('error', () => body.destroy());
      // (As pipe() does, with each chunk's write told when it has gone to the connection.)
      let sent = 0;
      body.on('data', (chunk: Buffer) => {
        const more = request.write(chunk, () => req.onSent?.((sent += chunk.length)));
        if (!more) {
          body.pause();
          request.once('drain', () => body.resume());
        }
      });
      body.on('end', () => request.end());
    }
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
