import pty from 'node-pty';
import { dpullBin } from './run-dpull.js';

export interface PtyRun {
  /** Everything the terminal received, stdout and stderr interleaved as a user sees them. */
  output: string;
  exitCode: number;
  signal?: number;
}

/**
 * Runs dpull in a real pseudo-terminal of the given size. `act` may type into it (Ctrl-C is
 * `\x03`) once the output so far satisfies a condition.
 */
export function runInPty(
  args: string[],
  env: Record<string, string>,
  size: { cols: number; rows: number },
  act?: { when: (output: string) => boolean; write: string },
): Promise<PtyRun> {
  return new Promise((resolve) => {
    const term = pty.spawn(process.execPath, [dpullBin, ...args], {
      name: 'xterm-256color',
      cols: size.cols,
      rows: size.rows,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', TERM: 'xterm-256color', ...env },
    });
    let output = '';
    let acted = false;
    term.onData((data) => {
      output += data;
      if (act && !acted && act.when(output)) {
        acted = true;
        term.write(act.write);
      }
    });
    term.onExit(({ exitCode, signal }) => {
      // Let the last bytes drain from the pty before resolving.
      setTimeout(() => resolve({ output, exitCode, ...(signal ? { signal } : {}) }), 50);
    });
  });
}
