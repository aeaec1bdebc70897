import { createRequire } from 'node:module';

// Node's own modules that a pull needs only on some paths (TLS to an engine, a context's name to
// hash, ssh, a credential helper) are loaded on first use rather than at start: compiling https
// with tls and crypto, or child_process with dgram, costs a pull that uses none of them ~15 ms.
const load = createRequire(import.meta.url);

// Each is looked up once: in the command, a require() of one of Node's modules goes through
// bin/v8-settings.js's change of V8's settings.
let httpsModule: typeof import('node:https') | undefined;
let cryptoModule: typeof import('node:crypto') | undefined;
let childProcessModule: typeof import('node:child_process') | undefined;
export const https = () => (httpsModule ??= load('node:https') as typeof import('node:https'));
export const crypto = () => (cryptoModule ??= load('node:crypto') as typeof import('node:crypto'));
export const childProcess = () => (childProcessModule ??= load('node:child_process') as typeof import('node:child_process'));
