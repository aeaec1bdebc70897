/** A piece of a line and how to colour it. */
export interface Segment {
  text: string;
  style?: (text: string) => string;
}
export type Line = Segment[];

export const paintSegment = (s: Segment) => (s.style ? s.style(s.text) : s.text);

/** The line as text for the terminal, with colours applied after any cut so no sequence is split. */
export const paint = (line: Line) => line.map(paintSegment).join('');
