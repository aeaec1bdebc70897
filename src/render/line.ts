import stringWidth from 'string-width';

/** A piece of a line and how to colour it. */
export interface Segment {
  text: string;
  style?: (text: string) => string;
}
export type Line = Segment[];

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Display width of a line's text (wide and combining characters counted as the terminal does). */
export const lineWidth = (line: Line) => line.reduce((sum, s) => sum + stringWidth(s.text), 0);

/** Cuts a line to at most `width` columns, ending in `…` when something was cut. */
export function truncateLine(line: Line, width: number): Line {
  if (lineWidth(line) <= width) return line;
  const out: Line = [];
  let room = width - 1;
  for (const segment of line) {
    let kept = '';
    for (const { segment: g } of graphemes.segment(segment.text)) {
      const w = stringWidth(g);
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

/** The line as text for the terminal, with colours applied after the cut so no sequence is split. */
export const paint = (line: Line) => line.map((s) => (s.style ? s.style(s.text) : s.text)).join('');
