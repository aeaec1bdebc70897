import type { Palette, Style } from '../colour.js';
import type { PullState, PullTotals } from '../../state/pull-state.js';
import { formatBytes, imageParts, retryWords } from '../format.js';
import { formatDuration } from '../../units.js';
import type { Line } from '../line.js';
import { foldLayers, foldLine, joinParts, layerLine, totalsParts, usableWidth, type View } from './frame.js';
import { truncateLine } from './line-width.js';

/** Where one pull of several stands. */
export type SectionPhase = 'queued' | 'connecting' | 'pulling' | 'pulled' | 'failed';

/** One pull of several, as the board shows it: a header with its own totals, its layers beneath. */
export interface Section {
  /** The image, and the engine when the run has several. */
  label: string;
  /** Set when the run pulls on several engines: then a section is a pull, not an image. */
  engine?: string;
  phase: SectionPhase;
  state?: PullState;
  /** Why it failed, one line. */
  error?: string;
  /** Stopped by Ctrl-C or SIGTERM rather than failed. */
  interrupted?: boolean;
  /** When it ended: its elapsed time stops there. */
  endedAt?: number;
}

const INDENT = 2;

const ICON: Record<SectionPhase, string> = { queued: '·', connecting: '↓', pulling: '↓', pulled: '✔', failed: '✘' };

function iconStyle(phase: SectionPhase, c: Palette): Style {
  return { queued: c.dim, connecting: c.cyan, pulling: c.cyan, pulled: c.green, failed: c.red }[phase];
}

/** What the board counts: images, or pulls when each image goes to several engines. */
const unit = (sections: Section[]) => (sections.some((s) => s.engine !== undefined) ? 'pulls' : 'images');

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** What a section's header says after its label. */
function headerParts(section: Section, now: number): string[] {
  const { state } = section;
  switch (section.phase) {
    case 'queued':
      return ['waiting'];
    case 'connecting':
      return ['connecting…'];
    case 'failed':
      return [section.error ?? 'failed'];
    case 'pulling':
      if (state === undefined) return ['connecting…'];
      if (state.retry !== undefined && state.layers.size === 0) return [retryWords(state.retry, (state.retry.at + state.retry.delayMs - now) / 1000)];
      return totalsParts(state.totals(now));
    case 'pulled': {
      if (state === undefined) return ['pulled'];
      const t = state.totals(section.endedAt ?? now);
      const image = imageParts(state.image).slice(0, 1); // the ID: which image each engine now has
      if (state.upToDate) return ['up to date', ...image];
      return [
        plural(t.pulled, 'layer') + ' pulled',
        ...(t.reused > 0 ? [`${t.reused} reused`] : []),
        ...(t.downloadedBytes > 0 ? [formatBytes(t.downloadedBytes)] : []),
        formatDuration(t.elapsedMs / 1000),
        ...image,
      ];
    }
  }
}

function headerLine(section: Section, width: number, now: number, c: Palette): Line {
  const style = section.phase === 'failed' ? c.red : undefined;
  return truncateLine(
    [
      { text: ICON[section.phase], style: iconStyle(section.phase, c) },
      { text: ' ' },
      { text: section.label, style: c.bold },
      { text: '  ' },
      ...joinParts(headerParts(section, now), c).map((s) => (style && !s.style ? { ...s, style } : s)),
    ],
    width,
  );
}

/** The sum over every pull: bytes and layers, speed the sum of the current speeds. */
function grandTotals(sections: Section[], startedAt: number, now: number): PullTotals {
  const sum: PullTotals = { layers: 0, pulled: 0, reused: 0, downloadedBytes: 0, knownBytes: 0, sizesKnown: true, unsizedLayers: 0, unpacking: 0, elapsedMs: now - startedAt };
  let speed = 0;
  for (const section of sections) {
    if (section.state === undefined) continue;
    const t = section.state.totals(section.endedAt ?? now);
    sum.layers += t.layers;
    sum.pulled += t.pulled;
    sum.reused += t.reused;
    sum.downloadedBytes += t.downloadedBytes;
    sum.knownBytes += t.knownBytes;
    sum.unsizedLayers += t.unsizedLayers;
    sum.unpacking += t.unpacking;
    if (section.phase === 'pulling') {
      sum.sizesKnown &&= t.sizesKnown;
      speed += t.bytesPerSecond ?? 0;
    }
  }
  const left = sum.knownBytes - sum.downloadedBytes;
  if (speed > 0) sum.bytesPerSecond = speed;
  if (sum.sizesKnown && speed > 0 && left > 0) sum.etaSeconds = left / speed;
  return sum;
}

