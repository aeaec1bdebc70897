import type { Palette } from './colour.js';
import type { PullState } from '../state/pull-state.js';
import type { Line } from './line.js';

/** The closing lines of a pull: each tag's digest and the engine's status. */
export function resultLines(state: PullState, c?: Palette): Line[] {
  const lines: Line[] = [];
  for (const tag of state.tags) {
    if (tag.digest !== undefined) lines.push([{ text: 'Digest: ', style: c?.dim }, { text: tag.digest }]);
    if (tag.status !== undefined) {
      lines.push([{ text: 'Status: ', style: c?.dim }, { text: tag.status, style: tag.upToDate ? undefined : c?.green }]);
    }
  }
  return lines;
}
