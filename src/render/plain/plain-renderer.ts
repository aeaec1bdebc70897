import type { PullEvent } from '../../decode/pull-event.js';
import { isCI } from 'ci-info';
import { errorLine, pullName, type Outcome, type Renderer, type RendererOptions } from '../renderer-interface.js';
import type { PullState } from '../../state/pull-state.js';
import type { LayerPhase } from '../../decode/pull-event.js';
import type { LayerRecord } from '../../state/layer-state.js';
import { palette } from '../colour.js';
import { formatBytes, formatPercent, formatProgress, formatSpeed, imageParts, loadWords, retryWords, unpackingPart } from '../format.js';
import { formatDuration } from '../../units.js';
import { resultLines } from '../result-lines.js';
import { paint } from '../line.js';

/** Phases worth a line of their own in a log; the rest (Waiting, Verifying …) are noise there. */
const FETCHED: ReadonlySet<string> = new Set(['Downloading', 'Pull complete']);
const LOGGED: ReadonlySet<LayerPhase> = new Set(['pending', 'downloading', 'downloaded', 'complete', 'exists', 'retrying', 'other']);

/** Seconds between progress lines while bytes move: a CI log wants fewer. */
export const progressIntervalSeconds = (env: NodeJS.ProcessEnv) => (isCI || env.CI === 'true' ? 10 : 5);

/**
 * Output for logs and pipes: no escape bytes, one line per meaningful layer change, and while
 * bytes move an overall progress line every few seconds, so a log is never silent for minutes.
 * Every line starts with the image, so interleaved logs stay readable.
 */
export class PlainRenderer implements Renderer {
  private readonly printedPhase = new Map<string, string>();
  private lastProgressAt: number;
  private lastProgressBytes = 0;
  private readonly intervalMs: number;

  /** On GitHub Actions, the pull is a collapsible group and errors are annotations. */
  private readonly github: boolean;

  constructor(private readonly options: RendererOptions) {
    this.lastProgressAt = options.clock();
    this.intervalMs = (options.intervalSeconds ?? progressIntervalSeconds(options.env)) * 1000;
    this.github = options.env.GITHUB_ACTIONS === 'true';
  }

  private grouped = false;
  private lastSentBytes = 0;

  start(): void {
    // Groups cannot interleave: several pulls at once are not grouped.
    if (!this.github || this.options.several === true) return;
    this.options.stream.write(`::group::Pulling ${this.options.label}\n`);
    this.grouped = true;
  }

  update(state: PullState, events: readonly PullEvent[]): void {
    const lines: string[] = [];
    // Tags and messages as they come in this batch (the state keeps only the latest of them).
    for (const event of events) {
      if (event.type === 'pulling') lines.push(`${event.tag !== '' ? `${event.tag}: ` : ''}Pulling from ${event.repository}`);
      else if (event.type === 'message') lines.push(event.message);
      else if (event.type === 'retry') lines.push(retryWords(event, event.delayMs / 1000));
      else if (event.type === 'load') lines.push(loadWords(event));
      else if (event.type === 'sending' && event.sentBytes === 0) lines.push(`Sending ${formatBytes(event.totalBytes)} (${event.layers} layer${event.layers === 1 ? '' : 's'}) to ${event.engine}`);
    }
    for (const layer of state.layers.values()) {
      const line = this.layerChange(layer);
      if (line !== undefined) lines.push(line);
    }
    const progress = this.progressLine(state);
    if (progress !== undefined) lines.push(progress);
    this.write(lines);
  }

  finish(state: PullState, outcome: Outcome): void {
    this.update(state, []);
    if (outcome.kind === 'pulled') {
      const c = palette(this.options.stream, this.options.env, false);
      this.write([...resultLines(state, c).map(paint), this.summary(state)]);
    }
    if (this.grouped) this.options.stream.write('::endgroup::\n');
    if (outcome.kind === 'failed') {
      // One of several is labelled like its other lines (the run's closing list names it again).
      const name = this.options.several === true ? pullName(this.options) : undefined;
      const { message } = outcome.error;
      const line = name === undefined ? errorLine(outcome.error) : `${name}  failed: ${message}`;
      // A workflow annotation: % is escaped as GitHub asks (the message is one line: sanitised).
      const annotation = name === undefined ? errorLine(outcome.error) : `${name}: ${message}`;
      this.options.stream.write(this.github ? `::error::${annotation.replace(/%/g, '%25')}\n` : `${line}\n`);
    }
  }

