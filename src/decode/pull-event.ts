import { sanitize } from '../sanitize.js';
import { secretsVersion } from '../secrets.js';
import type { EngineImage } from '../engine/image-lookup.js';

/** Where a layer is in its pull, from the engine's status text. */
export type LayerPhase =
  | 'pending' // Pulling fs layer
  | 'waiting' // Waiting
  | 'downloading' // Downloading
  | 'verifying' // Verifying Checksum
  | 'downloaded' // Download complete
  | 'extracting' // Extracting
  | 'complete' // Pull complete
  | 'exists' // Already exists
  | 'retrying' // Retrying in N seconds
  | 'other'; // a status dpull does not know; shown as the engine sent it

/** One message of the engine's pull stream, typed. All text is sanitised. */
export type PullEvent =
  /** `Pulling from demo/big` with id `2.0`: a tag's block begins (one per tag with -a). */
  | { type: 'pulling'; repository: string; tag: string }
  | {
      type: 'layer';
      id: string;
      phase: LayerPhase;
      /** The engine's status text, e.g. `Pulling fs layer`. */
      status: string;
      current?: number;
      total?: number;
      /** `s` when the engine reports Extracting as seconds elapsed (containerd image store). */
      units?: string;
      /** Seconds until the next attempt, for `retrying`. */
      retryIn?: number;
    }
  | { type: 'digest'; digest: string }
  /** `Status: Downloaded newer image for …` / `Status: Image is up to date for …`. */
  | { type: 'status'; message: string; upToDate: boolean }
  /** Any other line with text; shown as it is. */
  | { type: 'message'; message: string; id?: string }
  | { type: 'error'; message: string }
  /**
   * Not from the stream: after it, the image as the engine holds it (`GET /images/json`), or a
   * warning saying why that could not be had.
   */
  | ({ type: 'image' } & EngineImage)
  /**
   * Not from the stream: the pull failed for a passing reason and will be run again after
   * `delayMs` (attempt `attempt` of `of`); what the failed attempt showed is set aside.
   */
  | { type: 'retry'; attempt: number; of: number; delayMs: number; reason: string; rateLimit?: RateLimitWords }
  /**
   * Not from the stream: --load's account of one engine — bytes of the archive sent to it, bytes of
   * layers it had and was not sent, and whether it had the image already (nothing sent).
   */
  | { type: 'load'; engine: string; sentBytes: number; skippedBytes: number; upToDate: boolean }
  /**
   * Not from the stream: --load's upload under way — bytes of the archive sent to the engine so
   * far, of `totalBytes` (the whole archive), which holds `layers` layers for the engine to load.
   */
  | { type: 'sending'; engine: string; sentBytes: number; totalBytes: number; layers: number };

/** A registry's rate limit as dpull says it: `rate limited by HOST: 0 of 100 pulls left per 6h`. */
export interface RateLimitWords {
  registry: string;
  limit?: number;
  remaining?: number;
  windowSeconds?: number;
}

// A Map, not an object literal: a status such as `constructor` finds nothing here.
const LAYER_PHASES = new Map<string, LayerPhase>([
  ['Pulling fs layer', 'pending'],
  ['Waiting', 'waiting'],
  ['Downloading', 'downloading'],
  ['Verifying Checksum', 'verifying'],
  ['Download complete', 'downloaded'],
  ['Extracting', 'extracting'],
  ['Pull complete', 'complete'],
  ['Already exists', 'exists'],
]);

interface RawMessage {
  status?: unknown;
  id?: unknown;
  progressDetail?: { current?: unknown; total?: unknown; units?: unknown };
  error?: unknown;
  errorDetail?: { message?: unknown };
}

/**
 * The engine repeats the same few short strings (layer ids, `Downloading`, `Extracting`): each is
 * sanitized once, not at every message (a few regular expressions each time, on a slow pull
 * cold code at every wake-up). Forgotten when a secret is added, and when it grows past its bound
 * (a hostile stream of new ids only churns it).
 */
const sanitized = new Map<string, string>();
let sanitizedFor = -1;
const MEMO_LIMIT = 256;
const MEMO_LENGTH = 80;

function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (value.length > MEMO_LENGTH) return sanitize(value);
  if (sanitizedFor !== secretsVersion() || sanitized.size >= MEMO_LIMIT) {
    sanitized.clear();
    sanitizedFor = secretsVersion();
  }
  let clean = sanitized.get(value);
  if (clean === undefined) {
    clean = sanitize(value);
    sanitized.set(value, clean);
  }
  return clean;
}
const count = (value: unknown) =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;

/** Turns one decoded engine message into a typed event, or undefined for a line with nothing to show. */
export function toPullEvent(raw: object): PullEvent | undefined {
  const message = raw as RawMessage;
  const error = text(message.errorDetail?.message) || text(message.error);
  if (message.errorDetail !== undefined || message.error !== undefined) {
    return { type: 'error', message: error || 'the engine reported an error without a message' };
  }
  const status = text(message.status)?.trim();
  const id = text(message.id);
  if (!status) return undefined;

  const known = LAYER_PHASES.get(status);
  if (known !== undefined && id) return layerEvent(message, id, known, status);
  const pullingFrom = /^Pulling from (.+)$/.exec(status);
  if (pullingFrom) return { type: 'pulling', repository: pullingFrom[1], tag: id ?? '' };
  if (status.startsWith('Digest: ')) return { type: 'digest', digest: status.slice('Digest: '.length) };
  if (status.startsWith('Status: ')) {
    const msg = status.slice('Status: '.length);
    return { type: 'status', message: msg, upToDate: msg.startsWith('Image is up to date') };
  }
  if (!id) return { type: 'message', message: status };

  const retry = /^Retrying in (\d+) seconds?$/.exec(status);
  return layerEvent(message, id, retry ? 'retrying' : 'other', status, retry ? Number(retry[1]) : undefined);
}

function layerEvent(message: RawMessage, id: string, phase: LayerPhase, status: string, retryIn?: number): PullEvent {
  const detail = message.progressDetail ?? {};
  const current = count(detail.current);
  const total = count(detail.total);
  const units = text(detail.units);
  return {
    type: 'layer',
    id,
    phase,
    status,
    ...(current !== undefined && { current }),
    ...(total !== undefined && total > 0 && { total }),
    ...(units !== undefined && { units }),
    ...(retryIn !== undefined && { retryIn }),
  };
}
