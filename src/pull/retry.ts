import { DpullError, ExitCode } from '../errors.js';
import type { PullEvent, RateLimitWords } from '../decode/pull-event.js';
import { backoffMs, classifyFailure } from './retry-policy.js';
import type { RateLimit } from '../registry/rate-limit.js';
import { formatDuration } from '../units.js';

/** The longest a registry's Retry-After is waited; one asking for more fails at once, saying when. */
export const MAX_RETRY_AFTER_SECONDS = 600;

/** How often to try a pull and how long to wait first (then twice as long each time, at most 60 s). */
export interface RetryOptions {
  /** Attempts in all (1: no retry). */
  attempts: number;
  /** The wait before the second attempt, in milliseconds. */
  delayMs: number;
}

export interface RetryHooks {
  /** Hands a retry event over, as the source hands over its own events. */
  emit(event: Extract<PullEvent, { type: 'retry' }>): void;
  /** The registry's own word on its limit, asked when the engine says it was rate limited. */
  askRateLimit(): Promise<(RateLimit & { registry: string }) | undefined>;
  signal?: AbortSignal;
  random?: () => number;
}

/** Waits, or rejects with the signal's reason the moment it is aborted (Ctrl-C during a wait). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `attempt` until it succeeds, fails for a lasting reason, or the attempts run out: a
 * wrapper around a source that emits the same events (plus `retry`), so state and renderers
 * serve it unchanged. A rate limit waits at least what the registry's Retry-After says.
 */
export async function withRetries<T>(attempt: () => Promise<T>, options: RetryOptions, hooks: RetryHooks): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (hooks.signal?.aborted || !(err instanceof DpullError)) throw err;
      const kind = classifyFailure(err);
      if (options.attempts <= 1 || kind === 'lasting') throw err;
      if (n >= options.attempts) {
        throw new DpullError(`${err.message} (gave up after ${n} attempts)`, ExitCode.pullFailed, { cause: err });
      }
      let delayMs = backoffMs(n + 1, options.delayMs, hooks.random);
      let rateLimit: RateLimitWords | undefined;
      if (kind === 'rate-limited') {
        const limit = await hooks.askRateLimit();
        if (limit !== undefined) {
          const { retryAfterSeconds, ...words } = limit;
          rateLimit = words;
          if (retryAfterSeconds !== undefined && retryAfterSeconds > MAX_RETRY_AFTER_SECONDS) {
            const when = Date.now() + retryAfterSeconds * 1000;
            const at = when <= 8.64e15 ? new Date(when).toISOString().replace(/\.\d+Z$/, 'Z') : 'a date past any calendar';
            throw new DpullError(
              `${err.message}; the registry asks to wait ${formatDuration(retryAfterSeconds)} (Retry-After), more than dpull waits (${formatDuration(MAX_RETRY_AFTER_SECONDS)}): try again after ${at}`,
              ExitCode.pullFailed,
              { cause: err },
            );
          }
          if (retryAfterSeconds !== undefined) delayMs = Math.max(delayMs, retryAfterSeconds * 1000);
        }
      }
      hooks.emit({ type: 'retry', attempt: n + 1, of: options.attempts, delayMs, reason: err.message, ...(rateLimit && { rateLimit }) });
      await sleep(delayMs, hooks.signal);
    }
  }
}
