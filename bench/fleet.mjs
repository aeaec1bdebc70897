#!/usr/bin/env node
// One image into four engines, each starting without it: the test stack's dockerd, Docker 26 (the
// containerd store) and podman, and a podman service of the bench's own (its own storage) that
// dpull reaches over the stack's ssh. Three ways: dpull --load once into all four; docker pull on
// each engine at once (each fetches from the registry itself); one docker pull, then docker save |
// docker load into the others. Then the case of engines that hold the image's base layers already
// (bench/fleet:base, 6 of its 8 layers): what dpull sends each of them, against what it lacks. The
// registry is reached through a counting proxy of the bench's own; what goes to the engines is
// counted too (dpull's `load` objects; the bytes piped into each docker load). Median of the runs.
//   bash scripts/test-stack.sh up && node bench/fleet.mjs [--write]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
const work = mkdtempSync(`${tmpdir()}/dpull-bench-fleet-`);
// The fourth engine: podman's service on storage of its own, stopped and removed at the end.
const podmanB = `${work}/podman-b.sock`;
const podmanService = spawn(
  'podman',
  ['--storage-driver=vfs', '--root', `${work}/podman-b/root`, '--runroot', `${work}/podman-b/run`, 'system', 'service', '--time=0', `unix://${podmanB}`],
  { stdio: 'ignore', env: { ...process.env, CONTAINERS_REGISTRIES_CONF: `${process.env.DPULL_STACK_DIR ?? '/tmp/dpull-stack'}/podman/registries.conf` } },
);
const podmanEnded = new Promise((resolve) => podmanService.on('exit', resolve));
process.on('exit', () => {
  podmanService.kill();
  rmSync(work, { recursive: true, force: true });
});
for (let i = 0; !existsSync(podmanB); i++) {
  if (i > 100) throw new Error('the bench\'s podman service did not start');
  await new Promise((resolve) => setTimeout(resolve, 100));
}
/** Each engine: how the docker CLI reaches it, and how dpull does (the fourth over ssh). */
const engines = {
  dockerd: { cli: stack.DPULL_TEST_DOCKER_HOST, dpull: stack.DPULL_TEST_DOCKER_HOST, classic: true },
  'Docker 26': { cli: stack.DPULL_TEST_DOCKER26_HOST, dpull: stack.DPULL_TEST_DOCKER26_HOST, classic: false },
  podman: { cli: stack.DPULL_TEST_PODMAN_HOST, dpull: stack.DPULL_TEST_PODMAN_HOST, classic: false },
  'podman over ssh': { cli: `unix://${podmanB}`, dpull: `${stack.DPULL_TEST_SSH_HOST}${podmanB}`, classic: false },
};
const sshEnv = { PATH: `${stack.DPULL_TEST_SSH_PATH}:${process.env.PATH}` };

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
const clis = Object.values(engines).map((e) => e.cli);
async function removeFromEngines(...images) {
  for (const host of clis) for (const image of images) await docker(host, 'rmi', '-f', image).catch(() => {});
}

const BASE_LAYERS = 6;
const bytes = await pushBigImage(stack.DPULL_TEST_REGISTRY, 'bench/fleet', 8, 18_000_000, BASE_LAYERS);
const image = `127.0.0.1:${proxyPort}/bench/fleet:1.0`;
const base = `127.0.0.1:${proxyPort}/bench/fleet:base`;
/** dpull --load into every engine; resolves with its json `load` objects. */
async function dpullLoad(ref) {
  const cache = `${work}/cache-${Math.random()}`;
  const out = await run(process.execPath, [`${root}/bin/dpull.js`, '--progress', 'json', '--load', ...Object.values(engines).flatMap((e) => ['-H', e.dpull]), ref], { env: { XDG_CACHE_HOME: cache, ...sshEnv } });
  rmSync(cache, { recursive: true, force: true });
  return out.toString().trim().split('\n').map((l) => JSON.parse(l)).filter((o) => o.type === 'load');
}

