import { redact } from '../secrets.js';

const REDACTING = Symbol('dpull.redacting');

/**
 * Makes every string written to the stream redacted (secrets.ts): the last guard between whatever
 * a renderer builds and the terminal, so that no credential dpull holds is printed even from a
 * path that forgot to sanitize. The stream's own `write` is wrapped (once), not proxied: ora
 * hooks `write` too, and its hook then calls this one.
 */
export function redactingStream(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  const marked = stream as NodeJS.WriteStream & { [REDACTING]?: true };
  if (marked[REDACTING]) return stream;
  const write = stream.write as (...args: unknown[]) => boolean;
  stream.write = function (this: unknown, chunk: unknown, ...rest: unknown[]) {
    return write.call(this, typeof chunk === 'string' ? redact(chunk) : chunk, ...rest);
  } as typeof stream.write;
  marked[REDACTING] = true;
  return stream;
}
