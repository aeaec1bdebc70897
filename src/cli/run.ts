import { version } from '../version.js';
import { parseOptions, requestedProgress, CommanderExit, type CliOptions } from './options.js';
import { formatReference, DEFAULT_TAG } from '../reference/reference.js';
import { preparePull, startPull, type PreparedPull, type PullOptions } from '../pull/pull.js';
import { isLoopback } from '../engine/address.js';
import { PullState } from '../state/pull-state.js';
import { createRenderer, pickMode, type Outcome, type ProgressMode, type RendererOptions } from '../render/renderer.js';
import { DpullError, ExitCode } from '../errors.js';
import { sanitize } from '../sanitize.js';

export interface CliIO {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  clock: () => number;
}

/** Interrupted by a signal: the request was aborted, the exit code says which signal. */
class Interrupted extends Error {
  constructor(readonly exitCode: number) {
    super('interrupted');
  }
}

function describeFailure(err: unknown): DpullError {
  if (err instanceof DpullError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new DpullError(`unexpected error: ${sanitize(message)}`, ExitCode.pullFailed, { cause: err });
}

function rendererOptions(io: CliIO, options: CliOptions, reference: string): RendererOptions {
  return {
    stream: io.stderr,
    out: io.stdout,
    label: sanitize(options.image),
    reference,
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
    ...defined('host', options.host),
    ...defined('context', options.context),
    ...defined('configDir', options.config),
    ...defined('tls', options.tls),
    ...defined('tlsVerify', options.tlsverify),
    ...defined('tlsCaCert', options.tlscacert),
    ...defined('tlsCert', options.tlscert),
    ...defined('tlsKey', options.tlskey),
    ...defined('platform', options.platform),
    ...defined('timeout', options.timeout),
  };
}

/** Runs the dpull command; resolves with the exit code. Never throws. */
export async function runCli(args: string[], io: CliIO): Promise<number> {
  const printError = (message: string) => io.stderr.write(`dpull: ${message}\n`);
  let options: CliOptions;
  try {
    options = parseOptions(args, version(), { out: (s) => io.stdout.write(s), err: (s) => io.stderr.write(s) });
  } catch (err) {
    if (err instanceof CommanderExit) return err.exitCode;
    const failure = describeFailure(err);
    printError(failure.message);
    return failure.exitCode;
  }

  const library = pullOptions(options, io.env);
  let mode: ProgressMode | undefined;
  let prepared: PreparedPull;
  try {
    mode = pickMode(requestedProgress(options, io.env), io.stderr, io.env);
    prepared = preparePull(options.image, library);
  } catch (err) {
    const failure = describeFailure(err);
    if (mode === undefined) {
      printError(failure.message);
    } else {
      // The chosen mode reports it (a json `error` object, a GitHub annotation …).
      const renderer = await createRenderer(mode, rendererOptions(io, options, ''));
      renderer.finish(new PullState(io.clock()), { kind: 'failed', error: failure });
    }
    return failure.exitCode;
  }

  const reference = formatReference(prepared.reference);
  if (prepared.engine.kind === 'tcp' && prepared.engine.tls === undefined && !isLoopback(prepared.engine) && mode !== 'json') {
    io.stderr.write(`dpull: warning: ${prepared.engine.url} is not encrypted: anyone who can reach that port has root on the engine's host\n`);
  }
  if ((mode === 'tty' || mode === 'plain') && prepared.defaultTag) {
    io.stderr.write(`Using default tag: ${DEFAULT_TAG}\n`);
  }
  const renderer = await createRenderer(mode, rendererOptions(io, options, reference));

  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(signal === 'SIGINT' ? ExitCode.interrupted : ExitCode.terminated);
    controller.abort(new Interrupted(signal === 'SIGINT' ? ExitCode.interrupted : ExitCode.terminated));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // The same library API that `import { pull } from 'dpull'` gives.
  const running = startPull(prepared, { ...library, signal: controller.signal, clock: io.clock });
  let outcome: Outcome = { kind: 'pulled' };
  let exitCode: number = ExitCode.ok;
  renderer.start(prepared.engine.url);
  try {
    for await (const batch of running.batches()) renderer.update(running.state, batch);
  } catch (err) {
    if (err instanceof Interrupted) {
      outcome = { kind: 'interrupted', exitCode: err.exitCode };
      exitCode = err.exitCode;
    } else {
      const error = describeFailure(err);
      outcome = { kind: 'failed', error };
      exitCode = error.exitCode;
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  renderer.finish(running.state, outcome); // prints the error, each mode in its own way
  if (outcome.kind === 'pulled' && mode !== 'json') io.stdout.write(`${reference}\n`);
  return exitCode;
}
