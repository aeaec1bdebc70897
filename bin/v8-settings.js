'use strict';
// The V8 settings a pull runs with, and V8's defaults put back while Node loads one of its own
// modules. Node ships its modules with a code cache, and V8 turns that cache down when any
// setting differs from its default: each module is then compiled from source, 2–3× its load
// time (node:http 3 → 10 ms, node:crypto 3 → 8 ms; ~15 ms of a daemonless pull's start). With
// the defaults back for the load, the cache fits again (NODE_DEBUG_NATIVE=CODE_CACHE shows it).
// (What Node loads by itself in the course of a call still loads under the pull's settings; the
// package test checks that pulls, from an engine and into a layout or an archive, have none.)
const v8 = require('node:v8');

const [major] = process.versions.node.split('.').map(Number);
/** Each setting as [for a pull, V8's default], for this Node and CPU. */
const settings = [
  // A pull is short-lived and its heap small: V8's memory reducer would spend CPU on two full
  // collections 8 s in, to give back a megabyte the process returns at exit anyway. (It is armed
  // when the old generation first grows, before any full collection: should that happen while a
  // module loads, under the default, the two collections come, ~10 ms.)
  ['--no-memory-reducer-for-small-heaps', '--memory-reducer-for-small-heaps'],
];
// V8's young generation stays at its first size (1 MB a half) instead of doubling each time
// enough of it outlives a collection: what a pull leaves per read or per event (a view, a
// callback's objects) is garbage by the next one, and the doublings were peak memory for nothing.
// Issue #32 (by hand, interleaved; BENCHMARKS.md): the 1.5 GB image into a layout over HTTPS
// 64.1 → 61.0 MB (a read per 16 kB record), over HTTP ~1 MB less; a flood of 570 000 events
// 61.6 → 55.9 MB; into containerd (145 MB image) 120–125 → 115–117 MB; CPU the same in each.
// (The limit, --max-semi-space-size, is read only as V8 starts. While Node loads a module, the
// default: a scavenge then may double it once — set before Node starts, HTTPS gave 59.6 MB.)
settings.push(['--semi-space-growth-factor=1', '--semi-space-growth-factor=2']);
// Node ≥ 22's V8 adds Maglev (on x64 and arm64), a compiler between the baseline and the
// optimizing one: a pull runs most of its code a few hundred times, where Maglev's compiling
// costs more than it gives (Node 24 at the recorded pace: 0.383 → 0.345 s of CPU without it,
// bench/). A flood still gets the optimizing compiler.
if (major >= 22 && (process.arch === 'x64' || process.arch === 'arm64')) settings.push(['--no-maglev', '--maglev']);
// For the same reason, on Node 20 the optimizing compiler waits 8× longer than V8's default
// before it takes a function: a flood's hot code still gets it within milliseconds; a paced
// pull's code, run a few hundred times, is not compiled on a background thread for nothing.
// (Node 24's setting of the kind, --invocation-count-for-turbofan, cannot be put back: set
// once, even to its default, V8 turns Node's cache down for good. A name V8 does not know
// makes it print an error: each is set only where checked. Not the garbage collector's
// threads: --single-threaded-gc, set after V8 has started, crashed Node 20 in its first full
// collection of a large heap, a 144 MB daemonless pull.)
if (major === 20) settings.push(['--interrupt-budget=540672', '--interrupt-budget=67584']);

// A pull from a registry (into a layout or an archive, or loaded into engines): its work is the
// kernel's and OpenSSL's (sockets, files, sha256), its JavaScript a few calls per 256 kB read.
// The optimizing compiler gives it nothing (1.5 GB: the same wall and CPU without it) and costs
// 8–9 MB of its peak RSS: the compiler's zones and its own code paged in (issue #32's memory
// goal, bench/throughput.mjs). Set when such a pull starts (src/v8-settings.ts), never for an
// engine's stream, whose floods it serves (570 000 events: 1.4 s of CPU with it, 7.7 s without):
// a command that streams from an engine too keeps it for its registry pulls as well.
const REGISTRY_PULL = ['--no-turbofan', '--turbofan'];

const apply = (which) => {
  for (const setting of settings) v8.setFlagsFromString(setting[which]);
};

/** Switches to the pull's settings (before the program is compiled: V8 keeps a code cache only for the settings it was made with). */
exports.useForPull = () => apply(0);

/** Runs `load` under V8's defaults, then the pull's settings again. */
exports.withDefaults = (load) => {
  apply(1);
  try {
    return load();
  } finally {
    apply(0);
  }
};

/**
 * Adds the registry pull's setting. At exit it is put back first: a code cache made then
 * (bin/code-cache.js) must fit the settings the next run starts with.
 */
exports.useForRegistryPull = () => {
  if (settings.includes(REGISTRY_PULL)) return;
  settings.push(REGISTRY_PULL);
  v8.setFlagsFromString(REGISTRY_PULL[0]);
  process.prependOnceListener('exit', () => {
    settings.splice(settings.indexOf(REGISTRY_PULL), 1);
    v8.setFlagsFromString(REGISTRY_PULL[1]);
  });
};
