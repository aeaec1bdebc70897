#!/usr/bin/env node
// Pulls through a link made to look like the internet: a proxy of the bench's own between the
// tools and the stack's loopback registry that delays each direction by half the round trip and
// shapes what the registry sends to one shared downlink (a token bucket over every connection, a
// router's queue of RING bytes per connection before the sender is paused). dpull --output,
// skopeo 1.18 and crane 0.20 (../shared/tools/anchors-up.sh) copy the same images into an OCI
// layout and into an archive through it; each tool's wall time is set beside the link's own time for the bytes it
// carried: bytes / rate + the round trips a pull needs (connect, /v2/, manifest, first blob).
//   bash scripts/test-stack.sh up && node bench/slow-link.mjs [--write]
//   (BENCH_RUNS, default 3 for the 145 MB image, 1 for the 1.5 GB one; SLOW_LINK_BIG=0 skips it)
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { writeSection } from './benchmarks-file.mjs';
import { pushBigImage } from './big-image.mjs';
import { measureRunAsync } from './rusage.mjs';

const RTT_MS = 30;
const RATE = 100e6 / 8; // bytes per second: 100 Mbit/s
const RING = 256 * 1024;
const ROUND_TRIPS = 4;
const root = fileURLToPath(new URL('..', import.meta.url));
const anchors = process.env.ANCHORS_DIR ?? '/var/cache/dpull-anchors';
const stack = Object.fromEntries(readFileSync(`${process.env.DPULL_STACK_DIR ?? '/tmp/dpull-stack'}/env`, 'utf8').trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
const [registryHost, registryPort] = stack.DPULL_TEST_REGISTRY.split(':');
for (const tool of ['crane', 'skopeo']) {
  if (!existsSync(`${anchors}/bin/${tool}`)) throw new Error(`no ${anchors}/bin/${tool}: run ../shared/tools/anchors-up.sh first`);
}
const work = mkdtempSync(`${tmpdir()}/dpull-bench-slow-`);
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

// The link. Downlink: chunks queue in arrival order; every millisecond the bucket lets out what
// the rate allows since the last turn, each chunk delivered half a round trip after it left.
const queue = [];
let queued = 0;
let carried = 0;
let last = process.hrtime.bigint();
let allowance = 0;
setInterval(() => {
  const now = process.hrtime.bigint();
  allowance = Math.min(allowance + (Number(now - last) / 1e9) * RATE, RATE / 100); // no more than 10 ms of burst
  last = now;
  while (queue.length > 0 && allowance > 0) {
    const item = queue[0];
    const n = Math.min(item.chunk.length, Math.floor(allowance));
    if (n <= 0) break;
    const part = item.chunk.subarray(0, n);
    item.chunk = item.chunk.subarray(n);
    allowance -= n;
    queued -= n;
    carried += n;
    item.owner.inFlight -= n;
    if (item.chunk.length === 0) queue.shift();
    setTimeout(() => item.owner.client.destroyed || item.owner.client.write(part), RTT_MS / 2);
    if (item.owner.inFlight < RING / 2 && item.owner.upstream.isPaused()) item.owner.upstream.resume();
  }
}, 1).unref();

const proxy = net.createServer((client) => {
  const upstream = net.connect(Number(registryPort), registryHost);
  const owner = { client, upstream, inFlight: 0 };
  client.on('data', (chunk) => setTimeout(() => upstream.destroyed || upstream.write(chunk), RTT_MS / 2));
  upstream.on('data', (chunk) => {
    queue.push({ owner, chunk });
    queued += chunk.length;
    owner.inFlight += chunk.length;
    if (owner.inFlight > RING) upstream.pause();
  });
  // The end passes through the link too: after what is queued for this connection.
  upstream.on('end', () => {
    const wait = setInterval(() => {
      if (owner.inFlight > 0) return;
      clearInterval(wait);
      setTimeout(() => client.end(), RTT_MS / 2);
    }, 1);
  });
  client.on('end', () => setTimeout(() => upstream.end(), RTT_MS / 2));
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
});
await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
const via = `127.0.0.1:${proxy.address().port}`;

/** A tool's run through the link: its figures and the link's own time for the bytes it carried. */
async function measureAsync(command, args) {
  carried = 0;
  const figures = await measureRunAsync(work, command, args);
  return { ...figures, link: carried / RATE + (ROUND_TRIPS * RTT_MS) / 1000 };
}

// Into a layout, and into an archive (dpull's docker-archive, written in the same pass as the
// fetch; skopeo's docker-archive; crane's tarball), dpull's cache emptied before each of its runs.
const dpullInto = (output) => (ref, dest) => {
  rmSync(`${work}/cache`, { recursive: true, force: true });
  return [process.execPath, [`${root}/bin/dpull.js`, '-q', '--cache-dir', `${work}/cache`, '--output', output(dest), ref]];
};
const tools = {
  dpull: dpullInto((dest) => `oci:${dest}`),
  'skopeo 1.18': (ref, dest) => [`${anchors}/bin/skopeo`, ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${dest}`]],
  'crane 0.20': (ref, dest) => [`${anchors}/bin/crane`, ['pull', '--insecure', '--format=oci', ref, dest]],
  'dpull, docker-archive': dpullInto((dest) => `docker-archive:${dest}.tar`),
  'skopeo 1.18, docker-archive': (ref, dest) => [`${anchors}/bin/skopeo`, ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `docker-archive:${dest}.tar:${ref}`]],
  'crane 0.20, tarball': (ref, dest) => [`${anchors}/bin/crane`, ['pull', '--insecure', ref, `${dest}.tar`]],
};
// SLOW_LINK_TOOLS=dpull,… runs only those (a quick look; the table then lacks the peers).
const only = process.env.SLOW_LINK_TOOLS?.split(',');
if (only !== undefined) for (const tool of Object.keys(tools)) if (!only.some((name) => tool.startsWith(name))) delete tools[tool];
const images = [
  { name: 'the 8-layer image', repository: 'bench/slow-big', layers: 8, bytes: 18_000_000, runs: Number(process.env.BENCH_RUNS ?? 3) },
  ...(process.env.SLOW_LINK_BIG === '0' ? [] : [{ name: 'the 10-layer image', repository: 'bench/slow-huge', layers: 10, bytes: 150_000_000, runs: Number(process.env.BENCH_RUNS ?? 1) }]),
];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const image of images) {
  const size = await pushBigImage(stack.DPULL_TEST_REGISTRY, image.repository, image.layers, image.bytes);
  const results = Object.fromEntries(Object.keys(tools).map((t) => [t, []]));
  for (let i = 0; i < image.runs; i++) {
    for (const [tool, command] of Object.entries(tools)) {
      const dest = `${work}/out-${i}`;
      console.error(`slow-link: ${image.name}, ${tool}, run ${i + 1}`);
      results[tool].push(await measureAsync(...command(`${via}/${image.repository}:1.0`, dest)));
      rmSync(dest, { recursive: true, force: true });
      rmSync(`${dest}.tar`, { force: true });
    }
  }
  for (const [tool, rs] of Object.entries(results)) {
    const wall = median(rs.map((r) => r.wall));
    const link = median(rs.map((r) => r.link));
    rows.push({ image: `${image.name} (${(size / 1e6).toFixed(0)} MB)`, tool, wall, link, cpu: median(rs.map((r) => r.cpu)), rss: median(rs.map((r) => r.rssMb)) });
  }
}
proxy.close();

const table = [
  `Measured ${new Date().toISOString().slice(0, 10)}, Node ${process.version}; through bench/slow-link.mjs's link (${RTT_MS} ms round trip, ${RATE * 8 / 1e6} Mbit/s shared downlink) to the stack's registry, into an OCI layout and into an archive; median of ${images.map((i) => `${i.runs} run${i.runs === 1 ? '' : 's'}`).join(' and ')}. The link's time: the bytes it carried for that pull / the rate + ${ROUND_TRIPS} round trips.`,
  '',
  '| image | tool | wall s | link s | wall / link | CPU s | peak RSS MB |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.image} | ${r.tool} | ${r.wall.toFixed(2)} | ${r.link.toFixed(2)} | ${(r.wall / r.link).toFixed(3)}× | ${r.cpu.toFixed(2)} | ${r.rss.toFixed(0)} |`),
  '',
  `Goal (issue #32): dpull ≤ 1.02× the link's time and ≤ skopeo's and crane's wall: ${[...new Set(rows.map((r) => r.image))]
    .map((image) => {
      const of = (tool) => rows.find((r) => r.image === image && r.tool === tool);
      const [d, a] = [of('dpull'), of('dpull, docker-archive')];
      if (only !== undefined) return `${image}: into a layout ${(d.wall / d.link).toFixed(3)}× the link; into an archive ${(a.wall / a.link).toFixed(3)}×`;
      return `${image}: into a layout **${(d.wall / d.link).toFixed(3)}×** the link, ${(d.wall / of('skopeo 1.18').wall).toFixed(3)}× skopeo's, ${(d.wall / of('crane 0.20').wall).toFixed(3)}× crane's; into an archive **${(a.wall / a.link).toFixed(3)}×** the link, ${(a.wall / of('skopeo 1.18, docker-archive').wall).toFixed(3)}× skopeo's, ${(a.wall / of('crane 0.20, tarball').wall).toFixed(3)}× crane's`;
    })
    .join('; ')}.`,
].join('\n');
console.log(table);
if (process.argv.includes('--write') && only === undefined) writeSection('Through a slow link: 30 ms, 100 Mbit/s', table);
