import type { EngineAddress } from './address.js';
import { readBody, requestEngine } from './transport.js';
import { sanitize } from '../sanitize.js';
import { formatPlatform } from '../reference/platform.js';
import type { RateLimitWords } from '../decode/pull-event.js';

/** The image as the engine holds it after a pull: what `docker images` would say of it. */
export interface EngineImage {
  /** The engine's image ID (on the containerd store, the manifest's or index's digest). */
  id?: string;
  /** Bytes on disk as the engine reports them (with -a, of every image of the repository). */
  size?: number;
  /** `os/arch[/variant]`. */
  platform?: string;
  /** With -a: how many images of the repository the engine has. */
  images?: number;
  /** Why the engine's view could not be had; the pull itself succeeded. */
  warning?: string;
  /** Pulled straight from a registry that says its limit (Docker Hub): what is left of it. */
  rateLimit?: RateLimitWords;
}

interface ListedImage {
  Id?: unknown;
  Size?: unknown;
}

export async function getJson(address: EngineAddress, path: string, signal?: AbortSignal): Promise<{ status: number; body: unknown }> {
  const response = await requestEngine(address, { method: 'GET', path, ...(signal !== undefined && { signal }) });
  const text = await readBody(response, 4 << 20);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.statusCode ?? 0, body };
}

/**
 * The engine's own view of what was pulled: `GET /images/json` filtered by the reference (the
 * repository with -a; `name@digest` for a digest pull) for ID and size, `GET /images/REF/json`
 * for the platform. `undefined` when the engine says it has no such image; a `warning` when it
 * could not be asked.
 */
export async function lookUpImage(
  address: EngineAddress,
  apiVersion: string,
  reference: string,
  allTags: boolean,
  signal?: AbortSignal,
): Promise<EngineImage | undefined> {
  try {
    const filters = encodeURIComponent(JSON.stringify({ reference: [reference] }));
    const listed = await getJson(address, `/v${apiVersion}/images/json?filters=${filters}`, signal);
    if (listed.status !== 200 || !Array.isArray(listed.body)) {
      return { warning: `the engine did not list the image (GET /images/json: HTTP ${listed.status})` };
    }
    const images = (listed.body as ListedImage[]).filter((i) => typeof i?.Id === 'string');
    if (images.length === 0) return undefined;
    const size = images.reduce((sum, i) => sum + (typeof i.Size === 'number' && i.Size >= 0 ? i.Size : 0), 0);
    if (allTags) return { images: images.length, size };
    const image: EngineImage = { id: sanitize(images[0].Id as string), size };
    const inspected = await getJson(address, `/v${apiVersion}/images/${encodeURIComponent(reference)}/json`, signal);
    const { Os, Architecture, Variant } = (inspected.body ?? {}) as Record<string, unknown>;
    if (inspected.status === 200 && typeof Os === 'string' && typeof Architecture === 'string') {
      image.platform = sanitize(formatPlatform({ os: Os, architecture: Architecture, ...(typeof Variant === 'string' && { variant: Variant }) }));
    }
    return image;
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    return { warning: `the engine could not be asked about the image: ${sanitize((err as Error).message)}` };
  }
}
