// A command run under bench/rusage.py, as every bench measures one: wall and CPU seconds (user +
// system) and peak RSS in MB, in a clean environment (PATH and a HOME in the bench's folder, none
// of the caller's NODE_OPTIONS or NODE_EXTRA_CA_CERTS) plus `env`. What the run before wrote goes
// to disk first (`sync`), not during the next run.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const rusage = fileURLToPath(new URL('rusage.py', import.meta.url));

function result(timeFile) {
  const [wall, user, sys, rssKb] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
  return { wall, cpu: user + sys, rssMb: rssKb / 1024 };
}

/** Runs it and waits (this process's loop stops meanwhile). */
export function measureRun(work, command, args, env = {}) {
  const timeFile = `${work}/time`;
  spawnSync('sync');
  const run = spawnSync('python3', [rusage, timeFile, command, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: `${work}/home`, ...env } });
  if (run.status !== 0) throw new Error(`${command} ${args.join(' ')}: exit ${run.status}: ${run.stderr}`);
  return result(timeFile);
}

/** The same, this process's loop running on meanwhile (a bench that serves the command itself). */
export function measureRunAsync(work, command, args, env = {}) {
  const timeFile = `${work}/time`;
  spawnSync('sync');
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [rusage, timeFile, command, ...args], { env: { PATH: process.env.PATH, HOME: `${work}/home`, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(result(timeFile)) : reject(new Error(`${command} ${args.join(' ')}: exit ${code}: ${err}`))));
  });
}