  /** `Pulled REF (sha256:…) in 8s: 11.0 MB at 1.4 MB/s, 4 layers pulled, 0 reused`. */
  private summary(state: PullState): string {
    const t = state.totals(this.options.clock());
    const seconds = t.elapsedMs / 1000;
    const digest = state.tags.at(-1)?.digest;
    const named = `${this.options.reference}${digest !== undefined ? ` (${digest})` : ''}`;
    const image = imageParts(state.image);
    const engineView = image.length > 0 ? `; image ${image.join(', ')}` : state.image?.warning !== undefined ? `; ${state.image.warning}` : '';
    // Nothing was pulled: say so, not "0 layers pulled".
    if (state.upToDate) {
      return `Up to date: ${named}, checked in ${formatDuration(seconds)}${engineView}`;
    }
    const { load } = state;
    if (load !== undefined) {
      const fetched = t.downloadedBytes > 0 ? `${formatBytes(t.downloadedBytes)} downloaded, ` : '';
      return `Loaded ${named} in ${formatDuration(seconds)}: ${fetched}${loadWords(load)}${engineView}`;
    }
    const speed = t.downloadedBytes > 0 && seconds > 0 ? ` at ${formatSpeed(t.downloadedBytes / seconds)}` : '';
    // Some engines (podman) report no sizes, some not all (Docker's containerd store skips quick
    // layers): say so rather than "0 B", or mark the sum as a lower bound.
    const bytes =
      t.knownBytes === 0 && t.pulled > 0
        ? 'sizes not reported by the engine'
        : `${formatBytes(t.downloadedBytes)}${t.unsizedLayers > 0 ? '+' : ''} downloaded${speed}`;
    return (
      `Pulled ${named} in ${formatDuration(seconds)}: ` +
      `${bytes}, ${t.pulled} layer${t.pulled === 1 ? '' : 's'} pulled, ${t.reused} reused${engineView}`
    );
  }

  private layerChange(layer: LayerRecord): string | undefined {
    // A retry countdown is one change, not one per second.
    const key = layer.phase === 'retrying' ? 'retrying' : layer.phase === 'other' ? `other:${layer.status}` : layer.phase;
    if (this.printedPhase.get(layer.id) === key || !LOGGED.has(layer.phase)) return undefined;
    // --load into several engines: a layer's fetch is told once, by the pull that fetched it; the
    // engines' loads by their own lines (what was sent, what each had).
    if (this.options.fleet === true && !FETCHED.has(layer.status)) return undefined;
    this.printedPhase.set(layer.id, key);
    let status = layer.status;
    if (layer.phase === 'downloading' && layer.size !== undefined) status += ` ${formatBytes(layer.size)}`;
    if (layer.phase === 'retrying' && layer.retryIn !== undefined) status = `Retrying in ${layer.retryIn}s`;
    return `${layer.id}: ${status}`;
  }

  private progressLine(state: PullState): string | undefined {
    const now = this.options.clock();
    if (now - this.lastProgressAt < this.intervalMs) return undefined;
    const { sending } = state;
    if (sending !== undefined && state.load === undefined) {
      // --load's upload: its bytes move, not the download's.
      if (sending.sentBytes === this.lastSentBytes || sending.sentBytes === 0) return undefined;
      this.lastProgressAt = now;
      this.lastSentBytes = sending.sentBytes;
      return `sending ${formatPercent(sending.sentBytes, sending.totalBytes)}  ${formatProgress(sending.sentBytes, sending.totalBytes)}`;
    }
    state.tick(now);
    const t = state.totals(now);
    if (t.downloadedBytes === this.lastProgressBytes || t.knownBytes === 0) return undefined;
    this.lastProgressAt = now;
    this.lastProgressBytes = t.downloadedBytes;
    const whole = t.sizesKnown && t.unsizedLayers === 0;
    // Every byte in, layers still unpacking: not "100%", which reads as done.
    const unpacking = whole && t.downloadedBytes >= t.knownBytes && t.unpacking > 0;
    const parts = [
      ...(unpacking ? ['downloaded'] : whole ? [formatPercent(t.downloadedBytes, t.knownBytes)] : []),
      formatProgress(t.downloadedBytes, t.knownBytes) + (whole ? '' : '+'),
      ...(unpacking ? [unpackingPart(t.unpacking)] : []),
      ...(t.bytesPerSecond !== undefined ? [formatSpeed(t.bytesPerSecond)] : []),
      ...(t.etaSeconds !== undefined ? [`ETA ${formatDuration(t.etaSeconds)}`] : []),
      `${t.pulled + t.reused}/${t.layers} layers`,
    ];
    return parts.join('  ');
  }

  private write(lines: string[]): void {
    if (lines.length === 0) return;
    const label = pullName(this.options);
    this.options.stream.write(lines.map((line) => `${label}  ${line}\n`).join(''));
  }
}
