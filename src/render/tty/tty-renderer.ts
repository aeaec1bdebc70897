import ansiEscapes from 'ansi-escapes';
import ora, { type Ora } from 'ora';
import type { Outcome, Renderer, RendererOptions } from '../renderer.js';
import type { PullState } from '../../state/pull-state.js';
import { colours } from '../colour.js';
import { renderFrame } from './frame.js';
import { paint, truncateLine } from '../line.js';
import { resultLines } from '../result-lines.js';

/** Frames at most this often, however fast events come: the engine can send thousands a second. */
export const FRAME_INTERVAL_MS = 100;
const SYNC_START = '\x1b[?2026h';
const SYNC_END = '\x1b[?2026l';

/**
 * The live display on a terminal: a spinner until the first event, then a frame of lines
 * redrawn in place at most every 100 ms, rewriting only the lines that changed.
 */
export class TtyRenderer implements Renderer {
  private readonly out: NodeJS.WriteStream;
  private readonly c;
  private spinner: Ora | undefined;
  private drawn: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastFrameAt = -Infinity;
  private state: PullState | undefined;
  private cursorHidden = false;
  private readonly restoreOnExit = () => this.showCursor();

  constructor(private readonly options: RendererOptions) {
    this.out = options.stream;
    this.c = colours(options.stream, options.env);
  }

  start(engine: string): void {
    this.hideCursor();
    process.once('exit', this.restoreOnExit);
    this.spinner = ora({
      stream: this.out,
      text: this.fit(`Connecting to ${engine}`, 2), // the spinner and a space come first
      discardStdin: false,
      hideCursor: false,
      isEnabled: true,
      color: 'cyan',
    }).start();
  }

  update(state: PullState): void {
    this.state = state;
    this.stopSpinner();
    if (this.timer !== undefined) return;
    const wait = Math.max(0, this.lastFrameAt + FRAME_INTERVAL_MS - this.options.clock());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.draw(false);
    }, wait);
  }

  finish(state: PullState, outcome: Outcome): void {
    this.state = state;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.stopSpinner();
    if (state.version > 0) this.draw(true);
    const lines = outcome.kind === 'pulled' ? resultLines(state, this.c) : [];
    for (const line of lines) this.out.write(paint(truncateLine(line, this.width())) + '\n');
    this.showCursor();
    process.removeListener('exit', this.restoreOnExit);
  }

  /** Columns a line may use: never the last one, so the terminal never wraps. */
  private width(): number {
    return Math.max(1, (this.out.columns || 80) - 1);
  }

  private fit(text: string, reserved = 0): string {
    return paint(truncateLine([{ text }], this.width() - reserved));
  }

  private title(): string {
    return `Pulling ${this.options.label}`;
  }

  private draw(final: boolean): void {
    if (this.state === undefined) return;
    const now = this.options.clock();
    this.lastFrameAt = now;
    this.state.tick(now);
    const view = { columns: this.out.columns || 80, rows: this.out.rows || 24, now, final };
    const lines = renderFrame(this.state, this.title(), view, this.c).map(paint);
    this.out.write(SYNC_START + this.diff(lines) + SYNC_END);
    this.drawn = lines;
  }

  /** Moves to the frame's first line and rewrites what changed; the cursor ends below the frame. */
  private diff(lines: string[]): string {
    let out = this.drawn.length > 0 ? ansiEscapes.cursorUp(this.drawn.length) + '\r' : '';
    for (let i = 0; i < lines.length; i++) {
      if (i < this.drawn.length && this.drawn[i] === lines[i]) out += ansiEscapes.cursorNextLine;
      else out += lines[i] + ansiEscapes.eraseEndLine + '\n';
    }
    if (lines.length < this.drawn.length) out += ansiEscapes.eraseDown;
    return out;
  }

  private stopSpinner(): void {
    if (this.spinner === undefined) return;
    this.spinner.stop(); // clears its line and leaves the cursor at its start
    this.spinner = undefined;
  }

  private hideCursor(): void {
    this.out.write(ansiEscapes.cursorHide);
    this.cursorHidden = true;
  }

  private showCursor(): void {
    if (!this.cursorHidden) return;
    this.out.write(ansiEscapes.cursorShow);
    this.cursorHidden = false;
  }
}