/** One way, timed: what the registry served and what went to the engines. */
async function measure(way, name) {
  console.error(`fleet: ${name}`);
  await removeFromEngines(image, base);
  served = 0;
  const started = process.hrtime.bigint();
  const toEngines = await way();
  return { wall: Number(process.hrtime.bigint() - started) / 1e9, registry: served, toEngines };
}
const ways = {
  'dpull --load into all four, once': async () => (await dpullLoad(image)).reduce((sum, o) => sum + o.sentBytes, 0),
  'docker pull on each engine, at once': async () => {
    await Promise.all(clis.map((host) => docker(host, 'pull', '-q', image)));
    return undefined;
  },
  // (docker load reads the archive from stdin: the save is piped in, and counted.)
  'docker pull on one, then docker save | docker load into the others': async () => {
    const [first, ...others] = clis;
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
for (let i = 0; i < RUNS; i++) for (const [name, way] of Object.entries(ways)) results[name].push(await measure(way, name));

// Engines holding the base layers: the base loaded first (not timed), then the image; what each is sent.
const layerSizes = async (tag) =>
  (await (await fetch(`http://${stack.DPULL_TEST_REGISTRY}/v2/bench/fleet/manifests/${tag}`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } })).json()).layers.map((l) => l.size);
const missing = (await layerSizes('1.0')).slice(BASE_LAYERS).reduce((a, b) => a + b, 0);
const withBase = Object.fromEntries(Object.keys(engines).map((name) => [name, []]));
for (let i = 0; i < RUNS; i++) {
  console.error('fleet: engines holding the base layers');
  await removeFromEngines(image, base);
  await dpullLoad(base);
  const loads = await dpullLoad(image);
  for (const [name, e] of Object.entries(engines)) withBase[name].push(loads.find((o) => o.engine === e.dpull)?.sentBytes ?? NaN);
}
await removeFromEngines(image, base);
proxy.close();
// (Its storage removed once it has stopped: a service still writing there would leave it behind.)
podmanService.kill();
await podmanEnded;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (n) => (n / 1e6).toFixed(0);
const rows = Object.entries(results).map(([name, rs]) => {
  const sent = rs[0].toEngines;
  return `| ${name.replace(/\|/g, '\\|')} | ${median(rs.map((r) => r.wall)).toFixed(2)} | ${mb(median(rs.map((r) => r.registry)))} (${(median(rs.map((r) => r.registry)) / bytes).toFixed(2)}×) | ${sent === undefined ? '— (each engine fetches)' : mb(sent)} |`;
});
const baseRows = Object.entries(withBase).map(([name, sent]) => {
  const m = median(sent);
  return `| ${name} | ${engines[name].classic ? 'reads only the layers it lacks: sent those' : 'needs every layer file: sent all'} | ${(m / 1e6).toFixed(1)} | ${(m / missing).toFixed(3)}× |`;
});
const classic = Object.entries(withBase).filter(([name]) => engines[name].classic).map(([, sent]) => median(sent) / missing);
const table = [
  `Measured ${new Date().toISOString().slice(0, 10)}, Node ${process.version}; median of ${RUNS} runs; the image: 8 layers, ${mb(bytes)} MB (gzip), from the stack's loopback registry through a counting proxy; engines: ${Object.keys(engines).join(', ')} (a podman service of the bench's own, which dpull reaches over ssh and the docker CLI over its socket), each without the image at the start.`,
  '',
  '| into four engines | wall s | MB from the registry (× the image) | MB sent to the engines |',
  '| --- | --- | --- | --- |',
  ...rows,
  '',
  `Engines that hold the image's first ${BASE_LAYERS} layers already (bench/fleet:base loaded first), then \`dpull --load\` of the image: the 2 missing layers are ${(missing / 1e6).toFixed(1)} MB.`,
  '',
  '| engine | its loader | MB sent | × the missing layers |',
  '| --- | --- | --- | --- |',
  ...baseRows,
  '',
  `Goals (issue #31): registry bytes 1× the image for dpull (4× for docker pull on each): **${(median(results['dpull --load into all four, once'].map((r) => r.registry)) / bytes).toFixed(2)}×**; bytes to an engine that holds the base layers ≤ the missing layers + 5 %: **${classic.map((r) => `${r.toFixed(3)}×`).join(', ')}** for the classic store, whose loader reads only the layer files it lacks. The containerd store and podman are sent every layer: their loaders fail on an archive without a layer's file (test/e2e/load.test.ts and src/engine/engine-holdings.ts), so the goal holds for the engines that can take it.`,
].join('\n');
console.log(table);
if (process.argv.includes('--write')) writeSection('A fleet from one fetch: dpull --load into several engines', table);
