import type { PullEvent } from '../decode/pull-event.js';
import { FINISHED, applyLayerEvent, newLayer, type LayerRecord } from './layer-state.js';
import { RateMeter } from './rate.js';
import type { LayerPhase } from '../decode/pull-event.js';
import type { EngineImage } from '../engine/image-lookup.js';

const UNPACKING: ReadonlySet<LayerPhase> = new Set(['verifying', 'downloaded', 'extracting']);

/** The outcome lines of one tag's block (one block per tag with --all-tags). */
export interface TagResult {
  tag: string;
  repository?: string;
  digest?: string;
  status?: string;
  upToDate?: boolean;
}

export interface PullTotals {
  layers: number;
  /** Layers finished in this pull (Pull complete). */
  pulled: number;
  /** Layers the engine already had. */
  reused: number;
  /** Bytes downloaded so far, and the sum of the sizes known so far. */
  downloadedBytes: number;
  knownBytes: number;
  /** True when every layer that downloads has announced its size. */
  sizesKnown: boolean;
  /**
   * Layers downloaded whose size the engine never said (the containerd image store skips the
   * progress of a quick layer): their bytes are missing from downloadedBytes.
   */
  unsizedLayers: number;
  /**
   * Layers downloaded but not yet complete (verifying, extracting, or unpacked in silence by the
   * containerd image store): while any are, the pull is not done, whatever the bytes say.
   */
  unpacking: number;
  bytesPerSecond?: number;
  /** Seconds left at the current speed, when it can be told. */
  etaSeconds?: number;
  elapsedMs: number;
  /** The image going into the engine (--load, containerd) and not yet there: bytes sent of all. */
  sending?: { sentBytes: number; totalBytes: number };
}

// Whatever an engine sends, what is kept stays bounded: a real image has at most a few hundred
// layers and a handful of messages; the display and the result need no more.
const MAX_LAYERS = 1000;
const MAX_MESSAGES = 100;
const MAX_TAGS = 10_000;

/**
 * Everything the renderers show, built from the events alone. Pure apart from the clock
 * readings it is handed: no I/O, no timers.
 */
export class PullState {
  /** Layers in order of first appearance. */
  readonly layers = new Map<string, LayerRecord>();
  readonly tags: TagResult[] = [];
  /** The latest other messages (at most MAX_MESSAGES). */
  readonly messages: string[] = [];
  /** The latest retry, once a failed attempt is run again; `at` is when its wait began. */
  retry?: Extract<PullEvent, { type: 'retry' }> & { at: number };
  /** After a successful pull: the image as the engine holds it, or why that is not known. */
  image?: EngineImage;
  /** --load's account of the engine: bytes sent, bytes of layers it had, up to date. */
  load?: { engine: string; sentBytes: number; skippedBytes: number; upToDate: boolean };
  /** --load's upload while it runs: bytes sent of the archive's, and the layers it brings. */
  sending?: { sentBytes: number; totalBytes: number; layers: number };
  error?: string;
  /** Events applied; the renderers use it to tell whether anything changed. */
  version = 0;
  private rate = new RateMeter();
  private downloadedBytes = 0;

  constructor(readonly startedAt: number) {}

  apply(event: PullEvent, now: number): void {
    this.version++;
    switch (event.type) {
      case 'pulling':
        if (this.tags.length >= MAX_TAGS) this.tags.shift();
        this.tags.push({ tag: event.tag, repository: event.repository });
        break;
      case 'layer': {
        const known = this.layers.get(event.id);
        // Ids beyond MAX_LAYERS are not kept: an engine gone wrong, or a hostile one.
        if (known === undefined && this.layers.size >= MAX_LAYERS) break;
        const before = known ?? newLayer(event.id);
        const after = applyLayerEvent(before, event);
        this.layers.set(event.id, after);
        this.downloadedBytes += after.downloaded - before.downloaded;
        this.rate.sample(now, this.downloadedBytes);
        break;
      }
      case 'digest':
        this.currentTag().digest = event.digest;
        break;
      case 'status':
        Object.assign(this.currentTag(), { status: event.message, upToDate: event.upToDate });
        break;
      case 'message':
        if (this.messages.length >= MAX_MESSAGES) this.messages.shift();
        this.messages.push(event.message);
        break;
      case 'error':
        this.error = event.message;
        break;
      case 'retry':
        // A new attempt: the engine will tell everything again from the start.
        this.layers.clear();
        this.tags.length = 0;
        this.error = undefined;
        this.downloadedBytes = 0;
        this.rate = new RateMeter();
        this.retry = { ...event, at: now };
        this.sending = undefined;
        break;
      case 'image': {
        const { type: _, ...image } = event;
        this.image = image;
        break;
      }
      case 'load': {
        const { type: _, ...load } = event;
        this.load = load;
        break;
      }
      case 'sending':
        this.sending = { sentBytes: event.sentBytes, totalBytes: event.totalBytes, layers: event.layers };
        break;
    }
  }

  /**
   * The pull succeeded. Podman's compatible API ends a downloaded layer at Download complete
   * (never Pull complete), and announces a layer it already has with Pulling fs layer and then
   * nothing: those are complete, and already present, respectively.
   */
  succeed(): void {
    for (const [id, layer] of this.layers) {
      if (layer.phase === 'downloaded') this.layers.set(id, { ...layer, phase: 'complete', status: 'Pull complete' });
      if (layer.phase === 'pending' || layer.phase === 'waiting') {
        this.layers.set(id, { ...layer, phase: 'exists', status: 'Already exists' });
      }
    }
    this.version++;
  }

  /** The engine said every tag was up to date: nothing was pulled. */
  get upToDate(): boolean {
    return this.tags.length > 0 && this.tags.every((tag) => tag.upToDate === true);
  }

  /** Lets the speed decay while no events arrive (a stalled download). */
  tick(now: number): void {
    this.rate.sample(now, this.downloadedBytes);
  }

  totals(now: number): PullTotals {
    let pulled = 0;
    let reused = 0;
    let knownBytes = 0;
    let sizesKnown = true;
    let unsizedLayers = 0;
    let unpacking = 0;
    for (const layer of this.layers.values()) {
      if (UNPACKING.has(layer.phase)) unpacking++;
      if (layer.phase === 'complete') pulled++;
      if (layer.phase === 'exists') reused++;
      else if (layer.size !== undefined) knownBytes += layer.size;
      else if (!FINISHED.has(layer.phase)) sizesKnown = false;
      else unsizedLayers++;
    }
    const bytesPerSecond = this.rate.bytesPerSecond();
    const left = knownBytes - this.downloadedBytes;
    const etaSeconds =
      sizesKnown && bytesPerSecond !== undefined && bytesPerSecond > 0 && left > 0 ? left / bytesPerSecond : undefined;
    return {
      layers: this.layers.size,
      pulled,
      reused,
      downloadedBytes: this.downloadedBytes,
      knownBytes,
      sizesKnown,
      unsizedLayers,
      unpacking,
      ...(bytesPerSecond !== undefined && { bytesPerSecond }),
      ...(etaSeconds !== undefined && { etaSeconds }),
      elapsedMs: now - this.startedAt,
      ...(this.sending !== undefined && this.load === undefined && this.sending.sentBytes < this.sending.totalBytes && {
        sending: { sentBytes: this.sending.sentBytes, totalBytes: this.sending.totalBytes },
      }),
    };
  }


  private currentTag(): TagResult {
    if (this.tags.length === 0) this.tags.push({ tag: '' });
    return this.tags[this.tags.length - 1];
  }
}
