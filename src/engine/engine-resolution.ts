import type { X509Certificate } from 'node:crypto';
import { crypto } from '../builtins.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DpullError, ExitCode, usageError } from '../errors.js';
import { jsonErrorWhere } from '../json-error.js';
import { parseEngineUrl, DEFAULT_SOCKET, type EngineAddress, type EngineTls } from './address.js';
import { configDir, homeDir, readDockerConfig } from '../config/docker-config.js';
import type { Environment } from '../environment.js';

/** How the user said which engine to use (flags and the environment). */
export interface EngineChoice {
  host?: string;
  context?: string;
  /** The docker CLI's config directory (contexts, currentContext); default DOCKER_CONFIG, ~/.docker. */
  configDir?: string;
  tls?: boolean;
  tlsVerify?: boolean;
  tlsCaCert?: string;
  tlsCert?: string;
  tlsKey?: string;
}

const readOrFail = (file: string, what: string): Buffer => {
  try {
    return readFileSync(file);
  } catch (err) {
    throw usageError(`cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
};

/**
 * TLS from flags and the environment, as the docker CLI takes it: --tlsverify or a non-empty
 * DOCKER_TLS_VERIFY (even "0") verifies; --tls alone encrypts without verifying; files come from
 * the --tls* flags, else DOCKER_CERT_PATH (default ~/.docker).
 */
function tlsFrom(choice: EngineChoice, env: Environment): EngineTls | undefined {
  const verify = choice.tlsVerify === true || (env.DOCKER_TLS_VERIFY !== undefined && env.DOCKER_TLS_VERIFY !== '');
  const anyFile = choice.tlsCaCert ?? choice.tlsCert ?? choice.tlsKey;
  if (!verify && choice.tls !== true && anyFile === undefined) return undefined;
  const dir = env.DOCKER_CERT_PATH || join(homeDir(env), '.docker');
  const pick = (flag: string | undefined, name: string) => flag ?? (existsSync(join(dir, name)) ? join(dir, name) : undefined);
  const ca = pick(choice.tlsCaCert, 'ca.pem');
  const cert = pick(choice.tlsCert, 'cert.pem');
  const key = pick(choice.tlsKey, 'key.pem');
  return checkedTls({
    verify,
    ...(ca !== undefined && { ca: readOrFail(ca, 'CA certificate') }),
    ...(cert !== undefined && { cert: readOrFail(cert, 'client certificate') }),
    ...(key !== undefined && { key: readOrFail(key, 'client key') }),
  }, { ca, cert, key });
}

/**
 * TLS files that are not what they say would fail the handshake with OpenSSL's words, or not at
 * all until later: said here, naming the file, before anything is sent (exit 2).
 */
function checkedTls(tls: EngineTls, files: { ca?: string; cert?: string; key?: string }): EngineTls {
  const bad = (what: string, file: string | undefined, why: string) => usageError(`the ${what} ${file ?? ''} ${why}`.replace('  ', ' '));
  let certificate: X509Certificate | undefined;
  if (tls.ca !== undefined) {
    try {
      new (crypto().X509Certificate)(tls.ca);
    } catch {
      throw bad('CA certificate', files.ca, 'is not a PEM certificate');
    }
  }
  if (tls.cert !== undefined) {
    try {
      certificate = new (crypto().X509Certificate)(tls.cert);
    } catch {
      throw bad('client certificate', files.cert, 'is not a PEM certificate');
    }
  }
  if (tls.key !== undefined) {
    let key;
    try {
      key = crypto().createPrivateKey(Buffer.from(tls.key));
    } catch {
      throw bad('client key', files.key, 'is not a PEM private key (or it is encrypted)');
    }
    if (certificate !== undefined && !certificate.checkPrivateKey(key)) {
      throw bad('client key', files.key, `is not the key of the client certificate ${files.cert ?? ''}`.trimEnd());
    }
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw usageError(tls.cert === undefined ? `a client key ${files.key ?? ''} needs its certificate (--tlscert)` : `a client certificate ${files.cert ?? ''} needs its key (--tlskey)`);
  }
  return tls;
}

/** A context's endpoint, from contexts/meta/<sha256 of its name>/meta.json and contexts/tls/…. */
function contextAddress(name: string, dir: string): EngineAddress | undefined {
  if (name === 'default') return undefined;
  const id = crypto().createHash('sha256').update(name).digest('hex');
  const metaFile = join(dir, 'contexts', 'meta', id, 'meta.json');
  if (!existsSync(metaFile)) throw usageError(`context "${name}" does not exist (no ${metaFile})`);
  let endpoint: { Host?: unknown; SkipTLSVerify?: unknown } | undefined;
  const text = readOrFail(metaFile, 'context file').toString('utf8');
  try {
    endpoint = (JSON.parse(text) as { Endpoints?: { docker?: typeof endpoint } }).Endpoints?.docker;
  } catch {
    throw usageError(`${metaFile} is not valid JSON: ${jsonErrorWhere(text)}`);
  }
  if (typeof endpoint?.Host !== 'string') throw usageError(`${metaFile}: the context has no docker endpoint`);
  const tlsDir = join(dir, 'contexts', 'tls', id, 'docker');
  const file = (n: string) => (existsSync(join(tlsDir, n)) ? readOrFail(join(tlsDir, n), 'context TLS file') : undefined);
  const [ca, cert, key] = [file('ca.pem'), file('cert.pem'), file('key.pem')];
  const tls: EngineTls | undefined =
    ca ?? cert ?? key
      ? checkedTls(
          { verify: endpoint.SkipTLSVerify !== true, ...(ca && { ca }), ...(cert && { cert }), ...(key && { key }) },
          { ca: join(tlsDir, 'ca.pem'), cert: join(tlsDir, 'cert.pem'), key: join(tlsDir, 'key.pem') },
        )
      : undefined;
  return parseEngineUrl(endpoint.Host, tls);
}

const isSocket = (path: string) => {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
};

/** Windows' engines: Docker's own pipe, then Docker Desktop's Linux engine. */
const WINDOWS_PIPES = ['\\\\.\\pipe\\docker_engine', '\\\\.\\pipe\\dockerDesktopLinuxEngine'];

/**
 * The sockets (on Windows, named pipes) an engine may listen on when nothing names one, in the
 * order they are tried: Docker, rootless Docker, Docker Desktop, podman, then the engines of
 * macOS's Docker alternatives (colima, OrbStack, Rancher Desktop, podman machine).
 */
export function candidateSockets(env: Environment, platform: string = process.platform): string[] {
  if (platform === 'win32') return WINDOWS_PIPES;
  const runtime = env.XDG_RUNTIME_DIR;
  const home = homeDir(env);
  return [
    DEFAULT_SOCKET,
    ...(runtime ? [join(runtime, 'docker.sock')] : []), // rootless Docker
    join(home, '.docker', 'run', 'docker.sock'), // Docker Desktop
    ...(runtime ? [join(runtime, 'podman', 'podman.sock')] : []),
    '/run/podman/podman.sock',
    join(home, '.colima', 'default', 'docker.sock'),
    join(home, '.orbstack', 'run', 'docker.sock'),
    join(home, '.rd', 'docker.sock'), // Rancher Desktop
    join(home, '.local', 'share', 'containers', 'podman', 'machine', 'podman.sock'),
    ...(env.TMPDIR ? [join(env.TMPDIR, 'podman', 'podman-machine-default-api.sock')] : []),
  ];
}

/** The URL of a socket or pipe path from candidateSockets. */
const socketUrl = (path: string) => (path.startsWith('\\\\') ? `npipe://${path.replace(/\\/g, '/')}` : `unix://${path}`);

/** The docker CLI's refusal of -H together with --context. */
export const conflictingHostAndContext = () => usageError('conflicting options: either specify --host or --context, not both');

/**
 * The engine to talk to, in the docker CLI's order: --context (which may not go with -H), -H, a
 * non-empty DOCKER_HOST, DOCKER_CONTEXT, currentContext in config.json; then CONTAINERD_ADDRESS;
 * with none of them, the first of the usual sockets that exists (docker, rootless, Desktop,
 * podman, then containerd's).
 */
export function resolveEngine(
  choice: EngineChoice = {},
  env: Environment = process.env,
  platform: string = process.platform,
): EngineAddress {
  if (choice.context !== undefined && choice.host !== undefined) throw conflictingHostAndContext();
  const dir = configDir(choice.configDir, env);
  if (choice.context !== undefined) return contextAddress(choice.context, dir) ?? defaultSocket(env, platform);
  const tls = tlsFrom(choice, env);
  if (choice.host !== undefined) return parseEngineUrl(choice.host, tls);
  if (env.DOCKER_HOST) return parseEngineUrl(env.DOCKER_HOST, tls);
  const context = env.DOCKER_CONTEXT || readDockerConfig(dir).currentContext;
  if (context) return contextAddress(context, dir) ?? defaultSocket(env, platform);
  // As ctr reads it: a socket path (a node's containerd, k3s's), after everything that names a docker engine.
  if (env.CONTAINERD_ADDRESS) return parseEngineUrl(containerdUrl(env.CONTAINERD_ADDRESS));
  return defaultSocket(env, platform);
}

const containerdUrl = (address: string) => (address.startsWith('/') ? `containerd://${address}` : address.replace(/^unix:\/\//, 'containerd://'));

/**
 * containerd's sockets, tried after every docker one: a node's (Kubernetes, nerdctl), k3s and
 * rke2's, rootless containerd's (containerd-rootless-setuptool.sh puts it in XDG_RUNTIME_DIR).
 */
export function candidateContainerdSockets(env: Environment, platform: string = process.platform): string[] {
  if (platform === 'win32') return [];
  return [
    '/run/containerd/containerd.sock',
    '/run/k3s/containerd/containerd.sock',
    ...(env.XDG_RUNTIME_DIR ? [join(env.XDG_RUNTIME_DIR, 'containerd', 'containerd.sock')] : []),
  ];
}

function defaultSocket(env: Environment, platform: string): EngineAddress {
  const candidates = candidateSockets(env, platform);
  // A pipe is no file to stat; on Windows its existence is what can be asked.
  const found = candidates.find(platform === 'win32' ? existsSync : isSocket);
  if (found !== undefined) return parseEngineUrl(socketUrl(found));
  const containerd = candidateContainerdSockets(env, platform);
  const foundContainerd = containerd.find(isSocket);
  if (foundContainerd !== undefined) return parseEngineUrl(`containerd://${foundContainerd}`);
  throw new DpullError(
    `cannot find a Docker engine or containerd: nothing listens at ${[...candidates, ...containerd].join(', ')} (is the Docker daemon running? or set DOCKER_HOST / -H)`,
    ExitCode.engineUnreachable,
  );
}
