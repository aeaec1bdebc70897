import { runCli } from './run.js';
import { monotonicMs } from '../clock.js';
import { reasonOf } from '../output/write-failure.js';
import { setRegistryPullSettings } from '../v8-settings.js';

/**
 * The process entry: real streams, real clock; exit code set, never thrown. bin/dpull.js gives it
 * what to set in V8 when a pull from a registry starts.
 */
export async function main(settings: { useForRegistryPull?: () => void } = {}): Promise<void> {
  setRegistryPullSettings(settings.useForRegistryPull);
  // A closed stdout (`dpull -q img | head -0`) is not an error worth a stack trace; a full one
  // (`> /dev/full`) is a failure to deliver the result: one line, exit 1.
  let stdoutFailure: NodeJS.ErrnoException | undefined;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') stdoutFailure ??= err;
  });
  // Progress nobody can read any more (`2>&1 | head -1`): the pull goes on, unseen.
  process.stderr.on('error', () => {});
  // Node ends a process whose event loop has nothing left to wait for, with exit code 0, even
  // when a promise is still waiting: a pull stalled that way (a bug of dpull's: every socket paused
  // with nothing to wake it) must never pass for one that finished.
  let ran = false;
  process.once('beforeExit', () => {
    if (ran) return;
    if (!process.stderr.destroyed) process.stderr.write(`${process.stderr.isTTY ? '\x1b[?25h\n' : ''}dpull: the pull stopped with nothing left to wait for (a bug of dpull's; please report it): it did not finish\n`);
    process.exitCode = 1;
  });
  const code = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    clock: monotonicMs,
  });
  ran = true;
  await new Promise((resolve) => setImmediate(resolve)); // a failed last write reports itself
  if (stdoutFailure !== undefined) {
    if (!process.stderr.destroyed) process.stderr.write(`dpull: cannot write to standard output: ${stdoutFailure.code !== undefined ? reasonOf(stdoutFailure.code) : stdoutFailure.message}\n`);
    process.exitCode = Math.max(code, 1);
    return;
  }
  process.exitCode = code;
}
