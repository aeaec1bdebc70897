import { redact } from './secrets.js';
import { sanitize } from './sanitize.js';

/** Exit codes, one per kind of failure the user can act on differently. */
export const ExitCode = {
  ok: 0,
  pullFailed: 1,
  usage: 2,
  engineUnreachable: 3,
  interrupted: 130,
  terminated: 143,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * An error whose message is fit to show the user as one line, carrying the exit code the CLI
 * ends with; no credential dpull holds is in it, whatever text it was made from (a library caller
 * gets it as the command prints it). Anything else that reaches the top is a bug and is reported
 * as such.
 */
export class DpullError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    options?: { cause?: unknown },
  ) {
    super(redact(message), options);
    this.name = 'DpullError';
  }
}

export const usageError = (message: string) => new DpullError(message, ExitCode.usage);
export const pullError = (message: string) => new DpullError(message, ExitCode.pullFailed);

/** Any failure as a DpullError to show; one that is not a DpullError is a bug, said as such. */
export function describeFailure(err: unknown): DpullError {
  if (err instanceof DpullError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new DpullError(`unexpected error: ${sanitize(message)}`, ExitCode.pullFailed, { cause: err });
}
