// Brings the real test stack (dockerd, registries, throttling proxy) up before the tests and
// down after, through scripts/test-stack.sh. DPULL_STACK_REUSE=1 uses a stack that is already
// up (and leaves it up), for quick runs while developing.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const script = fileURLToPath(new URL('../../scripts/test-stack.sh', import.meta.url));
export const stackDir = process.env.DPULL_STACK_DIR ?? '/tmp/dpull-stack';
const reuse = process.env.DPULL_STACK_REUSE === '1' && existsSync(`${stackDir}/env`);

// Two projects use the stack (e2e, and e2e-node24 after it): it comes up for the first and goes
// down after the last. Each project loads this file anew: the count is kept on the process (a
// second `up` would restart the stack with new credentials under the first project's tests).
const shared = globalThis as { dpullStackUsers?: number };

export default function setup(project: TestProject) {
  shared.dpullStackUsers = (shared.dpullStackUsers ?? 0) + 1;
  if (!reuse && shared.dpullStackUsers === 1) execFileSync('bash', [script, 'up'], { stdio: 'inherit', env: { ...process.env, DPULL_STACK_DIR: stackDir } });
  const env = Object.fromEntries(
    readFileSync(`${stackDir}/env`, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
  project.provide('stack', env);
  // Down without blocking vitest's own event loop: its workers' exits are heard meanwhile (a
  // blocking `down`, ~20 s, made vitest report a worker it was ending as not ending in time).
  return () => {
    shared.dpullStackUsers! -= 1;
    if (reuse || shared.dpullStackUsers !== 0) return;
    return new Promise<void>((resolve, reject) => {
      const down = spawn('bash', [script, 'down'], { stdio: 'inherit', env: { ...process.env, DPULL_STACK_DIR: stackDir } });
      down.on('error', reject);
      down.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`test-stack.sh down: ${signal ?? `exit ${code}`}`))));
    });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: Record<string, string>;
    /** The Node that runs dpull in the tests, when not the machine's (test/support/node24-setup.ts). */
    dpullNode?: string;
  }
}
