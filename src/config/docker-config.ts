import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { usageError } from '../errors.js';
import { jsonErrorWhere } from '../json-error.js';
import type { Environment } from '../environment.js';

/** The parts of the docker CLI's config.json that a pull uses. */
export interface DockerConfig {
  /** Where it was read from (for error messages), or undefined when there is none. */
  file?: string;
  auths: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers: Record<string, string>;
  currentContext?: string;
}

/** The user's home: HOME as the environment says it, else the account's. */
export function homeDir(env: Environment): string {
  // An empty or relative HOME would put ~/.docker in the working directory, where a cloned
  // repository could choose the engine and receive credentials: the account's home instead.
  if (env.HOME !== undefined && isAbsolute(env.HOME)) return env.HOME;
  try {
    const { homedir } = userInfo();
    if (isAbsolute(homedir)) return homedir;
  } catch {
    // no account entry
  }
  return '/nonexistent';
}

/** `--config`, else DOCKER_CONFIG, else ~/.docker, as the docker CLI does. */
export function configDir(flag: string | undefined, env: Environment): string {
  return flag ?? env.DOCKER_CONFIG ?? join(homeDir(env), '.docker');
}

/** Reads config.json from the directory; a missing file is an empty config, a malformed one an error naming it. */
export function readDockerConfig(dir: string): DockerConfig {
  const file = join(dir, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { auths: {}, credHelpers: {} };
    throw usageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  return parseConfig(text, file);
}

/** Parses config JSON (a file's, or DOCKER_AUTH_CONFIG's), checking the shape of what is used. */
export function parseConfig(text: string, source: string): DockerConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    // Not JSON.parse's message: it quotes the text around the fault, which may be a password.
    throw usageError(`${source} is not valid JSON: ${jsonErrorWhere(text)}`);
  }
  const bad = (what: string) => usageError(`${source}: ${what}`);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw bad('expected a JSON object');
  const { auths = {}, credsStore, credHelpers = {}, currentContext } = raw as Record<string, unknown>;
  if (typeof auths !== 'object' || auths === null) throw bad('"auths" must be an object');
  if (credsStore !== undefined && typeof credsStore !== 'string') throw bad('"credsStore" must be a string');
  if (typeof credHelpers !== 'object' || credHelpers === null) throw bad('"credHelpers" must be an object');
  if (currentContext !== undefined && typeof currentContext !== 'string') throw bad('"currentContext" must be a string');
  return {
    file: source,
    auths: auths as DockerConfig['auths'],
    credHelpers: credHelpers as Record<string, string>,
    ...(credsStore !== undefined && credsStore !== '' && { credsStore }),
    ...(currentContext !== undefined && currentContext !== '' && { currentContext }),
  };
}
