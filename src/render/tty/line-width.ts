import type { Line } from '../line.js';

// Width-aware line handling for the live display only: plain and json output never load string-width.
// Nor does a live display whose text is all ASCII and dpull's own glyphs (nearly always: references,
// engine statuses and numbers are ASCII): setting string-width up compiles its Unicode property
// expressions, ~60 ms of a pull's start. It is loaded the first time other text is measured; until
// it is there, such text counts two columns a code point, the most a terminal gives one, so a
// line is never measured narrower than it is (it may be cut shorter for a frame or two).
let stringWidth: ((text: string) => number) | undefined;
let loading: Promise<void> | undefined;

/** Loads string-width now (tests and callers that want exact widths from the first frame). */
export function loadTextWidths(): Promise<void> {
  loading ??= import('string-width').then((m) => {
    stringWidth = m.default;
  });
  return loading;
}

function exactOrAtMost(text: string): number {
  if (stringWidth !== undefined) return stringWidth(text);
  void loadTextWidths();
  let codePoints = 0;
  for (const _ of text) codePoints++;
  return 2 * codePoints;
}

let segmenter: Intl.Segmenter | undefined;
const graphemes = (text: string) => (segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' })).segment(text);

/**
 * Text whose every character takes exactly one column: printable ASCII and the glyphs dpull
 * draws. Only other text needs string-width's grapheme and East Asian width analysis (the costly
 * part of a frame), and only such text can be compared and rewritten a cell at a time.
 */
export const ONE_COLUMN_EACH = /^[\x20-\x7e█░·…✔✘↓↑]*$/;

// Terminals count columns a code point at a time, string-width a grapheme at a time: a spacing
// mark inside a grapheme (Thai's SARA AM, Bengali's conjuncts) takes a column there that
// string-width leaves out, and some terminals give a mark with no base a column. A grapheme is
// counted at the largest of the ways, so that a line is never wider than it was measured.
const SPACING_MARK = /[\p{Mc}\u0e33\u0eb3]/gu;
const STARTS_WITH_MARK = /^\p{M}/u;

function graphemeWidth(g: string): number {
  const whole = exactOrAtMost(g);
  let perCodePoint = 0;
  for (const cp of g) perCodePoint += exactOrAtMost(cp);
  const spacingMarks = g.match(SPACING_MARK)?.length ?? 0;
  const loneMark = STARTS_WITH_MARK.test(g) ? 1 : 0;
  return Math.max(whole, perCodePoint, whole + spacingMarks - loneMark, loneMark);
}

/** Display width of text, wide and combining characters counted as the terminal does. */
export function textWidth(text: string): number {
  if (ONE_COLUMN_EACH.test(text)) return text.length;
  let width = 0;
  for (const { segment } of graphemes(text)) width += graphemeWidth(segment);
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
    if (ONE_COLUMN_EACH.test(segment.text)) {
      if (segment.text.length > room) {
        out.push({ ...segment, text: segment.text.slice(0, room) }, { text: '…', style: segment.style });
        return out.filter((s) => s.text !== '');
      }
      out.push(segment);
      room -= segment.text.length;
      continue;
    }
    let kept = '';
    for (const { segment: g } of graphemes(segment.text)) {
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
