// Text from the engine or a registry can carry escape sequences; printed raw they would move
// the cursor, change colours or retitle the window (docker pull prints them raw). Whole
// sequences are removed, not just the ESC byte, so no `[31m` debris is left behind.
const ESCAPE_SEQUENCE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|[@-Z\\-_])/g;
const C1_SEQUENCE = /\x9b[0-?]*[ -/]*[@-~]|[\x90\x98\x9d\x9e\x9f][^\x07\x9c]*[\x07\x9c]?/g;
// C0 and C1 controls, DEL, and the bidi overrides that can reorder what a line appears to say.
const CONTROL = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_TEST = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

/** Makes text from outside safe to print on one terminal line. */
export function sanitize(text: string): string {
  if (!CONTROL_TEST.test(text)) return text; // the common case: nothing to remove
  return text
    .replace(ESCAPE_SEQUENCE, '')
    .replace(C1_SEQUENCE, '')
    .replace(/[\t\r\n]+/g, ' ')
    .replace(CONTROL, '');
}
