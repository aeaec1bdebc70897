import type { PullEvent } from '../../decode/pull-event.js';
import type { PullState } from '../../state/pull-state.js';
import { pullResult } from '../../state/pull-result.js';
import { errorLine, type Outcome, type Renderer, type RendererOptions } from '../renderer-interface.js';

/**
 * `--progress json`: one JSON object per line on stdout, for scripts. The schema (README,
 * "JSON output") is stable: every object has `type`, `time` (ISO 8601) and `image` (as given).
 * On a run over several engines, every object also has `engine`.
 *   pulling  {tag, repository}                 a tag's block begins
 *   layer    {layer, status, phase, current?, total?, units?, retryIn?}
 *   digest   {digest}       status {message, upToDate}       message {message}
 *   sending  {engine, sentBytes, totalBytes, layers}     --load's upload, at each whole percent
 *   load     {engine, sentBytes, skippedBytes, upToDate}                         --load, per engine
 *   result   {reference, digest?, upToDate, bytes, layers: {total, pulled, reused}, elapsedMs,
 *             imageId?, size?, platform?, images?, warning?, load?}                 last line on success
 *   error    {message, exitCode}                                                      last line on failure
 */
export class JsonRenderer implements Renderer {
  constructor(private readonly options: RendererOptions) {}

  start(): void {}

  update(_state: PullState, events: readonly PullEvent[]): void {
    let lines = '';
    for (const event of events) {
      // An in-stream error ends the pull: the final `error` object reports it once.
      // The image lookup after the pull is reported in the `result` object.
      if (event.type === 'error' || event.type === 'image') continue;
      lines += this.line(this.fields(event));
    }
    if (lines !== '') this.options.out.write(lines);
  }

  finish(state: PullState, outcome: Outcome): void {
    if (outcome.kind === 'pulled') {
      this.options.out.write(this.line({ type: 'result', ...pullResult(state, this.options.reference, this.options.clock()) }));
      return;
    }
    const [message, exitCode] =
      outcome.kind === 'failed' ? [outcome.error.message, outcome.error.exitCode] : ['interrupted', outcome.exitCode];
    this.options.out.write(this.line({ type: 'error', message, exitCode }));
    // One of several: the run's closing list on stderr names it.
    if (outcome.kind === 'failed' && this.options.several !== true) this.options.stream.write(`${errorLine(outcome.error)}\n`);
  }

  private fields(event: Exclude<PullEvent, { type: 'error' | 'image' }>): Record<string, unknown> {
    if (event.type !== 'layer') return { ...event };
    const { id, ...rest } = event;
    return { ...rest, layer: id };
  }

  private line(fields: Record<string, unknown>): string {
    const { type, ...rest } = fields;
    const { label: image, engine } = this.options;
    return `${JSON.stringify({ type, time: new Date().toISOString(), image, ...(engine !== undefined && { engine }), ...rest })}\n`;
  }
}
