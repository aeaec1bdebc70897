import { execFile } from 'node:child_process';
import { DpullError, ExitCode, usageError } from '../errors.js';
import { sanitize } from '../sanitize.js';
import { parseConfig, type DockerConfig } from './docker-config.js';
import type { Environment } from '../environment.js';

/** Docker Hub's key in config.json, as the docker CLI writes it. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
/** `{}`: what the docker CLI sends when it has no credentials. */
export const NO_CREDENTIALS = 'e30=';
const HELPER_TIMEOUT_MS = 15_000;

interface Credentials {
  username?: string;
  password?: string;
  identitytoken?: string;
}

/** The config.json key for a registry domain. */
export const registryKey = (domain: string) => (domain === 'docker.io' ? DOCKER_HUB_KEY : domain);

/** The host part of an `auths` key, for legacy keys such as `https://host/v1/`. */
const keyHost = (key: string) => key.replace(/^https?:\/\//, '').replace(/\/.*$/, '');

// URL-safe base64 *with* padding: the engine decodes with Go's base64.URLEncoding, which older
// daemons (20.10) require padded; Node's 'base64url' leaves the padding off.
const encode = (payload: object) =>
  Buffer.from(JSON.stringify(payload)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');

/** Runs `docker-credential-<helper> get` (no shell) with the registry on stdin. */
function runHelper(helper: string, server: string): Promise<Credentials | undefined> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(helper)) {
    return Promise.reject(usageError(`refusing credential helper "${sanitize(helper)}": a helper name is a plain word`));
  }
  const program = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = execFile(program, ['get'], { timeout: HELPER_TIMEOUT_MS, maxBuffer: 1 << 20 }, (err, stdout) => {
      const out = stdout.toString().trim();
      if (err) {
        // The docker CLI treats "not found" as no credentials for this registry.
        if (/credentials not found/i.test(out)) return resolve(undefined);
        const why =
          (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found on PATH'
          : err.killed ? `did not answer within ${HELPER_TIMEOUT_MS / 1000}s`
          : `failed (exit ${err.code ?? err.signal})`;
        return reject(new DpullError(`credential helper ${program} ${why}`, ExitCode.pullFailed));
      }
      try {
        const { Username, Secret } = JSON.parse(out) as { Username?: string; Secret?: string };
        // A Username of <token> means Secret is an identity token.
        resolve(Username === '<token>' ? { identitytoken: Secret } : { username: Username, password: Secret });
      } catch {
        reject(new DpullError(`credential helper ${program} gave an answer that is not JSON`, ExitCode.pullFailed));
      }
    });
    child.stdin?.end(server);
  });
}

function fromAuthEntry(entry: DockerConfig['auths'][string], source: string): Credentials | undefined {
  if (entry.identitytoken) return { identitytoken: entry.identitytoken };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) throw usageError(`${source}: an "auth" entry is not base64 of user:password`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username || entry.password) return { username: entry.username, password: entry.password };
  return undefined;
}

function fromAuths(config: DockerConfig, key: string): Credentials | undefined {
  const source = config.file ?? 'config.json';
  if (config.auths[key]) return fromAuthEntry(config.auths[key], source);
  const host = keyHost(key);
  for (const [other, entry] of Object.entries(config.auths)) {
    if (keyHost(other) === host) return fromAuthEntry(entry, source);
  }
  return undefined;
}

/**
 * The `X-Registry-Auth` header for a registry, found the way the docker CLI finds it:
 * DOCKER_AUTH_CONFIG's `auths` first, then `credHelpers[registry]`, then `credsStore`, then
 * `auths` (then any key with the same host). `e30=` when there is nothing.
 */
export async function resolveAuth(domain: string, config: DockerConfig, env: Environment = process.env): Promise<string> {
  const key = registryKey(domain);
  let credentials: Credentials | undefined;
  if (env.DOCKER_AUTH_CONFIG) credentials = fromAuths(parseConfig(env.DOCKER_AUTH_CONFIG, 'DOCKER_AUTH_CONFIG'), key);
  if (credentials === undefined) {
    const helper = config.credHelpers[key] ?? config.credHelpers[domain] ?? config.credsStore;
    if (helper !== undefined) credentials = await runHelper(helper, key);
  }
  credentials ??= fromAuths(config, key);
  if (credentials === undefined) return NO_CREDENTIALS;
  return encode({ ...credentials, serveraddress: key });
}
