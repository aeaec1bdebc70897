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

/** What every pull of a run shares in its display. */
export interface DisplayOptions {
  /** Where progress goes (stderr). */
  stream: NodeJS.WriteStream;
  /** Where results go (stdout): the json renderer's every line. */
  out: NodeJS.WritableStream;
  /** Milliseconds; injected so tests can drive time. */
  clock: () => number;
  env: NodeJS.ProcessEnv;
  /** Seconds between plain progress lines; a default that depends on CI when absent. */
  intervalSeconds?: number;
}

/** Which pull a renderer shows. */
export interface PullLabel {
  /** The image as the user named it, to label lines. */
  label: string;
  /** The full reference pulled, as printed on stdout. */
  reference: string;
  /** The engine, named when a run pulls on several. */
  engine?: string;
}

export interface RendererOptions extends DisplayOptions, PullLabel {
  /**
   * One pull of several: its lines must name it among the others, and its failure is not a
   * `dpull:` error line of its own (the run closes with a list of every failure).
   */
  several?: boolean;
}

/** A pull's name on screen and in logs: the image, and the engine when a run has several. */
export const pullName = (pull: PullLabel) => (pull.engine === undefined ? pull.label : `${pull.label} (${pull.engine})`);

/** The display of a whole run: a renderer per pull, closed once every pull has ended. */
export interface PullDisplay {
  renderer(pull: PullLabel): Renderer;
  /** After the last pull's `finish`: the last frame, the terminal restored. */
  close(): void;
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

type RendererClass = new (options: RendererOptions) => Renderer;

/** The single place a renderer is chosen; the TTY one (and its terminal libraries) loads only when used. */
async function rendererClass(mode: ProgressMode): Promise<RendererClass> {
  switch (mode) {
    case 'tty':
      return (await import('./tty/tty-renderer.js')).TtyRenderer;
    case 'plain':
      return (await import('./plain/plain-renderer.js')).PlainRenderer;
    case 'json':
      return (await import('./json/json-renderer.js')).JsonRenderer;
    case 'quiet':
      return (await import('./quiet/quiet-renderer.js')).QuietRenderer;
  }
}

export async function createRenderer(mode: ProgressMode, options: RendererOptions): Promise<Renderer> {
  return new (await rendererClass(mode))(options);
}

/**
 * The display for `count` pulls: one pull gets its mode's renderer; several on a terminal share
 * one board (a section each, a grand total); several in the other modes get a renderer each,
 * whose every line names its pull.
 */
export async function createDisplay(mode: ProgressMode, options: DisplayOptions, count: number): Promise<PullDisplay> {
  if (mode === 'tty' && count > 1) {
    const { TtyBoard } = await import('./tty/tty-board.js');
    return new TtyBoard(options, count);
  }
  const Renderer = await rendererClass(mode);
  return { renderer: (pull) => new Renderer({ ...options, ...pull, several: count > 1 }), close: () => {} };
}
