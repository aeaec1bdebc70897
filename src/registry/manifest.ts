import { crypto } from '../builtins.js';
import type { ImageReference } from '../reference/reference.js';
import { pullError } from '../errors.js';
import { formatPlatform as platformOf } from '../reference/platform.js';
import { sanitize } from '../sanitize.js';
import { readAll, type RegistryClient } from './registry-client.js';

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const MANIFEST_TYPES = [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST];
const MAX_MANIFEST_BYTES = 4 << 20;

/** A content descriptor: what a manifest says of a blob (or of another manifest). */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
}

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
  const response = await client.request(`/v2/${repository}/manifests/${reference}`, { repository, headers: { Accept: MANIFEST_TYPES.join(', ') }, whileWaiting: crypto });
  if (response.statusCode === 404) {
    response.resume();
    throw pullError(`manifest for ${client.domain}/${repository}:${reference} not found: manifest unknown`);
  }
  if (response.statusCode !== 200) {
    const body = (await readAll(response, 64 * 1024).catch(() => Buffer.alloc(0))).toString('utf8');
    throw pullError(`${client.domain}: ${response.statusCode} ${response.statusMessage ?? ''} for the manifest of ${repository}:${reference}${body ? `: ${sanitize(body).slice(0, 200)}` : ''}`);
  }
  const bytes = await readAll(response, MAX_MANIFEST_BYTES);
  const digest = digestOf(bytes);
  const claimed = response.headers['docker-content-digest'];
  // A digest reference must be what came; the registry's own word must be true where it gives one.
  if ((expected !== undefined && digest !== expected) || (typeof claimed === 'string' && claimed.startsWith('sha256:') && claimed !== digest)) {
    throw pullError(`the manifest of ${repository}:${reference} does not match its digest (${expected ?? claimed}, got ${digest})`);
  }
  const mediaType = String(response.headers['content-type'] ?? '').split(';')[0].trim();
  let parsed: { mediaType?: string; manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw pullError(`the manifest of ${repository}:${reference} is not JSON`);
  }
  const limit = /^\s*(\d+)(?:;w=(\d+))?/.exec(String(response.headers['ratelimit-limit'] ?? ''));
  const remaining = /^\s*(\d+)/.exec(String(response.headers['ratelimit-remaining'] ?? ''));
  const rateLimit = limit || remaining
    ? { ...(limit && { limit: Number(limit[1]) }), ...(limit?.[2] && { windowSeconds: Number(limit[2]) }), ...(remaining && { remaining: Number(remaining[1]) }) }
    : undefined;
  return { bytes, digest, mediaType: parsed.mediaType ?? mediaType, parsed, rateLimit };
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
  if (first.parsed.manifests !== undefined) {
    index = { bytes: first.bytes, digest: first.digest, mediaType: first.mediaType };
    const candidates = first.parsed.manifests.filter((m) => m.platform?.os !== 'unknown');
    const match = candidates.find((m) => platformOf(m.platform) === platform) ??
      // linux/arm64 is linux/arm64/v8 too, as the docker CLI takes it.
      candidates.find((m) => platformOf({ ...m.platform, variant: undefined }) === platform && !platform.split('/')[2]);
    if (match === undefined) {
      const offered = [...new Set(candidates.map((m) => platformOf(m.platform)))].join(', ');
      throw pullError(`${ref.domain}/${ref.path} has no image for ${platform}; it has ${offered || 'none'} (use --platform)`);
    }
    chosen = platformOf(match.platform);
    image = await fetchManifest(client, ref.path, match.digest, match.digest);
  }
  const { config, layers } = image.parsed;
  if (config === undefined || !Array.isArray(layers)) throw pullError(`the manifest of ${ref.path} is not an image manifest`);
  return {
    manifest: { bytes: image.bytes, digest: image.digest, mediaType: image.mediaType },
    config,
    layers,
    platform: chosen,
    ...(index !== undefined && { index }),
    ...(first.rateLimit !== undefined && { rateLimit: first.rateLimit }),
  };
}
