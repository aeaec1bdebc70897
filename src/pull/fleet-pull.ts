import type { PullEvent } from '../decode/pull-event.js';
import { describeFailure, DpullError } from '../errors.js';
import { formatReference } from '../reference/reference.js';
import { pullResult, type EngineOutcome, type PullResult } from '../state/pull-result.js';
import { SharedFetch } from '../state/shared-fetch.js';
import { monotonicMs } from '../clock.js';
import type { Pull, PullOptions, PreparedPull } from './pull.js';

/**
 * `pull(image, { load: true, hosts: [A, B, …] })`: the image fetched once (the pulls share the
 * cache, one manifest request and each blob once) and loaded into every engine at once. Its
 * events are every engine's (`engines` has each engine's own pull, to follow one); its `state`
 * is the one fetch; its `result` names each engine's outcome in `engines` and rejects only when
 * every engine failed (with the worst exit code of theirs), as the command's exit status does.
 */
export function fleetPull(prepared: PreparedPull[], options: PullOptions, start: (p: PreparedPull, o: PullOptions) => Pull): Pull {
  const clock = options.clock ?? monotonicMs;
  const fetch = new SharedFetch(clock());
  const engines = prepared.map((one) => start(one, options));
  const reference = formatReference(prepared[0].reference);
  const listeners = new Set<(events: PullEvent[]) => void>();
  let result: Promise<PullResult> | undefined;

  const run = async (): Promise<PullResult> => {
    for (const engine of engines) {
      engine.subscribe((events) => {
        fetch.apply(events, clock());
        for (const listener of listeners) listener(events);
      });
    }
    const settled = await Promise.allSettled(engines.map((engine) => engine.result));
    const outcomes = settled.map((s, i): EngineOutcome => ({
      engine: engines[i].engine!.url,
      ...(s.status === 'fulfilled' ? { result: s.value } : { error: describeFailure(s.reason) }),
    }));
    const failures = outcomes.flatMap((o) => (o.error !== undefined ? [o.error] : []));
    if (failures.length === outcomes.length) {
      const worst = failures.reduce((a, b) => (b.exitCode > a.exitCode ? b : a));
      throw new DpullError(`${failures.length === 1 ? 'the engine' : `all ${failures.length} engines`} failed: ${worst.message}`, worst.exitCode, { cause: worst });
    }
    fetch.state.succeed();
    const loaded = outcomes.flatMap((o) => (o.result !== undefined ? [o.result] : []));
    const { imageId: _, size: __, platform: ___, load: ____, ...fetched } = pullResult(fetch.state, reference, clock());
    return {
      ...fetched,
      ...(loaded[0].digest !== undefined && { digest: loaded[0].digest }),
      upToDate: loaded.every((r) => r.upToDate) && failures.length === 0,
      engines: outcomes,
    };
  };
  const begin = () => (result ??= run());

  async function* batches(): AsyncGenerator<PullEvent[]> {
    const queue: PullEvent[][] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const listener = (events: PullEvent[]) => {
      if (events.length === 0) return;
      queue.push(events);
      wake?.();
    };
    listeners.add(listener);
    const ended = begin().finally(() => {
      done = true;
      wake?.();
    });
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        if (done) break;
        await new Promise<void>((resolve) => (wake = resolve));
      }
      await ended; // a failure of every engine is thrown from the iteration, as a single pull's is
    } finally {
      listeners.delete(listener);
    }
  }

  return {
    reference,
    engine: undefined,
    engines,
    state: fetch.state,
    get result() {
      return begin();
    },
    batches,
    subscribe(listener) {
      listeners.add(listener);
      begin().catch(() => {}); // the failure is `result`'s
      return () => listeners.delete(listener);
    },
    async *[Symbol.asyncIterator]() {
      for await (const batch of batches()) yield* batch;
    },
  };
}
