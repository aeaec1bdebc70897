import type { ImageReference } from '../reference/reference.js';
import { RegistryClient, credentialsFromHeader } from './registry-client.js';
import { MANIFEST_TYPES } from './manifest.js';

/** What a registry says of its pull limit (Docker Hub's `ratelimit-*` headers) and when to come back. */
export interface RateLimit {
  limit?: number;
  remaining?: number;
  /** The limit's window in seconds (`w=21600`). */
  windowSeconds?: number;
  retryAfterSeconds?: number;
}

const number = (header: string | string[] | undefined) => {
  const m = typeof header === 'string' ? /^\s*(\d+)/.exec(header) : null;
  return m ? Number(m[1]) : undefined;
};
const windowOf = (header: string | string[] | undefined) => {
  const m = typeof header === 'string' ? /w=(\d+)/.exec(header) : null;
  return m ? Number(m[1]) : undefined;
};

/**
 * `Retry-After` in seconds from now: delta-seconds (`120`) or an HTTP-date
 * (`Wed, 21 Oct 2026 07:28:00 GMT`); undefined when it is neither.
 */
export function retryAfterSeconds(header: string | string[] | undefined, now = Date.now()): number | undefined {
  if (typeof header !== 'string') return undefined;
  const text = header.trim();
  if (/^\d{1,15}$/.test(text)) return Number(text);
  const date = /GMT$/.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

/**
 * Asks the registry itself about its pull limit with a HEAD of the manifest (which Docker Hub
 * does not count against the limit), as the user. Undefined when it cannot be asked.
 */
export async function askRateLimit(ref: ImageReference, registryAuth: string | undefined, signal?: AbortSignal): Promise<RateLimit | undefined> {
  try {
    const client = new RegistryClient(ref.domain, credentialsFromHeader(registryAuth), { ...(signal !== undefined && { signal }) });
    const response = await client.request(`/v2/${ref.path}/manifests/${ref.digest ?? ref.tag ?? 'latest'}`, {
      method: 'HEAD',
      repository: ref.path,
      headers: { Accept: MANIFEST_TYPES.join(', ') },
    });
    response.resume();
    client.close();
    const h = response.headers;
    const limit: RateLimit = {
      ...(number(h['ratelimit-limit']) !== undefined && { limit: number(h['ratelimit-limit']) }),
      ...(number(h['ratelimit-remaining']) !== undefined && { remaining: number(h['ratelimit-remaining']) }),
      ...(windowOf(h['ratelimit-limit']) !== undefined && { windowSeconds: windowOf(h['ratelimit-limit']) }),
      ...(retryAfterSeconds(h['retry-after']) !== undefined && { retryAfterSeconds: retryAfterSeconds(h['retry-after']) }),
    };
    return Object.keys(limit).length > 0 ? limit : undefined;
  } catch {
    if (signal?.aborted) throw signal.reason;
    return undefined;
  }
}
