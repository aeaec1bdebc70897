#!/usr/bin/env node
// dpull --output against `skopeo copy` on the same work: the same 8-layer image (about 145 MB of
// gzip layers) from the same loopback registry of the test stack, into an OCI layout and into a
// docker-archive. Wall and CPU seconds and peak RSS (bench/rusage.py), median of the runs, each
// tool in the same clean environment (PATH and a HOME of the bench's own: no NODE_OPTIONS or
// NODE_EXTRA_CA_CERTS of the caller's); dpull on Node 20 and on Node 24; also dpull's wall time by
// blobs fetched at once, which chose its default. And the floor: bench/bare-node-pull.cjs, the
// least a Node program does for the same copy (no display, no checks beyond the digests), and
// bench/raw-socket-pull.cjs, the same with HTTP read off the socket by hand, not node:http, and
// bench/bare-undici-pull.cjs, the same with undici: the measurement behind dpull's HTTP client.
//   bash scripts/test-stack.sh up && node bench/registry.mjs [--write]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { writeSection } from './benchmarks-file.mjs';
import { pushBigImage } from './big-image.mjs';
import { measureRun } from './rusage.mjs';
import { node24 } from './pty-measure.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const LAYERS = 8;
const LAYER_BYTES = 18_000_000;
const stack = Object.fromEntries(readFileSync(`${process.env.DPULL_STACK_DIR ?? '/tmp/dpull-stack'}/env`, 'utf8').trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
const registry = stack.DPULL_TEST_REGISTRY;
const work = mkdtempSync(`${tmpdir()}/dpull-bench-registry-`);
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

const node24Path = node24(root);
for (const [tool, pkg] of [['/usr/bin/skopeo', 'skopeo']]) {
  if (!existsSync(tool)) execFileSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}
const skopeoVersion = execFileSync('skopeo', ['--version'], { encoding: 'utf8' }).trim();

const measure = (command, args, env = {}) => measureRun(work, command, args, env);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Each `make` in turn, `runs` times (the tools interleaved, as drift on this VM is slow); the medians. */
function interleaved(makes, runs) {
  const results = Object.fromEntries(Object.keys(makes).map((k) => [k, []]));
  for (let i = 0; i < runs; i++) {
    for (const [name, make] of Object.entries(makes)) {
      const dest = `${work}/out-${name}-${i}`;
      results[name].push(make(dest));
      rmSync(dest, { recursive: true, force: true });
      rmSync(`${dest}.tar`, { force: true });
    }
  }
  return Object.fromEntries(Object.entries(results).map(([name, rs]) => [name, Object.fromEntries(['wall', 'cpu', 'rssMb'].map((k) => [k, median(rs.map((r) => r[k]))]))]));
}
function repeat(make) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const dest = `${work}/out-${i}`;
    runs.push(make(dest));
    rmSync(dest, { recursive: true, force: true });
    rmSync(`${dest}.tar`, { force: true });
  }
  return Object.fromEntries(['wall', 'cpu', 'rssMb'].map((k) => [k, median(runs.map((r) => r[k]))]));
}

