import type { PullState } from '../state/pull-state.js';
import type { PullEvent } from '../decode/pull-event.js';
import type { DpullError } from '../errors.js';
import { sanitize } from '../sanitize.js';

// What every renderer implements and what it is told: below the renderers and the choice of one
// (renderer.ts), so that imports run one way.

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
  /** `--load` into several engines: each image is fetched once and loaded into each engine. */
  fleet?: boolean;
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
export const pullName = (pull: PullLabel) => sanitize(pull.engine === undefined ? pull.label : `${pull.label} (${pull.engine})`);

/** The display of a whole run: a renderer per pull, closed once every pull has ended. */
export interface PullDisplay {
  renderer(pull: PullLabel): Renderer;
  /** After the last pull's `finish`: the last frame, the terminal restored. */
  close(): void;
}

/** The one-line error every mode prints on stderr. */
export const errorLine = (error: DpullError) => `dpull: ${sanitize(error.message)}`;
