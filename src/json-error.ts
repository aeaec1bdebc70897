// A config file that is not valid JSON may hold a password right where it breaks: JSON.parse's
// message quotes the text around the error. Say where it breaks instead, and nothing of what is there.

const NUMBER_OR_WORD = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;

/** The offset at which `text` stops being valid JSON (its length if the fault is that it ends). */
function invalidOffset(s: string): number {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const space = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  };
  const string = () => {
    i++;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 0x22) return void i++;
      if (c === 0x5c) i += 2;
      else if (c < 0x20) fail();
      else i++;
    }
    fail();
  };
  const list = (close: string, item: () => void) => {
    i++;
    space();
    if (s[i] === close) return void i++;
    for (;;) {
      item();
      space();
      if (s[i] === ',') i++;
      else if (s[i] === close) return void i++;
      else fail();
    }
  };
  const value = (): void => {
    space();
    const c = s[i];
    if (c === '{') {
      return list('}', () => {
        space();
        if (s[i] !== '"') fail();
        string();
        space();
        if (s[i] !== ':') fail();
        i++;
        value();
      });
    }
    if (c === '[') return list(']', value);
    if (c === '"') return string();
    NUMBER_OR_WORD.lastIndex = i;
    if (NUMBER_OR_WORD.test(s)) i = NUMBER_OR_WORD.lastIndex;
    else fail();
  };
  try {
    value();
    space();
    if (i < s.length) fail();
    return -1;
  } catch (at) {
    return at as number;
  }
}

/** `line L, column C` where the text stops being JSON (1-based), quoting none of it. */
export function jsonErrorWhere(text: string): string {
  const offset = Math.max(0, invalidOffset(text));
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return offset >= text.length ? `it ends too soon (line ${line})` : `line ${line}, column ${column}`;
}
