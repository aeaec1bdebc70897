import { pullError } from '../errors.js';
import { sanitize } from '../sanitize.js';

// What a registry says of content (digests, sizes, media types, platforms) is checked here, where
// it enters, before any of it names a file, sizes a buffer or reaches the screen. A digest is
// later a file name (blobs/sha256/HEX), a tar entry and a layer's id on screen: only the exact
// form passes, never `sha256:HEX:../../x` or a 100 KB string.

/** A content descriptor: what a manifest says of a blob (or of another manifest), checked. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
}

/** The largest manifest or index dpull reads (distribution and containerd take 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 << 20;
/** The largest image config dpull reads: it is parsed whole (configs of real images are a few KB). */
export const MAX_CONFIG_BYTES = 8 << 20;
/** Layers one image may have (the docker engine's own stores stop at 128; the display keeps 1000). */
export const MAX_LAYERS = 1000;

const DIGEST = /^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$/;
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
const PLATFORM_PART = /^[A-Za-z0-9._-]{1,32}$/;

export const CONFIG_TYPES = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);
export const LAYER_TYPES = new Set([
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
]);

/** Registry text in an error message: printable, and never longer than `max` characters. */
export function clip(text: unknown, max = 80): string {
  const clean = sanitize(String(text));
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

export const isDigest = (value: unknown): value is string => typeof value === 'string' && DIGEST.test(value);

/** `repo@sha256:…` for a digest, `repo:tag` for a tag. */
export const referenceText = (repository: string, reference: string) => `${repository}${isDigest(reference) ? '@' : ':'}${reference}`;

/** A platform field (`os`, `architecture`, `variant`) when it is a plain word, else undefined. */
export const platformPart = (value: unknown): string | undefined => (typeof value === 'string' && PLATFORM_PART.test(value) ? value : undefined);

/**
 * A descriptor from a manifest or index, checked: a sha256/sha512 digest in its one exact form, a
 * size that is a whole number from 0 up (within `maxSize`), a media type of the right shape (and
 * of `types`, when given). `what` names it in the error: `layer 3 of demo/app:1.0`.
 */
export function checkDescriptor(raw: unknown, what: string, options: { types?: Set<string>; maxSize?: number } = {}): Descriptor {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw pullError(`${what} is not a content descriptor`);
  const { mediaType, digest, size, platform } = raw as Record<string, unknown>;
  if (!isDigest(digest)) throw pullError(`${what} has an invalid digest "${clip(digest)}"`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw pullError(`${what} (${digest}) has an invalid size ${clip(JSON.stringify(size) ?? 'none')}`);
  if (options.maxSize !== undefined && size > options.maxSize) {
    throw pullError(`${what} (${digest}) says it is ${size} bytes; dpull reads at most ${options.maxSize} for it`);
  }
  if (typeof mediaType !== 'string' || !MEDIA_TYPE.test(mediaType)) throw pullError(`${what} (${digest}) has an invalid media type "${clip(mediaType)}"`);
  if (options.types !== undefined && !options.types.has(mediaType)) {
    throw pullError(`${what} (${digest}) is of type ${mediaType}, not a container image's`);
  }
  const checked: Descriptor = { mediaType, digest, size };
  if (typeof platform === 'object' && platform !== null) {
    const { os, architecture, variant } = platform as Record<string, unknown>;
    checked.platform = {
      ...(platformPart(os) !== undefined && { os: platformPart(os) }),
      ...(platformPart(architecture) !== undefined && { architecture: platformPart(architecture) }),
      ...(platformPart(variant) !== undefined && { variant: platformPart(variant) }),
    };
  }
  return checked;
}
