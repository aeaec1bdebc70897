import { usageError } from '../errors.js';
import type { ImageReference } from '../reference/reference.js';
import { ruleFor, type RegistryRule } from '../config/registries-conf.js';

/** One place an image can be pulled from: a mirror, or the registry itself. */
export interface Endpoint {
  /** `host[:port]` to connect to. */
  domain: string;
  /** The repository's path there. */
  path: string;
  /** HTTPS without checking the certificate, then plain HTTP. */
  insecure: boolean;
  /** Plain HTTP first (an `http://` mirror). */
  plain?: boolean;
  /** A mirror (or pull-through cache), not the registry the image is named by. */
  mirror: boolean;
}

/** A `--registry-mirror` as the daemon takes it: `http[s]://host[:port]`, nothing else. */
export function parseMirror(value: string): URL {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '') {
    throw usageError(`invalid --registry-mirror "${value}": expected http://HOST[:PORT] or https://HOST[:PORT]`);
  }
  return url;
}

/**
 * Where to pull `ref` from, in order: the daemon's way (`--registry-mirror`, Docker Hub only, tried
 * first), then the mirrors registries.conf gives the rule that covers it (those its
 * `pull-from-mirror` allows for a tag or a digest), then the registry itself (its `location` when a
 * rule moves it). Names, digests and the summary stay the reference's own.
 */
export function endpointsFor(ref: ImageReference, rules: RegistryRule[], daemonMirrors: string[], insecureRegistries: string[]): Endpoint[] {
  const repository = `${ref.domain}/${ref.path}`;
  const rule = ruleFor(rules, repository);
  /** `location` in place of what the rule's prefix covered. */
  const moved = (location: string): { domain: string; path: string } => {
    const rest = rule === undefined || rule.prefix.startsWith('*.') ? repository.slice(repository.indexOf('/')) : repository.slice(rule.prefix.length);
    const full = `${location.replace(/\/+$/, '')}${rest}`;
    const slash = full.indexOf('/');
    return slash < 0 ? { domain: full, path: ref.path } : { domain: full.slice(0, slash), path: full.slice(slash + 1) };
  };
  const origin: Endpoint = rule !== undefined && !rule.prefix.startsWith('*.')
    ? { ...moved(rule.location), insecure: rule.insecure, mirror: false }
    : { domain: ref.domain, path: ref.path, insecure: rule?.insecure === true, mirror: false };
  if (insecureRegistries.includes(origin.domain)) origin.insecure = true;
  const wanted = (mode: string) => mode === 'all' || (mode === 'digest-only') === (ref.digest !== undefined);
  const mirrors = (rule?.mirrors ?? [])
    .filter((mirror) => wanted(mirror.pullFromMirror))
    .map((mirror): Endpoint => ({ ...moved(mirror.location), insecure: mirror.insecure || insecureRegistries.includes(moved(mirror.location).domain), mirror: true }));
  const daemon = ref.domain === 'docker.io'
    ? daemonMirrors.map((value): Endpoint => {
        const url = parseMirror(value);
        return { domain: url.host, path: ref.path, insecure: url.protocol === 'http:', plain: url.protocol === 'http:', mirror: true };
      })
    : [];
  return [...daemon, ...mirrors, origin];
}
