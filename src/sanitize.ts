import { redact } from './secrets.js';

// Text from the engine or a registry can carry escape sequences; printed raw they would move
// the cursor, change colours or retitle the window (docker pull prints them raw). Whole
// sequences are removed, not just the ESC byte, so no `[31m` debris is left behind.
const ESCAPE_SEQUENCE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|[@-Z\\-_])/g;
const C1_SEQUENCE = /\x9b[0-?]*[ -/]*[@-~]|[\x90\x98\x9d\x9e\x9f][^\x07\x9c]*[\x07\x9c]?/g;
// Line and paragraph separators end a line as a newline does: a space instead.
const LINE_BREAKS = /[\t\r\n\u2028\u2029\u0085]+/g;
// C0 and C1 controls, DEL, and what is invisible yet changes what a line appears to say or how
// wide it is: bidi marks, embeddings, overrides and isolates, zero-width characters, the soft
// hyphen, the byte order mark, interlinear annotation and other format characters.
const INVISIBLE = /[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;
const NEEDS_WORK = /[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/;

/**
 * Makes text from outside safe to print on one terminal line: no escape sequence, control or
 * invisible character, no line break, and no credential (secrets.ts).
 */
export function sanitize(text: string): string {
  const clean = NEEDS_WORK.test(text)
    ? text.replace(ESCAPE_SEQUENCE, '').replace(C1_SEQUENCE, '').replace(LINE_BREAKS, ' ').replace(INVISIBLE, '')
    : text;
  return redact(clean);
}
