import ansiEscapes from 'ansi-escapes';
import type { Ora } from 'ora';
import { paint, type Line } from '../line.js';
import { lineWidth, truncateLine } from './line-width.js';
import { lineUpdate } from './line-changes.js';
import { usableWidth, type View } from './frame.js';

/**
 * Frames at most this often, however fast events come (the engine can send thousands a second):
 * skopeo's bars (mpb) redraw every 150 ms too. On a slow pull, frames are a large part of what dpull costs.
 */
export const FRAME_INTERVAL_MS = 150;
/**
 * A change that comes too soon after a frame waits this much longer than the interval for a
 * later change to draw it: frames then happen when data arrives, not on a wake-up of their own.
 * dockerd sends progress on a 100 ms beat; a wait shorter than that beat's gap past the interval
 * (50 ms) made the timer win the race nearly every time, a wake-up per frame (bench/).
 */
const TRAILING_WAIT_MS = 100;
/**
 * The spinner appears only when there has been nothing to show for this long: a pull that
 * answers at once (up to date, say) never flashes one, nor loads ora and its tables.
 */
export const SPINNER_DELAY_MS = 150;
const SYNC_START = '\x1b[?2026h';
const SYNC_END = '\x1b[?2026l';

/** Lays out the display for a view; undefined while there is nothing to show yet. */
export type FrameSource = (view: View) => Line[] | undefined;

/**
 * dpull's own rows at the bottom of a terminal: a spinner (after SPINNER_DELAY_MS) until there is something to show, then
 * a frame redrawn in place at most every 150 ms (inside synchronized output), rewriting only the
 * lines, and the parts of lines, that changed; laid out again on resize; the cursor hidden while
 * it runs and shown again on every way out.
 */
