import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { usageError } from '../errors.js';
import type { Environment } from '../environment.js';
import { tls } from '../builtins.js';
import { homeDir } from './docker-config.js';

// Which certificates a registry is checked against, and which client certificate dpull shows it,
// read from where docker and the containers tools (skopeo, podman, crane) read them:
// - the system's store, as Go reads it: SSL_CERT_FILE, else the first bundle of the list below
//   (where `update-ca-certificates` puts a company's CA) — Node on its own trusts only the roots it
//   ships with; and NODE_EXTRA_CA_CERTS, which Node adds;
// - per registry, `/etc/docker/certs.d/HOST[:PORT]/`, `/etc/containers/certs.d/HOST[:PORT]/` and
//   `~/.config/containers/certs.d/HOST[:PORT]/`: each `*.crt` a CA for that registry alone, a
//   `*.cert` with the `*.key` of the same name the client certificate (mutual TLS).
// DPULL_CERTS_D (folders separated by `:`) replaces the three folders (tests, unusual setups).

/** Go's crypto/x509 list for Linux, in its order. */
const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/pki/tls/cacert.pem',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

/** What a TLS connection to one registry is made with. */
export interface RegistryTls {
  /** Every CA trusted for it: Node's own roots, the system's, NODE_EXTRA_CA_CERTS, its certs.d CAs. */
  ca: (string | Buffer)[];
  cert?: Buffer;
  key?: Buffer;
  /** Where its own certificates would go, for the message when it is not trusted. */
  certsDirs: string[];
}

/** The certs.d folders, in the order they are read. */
export function certsDRoots(env: Environment = process.env): string[] {
  if (env.DPULL_CERTS_D) return env.DPULL_CERTS_D.split(':').filter((dir) => dir !== '');
  return ['/etc/docker/certs.d', '/etc/containers/certs.d', join(homeDir(env), '.config', 'containers', 'certs.d')];
}

function read(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw usageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The TLS settings for the registry `host` (`name` or `name:port`, as in the image reference). */
export function registryTls(host: string, env: Environment = process.env): RegistryTls {
  const ca: (string | Buffer)[] = [...tls().rootCertificates];
  const system = env.SSL_CERT_FILE ? env.SSL_CERT_FILE : SYSTEM_BUNDLES.find((file) => existsSync(file));
  if (system !== undefined && existsSync(system)) ca.push(read(system));
  if (env.NODE_EXTRA_CA_CERTS && existsSync(env.NODE_EXTRA_CA_CERTS)) ca.push(read(env.NODE_EXTRA_CA_CERTS));
  const certsDirs = certsDRoots(env).map((root) => join(root, host));
  const result: RegistryTls = { ca, certsDirs };
  for (const dir of certsDirs) {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue; // no folder for this registry there
    }
    for (const name of names) {
      if (name.endsWith('.crt')) ca.push(read(join(dir, name)));
      if (name.endsWith('.cert') && result.cert === undefined) {
        const key = join(dir, `${name.slice(0, -'.cert'.length)}.key`);
        if (!existsSync(key)) throw usageError(`${join(dir, name)} has no key beside it (${key}): a client certificate needs both`);
        result.cert = read(join(dir, name));
        result.key = read(key);
      }
    }
  }
  return result;
}
