#!/usr/bin/env node
// Builds the published files: type declarations (tsc, which also type-checks) and one bundled
// file per entry (esbuild), dependencies included, so installing dpull installs no dependency
// tree. Code splitting keeps the TTY renderer and its libraries (ora, string-width, ansi-escapes)
// in a chunk of their own, loaded only when the live display runs.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const { version } = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));
rmSync(`${root}/dist`, { recursive: true, force: true });
execFileSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', `${root}/tsconfig.json`], { stdio: 'inherit' });
await build({
  absWorkingDir: root,
  entryPoints: { cli: 'src/cli/main.ts', index: 'src/index.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minifySyntax: true,
  chunkNames: 'chunks/[name]-[hash]',
  define: { DPULL_VERSION: JSON.stringify(version) },
  // Some bundled packages are CommonJS and call require() for Node's own modules.
  banner: { js: "import { createRequire as __dpullRequire } from 'node:module'; const require = __dpullRequire(import.meta.url);" },
  logLevel: 'warning',
});
