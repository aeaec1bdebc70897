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
  /**
   * The CAs trusted for it beyond Node's own roots, which its secure context starts from (Node's
   * store, parsed once a process): the system's that Node does not ship, NODE_EXTRA_CA_CERTS, its
   * certs.d CAs; PEM text, added to that context alone (Node copies the store for it).
   */
  extraCa: string[];
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

/** A PEM text's blocks, with the base64 of each (what two copies of one certificate share). */
const pemBlocks = (text: string) => [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g)].map((m) => ({ block: m[0], body: m[2].replace(/\s+/g, '') }));

let nodeRoots: Set<string> | undefined;

/**
 * The certificates of a bundle that Node does not ship. Node 20 takes ~0.4 ms to add each
 * certificate to a context of its own, ~0.2 ms to put one in its shared store: a context made of
 * Node's roots and the system's (both Mozilla's) took 115 ms of an HTTPS pull's start; Node's
 * store and the 22 the system adds take 36.
 */
function notNodes(text: string): string {
  nodeRoots ??= new Set(tls().rootCertificates.map((pem) => pemBlocks(pem)[0]?.body ?? pem));
  return pemBlocks(text).filter(({ body }) => !nodeRoots!.has(body)).map(({ block }) => block).join('\n');
}

/** The TLS settings for the registry `host` (`name` or `name:port`, as in the image reference). */
export function registryTls(host: string, env: Environment = process.env): RegistryTls {
  const extraCa: string[] = [];
  const system = env.SSL_CERT_FILE ? env.SSL_CERT_FILE : SYSTEM_BUNDLES.find((file) => existsSync(file));
  if (system !== undefined && existsSync(system)) extraCa.push(notNodes(read(system).toString('latin1')));
  if (env.NODE_EXTRA_CA_CERTS && existsSync(env.NODE_EXTRA_CA_CERTS)) extraCa.push(read(env.NODE_EXTRA_CA_CERTS).toString('latin1'));
  const certsDirs = certsDRoots(env).map((root) => join(root, host));
  const result: RegistryTls = { extraCa, certsDirs };
  for (const dir of certsDirs) {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue; // no folder for this registry there
    }
    for (const name of names) {
      if (name.endsWith('.crt')) extraCa.push(read(join(dir, name)).toString('latin1'));
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
