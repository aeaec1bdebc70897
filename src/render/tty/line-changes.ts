import ansiEscapes from 'ansi-escapes';
import { paint, paintSegment, type Line, type Segment } from '../line.js';
import { ONE_COLUMN_EACH } from './line-width.js';

// What to write to turn a line on the screen into the next one, the cursor starting at the line's
// first column: only the cells that changed, moving over the runs that did not (a progress line's
// update is a few bar cells and some digits), or, where a line holds text whose cells cannot be
// told apart one by one (wide or combining characters, text beyond ASCII), the whole line.

type Style = Segment['style'];

/**
 * A line as its characters, one column each, and the colour of each: the text and, per segment,
 * where it ends and its style. Styles come from one palette made once: the same colour is the
 * same function.
 */
interface Cells {
  text: string;
  ends: number[];
  styles: Style[];
}


/**
 * Cells of lines seen before: a line is compared once as the new one and again, a frame later, as
 * the one on the screen; layer lines are reused across frames (frame.ts). Null: not cell by cell.
 */
const seen = new WeakMap<Line, Cells | null>();

function cellsOf(line: Line): Cells | undefined {
  let cells = seen.get(line);
  if (cells === undefined) {
    cells = layOut(line) ?? null;
    seen.set(line, cells);
  }
  return cells ?? undefined;
}

/** The line as cells, or undefined if some character's width is not exactly one column. */
function layOut(line: Line): Cells | undefined {
  let text = '';
  const ends: number[] = [];
  const styles: Style[] = [];
  for (const segment of line) {
    if (segment.text === '') continue;
    if (!ONE_COLUMN_EACH.test(segment.text)) return undefined;
    text += segment.text;
    ends.push(text.length);
    styles.push(segment.style);
  }
  return { text, ends, styles };
}

/** Reads the style of a column, starting from the segment of the last one read (columns are read mostly in order). */
class StyleCursor {
  private segment = 0;
  constructor(private readonly cells: Cells) {}
  at(column: number): Style {
    const { ends, styles } = this.cells;
    while (this.segment > 0 && ends[this.segment - 1] > column) this.segment--;
    while (ends[this.segment] <= column) this.segment++;
    return styles[this.segment];
  }
}

const moveTo = (column: number) => (column === 0 ? '\r' : ansiEscapes.cursorTo(column));

/** Columns [from, to) of `cells` painted, a colour's codes once per segment. */
function paintCells(cells: Cells, from: number, to: number): string {
  let out = '';
  let start = from;
  for (let i = 0; start < to; i++) {
    const end = cells.ends[i];
    if (end <= start) continue;
    const stop = Math.min(end, to);
    out += paintSegment({ text: cells.text.slice(start, stop), style: cells.styles[i] });
    start = stop;
  }
  return out;
}

/** Bytes that rewriting columns [from, to) costs (their characters; colour codes not counted). */
const rewriteCost = (cells: Cells, from: number, to: number) => {
  let bytes = 0;
  for (let i = from; i < to; i++) bytes += cells.text.charCodeAt(i) < 0x80 ? 1 : cells.text.charCodeAt(i) < 0x800 ? 2 : 3;
  return bytes;
};

/**
 * The bytes that turn `prev` on the screen into `next`, the cursor at the line's first column;
 * it ends somewhere on the line. Undefined when the two are the same.
 */
export function lineUpdate(prev: Line, next: Line): string | undefined {
  if (prev === next) return undefined; // a line laid out once and reused (frame.ts caches layer lines)
  const a = cellsOf(prev);
  const b = cellsOf(next);
  if (a === undefined || b === undefined) return wholeLine(prev, next);
  const styleA = new StyleCursor(a);
  const styleB = new StyleCursor(b);
  const same = (i: number) => i < a.text.length && a.text.charCodeAt(i) === b.text.charCodeAt(i) && styleA.at(i) === styleB.at(i);
  const width = b.text.length;
  let out = '';
  let cursor = 0;
  let i = 0;
  while (i < width) {
    if (same(i)) {
      i++;
      continue;
    }
    // A run of changed cells, taking in a short stretch of unchanged ones where rewriting them is
    // cheaper than moving over them.
    let end = i + 1;
    let j = end;
    while (j < width) {
      if (!same(j)) {
        end = ++j;
        continue;
      }
      let k = j;
      while (k < width && same(k)) k++;
      if (k === width || rewriteCost(b, j, k) > moveTo(k).length) break;
      j = k;
    }
    if (i !== cursor) out += moveTo(i);
    out += paintCells(b, i, end);
    cursor = end;
    i = end;
  }
  if (a.text.length > width) out += (cursor === width ? '' : moveTo(width)) + ansiEscapes.eraseEndLine;
  return out === '' ? undefined : out;
}

/**
 * A line holding wide or combining characters, rewritten whole: a mark belongs to the cell before
 * it, so a change can reach back a column, and such lines are rare (text beyond Latin scripts).
 */
function wholeLine(prev: Line, next: Line): string | undefined {
  const same = prev.length === next.length && prev.every((s, i) => s.text === next[i].text && s.style === next[i].style);
  return same ? undefined : '\r' + paint(next) + ansiEscapes.eraseEndLine;
}
