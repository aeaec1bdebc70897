import ansiEscapes from 'ansi-escapes';
import { paintSegment, type Line, type Segment } from '../line.js';
import { textWidth } from './line-width.js';

// What to write to turn a line on the screen into the next one, the cursor starting at the line's
// first column: only the cells that changed, moving over the runs that did not (a progress line's
// update is a few bar cells and some digits), or, where a line holds text whose cells cannot be
// told apart one by one (wide or combining characters), everything from the first change on.

/** One column, its character and its colour. Styles come from one palette made once: the same colour is the same function. */
interface Cell {
  char: string;
  style: Segment['style'];
}

// Characters known to take exactly one column each.
const SINGLE_COLUMN = /^[\x20-\x7e\u00a0-\u02ff█░·…]$/;

/** The line as cells, or undefined if some character's width is not exactly one column. */
function cellsOf(line: Line): Cell[] | undefined {
  const cells: Cell[] = [];
  for (const { text, style } of line) {
    for (const char of text) {
      if (!SINGLE_COLUMN.test(char)) return undefined;
      cells.push({ char, style });
    }
  }
  return cells;
}

const sameCell = (a: Cell | undefined, b: Cell) => a !== undefined && a.char === b.char && a.style === b.style;
const moveTo = (column: number) => (column === 0 ? '\r' : ansiEscapes.cursorTo(column));

/** Cells painted, a colour's codes once per run of cells in it. */
function paintCells(cells: Cell[], from: number, to: number): string {
  let out = '';
  let i = from;
  while (i < to) {
    let j = i;
    let text = '';
    while (j < to && cells[j].style === cells[i].style) text += cells[j++].char;
    out += paintSegment({ text, style: cells[i].style });
    i = j;
  }
  return out;
}

/** Bytes that rewriting cells [from, to) costs (their characters; colour codes not counted). */
const rewriteCost = (cells: Cell[], from: number, to: number) => {
  let bytes = 0;
  for (let i = from; i < to; i++) bytes += Buffer.byteLength(cells[i].char);
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
  if (a === undefined || b === undefined) return tailUpdate(prev, next);
  let out = '';
  let cursor = 0;
  let i = 0;
  while (i < b.length) {
    if (sameCell(a[i], b[i])) {
      i++;
      continue;
    }
    // A run of changed cells, taking in a short stretch of unchanged ones where rewriting them is
    // cheaper than moving over them.
    let end = i + 1;
    let j = end;
    while (j < b.length) {
      if (!sameCell(a[j], b[j])) {
        end = ++j;
        continue;
      }
      let k = j;
      while (k < b.length && sameCell(a[k], b[k])) k++;
      if (k === b.length || rewriteCost(b, j, k) > moveTo(k).length) break;
      j = k;
    }
    if (i !== cursor) out += moveTo(i);
    out += paintCells(b, i, end);
    cursor = end;
    i = end;
  }
  if (a.length > b.length) out += (cursor === b.length ? '' : moveTo(b.length)) + ansiEscapes.eraseEndLine;
  return out === '' ? undefined : out;
}

/** From the first column where `next` differs from `prev` (text or colour) to its end. */
function tailUpdate(prev: Line, next: Line): string | undefined {
  let column = 0;
  for (let i = 0; i < next.length; i++) {
    const a = prev[i];
    const b = next[i];
    if (a !== undefined && a.text === b.text && a.style === b.style) {
      column += textWidth(b.text);
      continue;
    }
    let k = 0;
    if (a !== undefined && a.style === b.style) {
      while (k < a.text.length && k < b.text.length && a.text[k] === b.text[k] && SINGLE_COLUMN.test(b.text[k])) k++;
    }
    column += k;
    const tail = paintSegment({ ...b, text: b.text.slice(k) }) + next.slice(i + 1).map(paintSegment).join('');
    return (column > 0 ? ansiEscapes.cursorTo(column) : '') + tail + ansiEscapes.eraseEndLine;
  }
  return prev.length > next.length ? (column > 0 ? ansiEscapes.cursorTo(column) : '') + ansiEscapes.eraseEndLine : undefined;
}
