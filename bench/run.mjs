#!/usr/bin/env node
// dpull (on Node 20 and on Node 24) and the docker CLI side by side on the same recorded engine
// stream, in the same pseudo-terminal (120×40, so docker draws its bars; 100 columns, where it
// does not), through the same stand-in engine. Measures wall and CPU seconds and peak RSS
// (bench/rusage.py) and the bytes written to the terminal.
//   node bench/run.mjs            print the table
//   node bench/run.mjs --write    also write it into BENCHMARKS.md
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import pty from 'node-pty';
import { startReplayEngine } from './replay-engine.mjs';
import { floodStream, hostileFlood } from './flood-stream.mjs';
import { writeSection } from './benchmarks-file.mjs';
import { ensureTools, iqr, measure, median, node24 } from './pty-measure.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = `${root}/test/fixtures/streams`;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const COLS = 120;
const ROWS = 40;

const docker = ensureTools();
const dockerVersion = execFileSync(docker, ['--version'], { encoding: 'utf8' }).trim();
const node24Path = node24(root);
const node24Version = execFileSync(node24Path, ['-v'], { encoding: 'utf8' }).trim();
const work = mkdtempSync(`${tmpdir()}/dpull-bench-`);
const ref = '127.0.0.1:5731/demo/three:1.0';
const bin = `${root}/bin/dpull.js`;
const TOOLS = {
  dpull: [process.execPath, [bin, ref]],
  'dpull, Node 24': [node24Path, [bin, ref]],
  docker: [docker, ['pull', ref]],
  // Node's floor: following the same stream with node:http and nothing else (bench/bare-node-stream.cjs).
  floor: [process.execPath, [`${root}/bench/bare-node-stream.cjs`]],
};

