#!/usr/bin/env node
'use strict';
// CommonJS (bin/package.json says so), as is the bundle it loads: Node's ES module loader
// would add to every start.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  // Answered without loading the program: as fast as Node starts.
  process.stdout.write(`${require('../package.json').version}\n`);
} else {
  // The program's compiled code is kept in dpull's cache folder (defaultCacheDir in
  // src/pull/registry-pull.ts, worked out here again because it is needed before the program
  // loads); without an absolute XDG_CACHE_HOME or HOME, no cache (that function would ask the
  // user database).
  const { isAbsolute, join } = require('node:path');
  const { XDG_CACHE_HOME, HOME } = process.env;
  const base = XDG_CACHE_HOME && isAbsolute(XDG_CACHE_HOME) ? XDG_CACHE_HOME : HOME && isAbsolute(HOME) ? join(HOME, '.cache') : undefined;
  const cacheDir = base === undefined ? undefined : join(base, 'dpull', 'compile-cache');
  // Node ≥ 22.1 keeps its own for the modules it loads itself (the vendor bundles, dist/vendor);
  // node:module is not loaded on older ones (on Node 20 it brings the ES module loader along).
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (cacheDir !== undefined && (major > 22 || (major === 22 && minor >= 1))) {
    try {
      require('node:module').enableCompileCache(cacheDir);
    } catch {
      // a cache that cannot be made is only a slower start
    }
  }
  // Node's modules load under V8's defaults, where Node's code cache for them fits
  // (bin/v8-settings.js): the standard streams are made before the pull's settings are set
  // (every run writes to both; on a terminal they load node:tty), and the program's require()
  // (of Node's modules and the vendor bundles, and theirs) puts the defaults back while it loads.
  const { useForPull, useForRegistryPull, withDefaults } = require('./v8-settings.js');
  const codeCache = require('./code-cache.js');
  void process.stdout;
  void process.stderr;
  useForPull();
  // (esbuild's interop reads the descriptor of each export, which on Node 24 loads fs's Dir: here.)
  const load = (id) =>
    withDefaults(() => {
      const loaded = require(id);
      Object.getOwnPropertyDescriptors(loaded);
      return loaded;
    });
  // The cache is made by a run that pulled, not by one that only printed help.
  const pulled = () => !args.some((arg) => /^(-h|--help|-V|--version|help)$/.test(arg));
  codeCache.requireCached(join(__dirname, '..', 'dist', 'cli.cjs'), cacheDir, pulled, load).main({ useForRegistryPull });
}
