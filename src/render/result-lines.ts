import type { ChalkInstance } from 'chalk';
import type { PullState } from '../state/pull-state.js';

/** The closing lines of a pull: each tag's digest and the engine's status. */
export function resultLines(state: PullState, c: ChalkInstance): string[] {
  const lines: string[] = [];
  for (const tag of state.tags) {
    if (tag.digest !== undefined) lines.push(`${c.dim('Digest:')} ${tag.digest}`);
    if (tag.status !== undefined) lines.push(`${c.dim('Status:')} ${tag.upToDate ? tag.status : c.green(tag.status)}`);
  }
  return lines;
}
