import { DpullError, pullError } from '../errors.js';

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'it is a folder',
};
/** An errno code in words (`ENOSPC`: `no space left on device`); the code itself when dpull has none. */
export const reasonOf = (code: string): string => (Object.hasOwn(REASONS, code) ? REASONS[code] : code);

// The calls that write: an error from one of these is the destination's, not a bug of dpull's.
const WRITING = /^(open|mkdir|write|writev|rename|unlink|close|fsync|ftruncate)$/;

/**
 * A failure to write a file as the one line the user sees: `cannot write PATH: permission
 * denied` (exit 1), rather than an unexpected error. `path` names the file where the error does
 * not (a write's error has no path); undefined for any other error.
 */
export function writeFailure(err: unknown, path?: string): DpullError | undefined {
  if (err instanceof DpullError || !(err instanceof Error)) return undefined;
  const { code, syscall } = err as NodeJS.ErrnoException;
  if (code === undefined || !Object.hasOwn(REASONS, code) || (syscall !== undefined && !WRITING.test(syscall))) return undefined;
  return pullError(`cannot write ${path ?? (err as NodeJS.ErrnoException).path ?? 'the destination'}: ${REASONS[code]}`);
}
