import type { Palette } from './colour.js';
import type { PullState } from '../state/pull-state.js';
import type { Line } from './line.js';
import { imageParts } from './format.js';
import { formatDuration } from '../units.js';

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

/**
 * The closing line: the image as the engine now holds it, and how the pull went.
 * `✔ REF  sha256:3227fda12a33 · 50.3 MB on disk · linux/amd64 · pulled in 4s`
 */
export function imageLine(state: PullState, reference: string, elapsedMs: number, c?: Palette): Line {
  const { upToDate } = state;
  const parts = [
    ...imageParts(state.image),
    ...(state.image?.warning !== undefined ? [state.image.warning] : []),
    upToDate ? `up to date, checked in ${formatDuration(elapsedMs / 1000)}` : `pulled in ${formatDuration(elapsedMs / 1000)}`,
  ];
  return [{ text: '✔ ', style: c?.green }, { text: reference, style: c?.bold }, { text: `  ${parts.join(' · ')}` }];
}
