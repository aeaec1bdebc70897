import { execFileSync } from 'node:child_process';

const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });

/**
 * Runs a shell command in a detached tmux pane of the given size and resolves with the pane's
 * lines (right-trimmed) once the command has ended: the pane shows `exit=CODE` after it. The
 * session is killed whatever happens.
 */
export async function paneAfter(command: string, size: { cols: number; rows: number }, timeoutMs = 30_000): Promise<string[]> {
  const session = `dpull-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  tmux('new-session', '-d', '-s', session, '-x', String(size.cols), '-y', String(size.rows), `${command}; echo "exit=$?"; sleep 60`);
  try {
    let pane = '';
    for (const end = Date.now() + timeoutMs; Date.now() < end && !pane.includes('exit='); ) {
      await new Promise((r) => setTimeout(r, 100));
      pane = tmux('capture-pane', '-p', '-t', session);
    }
    return pane.split('\n').map((l) => l.trimEnd());
  } finally {
    tmux('kill-session', '-t', session);
  }
}
