import type { LayerPhase, PullEvent } from '../decode/pull-event.js';
import { PullState } from './pull-state.js';

/** How far a layer's fetch has come: an event that would take a layer back is someone else's older news. */
const FETCH_RANK = new Map<LayerPhase, number>([
  ['pending', 0],
  ['waiting', 1],
  ['exists', 2],
  ['downloading', 3],
  ['complete', 4],
]);

/** An engine's own load, told on the same rows: not the fetch's. */
const LOADING = new Set(['Loading layer', 'Loaded']);

/**
 * One image fetched once for several engines (`--load -H A -H B`): the download as a single pull,
 * from the events of every engine's pull of it. Each blob is fetched by one of them while the
 * others wait on its lock and then find it present, so a layer's row follows whichever event
 * takes its fetch furthest; the engines' own loads are left to their rows. Pure.
 */
export class SharedFetch {
  readonly state: PullState;

  constructor(startedAt: number) {
    this.state = new PullState(startedAt);
  }

  apply(events: readonly PullEvent[], now: number): void {
    for (const event of events) {
      if (event.type !== 'layer' || LOADING.has(event.status)) continue;
      const rank = FETCH_RANK.get(event.phase);
      if (rank === undefined) continue;
      const known = this.state.layers.get(event.id);
      const was = known === undefined ? -1 : (FETCH_RANK.get(known.phase) ?? -1);
      if (rank < was || (rank === was && event.phase !== 'downloading')) continue;
      this.state.apply(event, now);
    }
  }
}
