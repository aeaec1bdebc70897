import type { PullState } from '../state/pull-state.js';
import type { PullEvent } from '../decode/pull-event.js';
import type { DpullError } from '../errors.js';

export const PROGRESS_CHOICES = ['auto', 'tty', 'plain', 'json', 'quiet'] as const;
export type ProgressChoice = (typeof PROGRESS_CHOICES)[number];
export type ProgressMode = Exclude<ProgressChoice, 'auto'>;

/** How the pull ended, as far as the display is concerned. */
export type Outcome =
  | { kind: 'pulled' }
  | { kind: 'failed'; error: DpullError }
  | { kind: 'interrupted'; exitCode: number };

/** One interface for every way of showing a pull; the CLI drives it, it never reads engine JSON. */
export interface Renderer {
  /** Before the engine is contacted: `engine` is the address being tried. */
  start(engine: string): void;
  /** After each batch of events has been applied to the state. */
  update(state: PullState, events: readonly PullEvent[]): void;
  /** Once, at the end: the last frame, the result or the error, and the terminal restored. */
  finish(state: PullState, outcome: Outcome): void;
}

export interface RendererOptions {
  /** Where progress goes (stderr). */
  stream: NodeJS.WriteStream;
  /** Where results go (stdout): the json renderer's every line. */
  out: NodeJS.WritableStream;
  /** The image as the user named it, to label lines. */
  label: string;
  /** The full reference pulled, as printed on stdout. */
  reference: string;
  /** Milliseconds; injected so tests can drive time. */
  clock: () => number;
  env: NodeJS.ProcessEnv;
  /** Seconds between plain progress lines; a default that depends on CI when absent. */
  intervalSeconds?: number;
}

/**
 * The renderer for a requested mode: `auto` is `tty` when stderr is a terminal whose TERM is
 * not `dumb`, else `plain`; any other choice is taken as it is.
 */
export function pickMode(requested: ProgressChoice, stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): ProgressMode {
  if (requested !== 'auto') return requested;
  return stream.isTTY === true && env.TERM !== 'dumb' ? 'tty' : 'plain';
}

/** The one-line error every mode prints on stderr. */
export const errorLine = (error: DpullError) => `dpull: ${error.message}`;

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
    case 'json': {
      const { JsonRenderer } = await import('./json/json-renderer.js');
      return new JsonRenderer(options);
    }
    case 'quiet': {
      const { QuietRenderer } = await import('./quiet/quiet-renderer.js');
      return new QuietRenderer(options);
    }
  }
}
