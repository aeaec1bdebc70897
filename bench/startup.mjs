#!/usr/bin/env node
// Start-up and package size, side by side in one run: `dpull --version` (the packed package,
// installed into an empty folder, run through npm's bin link) against `node -e 0`, median of
// many runs; the tarball's size and the installed size.
//   node bench/startup.mjs [--write]     (after npm run build)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { writeSection } from './benchmarks-file.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 41);
const work = mkdtempSync(`${tmpdir()}/dpull-startup-`);

const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], { cwd: root, encoding: 'utf8' }).trim().split('\n').at(-1);
const app = `${work}/app`;
execFileSync('mkdir', ['-p', app]);
execFileSync('npm', ['init', '-y'], { cwd: app, stdio: 'ignore' });
execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', `${work}/${tarball}`], { cwd: app, stdio: 'ignore' });

function duSize(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((sum, f) => sum + duSize(`${path}/${f}`), 0);
}

function median(command, args) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    const run = spawnSync(command, args, { cwd: app, stdio: ['ignore', 'pipe', 'inherit'] });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${run.status}`);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)];
}

const bin = `${app}/node_modules/.bin/dpull`;
// Interleaved warm-up, then the measurements.
median(process.execPath, ['-e', '0']);
const node = median(process.execPath, ['-e', '0']);
const dpull = median(bin, ['--version']);
const help = median(bin, ['--help']);
const installed = readdirSync(`${app}/node_modules`).filter((d) => !d.startsWith('.'));
const table = [
  `Measured ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, median of ${RUNS} runs each.`,
  '',
  '| what | figure |',
  '| --- | --- |',
  `| \`node -e 0\` | ${node.toFixed(1)} ms |`,
  `| \`dpull --version\` (installed package, npm's bin link) | ${dpull.toFixed(1)} ms (**${(dpull / node).toFixed(2)}×** node; target ≤ 1.3×) |`,
  `| \`dpull --help\` (loads the CLI bundle) | ${help.toFixed(1)} ms (${(help / node).toFixed(2)}×) |`,
  `| packed tarball | ${(statSync(`${work}/${tarball}`).size / 1024).toFixed(1)} kB |`,
  `| installed size (node_modules/dpull) | ${(duSize(`${app}/node_modules/dpull`) / 1024).toFixed(1)} kB |`,
  `| packages installed with it | ${installed.join(', ')} (no dependency tree) |`,
].join('\n');
console.log(table);
if (process.argv.includes('--write')) writeSection('Start-up and package size', table);
rmSync(work, { recursive: true, force: true });
