// One command in a node-pty pseudo-terminal under bench/rusage.py: wall and CPU seconds (user +
// sys, to the microsecond), peak RSS and the bytes it wrote to the terminal. Shared by the bench scripts.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pty from 'node-pty';

/** The docker CLI, installed from Debian's packages when missing. */
export function ensureTools() {
  const need = [];
  if (!existsSync('/usr/local/bin/docker') && !existsSync('/usr/bin/docker')) need.push('docker.io');
  if (need.length > 0) {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', ...need], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  return existsSync('/usr/local/bin/docker') ? '/usr/local/bin/docker' : '/usr/bin/docker';
}

/** Node 24 from the npm registry (scripts/node24.sh), beside the machine's Node. */
export function node24(root) {
  return execFileSync('bash', [`${root}/scripts/node24.sh`], { encoding: 'utf8' }).trim().split('\n').at(-1);
}

const rusage = fileURLToPath(new URL('rusage.py', import.meta.url));

export function measure(command, args, { work, env, cols = 120, rows = 40 }) {
  const timeFile = `${work}/time`;
  return new Promise((resolve) => {
    const term = pty.spawn('python3', [rusage, timeFile, command, ...args], {
      name: 'xterm-256color',
      cols,
      rows,
      env: { PATH: process.env.PATH, HOME: work, TERM: 'xterm-256color', ...env },
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

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** The spread of a sample: its interquartile range. */
export const iqr = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((3 * (s.length - 1)) / 4)] - s[Math.floor((s.length - 1) / 4)];
};
