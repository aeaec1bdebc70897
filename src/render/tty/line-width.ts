import stringWidth from 'string-width';
import { paintSegment, type Line, type Segment } from '../line.js';

// Width-aware line handling for the live display only: plain and json output never load string-width.
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

// Printable ASCII and the glyphs dpull draws take one column each; only other text needs
// string-width's full grapheme and East Asian width analysis (the costly part of a frame).
const ONE_COLUMN_EACH = /^[\x20-\x7e█░·…✔✘↓]*$/;

/** Display width of text, wide and combining characters counted as the terminal does. */
export const textWidth = (text: string) => (ONE_COLUMN_EACH.test(text) ? text.length : stringWidth(text));

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
