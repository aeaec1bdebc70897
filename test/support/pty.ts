import pty, { type IPty } from 'node-pty';
import { dpullBin, dpullNode } from './run-dpull.js';

export interface PtyRun {
  /** Everything the terminal received, stdout and stderr interleaved as a user sees them. */
  output: string;
  exitCode: number;
  signal?: number;
}

export interface PtyOptions {
  /** Once the output so far satisfies `when`, `act` is done once (type Ctrl-C, send a signal …). */
  act?: { when: (output: string) => boolean; act: (term: IPty) => void };
  /** Run this instead of dpull (e.g. a shell that redirects one of dpull's streams). */
  command?: [string, ...string[]];
}

/** Runs dpull (or `command`) in a real pseudo-terminal of the given size. */
export function runInPty(
  args: string[],
  env: Record<string, string>,
  size: { cols: number; rows: number },
  options: PtyOptions = {},
): Promise<PtyRun> {
  const [file, ...argv] = options.command ?? [dpullNode(), dpullBin, ...args];
  return new Promise((resolve) => {
    const term = pty.spawn(file, argv, {
      name: 'xterm-256color',
      cols: size.cols,
      rows: size.rows,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', TERM: 'xterm-256color', ...env },
    });
    let output = '';
    let acted = false;
    term.onData((data) => {
      output += data;
      if (options.act && !acted && options.act.when(output)) {
        acted = true;
        options.act.act(term);
      }
    });
    term.onExit(({ exitCode, signal }) => {
      // Let the last bytes drain from the pty before resolving.
      setTimeout(() => resolve({ output, exitCode, ...(signal ? { signal } : {}) }), 50);
    });
  });
}
