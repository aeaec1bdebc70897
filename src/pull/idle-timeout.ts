import { pullError } from '../errors.js';
import { formatDuration } from '../units.js';

/**
 * An abort signal that fires when `touch()` has not been called for `ms`: a pull that has
 * received nothing for that long is ended (an engine that accepted the request and then went
 * silent). Without `ms`, it never fires.
 */
export class IdleTimeout {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  /** `what`: who went silent, in the message (`the engine`, `the registry ghcr.io`). */
  constructor(
    private readonly ms: number | undefined,
    private what = 'the engine',
  ) {
    this.touch();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  touch(): void {
    if (this.ms === undefined) return;
    if (this.timer !== undefined) {
      this.timer.refresh(); // cheaper than a new timer on every chunk
      return;
    }
    this.timer = setTimeout(() => {
      const waited = this.ms! < 1000 ? `${this.ms}ms` : formatDuration(this.ms! / 1000);
      this.controller.abort(pullError(`nothing from ${this.what} for ${waited} (--timeout); the pull was cancelled`));
    }, this.ms);
  }

  /** Who is waited on from now (a pull that loads into an engine after the registry). */
  waitingOn(what: string): void {
    this.what = what;
    this.touch();
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

/** `30s`, `500ms`, `2m`, `1h`; a bare number is seconds. Undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's']!;
  const ms = Number(match[1]) * unit;
  return ms > 0 ? Math.round(ms) : undefined;
}
