/**
 * Milliseconds on a monotonic clock: the clock of pulls, speeds and frames. process.uptime
 * reads the same high-resolution timer as performance.now without loading perf_hooks (~4 ms of
 * start on Node 20).
 */
export const monotonicMs = (): number => process.uptime() * 1000;
