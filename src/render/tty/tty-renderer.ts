import { errorLine, type Outcome, type Renderer, type RendererOptions } from '../renderer-interface.js';
import type { PullState } from '../../state/pull-state.js';
import type { PullEvent } from '../../decode/pull-event.js';
import { palette } from '../colour.js';
import { interruptedLine, renderFrame } from './frame.js';
import { imageLine, resultLines } from '../result-lines.js';
import { LiveRegion } from './live-region.js';
import { sanitize } from '../../sanitize.js';

/**
 * The live display of one pull on a terminal: a spinner until the first event, then the
 * header, a line per layer and the totals, redrawn in place.
 */
export class TtyRenderer implements Renderer {
  private readonly c;
  private readonly region: LiveRegion;
  private state: PullState | undefined;

  constructor(private readonly options: RendererOptions) {
    this.c = palette(options.stream, options.env);
    const title = `Pulling ${sanitize(options.label)}`;
    this.region = new LiveRegion(options.stream, options.clock, (view) => {
      if (this.state === undefined || this.state.version === 0) return undefined;
      this.state.tick(view.now);
      return renderFrame(this.state, title, view, this.c);
    });
  }

  start(engine: string): void {
    this.region.start(`Connecting to ${engine}`);
  }

  update(state: PullState, events: readonly PullEvent[] = []): void {
    this.state = state;
    const retry = events.find((e) => e.type === 'retry');
    if (retry !== undefined) this.region.refreshFor(retry.delayMs);
    // The engine answered but has said nothing yet: it is resolving the image at the registry.
    if (state.version === 0) this.region.spin(`Resolving ${this.options.reference}`);
    else this.region.invalidate();
  }

  finish(state: PullState, outcome: Outcome): void {
    this.state = state;
    this.region.finish(outcome.kind !== 'interrupted');
    if (outcome.kind === 'pulled') {
      for (const line of resultLines(state, this.c)) this.region.writeLine(line);
      this.region.writeLine(imageLine(state, this.options.reference, state.totals(this.options.clock()).elapsedMs, this.c));
    }
    if (outcome.kind === 'interrupted') {
      this.region.clearRow(); // the terminal echoed ^C where this line goes
      this.region.writeLine(interruptedLine(this.c));
    }
    this.region.restore();
    // The error in full, wrapped if it must be: it is the one line the user needs whole.
    if (outcome.kind === 'failed') this.options.stream.write(`${this.c.red(errorLine(outcome.error))}\n`);
  }
}
