import stringWidth from 'string-width';
import { paintSegment, type Line, type Segment } from '../line.js';

// Width-aware line handling for the live display only: plain and json output never load string-width.
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

// Printable ASCII and the glyphs dpull draws take one column each; only other text needs
// string-width's full grapheme and East Asian width analysis (the costly part of a frame).
const ONE_COLUMN_EACH = /^[\x20-\x7e█░·…✔✘↓]*$/;

// Terminals count columns a code point at a time, string-width a grapheme at a time: a spacing
// mark inside a grapheme (Thai's SARA AM, Bengali's conjuncts) takes a column there that
// string-width leaves out, and some terminals give a mark with no base a column. A grapheme is
// counted at the largest of the ways, so that a line is never wider than it was measured.
const SPACING_MARK = /[\p{Mc}\u0e33\u0eb3]/gu;
const STARTS_WITH_MARK = /^\p{M}/u;

function graphemeWidth(g: string): number {
  const whole = stringWidth(g);
  let perCodePoint = 0;
  for (const cp of g) perCodePoint += stringWidth(cp);
  const spacingMarks = g.match(SPACING_MARK)?.length ?? 0;
  const loneMark = STARTS_WITH_MARK.test(g) ? 1 : 0;
  return Math.max(whole, perCodePoint, whole + spacingMarks - loneMark, loneMark);
}

/** Display width of text, wide and combining characters counted as the terminal does. */
export function textWidth(text: string): number {
  if (ONE_COLUMN_EACH.test(text)) return text.length;
  let width = 0;
  for (const { segment } of graphemes.segment(text)) width += graphemeWidth(segment);
  return width;
}

/** Display width of a line. */
export const lineWidth = (line: Line) => line.reduce((sum, s) => sum + textWidth(s.text), 0);

/** Cuts a line to at most `width` columns, ending in `…` when something was cut. */
export function truncateLine(line: Line, width: number): Line {
  if (lineWidth(line) <= width) return line;
  const out: Line = [];
  let room = width - 1;
  for (const segment of line) {
    let kept = '';
    for (const { segment: g } of graphemes.segment(segment.text)) {
      const w = textWidth(g);
      if (w > room) {
        out.push({ ...segment, text: kept });
        out.push({ text: '…', style: segment.style });
        return out.filter((s) => s.text !== '');
      }
      kept += g;
      room -= w;
    }
    out.push({ ...segment, text: kept });
  }
  return out;
}


// Styles come from one palette made once, so the same colour is the same function.
const sameStyle = (a: Segment, b: Segment) => a.style === b.style;
// Characters known to take exactly one column, so a difference can be located inside a segment.
const SINGLE_COLUMN = /^[\x20-\x7e\u00a0-\u02ff█░·…]$/;

/**
 * Where `next` first differs from `prev` (text or colour): the column, and `next` painted from
 * there on. Undefined when the two are the same. Rewriting only the tail keeps a progress
 * line's update to the few cells that moved.
 */
export function changedTail(prev: Line, next: Line): { column: number; tail: string } | undefined {
  if (prev === next) return undefined; // a line laid out once and reused (frame.ts caches layer lines)
  let column = 0;
  for (let i = 0; i < next.length; i++) {
    const a = prev[i];
    const b = next[i];
    if (a !== undefined && a.text === b.text && sameStyle(a, b)) {
      column += textWidth(b.text);
      continue;
    }
    let k = 0;
    if (a !== undefined && sameStyle(a, b)) {
      while (k < a.text.length && k < b.text.length && a.text[k] === b.text[k] && SINGLE_COLUMN.test(b.text[k])) k++;
    }
    column += k;
    return { column, tail: paintSegment({ ...b, text: b.text.slice(k) }) + next.slice(i + 1).map(paintSegment).join('') };
  }
  return prev.length > next.length ? { column, tail: '' } : undefined;
}
