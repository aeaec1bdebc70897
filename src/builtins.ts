import { createRequire } from 'node:module';

// Node's own modules that a pull needs only on some paths (TLS to an engine, a context's name to
// hash, ssh, a credential helper) are loaded on first use rather than at start: compiling https
// with tls and crypto, or child_process with dgram, costs a pull that uses none of them ~15 ms.
const load = createRequire(import.meta.url);

export const https = () => load('node:https') as typeof import('node:https');
export const crypto = () => load('node:crypto') as typeof import('node:crypto');
export const childProcess = () => load('node:child_process') as typeof import('node:child_process');
