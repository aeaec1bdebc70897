import type { PullState } from '../state/pull-state.js';
import type { DpullError } from '../errors.js';

export type ProgressMode = 'tty' | 'plain' | 'quiet';

/** How the pull ended, as far as the display is concerned. */
export type Outcome =
  | { kind: 'pulled' }
  | { kind: 'failed'; error: DpullError }
  | { kind: 'interrupted' };

/** One interface for every way of showing a pull; the CLI drives it, it never reads engine JSON. */
export interface Renderer {
  /** Before the engine is contacted: `engine` is the address being tried. */
  start(engine: string): void;
  /** After each event has been applied to the state. */
  update(state: PullState): void;
  /** Once, at the end: the last frame, the result lines, and the terminal restored. */
  finish(state: PullState, outcome: Outcome): void;
}

export interface RendererOptions {
  /** Where progress goes (stderr). */
  stream: NodeJS.WriteStream;
  /** The image as the user named it, to label lines. */
  label: string;
  /** Milliseconds; injected so tests can drive time. */
  clock: () => number;
  env: NodeJS.ProcessEnv;
}

/** `tty` when stderr is a terminal that can take cursor movement, else `plain`. */
export function pickMode(requested: { quiet: boolean; tty: boolean }, stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): ProgressMode {
  if (requested.quiet) return 'quiet';
  if (!requested.tty) return 'plain';
  return stream.isTTY === true && env.TERM !== 'dumb' ? 'tty' : 'plain';
}

/** The single place a renderer is chosen; the TTY one (and its terminal libraries) loads only when used. */
export async function createRenderer(mode: ProgressMode, options: RendererOptions): Promise<Renderer> {
  switch (mode) {
    case 'tty': {
      const { TtyRenderer } = await import('./tty/tty-renderer.js');
      return new TtyRenderer(options);
    }
    case 'plain': {
      const { PlainRenderer } = await import('./plain/plain-renderer.js');
      return new PlainRenderer(options);
    }
    case 'quiet': {
      const { QuietRenderer } = await import('./quiet/quiet-renderer.js');
      return new QuietRenderer();
    }
  }
}
