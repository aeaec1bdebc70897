#!/usr/bin/env node
// One image into the test stack's engines (dockerd, Docker 26 with the containerd store, podman),
// three ways, each starting from engines without it: dpull --load once into all of them; docker
// pull on each engine at once (each fetches from the registry itself); and one docker pull then
// docker save | docker load into the others. The registry is reached through a proxy of the
// bench's own that counts what it serves; what goes to the engines is counted too (dpull's `load`
// objects; the bytes piped into each docker load). Wall seconds, median of the runs.
//   bash scripts/test-stack.sh up && node bench/fleet.mjs [--write]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { writeSection } from './benchmarks-file.mjs';
import { pushBigImage } from './big-image.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const stack = Object.fromEntries(readFileSync(`${process.env.DPULL_STACK_DIR ?? '/tmp/dpull-stack'}/env`, 'utf8').trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
const [registryHost, registryPort] = stack.DPULL_TEST_REGISTRY.split(':');
// podman's registries.conf in the stack lists this port as plain HTTP (scripts/test-stack.sh).
const proxyPort = Number(registryPort) + 17;
const engines = { dockerd: stack.DPULL_TEST_DOCKER_HOST, 'Docker 26': stack.DPULL_TEST_DOCKER26_HOST, podman: stack.DPULL_TEST_PODMAN_HOST };
const work = mkdtempSync(`${tmpdir()}/dpull-bench-fleet-`);
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

// The counting proxy: every byte the registry sends back.
let served = 0;
const proxy = net.createServer((client) => {
  const upstream = net.connect(Number(registryPort), registryHost);
  upstream.on('data', (chunk) => (served += chunk.length));
  client.pipe(upstream).pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
});
await new Promise((resolve) => proxy.listen(proxyPort, '127.0.0.1', resolve));

/** Runs a command; resolves with its stdout. `input`: a stream piped into it. */
function run(command, args, { input, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const out = [];
    let err = '';
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => (err += d));
    if (input) input.pipe(child.stdin);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${command} ${args.join(' ')}: exit ${code}: ${err.slice(-400)}`))));
  });
}
const docker = (host, ...args) => run('docker', ['-H', host, ...args]);
async function removeFromEngines(image) {
  for (const host of Object.values(engines)) await docker(host, 'rmi', '-f', image).catch(() => {});
}

const bytes = await pushBigImage(stack.DPULL_TEST_REGISTRY, 'bench/fleet', 8, 18_000_000);
const image = `127.0.0.1:${proxyPort}/bench/fleet:1.0`;

/** One way, timed: what the registry served and what went to the engines. */
async function measure(way) {
  await removeFromEngines(image);
  served = 0;
  const started = process.hrtime.bigint();
  const toEngines = await way();
  return { wall: Number(process.hrtime.bigint() - started) / 1e9, registry: served, toEngines };
}
const ways = {
  'dpull --load into all three, once': async () => {
    const cache = `${work}/cache-${Math.random()}`;
    const out = await run(process.execPath, [`${root}/bin/dpull.js`, '--progress', 'json', '--load', ...Object.values(engines).flatMap((h) => ['-H', h]), image], { env: { XDG_CACHE_HOME: cache } });
    rmSync(cache, { recursive: true, force: true });
    return out.toString().trim().split('\n').map((l) => JSON.parse(l)).filter((o) => o.type === 'load').reduce((sum, o) => sum + o.sentBytes, 0);
  },
  'docker pull on each engine, at once': async () => {
    await Promise.all(Object.values(engines).map((host) => docker(host, 'pull', '-q', image)));
    return undefined;
  },
  // (docker load reads the archive from stdin: the save is piped in, and counted.)
  'docker pull on one, then docker save | docker load into the others': async () => {
    const [first, ...others] = Object.values(engines);
    await docker(first, 'pull', '-q', image);
    let sent = 0;
    for (const host of others) {
      const save = spawn('docker', ['-H', first, 'save', image], { stdio: ['ignore', 'pipe', 'inherit'] });
      save.stdout.on('data', (d) => (sent += d.length));
      await run('docker', ['-H', host, 'load', '-q'], { input: save.stdout });
    }
    return sent;
  },
};

const results = Object.fromEntries(Object.keys(ways).map((name) => [name, []]));
for (let i = 0; i < RUNS; i++) for (const [name, way] of Object.entries(ways)) results[name].push(await measure(way));
await removeFromEngines(image);
proxy.close();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (n) => (n / 1e6).toFixed(0);
const rows = Object.entries(results).map(([name, rs]) => {
  const sent = rs[0].toEngines;
  return `| ${name.replace(/\|/g, "\\|")} | ${median(rs.map((r) => r.wall)).toFixed(2)} | ${mb(median(rs.map((r) => r.registry)))} (${(median(rs.map((r) => r.registry)) / bytes).toFixed(2)}×) | ${sent === undefined ? '— (each engine fetches)' : mb(sent)} |`;
});
const table = [
  `Measured ${new Date().toISOString().slice(0, 10)}, Node ${process.version}; median of ${RUNS} runs; the image: 8 layers, ${mb(bytes)} MB (gzip), from the stack's loopback registry through a counting proxy; engines: ${Object.keys(engines).join(', ')}, each without the image at the start.`,
  '',
  '| into three engines | wall s | MB from the registry (× the image) | MB sent to the engines |',
  '| --- | --- | --- | --- |',
  ...rows,
  '',
  `Goal (issue #31): registry bytes 1× the image for dpull (3× for docker pull on each): **${(median(results['dpull --load into all three, once'].map((r) => r.registry)) / bytes).toFixed(2)}×**. (Bytes to an engine that holds the base layers: test/e2e/load.test.ts counts them on the socket, within 5 % of the missing layers.)`,
].join('\n');
console.log(table);
if (process.argv.includes('--write')) writeSection('A fleet from one fetch: dpull --load into several engines', table);