export class LiveRegion {
  private spinner: Ora | undefined;
  /** Set while a spinner is still wanted: from start to the first frame. */
  private spinnerDue: NodeJS.Timeout | undefined;
  private spinnerText = '';
  /** The lines on the screen now, from the frame's first row. */
  private drawn: Line[] = [];
  /** After a resize: rows the old frame now takes, to be cleared before the next draw. */
  private reflowedRows: number | undefined;
  private readonly onResize = () => this.relayout();
  private timer: NodeJS.Timeout | undefined;
  private lastFrameAt = -Infinity;
  private cursorHidden = false;
  private readonly restoreOnExit = () => this.showCursor();

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly clock: () => number,
    private readonly frame: FrameSource,
  ) {}

  /**
   * Ctrl-Z: the cursor shown and the frame let go before the shell takes the terminal; `fg`:
   * the cursor hidden again and the frame drawn anew below what the shell printed meanwhile.
   */
  private readonly onStop = () => {
    this.showCursor();
    this.cursorWasHidden = true;
    // What arrives after `fg` may be handled before SIGCONT is: nothing is drawn until then.
    this.suspended = true;
    process.removeListener('SIGTSTP', this.onStop);
    process.kill(process.pid, 'SIGTSTP'); // no listener now: the default, stop
  };
  private readonly onContinue = () => {
    process.on('SIGTSTP', this.onStop);
    this.suspended = false;
    if (!this.cursorWasHidden) return;
    this.cursorWasHidden = false;
    this.hideCursor();
    this.drawn = []; // the old frame is above the shell's lines now, not to be drawn over
    this.out.write('\n');
    this.draw(false);
  };
  private cursorWasHidden = false;
  private ticker: NodeJS.Timeout | undefined;
  private suspended = false;

  /** Hides the cursor and spins `text` (from SPINNER_DELAY_MS on) until the first frame. */
  start(text: string): void {
    this.hideCursor();
    process.once('exit', this.restoreOnExit);
    if (process.platform !== 'win32') {
      process.on('SIGTSTP', this.onStop);
      process.on('SIGCONT', this.onContinue);
    }
    this.out.on('resize', this.onResize);
    // A terminal that reports no size (0×0 under `script`, some CI ptys) would send ora's
    // line-clearing into an endless loop: no spinner there.
    if (!(this.out.columns > 0)) return;
    this.spinnerText = text;
    this.spinnerDue = setTimeout(() => void this.startSpinner(), SPINNER_DELAY_MS);
  }

  private async startSpinner(): Promise<void> {
    const { default: ora } = await import('ora');
    if (this.spinnerDue === undefined) return; // the first frame, or the end, came meanwhile
    this.spinner = ora({
      stream: this.out,
      text: this.fit(this.spinnerText, 2), // the spinner and a space come first
      discardStdin: false,
      hideCursor: false,
      isEnabled: true,
      color: 'cyan',
    }).start();
  }

  /** Draws a frame every half second for `ms` (a countdown with no events to redraw it). */
  refreshFor(ms: number): void {
    clearInterval(this.ticker);
    const until = this.clock() + ms;
    this.ticker = setInterval(() => {
      if (this.clock() > until) clearInterval(this.ticker);
      this.invalidate();
    }, 500);
  }

  /** The spinner's words, while it spins (before the first frame). */
  spin(text: string): void {
    this.spinnerText = text;
    if (this.spinner !== undefined) this.spinner.text = this.fit(text, 2);
  }

  /**
   * Something changed: a frame now if the last is FRAME_INTERVAL_MS old, else one at most
   * TRAILING_WAIT_MS after that (sooner if another change comes after the interval).
   */
  invalidate(): void {
    this.stopSpinner();
    const since = this.clock() - this.lastFrameAt;
    if (since >= FRAME_INTERVAL_MS) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.draw(false);
      return;
    }
    if (this.timer !== undefined) return;
    const wait = FRAME_INTERVAL_MS - since + TRAILING_WAIT_MS;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.draw(false);
    }, wait);
  }

  /**
   * The last frame: laid out in full, or (`whole` false: the pull was interrupted) left as it is
   * on the screen, folded to the height. The cursor stays hidden until `restore`, for lines to follow.
   */
  finish(whole = true): void {
    clearInterval(this.ticker);
    clearTimeout(this.timer);
    this.timer = undefined;
    this.stopSpinner();
    this.draw(whole);
  }

  /** Clears the row the cursor is on (the terminal's own `^C` echo, say) before a line goes there. */
  clearRow(): void {
    this.out.write('\r' + ansiEscapes.eraseEndLine);
  }

  /** A line below the frame, printed for good: whole, the terminal wraps it if it must (a digest is copied from it). */
  writeLine(line: Line): void {
    this.out.write(paint(line) + '\n');
  }

  /** Shows the cursor and stops listening to the terminal. */
  restore(): void {
    this.showCursor();
    process.removeListener('exit', this.restoreOnExit);
    process.removeListener('SIGTSTP', this.onStop);
    process.removeListener('SIGCONT', this.onContinue);
    this.out.removeListener('resize', this.onResize);
  }

  /** The terminal's size; 80×24 where it reports none (0×0 under `script`). */
  size(): { columns: number; rows: number } {
    return { columns: this.out.columns || 80, rows: this.out.rows || 24 };
  }

  private fit(text: string, reserved = 0): string {
    return paint(truncateLine([{ text }], usableWidth(this.size().columns) - reserved));
  }

  private draw(final: boolean): void {
    if (this.suspended) return;
    const now = this.clock();
    const frame = this.frame({ ...this.size(), now, final });
    if (frame === undefined) return;
    this.lastFrameAt = now;
    let prefix = '';
    if (this.reflowedRows !== undefined) {
      prefix = (this.reflowedRows > 0 ? ansiEscapes.cursorUp(this.reflowedRows) : '') + '\r' + ansiEscapes.eraseDown;
      this.reflowedRows = undefined;
      this.drawn = [];
    }
    const changes = this.diff(frame);
    if (prefix !== '' || changes !== undefined) this.out.write(SYNC_START + prefix + (changes ?? '') + SYNC_END);
    this.drawn = frame;
  }

  /**
   * The terminal changed size and re-wrapped what was on it: a line wider than the new width now
   * takes several rows. Clear from the frame's first row (counted in the new geometry) and lay
   * the frame out again for the new size, at once.
   */
  private relayout(): void {
    if (this.drawn.length === 0) return;
    const { columns } = this.size();
    this.reflowedRows = this.drawn.reduce((rows, line) => rows + Math.max(1, Math.ceil(lineWidth(line) / columns)), 0);
    clearTimeout(this.timer);
    this.timer = undefined;
    this.draw(false);
  }

  /**
   * Moves to the frame's first line and rewrites only what changed: unchanged lines are
   * skipped, in a changed line only the cells that changed are written. The cursor ends below
   * the frame. Undefined when nothing changed: then nothing is written.
   */
  private diff(lines: Line[]): string | undefined {
    let out = this.drawn.length > 0 ? ansiEscapes.cursorUp(this.drawn.length) + '\r' : '';
    let changed = lines.length !== this.drawn.length;
    for (let i = 0; i < lines.length; i++) {
      if (i >= this.drawn.length) {
        out += paint(lines[i]) + ansiEscapes.eraseEndLine + '\n';
        continue;
      }
      const update = lineUpdate(this.drawn[i], lines[i]);
      if (update !== undefined) changed = true;
      out += (update ?? '') + '\n'; // the frame's rows are all above the cursor's: a newline never scrolls here
    }
    if (lines.length < this.drawn.length) out += ansiEscapes.eraseDown;
    return changed ? out : undefined;
  }

  private stopSpinner(): void {
    clearTimeout(this.spinnerDue);
    this.spinnerDue = undefined;
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
