#!/usr/bin/env node
// Into containerd: dpull against ctr's own pull of the same image into the stack's containerds
// (1.7: ctr's default is its client-side pull; 2.1: the Transfer service), each into a namespace
// of its own, both emptied before every run (`ctr images rm --sync`: content and snapshots
// collected; containerd shares them between namespaces),
// dpull's cache emptied too (a cold pull, as ctr's is). The 8-layer 145 MB image and the 1.5 GB
// one (bench/big-image.mjs), from the stack's loopback registry; wall, CPU (of the client only:
// containerd's own work is not in it) and the client's peak RSS, median of the runs, interleaved.
//   bash scripts/test-stack.sh up && node bench/containerd.mjs [--write]   (BENCH_RUNS, default 3)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { writeSection } from './benchmarks-file.mjs';
import { pushBigImage } from './big-image.mjs';
import { measureRun } from './rusage.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const root = fileURLToPath(new URL('..', import.meta.url));
const stack = Object.fromEntries(readFileSync(`${process.env.DPULL_STACK_DIR ?? '/tmp/dpull-stack'}/env`, 'utf8').trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
const registry = stack.DPULL_TEST_REGISTRY;
const work = mkdtempSync(`${tmpdir()}/dpull-bench-containerd-`);
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const containerds = [
  { name: 'containerd 1.7', host: stack.DPULL_TEST_CONTAINERD_HOST, ctr: stack.DPULL_TEST_CTR },
  { name: 'containerd 2.1', host: stack.DPULL_TEST_CONTAINERD2_HOST, ctr: stack.DPULL_TEST_CTR2 },
];
const ctr = (c, namespace, ...args) => execFileSync(c.ctr, ['--address', c.host.replace('containerd://', ''), '-n', namespace, ...args], { encoding: 'utf8' });
const empty = (c, namespace) => {
  const names = ctr(c, namespace, 'images', 'ls', '-q').trim().split('\n').filter(Boolean);
  if (names.length > 0) ctr(c, namespace, 'images', 'rm', '--sync', ...names);
};
const tools = {
  dpull: (c, ref) => {
    rmSync(`${work}/cache/dpull/layout`, { recursive: true, force: true }); // (its blobs: the code cache beside them stays warm)
    return measureRun(work, process.execPath, [`${root}/bin/dpull.js`, '-q', '-H', c.host, '-n', 'bench-dpull', ref], { XDG_CACHE_HOME: `${work}/cache` });
  },
  'ctr images pull': (c, ref) => measureRun(work, c.ctr, ['--address', c.host.replace('containerd://', ''), '-n', 'bench-ctr', 'images', 'pull', '--plain-http', ref]),
};
const namespaceOf = { dpull: 'bench-dpull', 'ctr images pull': 'bench-ctr' };

const images = [
  { repository: 'bench/big', layers: 8, bytes: 18_000_000 },
  { repository: 'bench/huge', layers: 10, bytes: 150_000_000 },
];
const rows = [];
for (const image of images) {
  const size = await pushBigImage(registry, image.repository, image.layers, image.bytes);
  const ref = `${registry}/${image.repository}:1.0`;
  for (const c of containerds) {
    const results = Object.fromEntries(Object.keys(tools).map((t) => [t, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const [tool, run] of Object.entries(tools)) {
        // Both emptied: containerd shares blobs and snapshots between namespaces, and a pull
        // finds what the other left.
        for (const namespace of Object.values(namespaceOf)) empty(c, namespace);
        console.error(`containerd: ${image.repository} into ${c.name}, ${tool}, run ${i + 1}`);
        results[tool].push(run(c, ref));
      }
    }
    for (const tool of Object.keys(tools)) empty(c, namespaceOf[tool]);
    const ctrWall = median(results['ctr images pull'].map((r) => r.wall));
    for (const [tool, rs] of Object.entries(results)) {
      const wall = median(rs.map((r) => r.wall));
      rows.push(`| ${image.layers} × ${(image.bytes / 1e6).toFixed(0)} MB (${(size / 1e6).toFixed(0)} MB) | ${c.name} | ${tool} | ${wall.toFixed(2)} | ${(wall / ctrWall).toFixed(2)}× | ${median(rs.map((r) => r.cpu)).toFixed(2)} | ${median(rs.map((r) => r.rssMb)).toFixed(0)} |`);
    }
  }
}
const table = [
  `Measured ${new Date().toISOString().slice(0, 10)}, Node ${process.version}; median of ${RUNS} runs, interleaved; cold pulls (both namespaces emptied and collected before each run, dpull's blob cache emptied, its code cache kept warm) from the stack's loopback registry into the stack's containerds. CPU and RSS are the client's (dpull's or ctr's), not containerd's.`,
  '',
  '| image | into | tool | wall s | × ctr | CPU s | peak RSS MB |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...rows,
  '',
  "dpull fetches into its verified cache and writes each layer into containerd's content store as it arrives, unpacking in order as the layers come in; ctr fetches straight into the content store (1.7 from the client, 2.1 by the daemon itself) and unpacks after. On loopback the extra write is what dpull pays; through a real link the fetch dominates and the writes and unpacking happen while it runs.",
].join('\n');
console.log(table);
if (process.argv.includes('--write')) writeSection('Into containerd: dpull against ctr images pull', table);
