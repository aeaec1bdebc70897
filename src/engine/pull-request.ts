import type { IncomingMessage } from 'node:http';
import type { EngineAddress } from './address.js';
import { readBody, requestEngine } from './transport.js';
import { versionAtLeast } from './api-version.js';
import { pullError, usageError } from '../errors.js';
import { sanitize } from '../sanitize.js';

export interface PullRequest {
  /** `fromImage`: the full repository name, `docker.io/library/nginx`. */
  name: string;
  /** A tag or a digest; absent with `allTags`. */
  tag?: string;
  platform?: string;
  /** The `X-Registry-Auth` header value; `e30=` (`{}`) when there are no credentials. */
  registryAuth?: string;
  signal?: AbortSignal;
}

const NO_CREDENTIALS = 'e30=';

/** The engine's own words from an error response (`{"message": …}`), or the HTTP status. */
export function errorMessage(status: number | undefined, body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string' && parsed.message !== '') return sanitize(parsed.message);
  } catch {
    // not JSON: fall through to the raw text
  }
  const text = sanitize(body).trim().slice(0, 300);
  return text !== '' ? text : `the engine answered HTTP ${status}`;
}

/**
 * Sends `POST /vX/images/create` and resolves with the streaming response body once the engine
 * has accepted the pull. A refusal before the stream starts (4xx/5xx) is a pull error with the
 * engine's message.
 */
export async function requestPull(
  address: EngineAddress,
  apiVersion: string,
  request: PullRequest,
): Promise<IncomingMessage> {
  const query = new URLSearchParams({ fromImage: request.name });
  if (request.tag !== undefined) query.set('tag', request.tag);
  if (request.platform !== undefined) {
    if (!versionAtLeast(apiVersion, '1.32')) {
      throw usageError(`--platform needs API 1.32 or newer; the engine at ${address.url} speaks ${apiVersion}`);
    }
    query.set('platform', request.platform);
  }
  const response = await requestEngine(address, {
    method: 'POST',
    path: `/v${apiVersion}/images/create?${query}`,
    headers: { 'X-Registry-Auth': request.registryAuth ?? NO_CREDENTIALS },
    signal: request.signal,
  });
  if (response.statusCode !== 200) {
    throw pullError(errorMessage(response.statusCode, await readBody(response)));
  }
  return response;
}
