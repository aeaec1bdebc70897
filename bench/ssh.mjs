#!/usr/bin/env node
// dpull against docker pull through the same engine over ssh:// (the test stack's sshd in front of
// its dockerd; both use the system ssh with the stack's client config): an up-to-date pull, where
// starting ssh sessions is most of the time, and a fresh pull of the 3-layer test image. Wall
// seconds, median of the runs, the two tools interleaved run by run.
//   bash scripts/test-stack.sh up && node bench/ssh.mjs [--write]
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeSection } from './benchmarks-file.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const stack = Object.fromEntries(readFileSync(`${process.env.DPULL_STACK_DIR ?? '/tmp/dpull-stack'}/env`, 'utf8').trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
const host = stack.DPULL_TEST_SSH_HOST;
const image = `${stack.DPULL_TEST_REGISTRY}/demo/three:1.0`;
const env = { PATH: `${stack.DPULL_TEST_SSH_PATH}:${process.env.PATH}`, HOME: process.env.HOME };
const local = stack.DPULL_TEST_DOCKER_HOST.replace('unix://', '');

function wall(command, args) {
  const started = process.hrtime.bigint();
  const run = spawnSync(command, args, { env, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${command} ${args.join(' ')}: exit ${run.status}: ${run.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}
const removeImage = () => execFileSync('curl', ['-s', '-X', 'DELETE', '--unix-socket', local, `http://x/images/${encodeURIComponent(image)}?force=1`]);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const tools = {
  dpull: () => wall(process.execPath, [`${root}/bin/dpull.js`, '-q', '-H', host, image]),
  'docker pull': () => wall('docker', ['-H', host, 'pull', '-q', image]),
};

const results = { 'up to date': { dpull: [], 'docker pull': [] }, fresh: { dpull: [], 'docker pull': [] } };
tools.dpull(); // the image there, the code cache warm
for (let i = 0; i < RUNS; i++) {
  for (const [name, run] of Object.entries(tools)) results['up to date'][name].push(run());
  for (const [name, run] of Object.entries(tools)) {
    removeImage();
    results.fresh[name].push(run());
  }
}
const fmt = (n) => n.toFixed(2);
const rows = Object.entries(results).map(([kind, r]) => {
  const [ours, theirs] = [median(r.dpull), median(r['docker pull'])];
  return `| ${kind} | ${fmt(ours)} / ${fmt(theirs)} (${fmt(ours / theirs)}×) |`;
});
const table = [
  `Measured ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${execFileSync('docker', ['--version'], { encoding: 'utf8' }).trim()}; median of ${RUNS} runs, interleaved; ${image} through the test stack's sshd to its dockerd.`,
  '',
  '| pull over ssh:// | wall s, dpull / docker pull |',
  '| --- | --- |',
  ...rows,
  '',
  `Target (issue #31): an up-to-date pull over ssh at most 1.5× docker pull's wall time: **${fmt(median(results['up to date'].dpull) / median(results['up to date']['docker pull']))}×**.`,
].join('\n');
console.log(table);
if (process.argv.includes('--write')) writeSection('Engines over ssh: dpull vs docker pull', table);
