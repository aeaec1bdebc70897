#!/usr/bin/env node
// The README's samples of what dpull prints, made by running dpull against the test stack: never
// typed by hand. `node scripts/readme-samples.mjs` (with the stack up: scripts/test-stack.sh up)
// rewrites each block between `<!-- sample: NAME -->` and `<!-- /sample -->` in README.md;
// test/e2e/readme.test.ts runs the same captures and fails when a sample no longer matches.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pty from 'node-pty';
import xterm from '@xterm/headless';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'dpull.js');

export function stackEnv(stackDir = process.env.DPULL_STACK_DIR ?? '/tmp/dpull-stack') {
  return Object.fromEntries(readFileSync(`${stackDir}/env`, 'utf8').trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
}

function engine(socketPath, method, path) {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

export async function emptyEngine(host) {
  const socket = host.replace('unix://', '');
  for (const { Id } of JSON.parse(await engine(socket, 'GET', '/images/json?all=1'))) {
    await engine(socket, 'DELETE', `/images/${Id}?force=1`);
  }
}

/** The screen of a terminal after these bytes, each logical line whole. */
async function screen(bytes, cols, rows) {
  const term = new xterm.Terminal({ cols, rows, allowProposedApi: true, scrollback: 1000 });
  await new Promise((resolve) => term.write(bytes, resolve));
  const buffer = term.buffer.active;
  const lines = [];
  for (let i = 0; i < buffer.length; i++) {
    const line = buffer.getLine(i);
    const text = (line?.translateToString(true) ?? '').trimEnd();
    if (line?.isWrapped && lines.length > 0) lines[lines.length - 1] += text;
    else lines.push(text);
  }
  term.dispose();
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  return lines;
}

/**
 * dpull in a pseudo-terminal; `moment(lines)` picks the frame to show (the screen when it first
 * holds, else the last screen). Resolves with that screen and every frame's lines seen.
 */
export function captureTty(args, env, { cols, rows, moment = () => false }) {
  return new Promise((resolve) => {
    const term = pty.spawn(process.execPath, [bin, ...args], { name: 'xterm-256color', cols, rows, env: { PATH: process.env.PATH, HOME: process.env.HOME, TERM: 'xterm-256color', ...env } });
    let output = '';
    term.onData((d) => (output += d));
    term.onExit(async () => {
      await new Promise((r) => setTimeout(r, 50));
      // Every frame ends where the next synchronized update begins.
      const starts = [...output.matchAll(/\x1b\[\?2026h/g)].map((m) => m.index).concat(output.length);
      const frames = [];
      for (const start of starts) frames.push((await screen(output.slice(0, start), cols, rows)).slice(-rows));
      const chosen = frames.find(moment) ?? frames.at(-1);
      resolve({ frame: chosen, seen: new Set(frames.flat()) });
    });
  });
}

/** dpull with pipes: its stderr lines. */
export function capturePlain(args, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('close', () => resolve(stderr.trimEnd().split('\n')));
  });
}

/** A docker config folder with contexts build1 (dockerd) and build2 (podman), or the ones given. */
export function twoContexts(stack, contexts = [['build1', stack.DPULL_TEST_DOCKER_HOST], ['build2', stack.DPULL_TEST_PODMAN_HOST]]) {
  const dir = mkdtempSync(join(tmpdir(), 'dpull-readme-'));
  for (const [name, host] of contexts) {
    const id = createHash('sha256').update(name).digest('hex');
    mkdirSync(join(dir, 'contexts', 'meta', id), { recursive: true });
    writeFileSync(join(dir, 'contexts', 'meta', id, 'meta.json'), JSON.stringify({ Name: name, Endpoints: { docker: { Host: host } } }));
  }
  return dir;
}

const layerRow = /^[0-9a-f]{12}  /;

/** Each README sample: how it is made. */
export const samples = {
  // The live display mid-pull: some layers done, some downloading, some waiting.
  async tty(stack) {
    await emptyEngine(stack.DPULL_TEST_DOCKER_HOST);
    const { frame, seen } = await captureTty([`${stack.DPULL_TEST_SLOW_REGISTRY}/demo/eight:1.0`], { DOCKER_HOST: stack.DPULL_TEST_DOCKER_HOST }, {
      cols: 100, rows: 12,
      moment: (lines) => lines.filter((l) => /Pull complete/.test(l)).length >= 3 && lines.some((l) => /Downloading +█/.test(l)),
    });
    return { lines: frame.filter((l) => l !== ''), seen };
  },
  async plain(stack) {
    await emptyEngine(stack.DPULL_TEST_DOCKER_HOST);
    await capturePlain(['-q', `${stack.DPULL_TEST_REGISTRY}/demo/three:1.0`], { DOCKER_HOST: stack.DPULL_TEST_DOCKER_HOST });
    const lines = await capturePlain(['--no-tty', `${stack.DPULL_TEST_SLOW_REGISTRY}/demo/three:1.1`], { DOCKER_HOST: stack.DPULL_TEST_DOCKER_HOST });
    return { lines, seen: new Set(lines) };
  },
  // Two engines (contexts), three images, one of which does not exist: the board at its end.
  async board(stack) {
    const config = twoContexts(stack);
    try {
      await emptyEngine(stack.DPULL_TEST_DOCKER_HOST);
      await emptyEngine(stack.DPULL_TEST_PODMAN_HOST);
      const images = ['demo/eight:1.0', 'demo/three:1.0'].map((i) => `${stack.DPULL_TEST_SLOW_REGISTRY}/${i}`).concat(`${stack.DPULL_TEST_REGISTRY}/demo/nope:1.0`);
      const { frame, seen } = await captureTty(['--config', config, '-c', 'build1', '-c', 'build2', ...images], {}, {
        cols: 100, rows: 12,
        moment: (lines) => lines.some((l) => /^✔ /.test(l)) && lines.some((l) => /^↓ /.test(l)) && lines.some((l) => layerRow.test(l.trim())),
      });
      return { lines: frame.filter((l) => l !== ''), seen };
    } finally {
      rmSync(config, { recursive: true, force: true });
    }
  },
  // --load into four engines (dockerd, Docker 26, podman, dockerd over ssh), two images: one still
  // being fetched, the other's engines loading or done.
  async fleet(stack) {
    const hosts = [stack.DPULL_TEST_DOCKER_HOST, stack.DPULL_TEST_DOCKER26_HOST, stack.DPULL_TEST_PODMAN_HOST];
    const config = twoContexts(stack, [['build1', hosts[0]], ['build2', hosts[1]], ['build3', hosts[2]], ['edge1', `${stack.DPULL_TEST_SSH_HOST}${hosts[0].replace('unix://', '')}`]]);
    const cache = mkdtempSync(join(tmpdir(), 'dpull-readme-cache-'));
    try {
      for (const host of hosts) await emptyEngine(host);
      const images = [`${stack.DPULL_TEST_SLOW_REGISTRY}/demo/eight:1.0`, `${stack.DPULL_TEST_REGISTRY}/demo/three:1.0`];
      const env = { PATH: `${stack.DPULL_TEST_SSH_PATH}:${process.env.PATH}`, XDG_CACHE_HOME: cache };
      const { frame, seen } = await captureTty(['--config', config, '--load', '-c', 'build1', '-c', 'build2', '-c', 'build3', '-c', 'edge1', ...images], env, {
        cols: 100, rows: 16,
        moment: (lines) => lines.some((l) => /^ {2}✔ /.test(l)) && lines.some((l) => /Downloading +█/.test(l)),
      });
      return { lines: frame.filter((l) => l !== ''), seen };
    } finally {
      rmSync(config, { recursive: true, force: true });
      rmSync(cache, { recursive: true, force: true });
      for (const host of [stack.DPULL_TEST_DOCKER_HOST, stack.DPULL_TEST_DOCKER26_HOST, stack.DPULL_TEST_PODMAN_HOST]) await emptyEngine(host);
    }
  },
  // A pull into the stack's containerd, namespace k8s.io: the screen at its end.
  async containerd(stack) {
    const cache = mkdtempSync(join(tmpdir(), 'dpull-readme-cache-'));
    try {
      emptyContainerd(stack, 'k8s.io');
      const { frame, seen } = await captureTty(['-H', stack.DPULL_TEST_CONTAINERD_HOST, '-n', 'k8s.io', `${stack.DPULL_TEST_SLOW_REGISTRY}/demo/three:1.0`], { XDG_CACHE_HOME: cache }, { cols: 120, rows: 12 });
      return { lines: frame.filter((l) => l !== ''), seen };
    } finally {
      rmSync(cache, { recursive: true, force: true });
      emptyContainerd(stack, 'k8s.io');
    }
  },
};

/** Every image of a namespace of the stack's containerd removed, its content collected. */
function emptyContainerd(stack, namespace) {
  const ctr = (...args) => execFileSync(stack.DPULL_TEST_CTR, ['--address', stack.DPULL_TEST_CONTAINERD_HOST.replace('containerd://', ''), '-n', namespace, ...args], { encoding: 'utf8' });
  const names = ctr('images', 'ls', '-q').trim().split('\n').filter(Boolean);
  if (names.length > 0) ctr('images', 'rm', '--sync', ...names);
}

const BLOCK = /<!-- sample: (\w+) -->\n```\n([\s\S]*?)\n```\n<!-- \/sample -->/g;

/** The samples in a README's text, by name. */
export function readmeSamples(text) {
  return Object.fromEntries([...text.matchAll(BLOCK)].map(([, name, body]) => [name, body.split('\n')]));
}

/**
 * A line's shape: what stays when numbers, ids, digests, bars and padding are set aside, so a
 * sample matches a later run of the same pull whatever its timing.
 */
export function shape(line) {
  return line
    // The fold line of hidden layers counts them by their phase at that moment, as a status is
    // one moment of a layer: that it is there is what a sample shows, not the mix.
    .replace(/^(\s*)… \d+ (complete|already present|active|waiting)(, \d+ (complete|already present|active|waiting))*$/, '$1… FOLD')
    // A layer's status is one moment of it: the row's layout is what a sample shows.
    .replace(/\b(Pulling fs layer|Waiting|Downloading|Verifying Checksum|Download complete|Extracting|Pull complete|Already exists|Loading layer|Loaded)\b/g, 'STATUS')
    .replace(/sha256:[0-9a-f]{64}/g, 'sha256:D')
    .replace(/\b[0-9a-f]{12}\b/g, 'H')
    .replace(/[█░]+/g, 'B')
    .replace(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/g, 'S')
    .replace(/\d+(\.\d+)?/g, 'N')
    .replace(/\b(B|kB|MB|GB)\b/g, 'U') // 715 kB/s and 2.2 MB/s are one shape
    .replace(/ +/g, ' ')
    .replace(/(N(m|h|s|ms)?)+/g, 'N')
    .trimEnd();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const stack = stackEnv();
  let readme = readFileSync(join(root, 'README.md'), 'utf8');
  for (const [name, make] of Object.entries(samples)) {
    const { lines } = await make(stack);
    readme = readme.replace(new RegExp(`<!-- sample: ${name} -->\\n\`\`\`\\n[\\s\\S]*?\\n\`\`\`\\n<!-- /sample -->`), `<!-- sample: ${name} -->\n\`\`\`\n${lines.join('\n')}\n\`\`\`\n<!-- /sample -->`);
    console.log(`${name}: ${lines.length} lines`);
  }
  writeFileSync(join(root, 'README.md'), readme);
  await emptyEngine(stack.DPULL_TEST_DOCKER_HOST);
  await emptyEngine(stack.DPULL_TEST_PODMAN_HOST);
}
