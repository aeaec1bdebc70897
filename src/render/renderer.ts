import type { DisplayOptions, PullDisplay, Renderer, RendererOptions } from './renderer-interface.js';

export const PROGRESS_CHOICES = ['auto', 'tty', 'plain', 'json', 'quiet'] as const;
export type ProgressChoice = (typeof PROGRESS_CHOICES)[number];
export type ProgressMode = Exclude<ProgressChoice, 'auto'>;

/**
 * The renderer for a requested mode: `auto` is `tty` when stderr is a terminal whose TERM is
 * not `dumb`, else `plain`; any other choice is taken as it is.
 */
export function pickMode(requested: ProgressChoice, stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): ProgressMode {
  if (requested !== 'auto') return requested;
  return stream.isTTY === true && env.TERM !== 'dumb' ? 'tty' : 'plain';
}


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
    return new TtyBoard(options, count, options.fleet === true);
  }
  const Renderer = await rendererClass(mode);
  return { renderer: (pull) => new Renderer({ ...options, ...pull, several: count > 1 }), close: () => {} };
}