const bytes = await pushBigImage(registry, 'bench/big', LAYERS, LAYER_BYTES);
// The stack's 8-layer test image (12 MB): where start-up weighs most.
const smallPull = (node) => (d) => measure(node, [`${root}/bin/dpull.js`, '-q', '-o', `oci:${d}`, `${registry}/demo/eight:1.0`]);
smallPull(process.execPath)(`${work}/warm`);
smallPull(node24Path)(`${work}/warm24`);
const bare = (repository, tag) => (d) => measure(process.execPath, [`${root}/bench/bare-node-pull.cjs`, registry, repository, tag, d]);
const raw = (repository, tag) => (d) => measure(process.execPath, [`${root}/bench/raw-socket-pull.cjs`, registry, repository, tag, d]);
const undici = (repository, tag) => (d) => measure(process.execPath, [`${root}/bench/bare-undici-pull.cjs`, registry, repository, tag, d]);
// A pull of it takes ~0.15 s: 3× the runs, the five interleaved.
const SMALL_RUNS = 3 * RUNS;
const small = interleaved({ dpull: smallPull(process.execPath), dpull24: smallPull(node24Path), bare: bare('demo/eight', '1.0'), raw: raw('demo/eight', '1.0'), undici: undici('demo/eight', '1.0'),
  skopeo: (d) => measure('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${registry}/demo/eight:1.0`, `oci:${d}`]) }, SMALL_RUNS);
const ref = `${registry}/bench/big:1.0`;
// Archives are made from a cache folder: the bench's own, its blobs emptied before each run (a
// fair race; the code cache beside them stays warm, as on a user's machine).
const dpull = (output, env = {}) => {
  rmSync(`${work}/cache/dpull/layout`, { recursive: true, force: true });
  return measure(process.execPath, [`${root}/bin/dpull.js`, '-q', '-o', output, ref], { XDG_CACHE_HOME: `${work}/cache`, ...env });
};
const skopeo = (dest) => measure('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, dest]);
const rows = [];
const fmt = (n, d = 2) => n.toFixed(d);
/** A table row: `ours` beside `theirs` (skopeo's), each the medians of measure(). */
const row = (label, ours, theirs) =>
  `| ${label} | ${fmt(ours.wall)} / ${fmt(theirs.wall)} (${fmt(ours.wall / theirs.wall)}×) | ${fmt(ours.cpu)} / ${fmt(theirs.cpu)} | ${fmt(ours.rssMb, 0)} / ${fmt(theirs.rssMb, 0)} |`;
const results = {};
for (const [label, dpullOut, skopeoOut] of [
  ['OCI layout', (d) => `oci:${d}`, (d) => `oci:${d}`],
  ['docker-archive', (d) => `docker-archive:${d}.tar`, (d) => `docker-archive:${d}.tar:${ref}`],
]) {
  const { ours, theirs } = interleaved({ ours: (d) => dpull(dpullOut(d)), theirs: (d) => skopeo(skopeoOut(d)) }, RUNS);
  results[label] = { ours, theirs };
  rows.push(row(label, ours, theirs));
}
// node:http and undici side by side on the same copy, interleaved: which HTTP client dpull uses.
const { bare: bareBig, undici: undiciBig } = interleaved({ bare: bare('bench/big', '1.0'), undici: undici('bench/big', '1.0') }, RUNS);
const rawBig = repeat(raw('bench/big', '1.0'));
// Blobs at once: the default is the smallest count within 5 % of the fastest.
const byConcurrency = [1, 2, 4, 6, 8].map((n) => [n, repeat((d) => dpull(`oci:${d}`, { DPULL_BLOBS_AT_ONCE: String(n) })).wall]);

const table = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0].model.trim()}, Node ${process.version}, against ${skopeoVersion}; median of ${RUNS} runs (of ${SMALL_RUNS} for the 12 MB image, the five commands interleaved); the image: ${LAYERS} layers, ${fmt(bytes / 1e6, 0)} MB, from the stack's loopback registry.`,
  '',
  '| into | wall s, dpull / skopeo | CPU s, dpull / skopeo | peak RSS MB, dpull / skopeo |',
  '| --- | --- | --- | --- |',
  ...rows,
  row('the floor: a bare Node program into files (bench/bare-node-pull.cjs)', bareBig, results['OCI layout'].theirs),
  row('the same floor with undici instead of node:http (bench/bare-undici-pull.cjs)', undiciBig, results['OCI layout'].theirs),
  row('the floor without node:http (bench/raw-socket-pull.cjs)', rawBig, results['OCI layout'].theirs),
  row('OCI layout, the 8-layer test image (12 MB)', small.dpull, small.skopeo),
  row('the same, the floor (bench/bare-node-pull.cjs)', small.bare, small.skopeo),
  row('the same, the floor with undici (bench/bare-undici-pull.cjs)', small.undici, small.skopeo),
  row('the same, the floor without node:http (bench/raw-socket-pull.cjs)', small.raw, small.skopeo),
  row('the same on Node 24', small.dpull24, small.skopeo),
  '',
  `Blobs fetched at once (dpull into a layout, wall s): ${byConcurrency.map(([n, w]) => `${n}: ${fmt(w)}`).join(', ')}.`,
  '',
  'Targets:',
  `- faster than skopeo on wall time (below 1×): ${[
    ['the 8-layer test image into a layout', small.dpull.wall / small.skopeo.wall],
    ['the same on Node 24', small.dpull24.wall / small.skopeo.wall],
    [`the ${fmt(bytes / 1e6, 0)} MB image into a layout`, results['OCI layout'].ours.wall / results['OCI layout'].theirs.wall],
    [`the ${fmt(bytes / 1e6, 0)} MB image into a docker-archive`, results['docker-archive'].ours.wall / results['docker-archive'].theirs.wall],
  ].map(([what, ratio]) => `${what} **${fmt(ratio)}×** (${ratio < 1 ? 'met' : 'not met'})`).join('; ')}`,
  `- peak memory flat in image size (≤ 100 MB for a ${fmt(bytes / 1e6, 0)} MB image): **${fmt(Math.max(results['OCI layout'].ours.rssMb, results['docker-archive'].ours.rssMb), 0)} MB**`,
].join('\n');
console.log(table);
if (process.argv.includes('--write')) writeSection('Daemonless: dpull --output vs skopeo copy', table);
