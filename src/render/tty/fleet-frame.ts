import type { Palette, Style } from '../colour.js';
import type { SharedFetch } from '../../state/shared-fetch.js';
import { FINISHED } from '../../state/layer-state.js';
import { formatBytes, formatPercent, formatProgress, imageParts } from '../format.js';
import { formatDuration } from '../../units.js';
import type { Line } from '../line.js';
import { foldLayers, foldLine, joinParts, layerLine, totalsParts, usableWidth, type View } from './frame.js';
import { truncateLine } from './line-width.js';
import type { Section } from './board-frame.js';

/** One image of `--load` into several engines: its fetch, once, and each engine's load of it. */
export interface FleetGroup {
  image: string;
  fetch: SharedFetch;
  /** A section per engine: `engine` names it. */
  engines: Section[];
}

const INDENT = 2;
const ended = (s: Section) => s.phase === 'pulled' || s.phase === 'failed';

/** `fetch …` while any layer comes in, then what the fetch came to. */
function fetchParts(group: FleetGroup, now: number): string[] {
  const { state } = group.fetch;
  if (state.layers.size === 0) return group.engines.some(ended) && group.engines.every(ended) ? [] : ['resolving…'];
  const t = state.totals(now);
  const layers = [...state.layers.values()];
  if (layers.every((l) => FINISHED.has(l.phase))) {
    return [
      `${t.layers} layers`,
      t.downloadedBytes > 0 ? `${formatBytes(t.downloadedBytes)} fetched` : 'all in the cache',
      ...(t.reused > 0 && t.downloadedBytes > 0 ? [`${t.reused} cached or held`] : []),
    ];
  }
  return ['fetching', ...totalsParts(t)];
}

function headerLine(group: FleetGroup, width: number, now: number, c: Palette): Line {
  const done = group.engines.every(ended);
  const failed = group.engines.filter((s) => s.phase === 'failed').length;
  const [icon, style] = !done ? ['↓', c.cyan] : failed > 0 ? ['✘', c.red] : ['✔', c.green];
  const loaded = group.engines.length - group.engines.filter((s) => !ended(s)).length - failed;
  const counts = done ? [`${loaded}/${group.engines.length} engines`, ...(failed > 0 ? [`${failed} failed`] : [])] : [];
  return truncateLine(
    [{ text: icon, style }, { text: ' ' }, { text: group.image, style: c.bold }, { text: '  ' }, ...joinParts([...fetchParts(group, now), ...counts], c)],
    width,
  );
}

/** What an engine's row says after its name. */
function engineParts(section: Section, fetched: boolean): { parts: string[]; icon: string; style: (c: Palette) => Style } {
  const { state } = section;
  const running = (parts: string[], icon = '↓') => ({ parts, icon, style: (c: Palette) => c.cyan });
  switch (section.phase) {
    case 'queued':
      return { parts: ['waiting'], icon: '·', style: (c) => c.dim };
    case 'connecting':
      return running(['connecting…']);
    case 'failed':
      return { parts: [section.error ?? 'failed'], icon: '✘', style: (c) => c.red };
    case 'pulled': {
      const id = imageParts(state?.image).slice(0, 1);
      const load = state?.load;
      if (load === undefined || load.upToDate) return { parts: ['up to date', ...id], icon: '✔', style: (c) => c.green };
      return {
        parts: ['loaded', `${formatBytes(load.sentBytes)} sent`, ...(load.skippedBytes > 0 ? [`${formatBytes(load.skippedBytes)} it had`] : []), ...id],
        icon: '✔',
        style: (c) => c.green,
      };
    }
    case 'pulling': {
      const sending = state?.sending;
      if (state?.load?.upToDate === true) return running(['up to date']);
      if (sending === undefined) {
        // The image's fetch done: what is left before the upload is the engine's (what it holds, the archive).
        return running([fetched ? 'preparing the load' : 'waiting for the fetch'], '·');
      }
      let loading = 0;
      for (const layer of state!.layers.values()) if (layer.status === 'Loading layer' || layer.status === 'Loaded') loading++;
      const layers = sending.layers > 0 && loading > 0 ? [`loading layer ${Math.min(loading, sending.layers)}/${sending.layers}`] : [];
      if (sending.sentBytes < sending.totalBytes) {
        return running(['sending', formatProgress(sending.sentBytes, sending.totalBytes), formatPercent(sending.sentBytes, sending.totalBytes), ...layers], '↑');
      }
      return running(['sent', ...(layers.length > 0 ? layers : ['loading'])], '↑');
    }
  }
}

/** A name cut in its middle: engines' addresses differ at their end (`…/docker26/docker.sock`) as often as at their start. */
function shorten(name: string, width: number): string {
  const head = Math.max(0, Math.floor((width - 1) / 3));
  const tail = Math.max(0, width - 1 - head);
  return `${name.slice(0, head)}…${tail > 0 ? name.slice(-tail) : ''}`;
}

