#!/usr/bin/env node
// Records the engine's pull streams from the real test stack into test/fixtures/streams/, byte
// for byte as the engine sent them (after HTTP de-chunking), with the arrival time of each chunk
// beside them (NAME.timing.json). Never edit those files by hand:
// run `bash scripts/test-stack.sh up && node scripts/record-streams.mjs` to make them anew.
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const stackDir = process.env.DPULL_STACK_DIR ?? '/tmp/dpull-stack';
const env = Object.fromEntries(
  readFileSync(`${stackDir}/env`, 'utf8').trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2)),
);
// The classic engine (dockerd 20.10); the containerd-* scenarios switch to Docker 26 with the
// containerd image store, whose stream differs (DESIGN.md, "Two engine back-ends").
const classicSocket = env.DPULL_TEST_DOCKER_HOST.replace('unix://', '');
const containerdSocket = env.DPULL_TEST_DOCKER26_HOST.replace('unix://', '');
let socketPath = classicSocket;
const outDir = fileURLToPath(new URL('../test/fixtures/streams/', import.meta.url));
mkdirSync(outDir, { recursive: true });

/** Sends a request; resolves with the body and, per chunk received, [byte offset, ms since the response began]. */
function engine(method, path) {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path, headers: { 'X-Registry-Auth': 'e30=' } }, (res) => {
      const chunks = [];
      const timing = [];
      const start = performance.now();
      let offset = 0;
      res.on('data', (c) => {
        timing.push([offset, Math.round(performance.now() - start)]);
        offset += c.length;
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks), timing }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const removeImage = (ref) => engine('DELETE', `/images/${encodeURIComponent(ref)}?force=1`);

/** Every recording starts from an engine with no images, so each layer is a real download. */
async function removeAllImages() {
  const { body } = await engine('GET', '/images/json?all=1');
  for (const { Id } of JSON.parse(body)) await removeImage(Id);
}

async function record(name, fromImage, tag) {
  const query = new URLSearchParams({ fromImage, ...(tag && { tag }) });
  const { status, body, timing } = await engine('POST', `/v1.41/images/create?${query}`);
  if (status !== 200) throw new Error(`${name}: HTTP ${status} ${body}`);
  writeFileSync(`${outDir}/${name}.stream`, body);
  // When each chunk arrived, so that a replay can keep the engine's real pace (bench/).
  writeFileSync(`${outDir}/${name}.timing.json`, JSON.stringify(timing));
  console.log(`${name}: ${body.length} bytes, ${body.toString().split('\n').length - 1} lines`);
}

const freePort = () =>
  new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

const slow = env.DPULL_TEST_SLOW_REGISTRY;
const fast = env.DPULL_TEST_REGISTRY;
const throttleProxy = fileURLToPath(new URL('throttle-proxy.mjs', import.meta.url));

/** A throttling proxy of our own in front of the open registry, on a free port. */
async function ownProxy(bytesPerSecond) {
  const port = await freePort();
  const proxy = spawn(process.execPath, [throttleProxy, String(port), fast.split(':')[1], String(bytesPerSecond)], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  return { port, proxy };
}

/** demo/eight pulled afresh through a throttling proxy of our own at `bytesPerSecond`. */
async function recordThrottled(name, bytesPerSecond) {
  await removeAllImages();
  const { port, proxy } = await ownProxy(bytesPerSecond);
  try {
    await record(name, `127.0.0.1:${port}/demo/eight`, '1.0');
  } finally {
    proxy.kill();
  }
}

const scenarios = {
  async 'three-fresh'() {
    await removeAllImages();
    await record('three-fresh', `${slow}/demo/three`, '1.0');
  },
  async 'three-partial'() {
    await removeAllImages();
    await engine('POST', `/v1.41/images/create?fromImage=${slow}/demo/three&tag=1.0`);
    await record('three-partial', `${slow}/demo/three`, '1.1');
    await record('three-up-to-date', `${slow}/demo/three`, '1.1');
  },
  async 'forty-fresh'() {
    await removeAllImages();
    await record('forty-fresh', `${fast}/demo/forty`, '1.0');
  },
  async 'three-all-tags'() {
    await removeAllImages();
    await record('three-all-tags', `${fast}/demo/three`);
  },
  // A pull long enough to measure a display at the engine's real pace (bench/).
  async 'eight-slow'() {
    await recordThrottled('eight-slow', 200_000);
  },
  // The registry goes away mid-pull: the proxy is killed after a second, so the engine shows
  // its Retrying countdown and then fails the pull inside the 200 stream.
  async 'eight-registry-lost'() {
    await removeAllImages();
    const { port, proxy } = await ownProxy(1_000_000);
    setTimeout(() => proxy.kill('SIGKILL'), 1500);
    await record('eight-registry-lost', `127.0.0.1:${port}/demo/eight`, '1.0');
  },
  async 'containerd-three-partial'() {
    await removeAllImages();
    await engine('POST', `/v1.45/images/create?fromImage=${slow}/demo/three&tag=1.0`);
    await record('containerd-three-partial', `${slow}/demo/three`, '1.1');
  },
  async 'containerd-forty-fresh'() {
    await removeAllImages();
    await record('containerd-forty-fresh', `${fast}/demo/forty`, '1.0');
  },
  // A pull long enough to measure a display at Docker 26's real pace (bench/): its progress
  // arrives a line at a time, ~every 100 ms per layer.
  async 'containerd-eight-paced'() {
    await recordThrottled('containerd-eight-paced', 120_000);
  },
  async 'containerd-eight-slow'() {
    await recordThrottled('containerd-eight-slow', 1_000_000);
  },
};

// `node scripts/record-streams.mjs [scenario …]`: the named ones, or all.
const chosen = process.argv.slice(2);
for (const name of chosen.length > 0 ? chosen : Object.keys(scenarios)) {
  if (!scenarios[name]) throw new Error(`no scenario ${name}; there are: ${Object.keys(scenarios).join(', ')}`);
  socketPath = name.startsWith('containerd-') ? containerdSocket : classicSocket;
  await scenarios[name]();
}
socketPath = containerdSocket;
await removeAllImages();
