import type { ChildProcess } from 'node:child_process';
import { childProcess } from '../builtins.js';
import { DpullError, ExitCode, usageError } from '../errors.js';
import { sanitize } from '../sanitize.js';
import { parseConfig, type DockerConfig } from './docker-config.js';
import type { Environment } from '../environment.js';
import { formatDuration } from '../units.js';
import { rememberCredentials, rememberSecret } from '../secrets.js';

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

/** How long a helper may take, and what ends it sooner. */
export interface HelperLimits {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Ends a helper and anything it started: its process group, TERM first, KILL after a short grace. */
function endHelper(child: ChildProcess): void {
  const group = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  if (child.exitCode !== null || child.signalCode !== null) return;
  group('SIGTERM');
  const kill = () => group('SIGKILL');
  const timer = setTimeout(kill, 300);
  timer.unref();
  process.once('exit', kill); // dpull may be gone before the grace ends: the helper goes with it
  child.once('exit', () => {
    clearTimeout(timer);
    process.removeListener('exit', kill);
  });
}

/**
 * Runs `docker-credential-<helper> get` (no shell, in a process group of its own) with the
 * registry on stdin. "credentials not found" means none: the pull goes on anonymously. A helper
 * that answers without reading, hangs, or outlives an abort or the timeout never holds dpull up.
 */
function runHelper(helper: string, server: string, limits: HelperLimits): Promise<Credentials | undefined> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(helper)) {
    return Promise.reject(usageError(`refusing credential helper "${sanitize(helper)}": a helper name is a plain word`));
  }
  const program = `docker-credential-${helper}`;
  const timeoutMs = Math.min(HELPER_TIMEOUT_MS, limits.timeoutMs ?? HELPER_TIMEOUT_MS);
  return new Promise((resolve, reject) => {
    if (limits.signal?.aborted) return reject(limits.signal.reason);
    const child = childProcess().spawn(program, ['get'], { stdio: ['pipe', 'pipe', 'ignore'], detached: true });
    let out = '';
    let settled = false;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      limits.signal?.removeEventListener('abort', onAbort);
      endHelper(child);
      settle();
    };
    const onAbort = () => finish(() => reject(limits.signal!.reason));
    const timer = setTimeout(
      () => finish(() => reject(new DpullError(`credential helper ${program} did not answer within ${formatDuration(timeoutMs / 1000)}`, ExitCode.pullFailed))),
      timeoutMs,
    );
    limits.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdin.on('error', () => {}); // a helper that answers without reading: its answer counts
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (out.length < 1 << 20) out += d;
    });
    child.on('error', (err: NodeJS.ErrnoException) =>
      finish(() => reject(new DpullError(`credential helper ${program} ${err.code === 'ENOENT' ? 'not found on PATH' : `could not run: ${err.code ?? err.message}`}`, ExitCode.pullFailed))),
    );
    child.on('close', (code, signal) =>
      finish(() => {
        const answer = out.trim();
        // The docker CLI treats "not found" as no credentials for this registry.
        if (code !== 0 && /credentials not found/i.test(answer)) return resolve(undefined);
        if (code !== 0) return reject(new DpullError(`credential helper ${program} failed (exit ${code ?? signal})`, ExitCode.pullFailed));
        try {
          const { Username, Secret } = JSON.parse(answer) as { Username?: string; Secret?: string };
          // A Username of <token> means Secret is an identity token.
          resolve(Username === '<token>' ? { identitytoken: Secret } : { username: Username, password: Secret });
        } catch {
          reject(new DpullError(`credential helper ${program} gave an answer that is not JSON`, ExitCode.pullFailed));
        }
      }),
    );
    child.stdin.end(server);
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
export async function resolveAuth(
  domain: string,
  config: DockerConfig,
  env: Environment = process.env,
  limits: HelperLimits = {},
): Promise<string> {
  const key = registryKey(domain);
  let credentials: Credentials | undefined;
  if (env.DOCKER_AUTH_CONFIG) credentials = fromAuths(parseConfig(env.DOCKER_AUTH_CONFIG, 'DOCKER_AUTH_CONFIG'), key);
  if (credentials === undefined) {
    const helper = config.credHelpers[key] ?? config.credHelpers[domain] ?? config.credsStore;
    if (helper !== undefined) credentials = await runHelper(helper, key, limits);
  }
  credentials ??= fromAuths(config, key);
  if (credentials === undefined) return NO_CREDENTIALS;
  // Held from now on: never printed, whatever a registry echoes back.
  rememberCredentials(credentials.username, credentials.password);
  rememberSecret(credentials.identitytoken);
  const header = encode({ ...credentials, serveraddress: key });
  rememberSecret(header);
  return header;
}
