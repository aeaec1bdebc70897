import { runCli } from './run.js';

/** The process entry: real streams, real clock; exit code set, never thrown. */
export async function main(): Promise<void> {
  // A closed stdout (`dpull -q img | head -0`) is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  process.exitCode = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    clock: () => performance.now(),
  });
}