/** Milliseconds from Ctrl-C (typed 1 s into a flood) to dpull's exit, median of the runs. */
async function interruptLatency(body) {
  const socket = `${work}/engine-int.sock`;
  const server = await startReplayEngine(socket, Buffer.concat(Array.from({ length: 8 }, () => body)));
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    runs.push(await new Promise((resolve) => {
      const term = pty.spawn(process.execPath, [bin, ref], {
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

/** Each tool on the stream, RUNS times (the tools interleaved); the medians. */
async function scenario(name, body, { timing, cols = COLS, tools = ['dpull', 'dpull, Node 24', 'docker'] } = {}) {
  const socket = `${work}/engine.sock`;
  const server = await startReplayEngine(socket, body, timing);
  const env = { DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: `${work}/docker-config` };
  const runs = Object.fromEntries(tools.map((t) => [t, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const tool of tools) {
      const [command, args] = TOOLS[tool];
      const r = await measure(command, args, { work, env, cols, rows: ROWS });
      if (r.exitCode !== 0) throw new Error(`${name}: ${tool} exited ${r.exitCode}; it printed at the end: ${JSON.stringify(r.tail)}`);
      runs[tool].push(r);
    }
  }
  server.close();
  return Object.fromEntries(
    tools.map((tool) => [tool, { ...Object.fromEntries(['wall', 'cpu', 'rssMb', 'bytes'].map((k) => [k, median(runs[tool].map((r) => r[k]))])), cpuIqr: iqr(runs[tool].map((r) => r.cpu)) }]),
  );
}

const recorded = readFileSync(`${fixtures}/three-fresh.stream`);
const paced = (name) => ({ body: readFileSync(`${fixtures}/${name}.stream`), timing: JSON.parse(readFileSync(`${fixtures}/${name}.timing.json`, 'utf8')) });
const slow = paced('eight-slow');
const lineByLine = paced('containerd-eight-paced');
const noop = readFileSync(`${fixtures}/three-up-to-date.stream`);
const flood = floodStream(recorded, 57_000);
const bigFlood = floodStream(recorded, 570_000);
const lineCount = (buffer) => buffer.toString().split('\n').length - 1;
const rows = [];
const fmt = (n, d = 2) => n.toFixed(d);
const ratio = (a, b) => (b > 0 ? `${fmt(a / b)}×` : '—');
const percent = (a, b) => `${(100 * a / b).toPrecision(2)} %`;
const N24 = 'dpull, Node 24';
const report = (label, events, r) => {
  const both = (k, d) => (r[N24] ? `${fmt(r.dpull[k], d)} · ${fmt(r[N24][k], d)}` : fmt(r.dpull[k], d));
  rows.push(
    `| ${label} | ${events} | ${both('cpu')} / ${fmt(r.docker.cpu)} (${ratio(r.dpull.cpu, r.docker.cpu)}) | ` +
      `${both('wall')} / ${fmt(r.docker.wall)} | ${r.dpull.bytes} / ${r.docker.bytes} (${percent(r.dpull.bytes, r.docker.bytes)}) | ` +
      `${both('rssMb', 0)} / ${fmt(r.docker.rssMb, 0)} |`,
  );
  return r;
};

const WITH_FLOOR = ['dpull', 'dpull, Node 24', 'docker', 'floor'];
const floodResult = report('event flood', flood.events, await scenario('flood', flood.body));
const pacedResult = report('recorded pace: dockerd 20.10, 8 layers', lineCount(slow.body), await scenario('paced', slow.body, { timing: slow.timing, tools: WITH_FLOOR }));
const lineResult = report('recorded pace: Docker 26 (containerd), a line at a time', lineCount(lineByLine.body), await scenario('line by line', lineByLine.body, { timing: lineByLine.timing, tools: WITH_FLOOR }));
const narrowPaced = report(`recorded pace: dockerd 20.10, **100 columns**`, lineCount(slow.body), await scenario('paced, 100 columns', slow.body, { timing: slow.timing, cols: 100, tools: ['dpull', 'docker'] }));
const narrowLine = report(`recorded pace: Docker 26, **100 columns**`, lineCount(lineByLine.body), await scenario('line by line, 100 columns', lineByLine.body, { timing: lineByLine.timing, cols: 100, tools: ['dpull', 'docker'] }));
// Start-up: an engine that answers "up to date" at once. Subtracted to get the CPU of the pull itself.
const noopResult = report('no-op pull (start-up)', lineCount(noop), await scenario('no-op', noop, { tools: WITH_FLOOR }));
const bigResult = report('long flood', bigFlood.events, await scenario('long flood', bigFlood.body));
const messages = hostileFlood('messages', 200_000);
const ids = hostileFlood('ids', 350_000);
const messagesResult = report('hostile: 500-byte messages, no layer id', messages.events, await scenario('messages', messages.body, { tools: ['dpull', 'docker'] }));
const idsResult = report('hostile: a new layer id each line', ids.events, await scenario('ids', ids.body, { tools: ['dpull', 'docker'] }));
const interrupt = await interruptLatency(ids.body);
rmSync(work, { recursive: true, force: true });

/** Percent of a core the pull itself took: its CPU less the no-op pull's, over its wall time. */
const pullShare = (result, tool) => (100 * Math.max(0, result[tool].cpu - noopResult[tool].cpu)) / result[tool].wall;
/** The run-to-run spread of that share: half the interquartile range of the pull's CPU, over its wall time. */
const spread = (result, tool) => `± ${fmt((100 * result[tool].cpuIqr) / 2 / result[tool].wall)}`;
const shares = (result) => `**${fmt(pullShare(result, 'dpull'))} %** ${spread(result, 'dpull')} on Node 20, **${fmt(pullShare(result, N24))} %** ${spread(result, N24)} on Node 24 (docker: ${fmt(pullShare(result, 'docker'))} %; Node's floor, the stream followed with node:http and nothing done with it: ${fmt(pullShare(result, 'floor'))} % ${spread(result, 'floor')})`;
const table = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0].model.trim()}, Node ${process.version} and ${node24Version}, against ${dockerVersion}; median of ${RUNS} runs, the tools interleaved; pseudo-terminal ${COLS}×${ROWS} unless said.`,
  '',
  '| stream | events | CPU s, dpull (Node 20 · 24) / docker | wall s, dpull / docker | terminal bytes, dpull / docker | peak RSS MB, dpull / docker |',
  '| --- | --- | --- | --- | --- | --- |',
  ...rows,
  '',
  'Targets:',
  `- event flood: dpull CPU ≤ 0.5× docker's — **${fmt(floodResult.dpull.cpu / floodResult.docker.cpu)}×**; terminal bytes ≤ 2 % of docker's — **${percent(floodResult.dpull.bytes, floodResult.docker.bytes)}**`,
  `- recorded pace, CPU of the pull itself under 1 % of a core (the pull's CPU less the no-op pull's, over its wall time): dockerd's ${fmt(pacedResult.dpull.wall, 0)} s stream ${shares(pacedResult)}; Docker 26's ${fmt(lineResult.dpull.wall, 0)} s stream, a line at a time, ${shares(lineResult)}`,
  `- recorded pace, terminal bytes ≤ 0.8× docker's at 120 columns — **${fmt(pacedResult.dpull.bytes / pacedResult.docker.bytes)}×** (dockerd) and **${fmt(lineResult.dpull.bytes / lineResult.docker.bytes)}×** (Docker 26); ≤ 1.5× at 100 columns, where docker draws no bars — **${fmt(narrowPaced.dpull.bytes / narrowPaced.docker.bytes)}×** and **${fmt(narrowLine.dpull.bytes / narrowLine.docker.bytes)}×**`,
  `- long flood: peak RSS ≤ 80 MB — **${fmt(bigResult.dpull.rssMb, 0)} MB** on Node 20, **${fmt(bigResult[N24].rssMb, 0)} MB** on Node 24 (the ${fmt(floodResult.dpull.rssMb, 0)} MB of the 10× shorter flood: memory is flat in stream length)`,
  `- hostile floods (${fmt(messages.body.length / 1e6, 0)} MB of messages with no layer id; ${ids.events} distinct layer ids): peak RSS stays bounded — **${fmt(messagesResult.dpull.rssMb, 0)} MB** and **${fmt(idsResult.dpull.rssMb, 0)} MB** (at most 1000 layers and 100 messages are kept); Ctrl-C typed 1 s into a flood of new ids ends dpull in **${fmt(interrupt, 0)} ms** (target < 500 ms)`,
].join('\n');
console.log(table);
if (process.argv.includes('--write')) writeSection('Live display: dpull vs docker pull on the same stream', table);
