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
      ...(number(h['retry-after']) !== undefined && { retryAfterSeconds: number(h['retry-after']) }),
    };
    return Object.keys(limit).length > 0 ? limit : undefined;
  } catch {
    if (signal?.aborted) throw signal.reason;
    return undefined;
  }
}
