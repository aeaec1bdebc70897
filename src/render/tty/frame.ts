import type { Palette, Style } from '../colour.js';
import type { PullState, PullTotals } from '../../state/pull-state.js';
import { ACTIVE, FINISHED, type LayerRecord } from '../../state/layer-state.js';
import { formatBytes, formatPercent, formatProgress, formatSpeed, retryWords, unpackingPart } from '../format.js';
import { formatDuration } from '../../units.js';
import type { Line } from '../line.js';
import { truncateLine } from './line-width.js';

export interface View {
  columns: number;
  rows: number;
  now: number;
  /** The last frame: every layer shown, nothing folded (the screen will not be redrawn again). */
  final: boolean;
}

const STATUS_WIDTH = 18; // "Verifying Checksum"
const BAR_MIN = 10;
const BAR_MAX = 40;

function layerStatus(layer: LayerRecord): string {
  if (layer.phase === 'retrying' && layer.retryIn !== undefined) return `Retrying in ${layer.retryIn}s`;
  return layer.status;
}

function layerStyle(layer: LayerRecord, c: Palette, failed: boolean): Style {
  if (FINISHED.has(layer.phase)) return c.green;
  if (failed) return c.red;
  if (layer.phase === 'retrying') return c.yellow;
  if (ACTIVE.has(layer.phase)) return c.cyan;
  return c.dim;
}

