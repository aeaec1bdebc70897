#!/usr/bin/env node
// Builds the published files: type declarations (tsc, which also type-checks) and bundles
// (esbuild), dependencies included, so installing dpull installs no dependency tree.
// - dist/cli.cjs, the command: one CommonJS file. Each file more is a resolve, a read and a link
//   at start, and Node's ES module loader costs more than its CommonJS one; whitespace goes
//   (less to parse). Start-up is what a no-op pull costs (bench/startup.mjs). bin/dpull.js runs
//   it from V8's code cache (bin/code-cache.js).
// - dist/index.js, the library: an ES module.
// - dist/vendor/*.cjs: the libraries only some pulls need — ora (a spinner, when the engine is
//   slow to answer), string-width (text beyond ASCII on a terminal), tar-stream (archives),
//   gRPC and its protocol loader (a containerd engine) — each a CommonJS bundle of its own, loaded by require() when first needed: the source's dynamic
//   import() of one becomes __dpullImport (below). No ES module loader is started for them (on
//   Node 20 its first import() costs ~7 ms; a script run from a code cache has no loader for it
//   at all).
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const VENDOR = ['ora', 'string-width', 'tar-stream', 'https-proxy-agent', 'http-proxy-agent', 'smol-toml', '@grpc/grpc-js', '@grpc/proto-loader'];

// Node's own modules are loaded with require(), not import: importing one as ESM builds a facade
// that reads every export, and on Node 24 reading node:http's lazy WebSocket/fetch getters
// compiles undici (and with it http2, zlib, worker_threads): ~40 ms a pull never uses.
// A bundled CommonJS package's require() of child_process (commander's, for subcommands dpull
// does not have) gets a stand-in that loads the module on first use.
const builtinsByRequire = {
  name: 'builtins-by-require',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.kind === 'require-call' ? { path: 'node:child_process', namespace: 'lazy-builtin' } : undefined,
    );
    // src/builtins.ts makes a require() with node:module's createRequire: a CommonJS bundle has
    // one already (node:module would bring Node 20's ES module loader along, ~3 ms).
    if (b.initialOptions.format === 'cjs') b.onResolve({ filter: /^node:module$/ }, () => ({ path: 'node:module', namespace: 'cjs-module' }));
    b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'cjs-module' }, () => ({ contents: 'module.exports = { createRequire: () => __dpullBuiltin };', loader: 'js' }));
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: `module.exports = __dpullBuiltin(${JSON.stringify(args.path)});`, loader: 'js' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: `let m; module.exports = new Proxy({}, { get: (_, key) => (m ??= __dpullBuiltin(${JSON.stringify(args.path)}))[key] });`,
      loader: 'js',
    }));
  },
};

// dpull's dynamic imports of the vendor libraries point at their bundles.
const vendorBundles = {
  name: 'vendor-bundles',
  setup(b) {
    const filter = new RegExp(`^(${VENDOR.join('|')})$`);
    b.onResolve({ filter }, (args) => {
      if (args.kind !== 'dynamic-import') throw new Error(`${args.importer} imports ${args.path} statically: import it where it is needed`);
      return { path: `./vendor/${args.path}.cjs`, external: true };
    });
  },
};

// `await import('ora')` in the source, made a require() of the vendor bundle: what import() gives
// for it (a CommonJS package's exports as its default, an ES one's as they are).
const importBanner = (required) =>
  `__dpullImport = (specifier) => Promise.resolve().then(() => { const m = ${required}; return m && m.__esModule ? m : { default: m }; })`;
function rewriteVendorImports(file) {
  const code = readFileSync(file, 'utf8').replaceAll('import("./vendor/', '__dpullImport("./vendor/');
  if (/\bimport\(/.test(code)) throw new Error(`${file} has a dynamic import() that is not of a vendor bundle`);
  writeFileSync(file, code);
}

const root = fileURLToPath(new URL('..', import.meta.url));
const { version } = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));
rmSync(`${root}/dist`, { recursive: true, force: true });
execFileSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', `${root}/tsconfig.json`], { stdio: 'inherit' });
const common = {
  absWorkingDir: root,
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minifySyntax: true,
  minifyWhitespace: process.env.READABLE !== "1",
  // Some bundled packages are CommonJS and call require() for Node's own modules.
  banner: { js: `import { createRequire as __dpullRequire } from 'node:module'; const require = __dpullRequire(import.meta.url), __dpullBuiltin = require, ${importBanner('require(specifier)')};` },
  logLevel: 'warning',
};
await build({
  ...common,
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  // (`require(__dirname + …)`: the program is given bin's require, which needs no node:module.)
  banner: { js: `const __dpullBuiltin = require, ${importBanner("require(__dirname + '/' + specifier)")};` },
  define: { DPULL_VERSION: JSON.stringify(version), 'import.meta.url': '__dpullUrl' },
  inject: ['scripts/cjs-import-meta-url.js'],
  entryPoints: { cli: 'src/cli/main.ts' },
  plugins: [vendorBundles, builtinsByRequire],
});
rewriteVendorImports(`${root}/dist/cli.cjs`);
await build({
  ...common,
  entryPoints: { index: 'src/index.ts' },
  define: { DPULL_VERSION: JSON.stringify(version) },
  plugins: [vendorBundles, builtinsByRequire],
});
rewriteVendorImports(`${root}/dist/index.js`);
// containerd's protocol files (with their licence), read when a containerd engine is first used:
// dist/proto beside the bundles, as src/containerd/proto is beside the module that reads them.
cpSync(`${root}/src/containerd/proto`, `${root}/dist/proto`, { recursive: true });
await build({
  ...common,
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  banner: { js: 'const __dpullBuiltin = require;' },
  entryPoints: Object.fromEntries(VENDOR.map((name) => [`vendor/${name}`, name])),
  plugins: [builtinsByRequire],
});