/** `  ✔ ENGINE  loaded · 12.0 MB sent · 30.1 MB it had · sha256:…`, the engine's name cut to `nameWidth`. */
function engineLine(section: Section, fetched: boolean, nameWidth: number, width: number, c: Palette): Line {
  const { parts, icon, style } = engineParts(section, fetched);
  const name = section.engine ?? '';
  const shown = name.length > nameWidth ? shorten(name, nameWidth) : name.padEnd(nameWidth);
  const paint = style(c);
  return truncateLine(
    [
      { text: ' '.repeat(INDENT) },
      { text: icon, style: paint },
      { text: ' ' },
      { text: shown },
      { text: '  ' },
      ...joinParts(parts, c).map((s) => (section.phase === 'failed' && !s.style ? { ...s, style: paint } : s)),
    ],
    width,
  );
}

function totalLine(groups: FleetGroup[], startedAt: number, width: number, now: number, c: Palette): Line {
  const sections = groups.flatMap((g) => g.engines);
  const loaded = sections.filter((s) => s.phase === 'pulled').length;
  const failed = sections.filter((s) => s.phase === 'failed' && s.interrupted !== true).length;
  const interrupted = sections.filter((s) => s.interrupted === true).length;
  let fetched = 0;
  for (const group of groups) fetched += group.fetch.state.totals(now).downloadedBytes;
  let sent = 0;
  for (const s of sections) sent += s.state?.load?.sentBytes ?? s.state?.sending?.sentBytes ?? 0;
  const parts = [
    `${loaded}/${sections.length} loads complete`,
    ...(failed > 0 ? [`${failed} failed`] : []),
    ...(interrupted > 0 ? [`${interrupted} interrupted`] : []),
    `${formatBytes(fetched)} fetched`,
    `${formatBytes(sent)} sent`,
    formatDuration((now - startedAt) / 1000),
  ];
  return truncateLine([{ text: 'Total', style: c.bold }, { text: '  ' }, ...joinParts(parts, c)], width);
}

/**
 * `--load` into several engines: per image a header with its one fetch (and, while it runs, its
 * layers beneath), then a row per engine — waiting for the fetch, sending N of M bytes, loading
 * layer k of n, then loaded, up to date or failed — then the run's total. Never more lines than
 * rows - 1 while live: layer rows give way first, then finished images fold to their header, then
 * what does not fit is counted in one line. The last frame shows every header and engine.
 */
export function renderFleet(groups: FleetGroup[], startedAt: number, view: View, c: Palette): Line[] {
  const width = usableWidth(view.columns);
  const room = view.final ? Number.POSITIVE_INFINITY : Math.max(1, view.rows - 2); // the cursor's row, the total
  const names = groups.flatMap((g) => g.engines.map((s) => (s.engine ?? '').length));
  const nameWidth = Math.max(4, Math.min(Math.max(0, ...names), Math.floor(width * 0.4)));
  // Finished images fold to their header when engine rows would not fit.
  const engineRows = groups.reduce((n, g) => n + g.engines.length, 0);
  const fold = !view.final && groups.length + engineRows > room;
  const blocks = groups.map((group) => {
    const layers = [...group.fetch.state.layers.values()];
    const fetched = layers.length > 0 && layers.every((l) => FINISHED.has(l.phase));
    const rows = fold && group.engines.every(ended) ? [] : group.engines.map((s) => engineLine(s, fetched, nameWidth, width, c));
    return { group, header: headerLine(group, width, view.now, c), rows };
  });
  const used = blocks.reduce((n, b) => n + 1 + b.rows.length, 0);
  let spare = view.final ? 0 : Math.max(0, room - used);
  const lines: Line[] = [];
  for (const { group, header, rows } of blocks) {
    lines.push(header);
    const layers = [...group.fetch.state.layers.values()];
    const fetching = layers.some((l) => !FINISHED.has(l.phase));
    if (fetching && spare > 0) {
      const { shown, hidden } = foldLayers(layers, spare);
      for (const layer of shown) lines.push([{ text: ' '.repeat(INDENT) }, ...layerLine(layer, width - INDENT, c, false)]);
      if (hidden.length > 0) lines.push([{ text: ' '.repeat(INDENT) }, ...foldLine(hidden, width - INDENT, c)]);
      spare -= shown.length + (hidden.length > 0 ? 1 : 0);
    }
    lines.push(...rows);
  }
  if (lines.length > room) {
    const kept = lines.slice(0, Math.max(0, room - 1));
    kept.push(truncateLine([{ text: `… ${lines.length - kept.length} more lines`, style: c.dim }], width));
    kept.push(totalLine(groups, startedAt, width, view.now, c));
    return kept;
  }
  lines.push(totalLine(groups, startedAt, width, view.now, c));
  return lines;
}
