import { usageError } from '../errors.js';

/**
 * An image reference normalised the way the docker CLI does it (distribution/reference's
 * ParseNormalizedNamed): `nginx` is `docker.io/library/nginx`, a first path component is a
 * registry only when it is `localhost` or holds a `.` or `:`.
 */
export interface ImageReference {
  /** Registry host (and port): `docker.io`, `127.0.0.1:5000`. */
  domain: string;
  /** Repository path inside the registry: `library/nginx`. */
  path: string;
  /** `domain/path`: what the engine gets as `fromImage`. */
  name: string;
  tag?: string;
  digest?: string;
}

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
export const DEFAULT_TAG = 'latest';
const NAME_MAX = 255;

// The grammar of distribution/reference (reference/regexp.go), anchored.
const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const domain = `(?:${domainName}|${ipv6})(?::[0-9]+)?`;
const tag = '[\\w][\\w.-]{0,127}';
const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const referenceRe = new RegExp(
  `^((?:${domain}/)?${pathComponent}(?:/${pathComponent})*)(?::(${tag}))?(?:@(${digest}))?$`,
);
const digestRe = new RegExp(`^${digest}$`);
const anchoredHex64 = /^[a-f0-9]{64}$/;
const sha256Digest = /^sha256:[a-f0-9]{64}$/;

const formatError = (input: string, why: string) =>
  usageError(`invalid reference format: ${why} (in "${input}")`);

function splitDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  const isDomain = first !== '' && (first === 'localhost' || /[.:]/.test(first) || first !== first.toLowerCase());
  let domain = DEFAULT_DOMAIN;
  let remainder = name;
  if (isDomain) {
    domain = first;
    remainder = name.slice(slash + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = `library/${remainder}`;
  return { domain, remainder };
}

/** Parses and normalises an image reference; throws a usage error (exit 2) when it is invalid. */
export function parseReference(input: string): ImageReference {
  if (input.trim() === '') throw usageError('invalid reference format: the image name is empty');
  if (anchoredHex64.test(input)) {
    throw usageError(`invalid repository name (${input}), cannot specify 64-byte hexadecimal strings`);
  }
  // Split off digest and tag before the domain so that `host:5000/x` keeps its port.
  const at = input.indexOf('@');
  const beforeDigest = at === -1 ? input : input.slice(0, at);
  const lastColon = beforeDigest.lastIndexOf(':');
  const nameOnly = lastColon > beforeDigest.lastIndexOf('/') ? beforeDigest.slice(0, lastColon) : beforeDigest;
  const { domain: dom, remainder } = splitDomain(nameOnly);
  if (remainder !== remainder.toLowerCase()) {
    throw usageError(`invalid reference format: repository name (${remainder}) must be lowercase`);
  }

  const normalised = `${dom}/${remainder}${input.slice(nameOnly.length)}`;
  const match = referenceRe.exec(normalised);
  if (!match) {
    if (at !== -1 && !digestRe.test(input.slice(at + 1))) {
      throw formatError(input, 'the digest must look like sha256:<64 hex digits>');
    }
    throw formatError(input, 'expected [registry/]name[:tag][@digest]');
  }
  const [, name, tagPart, digestPart] = match;
  if (name.length > NAME_MAX) {
    throw usageError(`invalid reference format: repository name must not be more than ${NAME_MAX} characters`);
  }
  if (digestPart !== undefined && digestPart.startsWith('sha256:') && !sha256Digest.test(digestPart)) {
    throw formatError(input, 'the digest must look like sha256:<64 hex digits>');
  }
  return {
    domain: dom,
    path: name.slice(dom.length + 1),
    name,
    ...(tagPart !== undefined && { tag: tagPart }),
    ...(digestPart !== undefined && { digest: digestPart }),
  };
}

/** Adds the default tag when the reference names neither a tag nor a digest. */
export function withDefaultTag(ref: ImageReference): ImageReference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: DEFAULT_TAG } : ref;
}

/** The full reference as the docker CLI prints it: `docker.io/library/nginx:1.27`. */
export function formatReference(ref: ImageReference): string {
  return `${ref.name}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}
