import pLimit, { type LimitFunction } from 'p-limit';
import { pullTarget, startPull } from '../pull/pull.js';
import { pullLabel, type PlannedPull } from './pull-plan.js';
import { PullState } from '../state/pull-state.js';
import { pullName, type Outcome, type Renderer } from '../render/renderer-interface.js';
import { describeFailure, ExitCode } from '../errors.js';
import { sanitize } from '../sanitize.js';

/** Interrupted by a signal: the request was aborted, the exit code says which signal. */
export class Interrupted extends Error {
  constructor(readonly exitCode: number) {
    super('interrupted');
  }
}


/** Runs one pull through its renderer; resolves with how it ended. */
async function runPull(plan: PlannedPull, renderer: Renderer, signal: AbortSignal, clock: () => number): Promise<Outcome> {
  if (signal.aborted) {
    const outcome = interruptedBy(signal);
    renderer.finish(new PullState(clock()), outcome);
    return outcome;
  }
  // The same library API that `import { pull } from 'dpull'` gives.
  const running = startPull(plan.prepared, { ...plan.options, signal, clock });
  let outcome: Outcome = { kind: 'pulled' };
  renderer.start(pullTarget(plan.prepared));
  const stop = running.subscribe((batch) => renderer.update(running.state, batch));
  try {
    await running.result;
  } catch (err) {
    outcome = err instanceof Interrupted ? { kind: 'interrupted', exitCode: err.exitCode } : { kind: 'failed', error: describeFailure(err) };
  } finally {
    stop();
  }
  renderer.finish(running.state, outcome); // prints the error, each mode in its own way
  return outcome;
}

const interruptedBy = (signal: AbortSignal): Outcome => ({
  kind: 'interrupted',
  exitCode: signal.reason instanceof Interrupted ? signal.reason.exitCode : ExitCode.interrupted,
});

/**
 * Runs every pull through its renderer, at most `parallel` at once on each engine; resolves
 * with the outcomes in the plans' order. Once `signal` is aborted, pulls not yet started end
 * as interrupted without starting.
 */
export function runPulls(
  plans: PlannedPull[],
  renderers: Renderer[],
  run: { parallel: number; signal: AbortSignal; clock: () => number },
): Promise<Outcome[]> {
  const limits = new Map<string, LimitFunction>();
  return Promise.all(
    plans.map((plan, index) => {
      const url = pullTarget(plan.prepared);
      if (!limits.has(url)) limits.set(url, pLimit(run.parallel));
      return limits.get(url)!(() => runPull(plan, renderers[index], run.signal, run.clock));
    }),
  );
}

/** What --ignore-pull-failures ignores: a pull that failed, an engine that could not be reached. */
const ignorable = (code: number) => code === ExitCode.pullFailed || code === ExitCode.engineUnreachable;

/**
 * The run's exit code: 0 when every pull succeeded, else the worst (the highest) of the codes,
 * an interrupt above all. With --ignore-pull-failures, failed pulls and unreachable engines do
 * not count.
 */
export function exitCodeOf(outcomes: Outcome[], ignorePullFailures: boolean): number {
  let code: number = ExitCode.ok;
  for (const outcome of outcomes) {
    if (outcome.kind === 'interrupted') return outcome.exitCode;
    if (outcome.kind !== 'failed') continue;
    const failure = outcome.error.exitCode;
    if (ignorePullFailures && ignorable(failure)) continue;
    code = Math.max(code, failure);
  }
  return code;
}

/** Several pulls, some failed: which, and why, in full, after the display has closed. */
export function failureList(plans: PlannedPull[], outcomes: Outcome[], ignored: boolean): string {
  const failed = outcomes.flatMap((outcome, i) => (outcome.kind === 'failed' ? [{ plan: plans[i], error: outcome.error }] : []));
  if (failed.length === 0) return '';
  // A warning only when every failure is one the flag ignores (not, say, a bad config file).
  const warning = ignored && failed.every(({ error }) => ignorable(error.exitCode));
  const head = `dpull: ${warning ? 'warning: ' : ''}${failed.length} of ${plans.length} pulls failed${warning ? ' (ignored)' : ''}:\n`;
  return head + failed.map(({ plan, error }) => `  ${pullName(pullLabel(plan))}: ${sanitize(error.message)}\n`).join('');
}
