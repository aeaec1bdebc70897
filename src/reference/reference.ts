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
// A name's registry as the grammar reads it: a first component that is no valid domain is path.
const nameRe = new RegExp(`^(?:(${domain})/)?(.+)$`);
const anchoredHex64 = /^[a-f0-9]{64}$/;

const formatError = (input: string, why: string) =>
  usageError(`invalid reference format: ${why} (in "${input}")`);

/** The digest algorithms the docker CLI can verify, and the length of each one's hex. */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/**
 * Splits off the registry as distribution/reference's splitDockerDomain does, on the whole
 * input (tag and digest included): the first component is a registry when it is `localhost`,
 * holds a `.` or `:`, or is not lowercase; `index.docker.io` is `docker.io`; a name on Docker
 * Hub with no `/` is in `library/`.
 */
function splitDomain(input: string): { domain: string; remainder: string } {
  const slash = input.indexOf('/');
  if (slash === -1) return { domain: DEFAULT_DOMAIN, remainder: `library/${input}` };
  const first = input.slice(0, slash);
  const isDomain = first === 'localhost' || /[.:]/.test(first) || first !== first.toLowerCase();
  let domain = isDomain ? first : DEFAULT_DOMAIN;
  let remainder = isDomain ? input.slice(slash + 1) : input;
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = `library/${remainder}`;
  return { domain, remainder };
}

/** The digest checked as go-digest checks it: an algorithm the CLI has, of its length, lowercase hex. */
function checkDigest(input: string, digest: string): void {
  const [algorithm, hex] = [digest.slice(0, digest.indexOf(':')), digest.slice(digest.indexOf(':') + 1)];
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) {
    throw formatError(input, `unsupported digest algorithm "${algorithm}" (sha256, sha384 and sha512 are)`);
  }
  if (hex.length !== length || !/^[a-f0-9]*$/.test(hex)) {
    throw formatError(input, `the digest must look like ${algorithm}:<${length} lowercase hex digits>`);
  }
}

/**
 * Parses and normalises an image reference as the docker CLI does (ParseNormalizedNamed, checked
 * against distribution/reference itself in the tests); throws a usage error (exit 2) when it is
 * invalid, saying more precisely than the CLI what is wrong.
 */
export function parseReference(input: string): ImageReference {
  if (input.trim() === '') throw usageError('invalid reference format: the image name is empty');
  if (anchoredHex64.test(input)) {
    throw usageError(`invalid repository name (${input}), cannot specify 64-byte hexadecimal strings`);
  }
  const { domain: dom, remainder } = splitDomain(input);
  // The CLI names the repository up to the first `:` of what follows the registry.
  const colon = remainder.indexOf(':');
  const remote = colon === -1 ? remainder : remainder.slice(0, colon);
  if (remote !== remote.toLowerCase()) {
    throw usageError(`invalid reference format: repository name (${remote}) must be lowercase`);
  }

  const match = referenceRe.exec(`${dom}/${remainder}`);
  if (!match) {
    const at = input.indexOf('@');
    if (at !== -1 && !digestRe.test(input.slice(at + 1))) {
      throw formatError(input, 'the digest must look like sha256:<64 hex digits>');
    }
    throw formatError(input, 'expected [registry/]name[:tag][@digest]');
  }
  const [, name, tagPart, digestPart] = match;
  const path = nameRe.exec(name)![2];
  if (path.length > NAME_MAX) {
    throw usageError(`invalid reference format: repository name must not be more than ${NAME_MAX} characters`);
  }
  if (digestPart !== undefined) checkDigest(input, digestPart);
  return {
    domain: dom,
    path,
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
