import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const dpullBin = fileURLToPath(new URL('../../bin/dpull.js', import.meta.url));

export interface DpullRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs bin/dpull.js as a child process with pipes (not a terminal) and collects what it printed. */
export function runDpull(
  args: string[],
  env: Record<string, string | undefined> = {},
  during?: (child: ReturnType<typeof spawn>) => void,
): Promise<DpullRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [dpullBin, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    during?.(child);
  });
}