function totalLine(sections: Section[], startedAt: number, width: number, now: number, c: Palette): Line {
  // Pulled, failed and still running counted apart: "4/4 images · 1 failed" read as all pulled.
  const pulled = sections.filter((s) => s.phase === 'pulled').length;
  const failed = sections.filter((s) => s.phase === 'failed' && s.interrupted !== true).length;
  const interrupted = sections.filter((s) => s.interrupted === true).length;
  const running = sections.length - pulled - failed - interrupted;
  const parts = [
    `${pulled}/${sections.length} ${unit(sections) === 'images' ? 'images pulled' : 'pulls complete'}`,
    ...(failed > 0 ? [`${failed} failed`] : []),
    ...(interrupted > 0 ? [`${interrupted} interrupted`] : []),
    ...(running > 0 && pulled + failed + interrupted > 0 ? [`${running} running`] : []),
  ];
  const t = grandTotals(sections, startedAt, now);
  const rest = totalsParts(t);
  return truncateLine([{ text: 'Total', style: c.bold }, { text: '  ' }, ...joinParts([...parts, ...rest], c)], width);
}

/** How many layer rows each section gets; 0 is its header alone. */
function allotRows(sections: Section[], room: number): number[] {
  const need = sections.map((s) => (s.phase === 'pulling' || s.phase === 'pulled' ? (s.state?.layers.size ?? 0) : 0));
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  if (sum(need) <= room) return need;
  // Short of space: finished images fold to their header first.
  const live = need.map((n, i) => (sections[i].phase === 'pulling' ? n : 0));
  if (sum(live) <= room) return live;
  // Still short: the room is shared among the running pulls, none given more than it needs.
  const allot = live.map(() => 0);
  const order = live.flatMap((n, i) => (n > 0 ? [i] : [])).sort((a, b) => live[a] - live[b]);
  let left = room;
  order.forEach((index, k) => {
    const share = Math.floor(left / (order.length - k));
    allot[index] = Math.min(live[index], share);
    left -= allot[index];
  });
  return allot;
}

/** More sections than rows: the running ones first, the rest summed up in one line. */
function foldSections(sections: Section[], room: number, width: number, c: Palette): { shown: Section[]; fold?: Line } {
  if (sections.length <= room) return { shown: sections };
  const rank: Record<SectionPhase, number> = { pulling: 0, connecting: 1, failed: 2, queued: 3, pulled: 4 };
  const slots = Math.max(0, room - 1);
  const kept = new Set(
    sections
      .map((section, index) => ({ section, index }))
      .sort((a, b) => rank[a.section.phase] - rank[b.section.phase] || a.index - b.index)
      .slice(0, slots)
      .map((x) => x.section),
  );
  const hidden = sections.filter((s) => !kept.has(s));
  const count = (phase: SectionPhase) => hidden.filter((s) => s.phase === phase).length;
  const parts = (
    [
      [count('pulled'), 'pulled'],
      [count('failed'), 'failed'],
      [count('queued'), 'waiting'],
      [count('connecting') + count('pulling'), 'running'],
    ] as const
  )
    .filter(([n]) => n > 0)
    .map(([n, what]) => `${n} ${what}`);
  return {
    shown: sections.filter((s) => kept.has(s)),
    fold: truncateLine([{ text: `… ${hidden.length} more ${unit(sections)}: ${parts.join(', ')}`, style: c.dim }], width),
  };
}

/**
 * Several pulls at once: a section per pull (header with its totals, its layers indented
 * beneath), then the grand total. Never more lines than rows - 1 while live: finished sections
 * fold to their header first, then the running ones share the rows, then sections fold into a
 * line of their own. The last frame shows every header.
 */
export function renderBoard(sections: Section[], startedAt: number, view: View, c: Palette): Line[] {
  const width = usableWidth(view.columns);
  const rows = view.rows - 1 - 1; // the cursor's row, and the grand total
  const { shown, fold } = view.final ? { shown: sections } : foldSections(sections, rows, width, c);
  const allot = allotRows(shown, Math.max(0, rows - shown.length - (fold ? 1 : 0)));
  const lines: Line[] = [];
  shown.forEach((section, i) => {
    lines.push(headerLine(section, width, view.now, c));
    if (allot[i] === 0 || section.state === undefined) return;
    const layers = [...section.state.layers.values()];
    const { shown: visible, hidden } = foldLayers(layers, allot[i]);
    const failed = section.phase === 'failed';
    for (const layer of visible) lines.push([{ text: ' '.repeat(INDENT) }, ...layerLine(layer, width - INDENT, c, failed)]);
    if (hidden.length > 0) lines.push([{ text: ' '.repeat(INDENT) }, ...foldLine(hidden, width - INDENT, c)]);
  });
  if (fold) lines.push(fold);
  lines.push(totalLine(sections, startedAt, width, view.now, c));
  return lines;
}
