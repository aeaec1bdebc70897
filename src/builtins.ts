import { createRequire } from 'node:module';

// Node's own modules that a pull needs only on some paths (TLS to an engine, a context's name to
// hash, ssh, a credential helper) are loaded on first use rather than at start: compiling https
// with tls and crypto, or child_process with dgram, costs a pull that uses none of them ~15 ms.
const load = createRequire(import.meta.url);

/** A module of Node's, looked up on first use and then kept: in the command, a require() of one
 * goes through bin/v8-settings.js's change of V8's settings. */
function once<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= load(id) as T);
}

export const https = once<typeof import('node:https')>('node:https');
export const crypto = once<typeof import('node:crypto')>('node:crypto');
export const childProcess = once<typeof import('node:child_process')>('node:child_process');
export const tls = once<typeof import('node:tls')>('node:tls');
export const workerThreads = once<typeof import('node:worker_threads')>('node:worker_threads');