function progressBar(current: number, total: number, width: number): string {
  const filled = Math.min(width, Math.floor((current / total) * width));
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/**
 * Layer records are immutable (a new one per event), so a record's line, once laid out for a
 * width, is reused until the record changes: most layers of a frame are waiting or done, and an
 * unchanged line is then skipped by identity when the frame is written.
 */
const laidOut = new WeakMap<LayerRecord, { columns: number; c: Palette; failed: boolean; line: Line }>();

function cachedLayerLine(layer: LayerRecord, columns: number, c: Palette, failed: boolean): Line {
  const hit = laidOut.get(layer);
  if (hit !== undefined && hit.columns === columns && hit.c === c && hit.failed === failed) return hit.line;
  const line = layerLine(layer, columns, c, failed);
  laidOut.set(layer, { columns, c, failed, line });
  return line;
}

/** `id  status  [bar]  current/total`, the bar sized to the room left. */
export function layerLine(layer: LayerRecord, columns: number, c: Palette, failed: boolean): Line {
  const style = layerStyle(layer, c, failed);
  const line: Line = [
    { text: layer.id.slice(0, 12), style: c.bold },
    { text: '  ' },
    { text: layerStatus(layer).padEnd(STATUS_WIDTH), style },
  ];
  const { current, total } = layer;
  if (current !== undefined && layer.units === 's') {
    line.push({ text: `  ${formatDuration(current)}`, style: c.dim });
  } else if (current !== undefined && total !== undefined) {
    const numbers = `  ${formatProgress(Math.min(current, total), total)}`;
    const used = 12 + 2 + STATUS_WIDTH + numbers.length + 2;
    const barWidth = Math.min(BAR_MAX, columns - used);
    if (barWidth >= BAR_MIN) line.push({ text: '  ' }, { text: progressBar(current, total, barWidth), style });
    line.push({ text: numbers });
  } else if (layer.phase === 'complete' || layer.phase === 'downloaded') {
    if (layer.size !== undefined) line.push({ text: `  ${formatProgress(layer.size, layer.size).split('/')[1]}`, style: c.dim });
  }
  return truncateLine(line, columns);
}

/** The parts of a totals line that apply now: `3/8 layers`, `12.3/45.6 MB`, `27%`, speed, ETA, elapsed. */
export function totalsParts(totals: PullTotals): string[] {
  const done = totals.pulled + totals.reused;
  const parts = [`${done}/${totals.layers} layers`];
  if (totals.reused > 0) parts.push(`${totals.reused} reused`);
  const whole = totals.sizesKnown && totals.unsizedLayers === 0;
  if (totals.sending !== undefined && totals.downloadedBytes >= totals.knownBytes) {
    // Fetched, and on its way into the engine (--load, containerd): that is what moves now.
    const { sentBytes, totalBytes } = totals.sending;
    parts.push(`${formatBytes(totals.downloadedBytes)} downloaded`, `sending ${formatProgress(sentBytes, totalBytes)}`, formatPercent(sentBytes, totalBytes));
  } else if (totals.knownBytes > 0 && whole && totals.downloadedBytes >= totals.knownBytes && totals.unpacking > 0) {
    // Every byte is here but layers are not done: 100% would read as finished.
    parts.push(`${formatBytes(totals.knownBytes)} downloaded`, unpackingPart(totals.unpacking));
  } else if (totals.knownBytes > 0) {
    parts.push(formatProgress(totals.downloadedBytes, totals.knownBytes) + (whole ? '' : '+'));
    if (whole) parts.push(formatPercent(totals.downloadedBytes, totals.knownBytes));
  }
  if (totals.bytesPerSecond !== undefined && totals.downloadedBytes < totals.knownBytes) {
    parts.push(formatSpeed(totals.bytesPerSecond));
  }
  if (totals.etaSeconds !== undefined) parts.push(`ETA ${formatDuration(Math.max(1, totals.etaSeconds))}`);
  parts.push(formatDuration(totals.elapsedMs / 1000));
  return parts;
}

/** Parts joined by a dim ` · `. */
export function joinParts(parts: string[], c: Palette): Line {
  const line: Line = [];
  for (const part of parts) {
    if (line.length > 0) line.push({ text: ' · ', style: c.dim });
    line.push({ text: part });
  }
  return line;
}

/** `3/8 layers · 12.3/45.6 MB · 27% · 4.2 MB/s · ETA 8s · 5s`, the parts that fit. */
export function totalsLine(totals: PullTotals, columns: number, c: Palette): Line {
  return truncateLine(joinParts(totalsParts(totals), c), columns);
}

/** What fits: active layers first, then the rest in order; everything else summed up in one line. */
export function foldLayers(layers: LayerRecord[], room: number): { shown: LayerRecord[]; hidden: LayerRecord[] } {
  if (layers.length <= room) return { shown: layers, hidden: [] };
  const slots = Math.max(0, room - 1); // one line for the summary
  const rank = (l: LayerRecord) => (ACTIVE.has(l.phase) ? 0 : FINISHED.has(l.phase) ? 2 : 1);
  const chosen = new Set(
    layers
      .map((layer, index) => ({ layer, index }))
      .sort((a, b) => rank(a.layer) - rank(b.layer) || a.index - b.index)
      .slice(0, slots)
      .map((x) => x.layer),
  );
  return { shown: layers.filter((l) => chosen.has(l)), hidden: layers.filter((l) => !chosen.has(l)) };
}

export function foldLine(hidden: LayerRecord[], columns: number, c: Palette): Line {
  const count = (test: (l: LayerRecord) => boolean) => hidden.filter(test).length;
  const parts = [
    [count((l) => l.phase === 'complete'), 'complete'],
    [count((l) => l.phase === 'exists'), 'already present'],
    [count((l) => ACTIVE.has(l.phase)), 'active'],
    [count((l) => !ACTIVE.has(l.phase) && !FINISHED.has(l.phase)), 'waiting'],
  ]
    .filter(([n]) => (n as number) > 0)
    .map(([n, what]) => `${n} ${what}`);
  return truncateLine([{ text: `… ${parts.join(', ')}`, style: c.dim }], columns);
}

let lastTitle: { title: string; width: number; c: Palette; line: Line } | undefined;

/** The header, laid out once per width (the same object each frame, so writing it is skipped). */
function titleLine(title: string, width: number, c: Palette): Line {
  if (lastTitle?.title !== title || lastTitle.width !== width || lastTitle.c !== c) {
    lastTitle = { title, width, c, line: truncateLine([{ text: title, style: c.bold }], width) };
  }
  return lastTitle.line;
}

/** A failed attempt waiting to be run again, counting down. */
export function retryLine(state: PullState, now: number, width: number, c: Palette): Line {
  const retry = state.retry!;
  const left = (retry.at + retry.delayMs - now) / 1000;
  return truncateLine([{ text: retryWords(retry, left), style: c.yellow }], width);
}

/** What Ctrl-C did, said once below the frame it left: closing the connection cancels the pull in the engine. */
export const interruptedLine = (c: Palette): Line => [{ text: '✘ interrupted — the engine cancelled the pull', style: c.red }];

/** Columns a line may use: never the last one, so the terminal never auto-wraps a line. */
export const usableWidth = (columns: number) => Math.max(1, columns - 1);

/**
 * The display as lines: a header, one line per layer, the totals. It never has more lines than
 * the terminal has rows minus one (so the cursor can always reach its first line) unless final.
 */
export function renderFrame(state: PullState, title: string, view: View, c: Palette): Line[] {
  const width = usableWidth(view.columns);
  const failed = state.error !== undefined;
  const lines: Line[] = [titleLine(title, width, c)];
  const layers = [...state.layers.values()];
  const room = view.final ? layers.length : Math.max(0, view.rows - 1 - 2);
  const { shown, hidden } = foldLayers(layers, room);
  for (const layer of shown) lines.push(cachedLayerLine(layer, width, c, failed));
  if (hidden.length > 0) lines.push(foldLine(hidden, width, c));
  if (layers.length > 0) lines.push(totalsLine(state.totals(view.now), width, c));
  else if (state.retry !== undefined) lines.push(retryLine(state, view.now, width, c));
  if (!view.final && lines.length > view.rows - 1) return lines.slice(0, Math.max(1, view.rows - 1));
  return lines;
}
