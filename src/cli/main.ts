import { runCli } from './run.js';
import { monotonicMs } from '../clock.js';
import { reasonOf } from '../output/write-failure.js';

/** The process entry: real streams, real clock; exit code set, never thrown. */
export async function main(): Promise<void> {
  // A closed stdout (`dpull -q img | head -0`) is not an error worth a stack trace; a full one
  // (`> /dev/full`) is a failure to deliver the result: one line, exit 1.
  let stdoutFailure: NodeJS.ErrnoException | undefined;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') stdoutFailure ??= err;
  });
  // Progress nobody can read any more (`2>&1 | head -1`): the pull goes on, unseen.
  process.stderr.on('error', () => {});
  const code = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    clock: monotonicMs,
  });
  await new Promise((resolve) => setImmediate(resolve)); // a failed last write reports itself
  if (stdoutFailure !== undefined) {
    if (!process.stderr.destroyed) process.stderr.write(`dpull: cannot write to standard output: ${stdoutFailure.code !== undefined ? reasonOf(stdoutFailure.code) : stdoutFailure.message}\n`);
    process.exitCode = Math.max(code, 1);
    return;
  }
  process.exitCode = code;
}
