import type { LayerPhase, PullEvent } from '../decode/pull-event.js';

/** A layer event: its fields are also a layer record's. */
type LayerEvent = Extract<PullEvent, { type: 'layer' }>;

/**
 * One layer of the pull, as the user should see it: its latest event (status, phase, progress of
 * the current phase, retry countdown), plus what outlives a single event.
 */
export type LayerRecord = Omit<LayerEvent, 'type'> & {
  /** The layer's download size, once known; kept through the later phases. */
  size?: number;
  /** Bytes of this layer downloaded in this pull. */
  downloaded: number;
};

const DOWNLOAD_DONE: ReadonlySet<LayerPhase> = new Set(['verifying', 'downloaded', 'extracting', 'complete']);
export const FINISHED: ReadonlySet<LayerPhase> = new Set(['complete', 'exists']);
export const ACTIVE: ReadonlySet<LayerPhase> = new Set(['downloading', 'verifying', 'downloaded', 'extracting', 'retrying']);

export function newLayer(id: string): LayerRecord {
  return { id, phase: 'pending', status: 'Pulling fs layer', downloaded: 0 };
}

/** The layer after one of its events. Pure. */
export function applyLayerEvent(layer: LayerRecord, event: LayerEvent): LayerRecord {
  // A fresh literal of one shape every time: V8 keeps it fast (delete would not).
  const next: LayerRecord = {
    id: layer.id,
    phase: event.phase,
    status: event.status,
    current: event.current,
    total: event.total,
    units: event.units,
    size: layer.size,
    downloaded: layer.downloaded,
    retryIn: event.retryIn,
  };
  if ((event.phase === 'pending' || event.phase === 'waiting') && event.current === undefined && event.total !== undefined) {
    // A size known before the first byte (a registry's manifest gives every layer's): the total and ETA count it at once.
    next.size = event.total;
  } else if (event.phase === 'downloading') {
    if (event.total !== undefined) next.size = event.total;
    if (event.current !== undefined) {
      // current can exceed a wrong total; never count more than the layer's size.
      next.downloaded = next.size !== undefined ? Math.min(event.current, next.size) : event.current;
    }
  } else if (DOWNLOAD_DONE.has(event.phase)) {
    if (next.size === undefined && event.phase === 'extracting' && event.units === undefined) next.size = event.total;
    // (A layer this pull found present — fetched by another, as --load into several engines does —
    // and then loaded into its engine was not downloaded by it.)
    if (next.size !== undefined && layer.phase !== 'exists') next.downloaded = next.size;
  } else if (event.phase === 'exists') {
    next.downloaded = 0;
  }
  return next;
}
