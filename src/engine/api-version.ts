import type { EngineAddress } from './address.js';
import { readBody, requestEngine } from './transport.js';
import { DpullError, ExitCode } from '../errors.js';

/** The newest API version dpull speaks (Docker 29). */
export const MAX_API_VERSION = '1.52';
/** How long an engine may take to answer `GET /_ping`. */
const PING_TIMEOUT_MS = 30_000;
/** Engines that send no version speak at least this much of the API. */
const FALLBACK_API_VERSION = '1.24';

function compareVersions(a: string, b: string): number {
  const [aMajor, aMinor] = a.split('.').map(Number);
  const [bMajor, bMinor] = b.split('.').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}

export const versionAtLeast = (version: string, min: string) => compareVersions(version, min) >= 0;

/**
 * Pings the engine (`GET /_ping`, unversioned) and returns the API version to use: the lower of
 * ours and the engine's, so a request never asks for more than the engine speaks.
 */
export async function negotiateApiVersion(address: EngineAddress, signal?: AbortSignal): Promise<string> {
  // An engine that accepts the connection and never answers its ping is not waited on for ever.
  const deadline = AbortSignal.timeout(PING_TIMEOUT_MS);
  const either = signal === undefined ? deadline : AbortSignal.any([signal, deadline]);
  let response: Awaited<ReturnType<typeof requestEngine>>;
  let body: string;
  try {
    response = await requestEngine(address, { method: 'GET', path: '/_ping', signal: either, probe: true });
    body = await readBody(response, 4096);
  } catch (err) {
    if (signal?.aborted !== true && deadline.aborted) {
      throw new DpullError(`${address.url} did not answer its ping within ${PING_TIMEOUT_MS / 1000}s`, ExitCode.engineUnreachable);
    }
    throw err;
  }
  const header = response.headers['api-version'];
  const engineVersion = typeof header === 'string' && /^\d+\.\d+$/.test(header) ? header : undefined;
  if (/HTTP request to an HTTPS server/.test(body)) {
    throw new DpullError(`${address.url} speaks TLS: use --tlsverify (with its CA and a client certificate), or --tls`, ExitCode.engineUnreachable);
  }
  if (response.statusCode !== 200 || (engineVersion === undefined && body.trim() !== 'OK')) {
    throw new DpullError(
      `${address.url} does not answer like a Docker engine (GET /_ping: HTTP ${response.statusCode})`,
      ExitCode.engineUnreachable,
    );
  }
  const version = engineVersion ?? FALLBACK_API_VERSION;
  return compareVersions(version, MAX_API_VERSION) < 0 ? version : MAX_API_VERSION;
}
