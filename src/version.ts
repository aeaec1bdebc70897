import { readFileSync } from 'node:fs';

// Set by the bundler (scripts/build.mjs); absent when the sources run directly (tests).
declare const DPULL_VERSION: string | undefined;

export function version(): string {
  if (typeof DPULL_VERSION === 'string') return DPULL_VERSION;
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}
