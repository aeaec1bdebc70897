import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

export const dpullBin = fileURLToPath(new URL('../../bin/dpull.js', import.meta.url));

/** The Node that runs dpull: the machine's, or the one the project provides (Node 24 in `e2e-node24`). */
export const dpullNode = (): string => inject('dpullNode') ?? process.execPath;

/** PATH with that Node first, for what starts `node` by name (npx, a shell). */
export const pathWithDpullNode = (): string => `${dirname(dpullNode())}:${process.env.PATH}`;

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
    const child = spawn(dpullNode(), [dpullBin, ...args], {
      env: { PATH: pathWithDpullNode(), HOME: process.env.HOME, ...env },
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
