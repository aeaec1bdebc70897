import { Chalk, type ChalkInstance } from 'chalk';

/**
 * Colour for a stream: FORCE_COLOR turns it on (`0` or `false` off), else NO_COLOR (any
 * non-empty value) turns it off, else colour only where `auto` allows it (the TTY display) on a
 * terminal that is not `dumb`. Plain output passes auto = false: logs get no colour unless forced.
 */
export function colours(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv, auto = true): ChalkInstance {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return new Chalk({ level: force === '0' || force === 'false' ? 0 : 1 });
  if (env.NO_COLOR) return new Chalk({ level: 0 });
  if (!auto || stream.isTTY !== true || env.TERM === 'dumb') return new Chalk({ level: 0 });
  return new Chalk({ level: 1 });
}

export type Style = (text: string) => string;

/** The styles dpull draws with, made once: a segment's style is then a stable function to compare. */
export interface Palette {
  bold: Style;
  dim: Style;
  green: Style;
  red: Style;
  yellow: Style;
  cyan: Style;
}

export function palette(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv, auto = true): Palette {
  const c = colours(stream, env, auto);
  return { bold: c.bold, dim: c.dim, green: c.green, red: c.red, yellow: c.yellow, cyan: c.cyan };
}
