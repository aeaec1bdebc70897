#!/usr/bin/env node
// dpull and the docker CLI side by side on the same recorded engine stream, in the same
// pseudo-terminal (120×40, so docker draws its bars), through the same stand-in engine.
// Measures wall and CPU seconds and peak RSS (GNU time) and the bytes written to the terminal.
//   node bench/run.mjs            print the table
//   node bench/run.mjs --write    also write it into BENCHMARKS.md
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import pty from 'node-pty';
import { startReplayEngine } from './replay-engine.mjs';
import { floodStream, hostileFlood } from './flood-stream.mjs';
import { writeSection } from './benchmarks-file.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = `${root}/test/fixtures/streams`;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const COLS = 120;
const ROWS = 40;

function ensureTools() {
  const need = [];
  if (!existsSync('/usr/bin/time')) need.push('time');
  if (!existsSync('/usr/local/bin/docker') && !existsSync('/usr/bin/docker')) need.push('docker.io');
  if (need.length > 0) {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', ...need], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  return existsSync('/usr/local/bin/docker') ? '/usr/local/bin/docker' : '/usr/bin/docker';
}

const docker = ensureTools();
const dockerVersion = execFileSync(docker, ['--version'], { encoding: 'utf8' }).trim();
const work = mkdtempSync(`${tmpdir()}/dpull-bench-`);

/** Runs one command in a pty under GNU time; returns wall, cpu, peak RSS and terminal bytes. */
function measure(command, args, dockerHost) {
  const timeFile = `${work}/time`;
  return new Promise((resolve) => {
    const term = pty.spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, command, ...args], {
      name: 'xterm-256color',
      cols: COLS,
      rows: ROWS,
      env: { PATH: process.env.PATH, HOME: work, TERM: 'xterm-256color', DOCKER_HOST: dockerHost, DOCKER_CONFIG: `${work}/docker-config` },
    });
    let bytes = 0;
    let tail = '';
    term.onData((data) => {
      bytes += Buffer.byteLength(data);
      tail = (tail + data).slice(-400);
    });
    term.onExit(({ exitCode }) => {
      const [wall, user, sys, rssKb] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
      resolve({ exitCode, wall, cpu: user + sys, rssMb: rssKb / 1024, bytes, tail });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Milliseconds from Ctrl-C (typed 1 s into a flood) to dpull's exit, median of the runs. */
async function interruptLatency(body) {
  const socket = `${work}/engine-int.sock`;
  const server = await startReplayEngine(socket, Buffer.concat(Array.from({ length: 8 }, () => body)));
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    runs.push(await new Promise((resolve) => {
      const term = pty.spawn(process.execPath, [`${root}/bin/dpull.js`, '127.0.0.1:5731/demo/three:1.0'], {
        name: 'xterm-256color', cols: COLS, rows: ROWS, env: { PATH: process.env.PATH, HOME: work, TERM: 'xterm-256color', DOCKER_HOST: `unix://${socket}` },
      });
      let sentAt;
      term.onData(() => {});
      setTimeout(() => { sentAt = performance.now(); term.write('\x03'); }, 1000);
      term.onExit(() => resolve(performance.now() - sentAt));
    }));
  }
  server.close();
  return median(runs);
}

async function scenario(name, body, timing) {
  const socket = `${work}/engine.sock`;
  const server = await startReplayEngine(socket, body, timing);
  const ref = '127.0.0.1:5731/demo/three:1.0';
  const tools = {
    dpull: [process.execPath, [`${root}/bin/dpull.js`, ref]],
    docker: [docker, ['pull', ref]],
  };
  const results = {};
  for (const [tool, [command, args]] of Object.entries(tools)) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(await measure(command, args, `unix://${socket}`));
    const failed = runs.find((r) => r.exitCode !== 0);
    if (failed) throw new Error(`${name}: ${tool} exited ${runs.map((r) => r.exitCode)}; it printed at the end: ${JSON.stringify(failed.tail)}`);
    results[tool] = Object.fromEntries(['wall', 'cpu', 'rssMb', 'bytes'].map((k) => [k, median(runs.map((r) => r[k]))]));
  }
  server.close();
  return results;
}

const recorded = readFileSync(`${fixtures}/three-fresh.stream`);
const slow = readFileSync(`${fixtures}/eight-slow.stream`);
const slowTiming = JSON.parse(readFileSync(`${fixtures}/eight-slow.timing.json`, 'utf8'));
const noop = readFileSync(`${fixtures}/three-up-to-date.stream`);
const flood = floodStream(recorded, 57_000);
const bigFlood = floodStream(recorded, 570_000);
const lineCount = (buffer) => buffer.toString().split('\n').length - 1;
const rows = [];
const fmt = (n, d = 2) => n.toFixed(d);
const ratio = (a, b) => (b > 0 ? `${fmt(a / b)}×` : '—');
const percent = (a, b) => `${(100 * a / b).toPrecision(2)} %`;
const report = (label, events, r) => {
  rows.push(
    `| ${label} | ${events} | ${fmt(r.dpull.cpu)} / ${fmt(r.docker.cpu)} (${ratio(r.dpull.cpu, r.docker.cpu)}) | ` +
      `${fmt(r.dpull.wall)} / ${fmt(r.docker.wall)} | ${r.dpull.bytes} / ${r.docker.bytes} (${percent(r.dpull.bytes, r.docker.bytes)}) | ` +
      `${fmt(r.dpull.rssMb, 0)} / ${fmt(r.docker.rssMb, 0)} |`,
  );
  return r;
};

const floodResult = report('event flood', flood.events, await scenario('flood', flood.body));
const pacedResult = report('recorded pace', lineCount(slow), await scenario('paced', slow, slowTiming));
// Start-up: an engine that answers "up to date" at once. Subtracted to get the CPU of the pull itself.
const noopResult = report('no-op pull (start-up)', lineCount(noop), await scenario('no-op', noop));
const bigResult = report('long flood', bigFlood.events, await scenario('long flood', bigFlood.body));
const messages = hostileFlood('messages', 200_000);
const ids = hostileFlood('ids', 350_000);
const messagesResult = report('hostile: 500-byte messages, no layer id', messages.events, await scenario('messages', messages.body));
const idsResult = report('hostile: a new layer id each line', ids.events, await scenario('ids', ids.body));
const interrupt = await interruptLatency(ids.body);
rmSync(work, { recursive: true, force: true });

const pacedShare = (100 * pacedResult.dpull.cpu) / pacedResult.dpull.wall;
const pullShare = (tool) => (100 * Math.max(0, pacedResult[tool].cpu - noopResult[tool].cpu)) / pacedResult[tool].wall;
const table = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0].model.trim()}, Node ${process.version}, against ${dockerVersion}; median of ${RUNS} runs; pseudo-terminal ${COLS}×${ROWS}.`,
  '',
  '| stream | events | CPU s, dpull / docker | wall s, dpull / docker | terminal bytes, dpull / docker | peak RSS MB, dpull / docker |',
  '| --- | --- | --- | --- | --- | --- |',
  ...rows,
  '',
  'Targets:',
  `- event flood: dpull CPU ≤ 0.5× docker's — **${fmt(floodResult.dpull.cpu / floodResult.docker.cpu)}×**; terminal bytes ≤ 2 % of docker's — **${percent(floodResult.dpull.bytes, floodResult.docker.bytes)}**`,
  `- recorded pace (a real ${fmt(pacedResult.dpull.wall, 0)} s pull of 8 layers, replayed at the pace it was recorded): terminal bytes ≤ 2× docker's — **${fmt(pacedResult.dpull.bytes / pacedResult.docker.bytes)}×**; ` +
    `CPU under 1 % of a core over the pull — **${fmt(pullShare('dpull'), 2)} %** (docker: ${fmt(pullShare('docker'), 2)} %). ` +
    `That is the pull's CPU less the no-op pull's (start-up: dpull ${fmt(noopResult.dpull.cpu)} s, docker ${fmt(noopResult.docker.cpu)} s); with start-up, dpull used ${fmt(pacedShare, 1)} % of a core over the ${fmt(pacedResult.dpull.wall, 0)} s.`,
  `- long flood: peak RSS ≤ 80 MB — **${fmt(bigResult.dpull.rssMb, 0)} MB** (the ${fmt(floodResult.dpull.rssMb, 0)} MB of the 10× shorter flood: memory is flat in stream length)`,
  `- hostile floods (${fmt(messages.body.length / 1e6, 0)} MB of messages with no layer id; ${ids.events} distinct layer ids): peak RSS stays bounded — **${fmt(messagesResult.dpull.rssMb, 0)} MB** and **${fmt(idsResult.dpull.rssMb, 0)} MB** (at most 1000 layers and 100 messages are kept); Ctrl-C typed 1 s into a flood of new ids ends dpull in **${fmt(interrupt, 0)} ms** (target < 500 ms)`,
].join('\n');
console.log(table);
if (process.argv.includes('--write')) writeSection('Live display: dpull vs docker pull on the same stream', table);
