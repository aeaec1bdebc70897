#!/usr/bin/env node
// Start-up, side by side in one run on Node 20 (the machine's) and Node 24 (scripts/node24.sh):
// a no-op pull (the image up to date, through a stand-in engine serving a stream recorded from
// the real dockerd) in a pseudo-terminal and with --no-tty, against `node -e 0` on the same Node
// and the docker CLI's own no-op pull; then `dpull --version` and the package's size.
// dpull is the packed package installed into an empty folder. Median of BENCH_RUNS runs
// (default 15), the kinds interleaved; the spread is the interquartile range.
//   node bench/startup.mjs [--write]     (after npm run build)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { writeSection } from './benchmarks-file.mjs';
import { ensureTools, iqr, measure, median, node24 } from './pty-measure.mjs';
import { startReplayEngine } from './replay-engine.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const work = mkdtempSync(`${tmpdir()}/dpull-startup-`);
const docker = ensureTools();
const dockerVersion = execFileSync(docker, ['--version'], { encoding: 'utf8' }).trim();
const nodes = { 'Node 20': process.execPath, 'Node 24': node24(root) };
const versions = Object.fromEntries(Object.entries(nodes).map(([k, n]) => [k, execFileSync(n, ['-v'], { encoding: 'utf8' }).trim()]));

const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], { cwd: root, encoding: 'utf8' }).trim().split('\n').at(-1);
const app = `${work}/app`;
execFileSync('mkdir', ['-p', app]);
execFileSync('npm', ['init', '-y'], { cwd: app, stdio: 'ignore' });
execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', `${work}/${tarball}`], { cwd: app, stdio: 'ignore' });
const script = `${app}/node_modules/dpull/${JSON.parse(readFileSync(`${root}/package.json`, 'utf8')).bin.dpull}`;

function duSize(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((sum, f) => sum + duSize(`${path}/${f}`), 0);
}

const socket = `${work}/engine.sock`;
const engine = await startReplayEngine(socket, readFileSync(`${root}/test/fixtures/streams/three-up-to-date.stream`));
const ref = '127.0.0.1:5731/demo/three:1.0';
const env = { DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: `${work}/docker-config` };

const kinds = {
  docker: [docker, ['pull', ref]],
};
for (const [name, node] of Object.entries(nodes)) {
  kinds[`${name} node -e 0`] = [node, ['-e', '0']];
  kinds[`${name} dpull`] = [node, [script, ref]];
  kinds[`${name} dpull --no-tty`] = [node, [script, '--no-tty', ref]];
  kinds[`${name} dpull --version`] = [node, [script, '--version']];
}
const samples = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
// One warm-up round (its first pull also leaves dpull's code cache), then the runs.
for (let round = -1; round < RUNS; round++) {
  for (const [kind, [command, args]] of Object.entries(kinds)) {
    const r = await measure(command, args, { work, env });
    if (r.exitCode !== 0) throw new Error(`${kind} exited ${r.exitCode}; it printed at the end: ${JSON.stringify(r.tail)}`);
    if (round >= 0) samples[kind].push(r);
  }
}
engine.close();

const ms = (s) => `${Math.round(s * 1000)} ms`;
const cpu = (kind) => median(samples[kind].map((r) => r.cpu));
const spread = (kind) => iqr(samples[kind].map((r) => r.cpu));
const wall = (kind) => median(samples[kind].map((r) => r.wall));
const rows = [];
const goals = [];
for (const name of Object.keys(nodes)) {
  const base = cpu(`${name} node -e 0`);
  const row = (label, kind) => rows.push(`| ${name} (${versions[name]}) | ${label} | ${ms(cpu(kind))} ± ${ms(spread(kind) / 2)} | ${kind.endsWith('node -e 0') ? '—' : `**${ms(cpu(kind) - base)}**`} | ${ms(wall(kind))} |`);
  row('`node -e 0`', `${name} node -e 0`);
  row('no-op pull, live display', `${name} dpull`);
  row('no-op pull, `--no-tty`', `${name} dpull --no-tty`);
  row('`dpull --version`', `${name} dpull --version`);
  const own = Math.max(cpu(`${name} dpull`), cpu(`${name} dpull --no-tty`)) - base;
  goals.push(`${name}: **${ms(own)}** ${own <= 0.08 ? '(met)' : '(not met)'}`);
}
rows.push(`| ${dockerVersion.replace(/, build.*/, '')} | no-op pull | ${ms(cpu('docker'))} ± ${ms(spread('docker') / 2)} | — | ${ms(wall('docker'))} |`);
const installed = readdirSync(`${app}/node_modules`).filter((d) => !d.startsWith('.'));
const table = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0].model.trim()}; median of ${RUNS} runs each, kinds interleaved, in a 120×40 pseudo-terminal; ± is half the interquartile range. The no-op pull: an engine stand-in answers "up to date" at once (a stream recorded from the real dockerd). dpull is the packed package installed into an empty folder; its code cache warm (one warm-up round).`,
  '',
  '| Node | what | CPU (user + sys) | own: CPU above `node -e 0` | wall |',
  '| --- | --- | --- | --- | --- |',
  ...rows,
  '',
  `Goal: own start-up of a no-op pull (the larger of the two modes) ≤ 80 ms — ${goals.join('; ')}.`,
  '',
  '| package | figure |',
  '| --- | --- |',
  `| packed tarball | ${(statSync(`${work}/${tarball}`).size / 1024).toFixed(1)} kB |`,
  `| installed size (node_modules/dpull) | ${(duSize(`${app}/node_modules/dpull`) / 1024).toFixed(1)} kB |`,
  `| packages installed with it | ${installed.join(', ')} (no dependency tree) |`,
].join('\n');
console.log(table);
if (process.argv.includes('--write')) writeSection('Start-up and package size', table);
rmSync(work, { recursive: true, force: true });
