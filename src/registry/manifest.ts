import { crypto } from '../builtins.js';
import type { ImageReference } from '../reference/reference.js';
import { pullError } from '../errors.js';
import { formatPlatform as platformOf } from '../reference/platform.js';
import { readAll, statusText, type RegistryClient } from './registry-client.js';
import { CONFIG_TYPES, LAYER_TYPES, MAX_CONFIG_BYTES, MAX_LAYERS, MAX_MANIFEST_BYTES, checkDescriptor, clip, referenceText, type Descriptor } from './descriptor.js';

export type { Descriptor };

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const MANIFEST_TYPES = [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST];

/** One platform's image: its manifest kept byte for byte (its digest is the registry's), config and layers. */
export interface ResolvedImage {
  manifest: { bytes: Buffer; digest: string; mediaType: string };
  config: Descriptor;
  layers: Descriptor[];
  platform: string;
  /** The index or list the platform was chosen from, byte for byte, when there was one. */
  index?: { bytes: Buffer; digest: string; mediaType: string };
  /** What the registry said of its pull limit on the manifest (Docker Hub's `ratelimit-*`). */
  rateLimit?: { limit?: number; remaining?: number; windowSeconds?: number };
}

const digestOf = (bytes: Buffer) => `sha256:${crypto().createHash('sha256').update(bytes).digest('hex')}`;

/** This machine's platform as images name it: `linux/amd64`, `linux/arm64`, `linux/arm/v7`. */
export function defaultPlatform(): string {
  const arch = { x64: 'amd64', arm64: 'arm64', arm: 'arm/v7', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' }[process.arch as string] ?? process.arch;
  return `linux/${arch}`;
}


async function fetchManifest(client: RegistryClient, repository: string, reference: string, expected?: string) {
  // node:crypto (~3 ms to load) loads while the registry answers: the digest needs it.
  const what = `the manifest of ${referenceText(repository, reference)}`;
  const response = await client.request(`/v2/${repository}/manifests/${reference}`, { repository, headers: { Accept: MANIFEST_TYPES.join(', ') }, whileWaiting: crypto });
  if (response.statusCode === 404) {
    response.resume();
    throw pullError(`manifest for ${client.domain}/${referenceText(repository, reference)} not found: manifest unknown`);
  }
  if (response.statusCode !== 200) {
    const body = (await readAll(response, 64 * 1024, 'an error').catch(() => Buffer.alloc(0))).toString('utf8');
    throw pullError(`${client.domain}: ${statusText(response)} for ${what}${body ? `: ${clip(body, 200)}` : ''}`);
  }
  const bytes = await readAll(response, MAX_MANIFEST_BYTES, what);
  const digest = digestOf(bytes);
  const claimed = response.headers['docker-content-digest'];
  // A digest reference must be what came; the registry's own word must be true where it gives one.
  if ((expected !== undefined && digest !== expected) || (typeof claimed === 'string' && claimed.startsWith('sha256:') && claimed !== digest)) {
    throw pullError(`${what} does not match its digest (${clip(expected ?? claimed)}, got ${digest})`);
  }
  const mediaType = String(response.headers['content-type'] ?? '').split(';')[0].trim();
  let parsed: { mediaType?: unknown; manifests?: unknown; config?: unknown; layers?: unknown };
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw pullError(`${what} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw pullError(`${what} is not a JSON object`);
  const limit = /^\s*(\d+)(?:;w=(\d+))?/.exec(String(response.headers['ratelimit-limit'] ?? ''));
  const remaining = /^\s*(\d+)/.exec(String(response.headers['ratelimit-remaining'] ?? ''));
  const rateLimit = limit || remaining
    ? { ...(limit && { limit: Number(limit[1]) }), ...(limit?.[2] && { windowSeconds: Number(limit[2]) }), ...(remaining && { remaining: Number(remaining[1]) }) }
    : undefined;
  // The body's own word first, then the header's; a body with neither says by its shape (old OCI tools).
  const shape = Array.isArray(parsed.manifests) ? OCI_INDEX : parsed.config !== undefined ? OCI_MANIFEST : '';
  const type = typeof parsed.mediaType === 'string' ? parsed.mediaType : MANIFEST_TYPES.includes(mediaType) ? mediaType : shape;
  if (!MANIFEST_TYPES.includes(type)) throw pullError(`${what} is of type "${clip(type)}", not an image manifest or index`);
  return { bytes, digest, mediaType: type, parsed, rateLimit, what };
}

/**
 * The image of one platform: the manifest (a list or index is resolved to `platform`, default
 * this machine's), each fetched by digest and checked against it.
 */
export async function resolveImage(client: RegistryClient, ref: ImageReference, platform = defaultPlatform()): Promise<ResolvedImage> {
  const first = await fetchManifest(client, ref.path, ref.digest ?? ref.tag ?? 'latest', ref.digest);
  let image = first;
  let index: ResolvedImage['index'];
  let chosen = platform;
  if (first.mediaType === OCI_INDEX || first.mediaType === DOCKER_LIST) {
    index = { bytes: first.bytes, digest: first.digest, mediaType: first.mediaType };
    if (!Array.isArray(first.parsed.manifests)) throw pullError(`${first.what} lists no manifests`);
    const entries = first.parsed.manifests.map((m, i) => checkDescriptor(m, `entry ${i + 1} of ${first.what}`, { maxSize: MAX_MANIFEST_BYTES }));
    const candidates = entries.filter((m) => m.platform?.os !== 'unknown' && (m.mediaType === OCI_MANIFEST || m.mediaType === DOCKER_MANIFEST));
    const match = candidates.find((m) => platformOf(m.platform) === platform) ??
      // linux/arm64 is linux/arm64/v8 too, as the docker CLI takes it.
      candidates.find((m) => platformOf({ ...m.platform, variant: undefined }) === platform && !platform.split('/')[2]);
    if (match === undefined) {
      const all = [...new Set(candidates.map((m) => platformOf(m.platform)))];
      const offered = all.length > 10 ? `${all.slice(0, 10).join(', ')} and ${all.length - 10} more` : all.join(', ');
      throw pullError(`${ref.domain}/${ref.path} has no image for ${platform}; it has ${offered || 'none'} (use --platform)`);
    }
    chosen = platformOf(match.platform);
    image = await fetchManifest(client, ref.path, match.digest, match.digest);
  }
  if (image.mediaType !== OCI_MANIFEST && image.mediaType !== DOCKER_MANIFEST) throw pullError(`${image.what} is not an image manifest`);
  const { config: rawConfig, layers: rawLayers } = image.parsed;
  if (!Array.isArray(rawLayers)) throw pullError(`${image.what} lists no layers`);
  if (rawLayers.length > MAX_LAYERS) throw pullError(`${image.what} lists ${rawLayers.length} layers; dpull takes at most ${MAX_LAYERS}`);
  const config = checkDescriptor(rawConfig, `the config of ${image.what.replace(/^the manifest of /, '')}`, { types: CONFIG_TYPES, maxSize: MAX_CONFIG_BYTES });
  const layers = rawLayers.map((l, i) => checkDescriptor(l, `layer ${i + 1} of ${image.what.replace(/^the manifest of /, '')}`, { types: LAYER_TYPES }));
  return {
    manifest: { bytes: image.bytes, digest: image.digest, mediaType: image.mediaType },
    config,
    layers,
    platform: chosen,
    ...(index !== undefined && { index }),
    ...(first.rateLimit !== undefined && { rateLimit: first.rateLimit }),
  };
}
