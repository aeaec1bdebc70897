import { version } from '../version.js';
import { parseOptions, requestedProgress, requestedRetries, CommanderExit, type CliOptions } from './options.js';
import { DEFAULT_TAG } from '../reference/reference.js';
import type { PullOptions } from '../pull/pull.js';
import { planPulls, pullLabel, type PlannedPull } from './pull-plan.js';
import { keepSettingsForEngineStreams } from '../v8-settings.js';
import { exitCodeOf, failureList, Interrupted, runPulls } from './run-pulls.js';
import { describeFailure } from '../errors.js';
import { isLoopback } from '../engine/address.js';
import { PullState } from '../state/pull-state.js';
import { createDisplay, createRenderer, pickMode, type ProgressMode } from '../render/renderer.js';
import type { DisplayOptions, Outcome } from '../render/renderer-interface.js';
import { ExitCode } from '../errors.js';
import { checkOutputFor } from '../output/destination.js';
import { sanitize } from '../sanitize.js';
import { redactingStream } from './redacting-stream.js';

/** The signals that end a pull, and the exit code each gives (128 + its number). */
const ENDING_SIGNALS = { SIGINT: ExitCode.interrupted, SIGTERM: ExitCode.terminated, SIGHUP: 129, SIGQUIT: 131 } as const;

export interface CliIO {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  clock: () => number;
}

function displayOptions(io: CliIO, options: CliOptions): DisplayOptions {
  return {
    stream: io.stderr,
    out: io.stdout,
    clock: io.clock,
    env: io.env,
    ...(options.progressInterval !== undefined && { intervalSeconds: options.progressInterval }),
  };
}

/** The library's options from the command's: engine choice, credentials, what to pull and how. */
function pullOptions(options: CliOptions, env: NodeJS.ProcessEnv): PullOptions {
  const defined = <T>(key: string, value: T | undefined) => (value !== undefined ? { [key]: value } : {});
  return {
    env,
    allTags: options.allTags,
    ...defined('configDir', options.config),
    ...defined('tls', options.tls),
    ...defined('tlsVerify', options.tlsverify),
    ...defined('tlsCaCert', options.tlscacert),
    ...defined('tlsCert', options.tlscert),
    ...defined('tlsKey', options.tlskey),
    ...defined('platform', options.platform),
    ...defined('timeout', options.timeout),
    retry: { attempts: requestedRetries(options, env) + 1, delayMs: options.retryDelay ?? 2000 },
    ...defined('output', options.output),
    ...defined('insecureRegistries', options.insecureRegistry),
    ...defined('cacheDir', options.cacheDir),
    ...defined('namespace', options.namespace),
    ...defined('preserveDigests', options.preserveDigests),
    ...defined('registryMirrors', options.registryMirror),
    ...defined('load', options.load),
  };
}

/** Runs the dpull command; resolves with the exit code. Never throws. */
export async function runCli(args: string[], given: CliIO): Promise<number> {
  const io = { ...given, stdout: redactingStream(given.stdout), stderr: redactingStream(given.stderr) };
  const printError = (message: string) => io.stderr.write(`dpull: ${sanitize(message)}\n`);
  let options: CliOptions;
  try {
    options = parseOptions(args, version(), { out: (s) => io.stdout.write(s), err: (s) => io.stderr.write(s) });
  } catch (err) {
    if (err instanceof CommanderExit) return err.exitCode;
    const failure = describeFailure(err);
    printError(failure.message);
    return failure.exitCode;
  }

  let mode: ProgressMode | undefined;
  let plans: PlannedPull[];
  try {
    mode = pickMode(requestedProgress(options, io.env), io.stderr, io.env);
    plans = planPulls(options.images, options, pullOptions(options, io.env));
    const output = plans[0]?.prepared.output;
    if (output !== undefined) checkOutputFor(plans.length, output);
    if (plans.some((plan) => plan.prepared.output === undefined)) keepSettingsForEngineStreams();
  } catch (err) {
    const failure = describeFailure(err);
    if (mode === undefined) {
      printError(failure.message);
    } else {
      // The chosen mode reports it (a json `error` object, a GitHub annotation …).
      const label = options.images.length === 1 ? sanitize(options.images[0]) : '';
      const renderer = await createRenderer(mode, { ...displayOptions(io, options), label, reference: '' });
      renderer.finish(new PullState(io.clock()), { kind: 'failed', error: failure });
    }
    return failure.exitCode;
  }

  const warned = new Set<string>();
  for (const { prepared } of plans) {
    const { engine } = prepared;
    if (engine === undefined) continue;
    if (engine.kind !== 'tcp' || engine.tls !== undefined || isLoopback(engine) || mode === 'json' || warned.has(engine.url)) continue;
    warned.add(engine.url);
    io.stderr.write(`dpull: warning: ${sanitize(engine.url)} is not encrypted: anyone who can reach that port has root on the engine's host\n`);
  }
  if ((mode === 'tty' || mode === 'plain') && plans.length === 1 && plans[0].prepared.defaultTag) {
    io.stderr.write(`Using default tag: ${DEFAULT_TAG}\n`);
  }

  const labels = plans.map(pullLabel);
  const fleet = options.load === true && plans.some((p) => p.engineName !== undefined);
  const display = await createDisplay(mode, { ...displayOptions(io, options), fleet }, plans.length);
  const renderers = labels.map((label) => display.renderer(label));

  // Every signal that ends dpull ends it the same way: the request aborted (the engine cancels
  // the pull), the display closed and the terminal restored, then 128 + the signal's number.
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    const code = ENDING_SIGNALS[signal as keyof typeof ENDING_SIGNALS];
    if (controller.signal.aborted) process.exit(code);
    controller.abort(new Interrupted(code));
  };
  for (const signal of Object.keys(ENDING_SIGNALS)) process.on(signal, onSignal);
  let outcomes: Outcome[];
  try {
    outcomes = await runPulls(plans, renderers, { parallel: options.parallel, signal: controller.signal, clock: io.clock });
  } finally {
    for (const signal of Object.keys(ENDING_SIGNALS)) process.removeListener(signal, onSignal);
  }
  display.close();

  if (mode !== 'json') {
    const pulled = new Set(labels.filter((_, i) => outcomes[i].kind === 'pulled').map((l) => l.reference));
    if (pulled.size > 0) io.stdout.write([...pulled].map((r) => `${r}\n`).join(''));
  }
  if (plans.length > 1) io.stderr.write(failureList(plans, outcomes, options.ignorePullFailures));
  return exitCodeOf(outcomes, options.ignorePullFailures);
}
