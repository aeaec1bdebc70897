'use strict';
// Runs the bundle from V8's code cache. Node's own compile cache (Node ≥ 22.1) keeps only what V8
// compiles when a file loads; most of a pull's functions are compiled later, on first call. A
// cache made at exit holds those too: ~15–20 ms less of every start (bench/startup.mjs), on
// every Node. V8 checks that a cache fits its version and flags and the source's length; the
// file's name adds its size, mtime and Node's version, so a changed bundle never meets an old one.
const { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } = require('node:fs');
const { basename, dirname, join } = require('node:path');
const { Script } = require('node:vm');

/** A short name for a path (the cache folder is shared by every dpull on the machine). */
function pathTag(path) {
  let hash = 5381;
  for (let i = 0; i < path.length; i++) hash = ((hash * 33) ^ path.charCodeAt(i)) >>> 0;
  return hash.toString(36);
}

/**
 * Replaces the cache of a file with `data` (written whole, then renamed), dropping the older ones
 * of the same file for the same Node (another Node's stays: each would otherwise drop the other's).
 */
function saveCache(cacheDir, prefix, name, data) {
  mkdirSync(cacheDir, { recursive: true });
  const partial = join(cacheDir, `${name}.${process.pid}.partial`);
  const fd = openSync(partial, 'w');
  try {
    writeSync(fd, data);
  } finally {
    closeSync(fd);
  }
  renameSync(partial, join(cacheDir, name));
  for (const old of readdirSync(cacheDir)) {
    if (old.startsWith(prefix) && old !== name && !old.endsWith('.partial')) unlinkSync(join(cacheDir, old));
  }
}

/**
 * Loads the CommonJS `file` as require() would, compiled from its code cache in `cacheDir` when
 * there is one that fits. Without one (or if V8 turns it down), one is made at exit, when
 * `worthKeeping()` says the run used the program (a pull, not --help). Without a cache folder,
 * or if it cannot be read or written, the file is only compiled. Its require() is `load`.
 */
exports.requireCached = function requireCached(file, cacheDir, worthKeeping, load = require) {
  const source = readFileSync(file, 'utf8');
  let prefix;
  let name;
  let cachedData;
  if (cacheDir !== undefined) {
    try {
      const { size, mtimeMs } = statSync(file);
      prefix = `${basename(file)}-${pathTag(file)}-${process.version}-${process.arch}-`;
      name = `${prefix}${size}-${Math.floor(mtimeMs)}.v8`;
      cachedData = readFileSync(join(cacheDir, name));
    } catch {
      // no cache yet
    }
  }
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  if (name !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) {
    process.once('exit', (code) => {
      if (code !== 0 || !worthKeeping()) return;
      try {
        saveCache(cacheDir, prefix, name, script.createCachedData());
      } catch {
        // a cache that cannot be written is only a slower start next time
      }
    });
  }
  const module = { exports: {}, filename: file, id: file, loaded: false };
  // The program loads only Node's modules and files by absolute path.
  script.runInThisContext().call(module.exports, module.exports, load, module, file, dirname(file));
  module.loaded = true;
  return module.exports;
};
