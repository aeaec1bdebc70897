import xterm from '@xterm/headless';

export interface Screen {
  /** Every line of the terminal, scrollback included, trailing blanks trimmed. */
  lines: string[];
  /** The visible rows only. */
  viewport: string[];
  cursorHidden: boolean;
  /** Lines the terminal had to wrap because something was wider than the screen. */
  wrapped: number;
  /** The lines as written: each wrapped continuation joined to the row it continues (what a copy gives). */
  logical: string[];
  /** The logical lines that the terminal wrapped. */
  wrappedLines: string[];
}

/**
 * What a terminal of the given size shows after these bytes. `convertEol` for raw output
 * written with `\n`; off for bytes captured from a pseudo-terminal (which already sends `\r\n`).
 */
export function screenOf(bytes: string, cols: number, rows: number, convertEol = true): Promise<Screen> {
  return screenAfter([{ bytes, cols, rows }], convertEol);
}

/** Like screenOf, with the terminal resized to each step's size before that step's bytes (and re-wrapping, as xterm does). */
export async function screenAfter(steps: { bytes: string; cols: number; rows: number }[], convertEol = true): Promise<Screen> {
  const { cols, rows } = steps[0];
  const term = new xterm.Terminal({ cols, rows, convertEol, allowProposedApi: true, scrollback: 1000 });
  for (const step of steps) {
    if (step.cols !== term.cols || step.rows !== term.rows) term.resize(step.cols, step.rows);
    await new Promise<void>((resolve) => term.write(step.bytes, resolve));
  }
  const viewRows = term.rows;
  const buffer = term.buffer.active;
  const all: string[] = [];
  const parts: string[][] = []; // untrimmed rows of each logical line
  const wrappedLines = new Set<number>();
  let wrapped = 0;
  for (let i = 0; i < buffer.length; i++) {
    const line = buffer.getLine(i);
    if (line?.isWrapped && parts.length > 0) {
      wrapped++;
      wrappedLines.add(parts.length - 1);
      parts[parts.length - 1].push(line.translateToString(false));
    } else parts.push([line?.translateToString(false) ?? ""]);
    all.push(line?.translateToString(true) ?? '');
  }
  const logical = parts.map((r) => r.join("").trimEnd());
  while (logical.length > 0 && logical[logical.length - 1] === '') logical.pop();
  while (all.length > 0 && all[all.length - 1] === '') all.pop();
  const viewport = all.slice(buffer.viewportY, buffer.viewportY + viewRows);
  const cursorHidden = (term as unknown as { _core: { coreService: { isCursorHidden: boolean } } })._core.coreService
    .isCursorHidden;
  term.dispose();
  return { lines: all, viewport, cursorHidden, wrapped, logical, wrappedLines: [...wrappedLines].map((i) => logical[i]) };
}

/** True when some frame of the output (cut at frame starts), shown on the terminal, satisfies `test`. */
export async function someFrameShows(output: string, cols: number, rows: number, test: (lines: string[]) => boolean, convertEol = true): Promise<boolean> {
  const starts = [...output.matchAll(/\x1b\[\?2026h/g)].map((m) => m.index ?? 0);
  for (const start of starts) {
    if (test((await screenOf(output.slice(0, start), cols, rows, convertEol)).lines)) return true;
  }
  return false;
}
