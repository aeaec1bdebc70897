import type { PullState } from './pull-state.js';
import type { DpullError } from '../errors.js';
import type { RateLimitWords } from '../decode/pull-event.js';

/** What a successful pull gives: the library's `result` and the json `result` line alike. */
export interface PullResult {
  /** The full reference pulled: `docker.io/library/nginx:1.27`. */
  reference: string;
  digest?: string;
  upToDate: boolean;
  /** Bytes downloaded in this pull (layers the engine had are not counted). */
  bytes: number;
  layers: { total: number; pulled: number; reused: number };
  elapsedMs: number;
  /** The engine's image ID (`sha256:…`), as `docker images` shows it. */
  imageId?: string;
  /** The image's size on disk as the engine reports it, in bytes. */
  size?: number;
  /** `os/arch[/variant]` of the image the engine holds. */
  platform?: string;
  /** With --all-tags: how many images of the repository the engine holds. */
  images?: number;
  /** Why the engine's view of the image is missing (the pull itself succeeded). */
  warning?: string;
  /** What is left of the registry's pull limit, when it said (a pull without an engine). */
  rateLimit?: RateLimitWords;
  /** --load: bytes sent to the engine, bytes of layers it had (left out), whether it had the image. */
  load?: { engine: string; sentBytes: number; skippedBytes: number; upToDate: boolean };
  /**
   * `load` with `hosts`: each engine's outcome, in the order given — its own result (its image ID,
   * `load` with the bytes sent and skipped) or the error it failed with. The fields above are then
   * the one fetch's (bytes downloaded once, whatever the number of engines).
   */
  engines?: EngineOutcome[];
}

/** One engine of a `load` into several: its result, or why it failed. */
export interface EngineOutcome {
  engine: string;
  result?: PullResult;
  error?: DpullError;
}

/** The result of a pull that has succeeded, from its state. */
export function pullResult(state: PullState, reference: string, now: number): PullResult {
  const totals = state.totals(now);
  const last = state.tags.at(-1);
  const image = state.image ?? {};
  return {
    reference,
    ...(last?.digest !== undefined && { digest: last.digest }),
    upToDate: state.upToDate,
    bytes: totals.downloadedBytes,
    layers: { total: totals.layers, pulled: totals.pulled, reused: totals.reused },
    elapsedMs: Math.round(totals.elapsedMs),
    ...(image.id !== undefined && { imageId: image.id }),
    ...(image.size !== undefined && { size: image.size }),
    ...(image.platform !== undefined && { platform: image.platform }),
    ...(image.images !== undefined && { images: image.images }),
    ...(image.warning !== undefined && { warning: image.warning }),
    ...(image.rateLimit !== undefined && { rateLimit: image.rateLimit }),
    ...(state.load !== undefined && { load: state.load }),
  };
}
