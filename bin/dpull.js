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
  // A pull is short-lived and its heap small: V8's memory reducer would spend ~50 ms of CPU on
  // two full collections 8 s in, to give back a megabyte the process returns at exit anyway.
  // (It is armed by the first collections, ~80 ms in: the flag has to be set before. It is also
  // set before the program is compiled: V8's code cache is only taken with the same flags.)
  const v8 = require('node:v8');
  v8.setFlagsFromString('--no-memory-reducer-for-small-heaps');
  // Node ≥ 22's V8 adds Maglev, a compiler between the baseline and the optimizing one: a pull
  // runs most of its code a few hundred times, where Maglev's compiling costs more than it gives
  // (Node 24 at the recorded pace: 0.383 → 0.345 s of CPU without it, bench/). A flood still gets
  // the optimizing compiler.
  if (major >= 22) v8.setFlagsFromString('--no-maglev');
  // For the same reason the optimizing compiler waits 8× longer than V8's default before it
  // takes a function: a flood's hot code still gets it within milliseconds; a paced pull's code,
  // run a few hundred times, is no longer compiled on a background thread for nothing. The
  // setting's name differs between V8s, and V8 prints an error for a name it does not know: set
  // only where checked (Node 20: V8 11.3; Node 24: V8 13.6). (Not the garbage collector's
  // threads: `--single-threaded-gc` set here, after V8 has started, saved CPU on a paced pull
  // but crashed Node 20 in its first full collection of a large heap, a 144 MB daemonless pull.)
  if (major === 20) v8.setFlagsFromString('--interrupt-budget=540672');
  if (major === 24) v8.setFlagsFromString('--invocation-count-for-turbofan=24000');
  // The cache is made by a run that pulled, not by one that only printed help.
  const pulled = () => !args.some((arg) => /^(-h|--help|-V|--version|help)$/.test(arg));
  require('./code-cache.js').requireCached(join(__dirname, '..', 'dist', 'cli.cjs'), cacheDir, pulled).main();
}
