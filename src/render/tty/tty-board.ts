import { pullName, type Outcome, type PullDisplay, type PullLabel, type Renderer, type DisplayOptions } from '../renderer-interface.js';
import type { PullState } from '../../state/pull-state.js';
import type { PullEvent } from '../../decode/pull-event.js';
import { palette } from '../colour.js';
import { LiveRegion } from './live-region.js';
import { renderBoard, type Section } from './board-frame.js';
import { renderFleet, type FleetGroup } from './fleet-frame.js';
import { SharedFetch } from '../../state/shared-fetch.js';
import { interruptedLine } from './frame.js';

/**
 * Several pulls on one terminal: one live region, a section per pull, a grand total. With
 * `--load` into several engines (`fleet`), an image's pulls share one fetch: it is shown once,
 * each engine's load a row beneath it.
 */
export class TtyBoard implements PullDisplay {
  private readonly sections: Section[] = [];
  private readonly groups = new Map<string, FleetGroup>();
  private readonly region: LiveRegion;
  private readonly startedAt: number;
  private readonly clock: () => number;
  private readonly c;

  constructor(
    options: DisplayOptions,
    count: number,
    private readonly fleet = false,
  ) {
    const c = palette(options.stream, options.env);
    this.c = c;
    this.clock = options.clock;
    this.startedAt = options.clock();
    this.region = new LiveRegion(options.stream, options.clock, (view) => {
      for (const section of this.sections) if (section.phase === 'pulling') section.state?.tick(view.now);
      if (!this.fleet) return renderBoard(this.sections, this.startedAt, view, c);
      for (const group of this.groups.values()) group.fetch.state.tick(view.now);
      return renderFleet([...this.groups.values()], this.startedAt, view, c);
    });
    this.region.start(`Starting ${count} pulls`);
  }

  /** The renderer of one pull: it only updates its section; the board draws. */
  renderer(pull: PullLabel): Renderer {
    const section: Section = { label: pullName(pull), ...(pull.engine !== undefined && { engine: pull.engine }), phase: 'queued' };
    this.sections.push(section);
    // (Only --load into several engines merges an image's pulls into one fetch.)
    const fetch = this.fleet ? this.groupOf(pull.label, section).fetch : undefined;
    const changed = () => this.region.invalidate();
    return {
      start: () => {
        section.phase = 'connecting';
        changed();
      },
      update: (state: PullState, events: readonly PullEvent[] = []) => {
        section.state = state;
        fetch?.apply(events, this.clock());
        const retry = events.find((e) => e.type === 'retry');
        if (retry !== undefined) this.region.refreshFor(retry.delayMs);
        section.phase = 'pulling';
        changed();
      },
      finish: (state: PullState, outcome: Outcome) => {
        section.state = state;
        section.endedAt = this.clock();
        section.phase = outcome.kind === 'pulled' ? 'pulled' : 'failed';
        if (outcome.kind === 'failed') section.error = outcome.error.message;
        if (outcome.kind === 'interrupted') Object.assign(section, { error: 'interrupted', interrupted: true });
        changed();
      },
    };
  }

  /** The image's group of a fleet, made with its first engine's section. */
  private groupOf(image: string, section: Section): FleetGroup {
    let group = this.groups.get(image);
    if (group === undefined) this.groups.set(image, (group = { image, fetch: new SharedFetch(this.clock()), engines: [] }));
    group.engines.push(section);
    return group;
  }

  /** The last frame, every section's header in it; the cursor shown again. */
  close(): void {
    const interrupted = this.sections.some((s) => s.interrupted === true);
    this.region.finish(!interrupted);
    if (interrupted) {
      this.region.clearRow(); // the terminal echoed ^C where this line goes
      this.region.writeLine(interruptedLine(this.c));
    }
    this.region.restore();
  }
}
