import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { usageError } from '../errors.js';
import type { Environment } from '../environment.js';
import { homeDir } from './docker-config.js';

// Mirrors and pull-through caches as the containers tools (podman, skopeo, buildah) read them from
// registries.conf (TOML, version 2): `[[registry]]` tables with `prefix` (what references it
// covers, longest match wins), `location` (where the registry really is; default the prefix),
// `insecure`, and `[[registry.mirror]]` tables (`location`, `insecure`, `pull-from-mirror` =
// "all" | "digest-only" | "tag-only"; the older `mirror-by-digest-only` on the registry).
// Files: CONTAINERS_REGISTRIES_CONF alone when set; else ~/.config/containers/registries.conf if
// it exists, else /etc/containers/registries.conf; then the `registries.conf.d/*.conf` beside it
// (and ~/.config/containers/registries.conf.d/), in name order, a later table for the same prefix
// replacing an earlier one.

export interface MirrorRule {
  location: string;
  insecure: boolean;
  pullFromMirror: 'all' | 'digest-only' | 'tag-only';
}

export interface RegistryRule {
  prefix: string;
  location: string;
  insecure: boolean;
  mirrors: MirrorRule[];
  /** The file it was read from, for messages. */
  file: string;
}

/** The files read, in order. */
export function registriesConfFiles(env: Environment = process.env): string[] {
  if (env.CONTAINERS_REGISTRIES_CONF) return existsSync(env.CONTAINERS_REGISTRIES_CONF) ? [env.CONTAINERS_REGISTRIES_CONF] : [];
  const user = join(homeDir(env), '.config', 'containers', 'registries.conf');
  const main = existsSync(user) ? user : '/etc/containers/registries.conf';
  const dropIns = [join(dirname(main), 'registries.conf.d'), join(homeDir(env), '.config', 'containers', 'registries.conf.d')].flatMap((dir) => {
    try {
      return readdirSync(dir).filter((name) => name.endsWith('.conf')).sort().map((name) => join(dir, name));
    } catch {
      return [];
    }
  });
  return [main, ...new Set(dropIns)].filter((file) => existsSync(file));
}

const text = (value: unknown, fallback: string) => (typeof value === 'string' ? value : fallback);

/** Every `[[registry]]` table of the files (none when there are none); a file that is not TOML is a usage error. */
export async function readRegistriesConf(env: Environment = process.env): Promise<RegistryRule[]> {
  // Most machines' files (podman's all-comment registries.conf, shortnames.conf) have no
  // [[registry]] table: the parser is loaded only for one that has.
  const files = registriesConfFiles(env)
    .map((file) => ({ file, source: readFileSync(file, 'utf8') }))
    .filter(({ source }) => /^\s*\[\[\s*registry\s*\]\]/m.test(source));
  if (files.length === 0) return [];
  const { parse } = await import('smol-toml');
  const rules = new Map<string, RegistryRule>();
  for (const { file, source } of files) {
    let parsed: Record<string, unknown>;
    try {
      parsed = parse(source) as Record<string, unknown>;
    } catch (err) {
      throw usageError(`${file} is not valid TOML: ${(err as Error).message.split('\n')[0]}`);
    }
    const tables = Array.isArray(parsed.registry) ? (parsed.registry as Record<string, unknown>[]) : [];
    for (const table of tables) {
      const location = text(table.location, '');
      const prefix = text(table.prefix, location);
      if (prefix === '') continue;
      const digestOnly = table['mirror-by-digest-only'] === true;
      const mirrors = (Array.isArray(table.mirror) ? (table.mirror as Record<string, unknown>[]) : [])
        .filter((mirror) => typeof mirror.location === 'string' && mirror.location !== '')
        .map((mirror): MirrorRule => {
          const mode = text(mirror['pull-from-mirror'], digestOnly ? 'digest-only' : 'all');
          if (mode !== 'all' && mode !== 'digest-only' && mode !== 'tag-only') throw usageError(`${file}: pull-from-mirror = "${mode}" is not all, digest-only or tag-only`);
          return { location: mirror.location as string, insecure: mirror.insecure === true, pullFromMirror: mode };
        });
      rules.set(prefix, { prefix, location: location === '' ? prefix : location, insecure: table.insecure === true, mirrors, file });
    }
  }
  return [...rules.values()];
}

/** Whether `prefix` covers `reference` (`domain/path`): equal, or followed by `/`; `*.example.com` any subdomain's. */
function covers(prefix: string, reference: string): boolean {
  if (prefix.startsWith('*.')) {
    const host = reference.split('/')[0];
    return host.endsWith(prefix.slice(1));
  }
  return reference === prefix || reference.startsWith(`${prefix}/`);
}

/** The rule for a repository (`domain/path`): the longest prefix that covers it. */
export function ruleFor(rules: RegistryRule[], repository: string): RegistryRule | undefined {
  return rules.filter((rule) => covers(rule.prefix, repository)).sort((a, b) => b.prefix.length - a.prefix.length)[0];
}
