/**
 * Download speed as an exponentially weighted average of byte rate over time, so the number
 * neither jumps with every event nor lags for long. Times are milliseconds from an injected clock.
 */
export class RateMeter {
  private lastTime: number | undefined;
  private lastBytes = 0;
  private rate: number | undefined;

  constructor(private readonly halfLifeMs = 2000) {}

  /** Records that `bytes` had arrived in total by `now`. */
  sample(now: number, bytes: number): void {
    if (this.lastTime === undefined) {
      this.lastTime = now;
      this.lastBytes = bytes;
      return;
    }
    const dt = now - this.lastTime;
    if (dt < 100) return; // too short to measure; the next sample covers it
    const instant = ((bytes - this.lastBytes) * 1000) / dt;
    const weight = 1 - Math.pow(0.5, dt / this.halfLifeMs);
    this.rate = this.rate === undefined ? instant : this.rate + weight * (instant - this.rate);
    this.lastTime = now;
    this.lastBytes = bytes;
  }

  /** Bytes per second, or undefined until two samples far enough apart. */
  bytesPerSecond(): number | undefined {
    return this.rate;
  }
}
