#!/usr/bin/env node
// Issue #32's throughput and memory goals, side by side in one run: dpull --output against crane
// 0.20 and skopeo 1.18 (../shared/tools/anchors-up.sh installs both beside the system's) on the
// same images from the stack's loopback registry — the 8-layer 145 MB image and a 1.5 GB image of
// ten 150 MB layers, made and pushed by bench/big-image.mjs — into an OCI layout and into an
// archive (dpull's docker-archive, crane's tarball, skopeo's docker-archive), and dpull --load into
// the stack's dockerd beside the engine's own docker pull. Wall and CPU seconds,
// CPU per GB and peak RSS (bench/rusage.py), median of the runs, the tools interleaved; dpull's
// blob cache emptied before each of its runs (its code cache kept warm). Each tool in the same clean environment. The
// same pulls over HTTPS too (not a goal of #32's, which is the loopback's plain HTTP; real
// registries are HTTPS): a reference registry of the bench's own serves the same storage with the
// stack's CA-signed certificate, each tool given that CA its own way.
//   bash scripts/test-stack.sh up && node bench/throughput.mjs [--write]   (BENCH_RUNS, default 3)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { writeSection } from './benchmarks-file.mjs';
import { pushBigImage } from './big-image.mjs';
import { measureRun } from './rusage.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const root = fileURLToPath(new URL('..', import.meta.url));
const anchors = process.env.ANCHORS_DIR ?? '/var/cache/dpull-anchors';
const stack = Object.fromEntries(readFileSync(`${process.env.DPULL_STACK_DIR ?? '/tmp/dpull-stack'}/env`, 'utf8').trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
const registry = stack.DPULL_TEST_REGISTRY;
for (const tool of ['crane', 'skopeo']) {
  if (!existsSync(`${anchors}/bin/${tool}`)) throw new Error(`no ${anchors}/bin/${tool}: run ../shared/tools/anchors-up.sh first`);
}
const work = mkdtempSync(`${tmpdir()}/dpull-bench-throughput-`);
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const measure = (command, args, env = {}) => measureRun(work, command, args, env);

// The HTTPS registry: the stack's storage, the stack's server certificate (for its REGISTRY_HOST,
// in /etc/hosts), on a port nobody holds.
const stackDir = process.env.DPULL_STACK_DIR ?? '/tmp/dpull-stack';
const certs = stack.DPULL_TEST_REGISTRY_CERTS;
const tlsPort = await new Promise((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    server.close(() => resolve(port));
  });
});
const tlsRegistry = `${stack.DPULL_TEST_REGISTRY_HOST}:${tlsPort}`;
writeFileSync(`${work}/tls-registry.yml`, [
  'version: 0.1',
  'log: { level: error, accesslog: { disabled: true } }',
  `storage: { filesystem: { rootdirectory: ${stackDir}/registry/data } }`,
  `http: { addr: 127.0.0.1:${tlsPort}, secret: bench, tls: { certificate: ${certs}/server-cert.pem, key: ${certs}/server-key.pem } }`,
].join('\n'));
const tlsServer = spawn('docker-registry', ['serve', `${work}/tls-registry.yml`], { stdio: 'ignore' });
tlsServer.unref(); // (the bench ends when its work does; the registry with it)
process.on('exit', () => tlsServer.kill());
// dpull reads certs.d folders (DPULL_CERTS_D), skopeo a folder of *.crt, crane the CA file Go is named.
mkdirSync(`${work}/certs.d/${tlsRegistry}`, { recursive: true });
copyFileSync(`${certs}/ca.pem`, `${work}/certs.d/${tlsRegistry}/ca.crt`);
for (let tries = 0; spawnSync('curl', ['-fsS', '-o', '/dev/null', '--cacert', `${certs}/ca.pem`, `https://${tlsRegistry}/v2/`]).status !== 0; tries++) {
  if (tries > 100) throw new Error(`the HTTPS registry at ${tlsRegistry} did not start`);
  await new Promise((resolve) => setTimeout(resolve, 100));
}
// The registry's CPU over each run (user + system of all its threads, /proc/PID/stat): on this
// loopback it shares the machine's cores with the tool, so the run cannot be shorter than what
// both used over the cores there are — the row's floor, the wall time of a tool that kept every
// core busy and did the same work.
const plainRegistryPid = Number(readFileSync(`${stackDir}/registry/pid`, 'utf8'));
const ticks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
const cpuOf = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticks; // (utime, stime: the 14th and 15th fields)
};
const withRegistryCpu = (pid, run) => {
  const before = cpuOf(pid);
  const result = run();
  return { ...result, registryCpu: cpuOf(pid) - before };
};
const overHttps = { dpull: { DPULL_CERTS_D: `${work}/certs.d` }, crane: { SSL_CERT_FILE: `${certs}/ca.pem` }, skopeo: ['--src-cert-dir', `${work}/certs.d/${tlsRegistry}`] };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// dpull's blob cache (what an archive or --load is made from) is emptied before each of its runs;
// its code cache beside it is kept warm, as on a user's machine after the first pull (made by the
// warm-up below: a cold one costs a start ~16 ms and 1.3 MB more).
const emptyBlobCache = () => rmSync(`${work}/cache/dpull/layout`, { recursive: true, force: true });
const dpull = (ref, output, env = {}) => {
  emptyBlobCache();
  return measure(process.execPath, [`${root}/bin/dpull.js`, '-q', '-o', output, ref], { XDG_CACHE_HOME: `${work}/cache`, ...env });
};
// dpull's digest thread, asked for (src/registry/blob-digest.ts): not the default, for its memory.
const DIGEST_THREAD = 'dpull, DPULL_WORKER_DIGEST_BYTES=8388608';
const formats = {
  'OCI layout': {
    dpull: (ref, d) => dpull(ref, `oci:${d}`),
    'crane 0.20': (ref, d) => measure(`${anchors}/bin/crane`, ['pull', '--insecure', '--format=oci', ref, d]),
    'skopeo 1.18': (ref, d) => measure(`${anchors}/bin/skopeo`, ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${d}`]),
  },
  archive: {
    dpull: (ref, d) => dpull(ref, `docker-archive:${d}.tar`),
    [DIGEST_THREAD]: (ref, d) => dpull(ref, `docker-archive:${d}.tar`, { DPULL_WORKER_DIGEST_BYTES: String(8 << 20) }),
    'crane 0.20': (ref, d) => measure(`${anchors}/bin/crane`, ['pull', '--insecure', ref, `${d}.tar`]),
    'skopeo 1.18': (ref, d) => measure(`${anchors}/bin/skopeo`, ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `docker-archive:${d}.tar:${ref}`]),
  },
  'OCI layout, HTTPS': {
    dpull: (ref, d) => dpull(ref, `oci:${d}`, overHttps.dpull),
    'crane 0.20': (ref, d) => measure(`${anchors}/bin/crane`, ['pull', '--format=oci', ref, d], overHttps.crane),
    'skopeo 1.18': (ref, d) => measure(`${anchors}/bin/skopeo`, ['copy', '--quiet', ...overHttps.skopeo, `docker://${ref}`, `oci:${d}`]),
  },
  'archive, HTTPS': {
    dpull: (ref, d) => dpull(ref, `docker-archive:${d}.tar`, overHttps.dpull),
    'crane 0.20': (ref, d) => measure(`${anchors}/bin/crane`, ['pull', ref, `${d}.tar`], overHttps.crane),
    'skopeo 1.18': (ref, d) => measure(`${anchors}/bin/skopeo`, ['copy', '--quiet', ...overHttps.skopeo, `docker://${ref}`, `docker-archive:${d}.tar:${ref}`]),
  },
};
const isHttps = (format) => format.endsWith(', HTTPS');
const images = [
  { repository: 'bench/big', layers: 8, bytes: 18_000_000 },
  { repository: 'bench/huge', layers: 10, bytes: 150_000_000 },
];

const cores = cpus().length;
const rows = [];
const summary = []; // dpull's rows the goals are about: plain HTTP
const overHttpsSummary = []; // and over HTTPS, reported beside them
// --load into the stack's dockerd: dpull's peak RSS (the goal), beside the engine's own pull of the
// same image (whose work is the daemon's: its CLI's CPU and memory say nothing). The image is
// removed from the engine before each run.
const dockerHost = stack.DPULL_TEST_DOCKER_HOST;
const docker = (...args) => spawnSync('docker', ['-H', dockerHost, ...args], { stdio: 'ignore' });
const loads = [];
/** One run of a tool's pull of `repository` in `format` (over HTTPS from the bench's registry), its output removed after. */
const runOnce = (format, make, repository) => {
  const dest = `${work}/out`;
  const https = isHttps(format);
  const result = withRegistryCpu(https ? tlsServer.pid : plainRegistryPid, () => make(`${https ? tlsRegistry : registry}/${repository}:1.0`, dest));
  rmSync(dest, { recursive: true, force: true });
  rmSync(`${dest}.tar`, { force: true });
  return result;
};
for (const image of images) {
  const size = await pushBigImage(registry, image.repository, image.layers, image.bytes);
  if (image === images[0]) {
    // One round of every tool first, not measured: dpull's code cache made, each program read from disk once.
    for (const [format, tools] of Object.entries(formats)) for (const make of Object.values(tools)) runOnce(format, make, image.repository);
  }
  const ref = `${registry}/${image.repository}:1.0`;
  const label = `${image.layers} × ${(image.bytes / 1e6).toFixed(0)} MB (${(size / 1e6).toFixed(0)} MB)`;
  for (const [format, tools] of Object.entries(formats)) {
    const results = Object.fromEntries(Object.keys(tools).map((t) => [t, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const [tool, make] of Object.entries(tools)) {
        console.error(`throughput: ${label}, ${format}, ${tool}, run ${i + 1}`);
        results[tool].push(runOnce(format, make, image.repository));
      }
    }
    // (The floor per run, then its median: a run's own tool and registry CPU together.)
    for (const rs of Object.values(results)) for (const r of rs) r.floor = (r.cpu + r.registryCpu) / cores;
    const m = Object.fromEntries(Object.entries(results).map(([tool, rs]) => [tool, Object.fromEntries(['wall', 'cpu', 'rssMb', 'registryCpu', 'floor'].map((k) => [k, median(rs.map((r) => r[k]))]))]));
    for (const [tool, r] of Object.entries(m)) {
      rows.push(`| ${label} | ${format} | ${tool} | ${r.wall.toFixed(2)} | ${(r.wall / m['crane 0.20'].wall).toFixed(2)}× | ${r.cpu.toFixed(2)} | ${(r.cpu / (size / 1e9)).toFixed(2)} | ${r.registryCpu.toFixed(2)} | ${r.floor.toFixed(2)} | ${r.rssMb.toFixed(0)} |`);
    }
    (isHttps(format) ? overHttpsSummary : summary).push({ label, format, wallVsCrane: m.dpull.wall / m['crane 0.20'].wall, wallVsSkopeo: m.dpull.wall / m['skopeo 1.18'].wall, rss: m.dpull.rssMb, floorVsCrane: m.dpull.floor / m['crane 0.20'].wall, craneVsFloor: m['crane 0.20'].wall / m['crane 0.20'].floor });
  }
  const loaded = { dpull: [], 'docker pull': [] };
  for (let i = 0; i < RUNS; i++) {
    console.error(`throughput: ${label}, --load, run ${i + 1}`);
    docker('rmi', '-f', ref);
    emptyBlobCache();
    loaded.dpull.push(measure(process.execPath, [`${root}/bin/dpull.js`, '-q', '--load', '-H', dockerHost, ref], { XDG_CACHE_HOME: `${work}/cache` }));
    docker('rmi', '-f', ref);
    loaded['docker pull'].push(measure('docker', ['-H', dockerHost, 'pull', '-q', ref]));
  }
  docker('rmi', '-f', ref);
  const lm = Object.fromEntries(Object.entries(loaded).map(([tool, rs]) => [tool, { wall: median(rs.map((r) => r.wall)), rssMb: median(rs.map((r) => r.rssMb)) }]));
  loads.push(`| ${label} | dpull -q --load | ${lm.dpull.wall.toFixed(2)} | ${(lm.dpull.wall / lm['docker pull'].wall).toFixed(2)}× | ${lm.dpull.rssMb.toFixed(0)} |`);
  loads.push(`| ${label} | docker pull (the engine fetches) | ${lm['docker pull'].wall.toFixed(2)} | 1.00× | — |`);
  summary.push({ label, format: '--load', rss: lm.dpull.rssMb });
}

const rss = summary.map((s) => s.rss);
const table = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0].model.trim()}, Node ${process.version}; median of ${RUNS} runs, the tools interleaved; from the stack's loopback registry (plain HTTP), and from the same storage over HTTPS (\`, HTTPS\`: a reference registry with a certificate of the stack's CA, which each tool is given). An archive is dpull's docker-archive, crane's tarball (\`crane pull\`), skopeo's docker-archive. \`${DIGEST_THREAD}\` is dpull with its digest thread asked for (not the default; the goals are dpull's default).`,
  '',
  `The registry's CPU is its process's over the same run; the floor is the tool's and the registry's CPU over the machine's ${cores} cores: the wall time of a tool that did the same work and kept every core busy.`,
  '',
  '| image | into | tool | wall s | × crane | CPU s | CPU s per GB | registry CPU s | floor s | peak RSS MB |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows,
  '',
  'Into the stack\'s dockerd (`--load`), beside the engine\'s own pull of the same image (the image removed before each run):',
  '',
  '| image | tool | wall s | × docker pull | peak RSS MB |',
  '| --- | --- | --- | --- | --- |',
  ...loads,
  '',
  'Goals (issue #32):',
  `- wall time ≤ 1.0× crane's and below skopeo 1.18's: ${summary.filter((s) => s.format !== '--load').map((s) => `${s.label} ${s.format} **${s.wallVsCrane.toFixed(2)}×** crane (${s.wallVsSkopeo.toFixed(2)}× skopeo)`).join('; ')} — ${summary.filter((s) => s.format !== '--load').every((s) => s.wallVsCrane <= 1 && s.wallVsSkopeo < 1) ? 'met' : 'not met'}`,
  `- where the wall goal stands against the machine: crane's wall over its own floor ${summary.filter((s) => s.format !== '--load').map((s) => `${s.label} ${s.format} ${s.craneVsFloor.toFixed(2)}×`).join(', ')}; dpull's floor over crane's wall (the least dpull's work could take, over crane's time) ${summary.filter((s) => s.format !== '--load').map((s) => `${s.label} ${s.format} **${s.floorVsCrane.toFixed(2)}×**`).join(', ')}`,
  `- peak RSS ≤ 64 MB (into a layout, an archive, and --load), the 1.5 GB image within 5 MB of the 145 MB one: ${['OCI layout', 'archive', '--load'].map((format) => `${format} **${summary.filter((s) => s.format === format).map((s) => s.rss.toFixed(0)).join(' / ')} MB**`).join(', ')} — ${Math.max(...rss) <= 64 && Math.max(...summary.filter((s) => s.label === summary.at(-1).label).map((s) => s.rss)) - Math.max(...summary.filter((s) => s.label === summary[0].label).map((s) => s.rss)) <= 5 ? 'met' : 'not met'}`,
  `- (not a goal: over HTTPS) peak RSS ${overHttpsSummary.map((s) => `${s.label} ${s.format} **${s.rss.toFixed(0)} MB**, ${s.wallVsCrane.toFixed(2)}× crane's wall`).join('; ')}`,
].join('\n');
console.log(table);
if (process.argv.includes('--write')) writeSection('Throughput: dpull --output vs crane and skopeo 1.18', table);
