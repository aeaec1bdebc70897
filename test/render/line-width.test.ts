import { describe, expect, test } from 'vitest';
import { Chalk } from 'chalk';
import { paint, type Line } from '../../src/render/line.js';
import { changedTail, truncateLine } from '../../src/render/tty/line-width.js';

const chalk = new Chalk({ level: 1 });
// One palette, as the renderers make it: the same colour is the same function.
const c = { bold: chalk.bold, cyan: chalk.cyan, dim: chalk.dim, red: chalk.red, green: chalk.green };
const bar = (status: string, cells: number, numbers: string): Line => [
  { text: 'abc123def456', style: c.bold },
  { text: '  ' },
  { text: status.padEnd(18), style: c.cyan },
  { text: '  ' },
  { text: '█'.repeat(cells) + '░'.repeat(10 - cells), style: c.cyan },
  { text: `  ${numbers}` },
];

describe('rewriting only what changed in a line', () => {
  test('a moving bar is rewritten from its first changed cell', () => {
    const change = changedTail(bar('Downloading', 3, '0.3/1.0 MB'), bar('Downloading', 4, '0.4/1.0 MB'));
    expect(change?.column).toBe(12 + 2 + 18 + 2 + 3);
    expect(change?.tail).toBe(`${c.cyan('█░░░░░░')}  0.4/1.0 MB`);
  });

  test('a colour change alone rewrites the segment even though the text is the same', () => {
    const prev: Line = [{ text: 'id  ' }, { text: 'Waiting', style: c.dim }];
    const next: Line = [{ text: 'id  ' }, { text: 'Waiting', style: c.red }];
    expect(changedTail(prev, next)).toEqual({ column: 4, tail: c.red('Waiting') });
  });

  test('identical lines need nothing; a shorter line erases the rest', () => {
    expect(changedTail(bar('Waiting', 0, ''), bar('Waiting', 0, ''))).toBeUndefined();
    expect(changedTail([{ text: 'a' }, { text: 'b' }], [{ text: 'a' }])).toEqual({ column: 1, tail: '' });
  });

  test('wide characters before the change are counted by their columns', () => {
    const change = changedTail([{ text: '名前' }, { text: ' 1' }], [{ text: '名前' }, { text: ' 2' }]);
    expect(change).toEqual({ column: 5, tail: '2' });
  });
});

describe('cutting a line to the terminal width', () => {
  test('by display columns, ending in an ellipsis, colours applied after the cut', () => {
    const line = truncateLine([{ text: 'abcdef', style: c.green }, { text: 'ghij' }], 5);
    expect(paint(line)).toBe(`${c.green('abcd')}${c.green('…')}`);
    expect(paint(truncateLine([{ text: '名前名前' }], 5))).toBe('名前…');
    expect(truncateLine([{ text: 'short' }], 5)).toEqual([{ text: 'short' }]);
  });
});
