import { describe, expect, test, vi } from 'vitest';
import { Chalk } from 'chalk';
import { paint, type Line } from '../../src/render/line.js';
import { truncateLine } from '../../src/render/tty/line-width.js';

const chalk = new Chalk({ level: 1 });
// One palette, as the renderers make it: the same colour is the same function.
const c = { bold: chalk.bold, cyan: chalk.cyan, dim: chalk.dim, red: chalk.red, green: chalk.green };

describe('cutting a line to the terminal width', () => {
  test('by display columns, ending in an ellipsis, colours applied after the cut', () => {
    const line = truncateLine([{ text: 'abcdef', style: c.green }, { text: 'ghij' }], 5);
    expect(paint(line)).toBe(`${c.green('abcd')}${c.green('…')}`);
    expect(paint(truncateLine([{ text: '名前名前' }], 5))).toBe('名前…');
    expect(truncateLine([{ text: 'short' }], 5)).toEqual([{ text: 'short' }]);
  });
});

describe('string-width, loaded only for text beyond ASCII', () => {
  // A fresh copy of the module: string-width not loaded yet.
  const fresh = async () => {
    vi.resetModules();
    return import('../../src/render/tty/line-width.js');
  };

  test('ASCII and dpull\'s own glyphs are measured without it', async () => {
    const { textWidth } = await fresh();
    expect(textWidth('Downloading  ███░░░  1.2 MB · 3s…')).toBe(33);
  });

  test('until it has loaded, other text is never measured narrower than it is; then closer', async () => {
    const { textWidth, loadTextWidths } = await fresh();
    // The columns a terminal (xterm) gives each.
    const columns = { 'ราคา': 4, 'मूल्य': 3, '名前': 4, 'e\u0301': 1, '👍🏽': 2 };
    const before = Object.keys(columns).map((t) => textWidth(t));
    await loadTextWidths();
    const after = Object.keys(columns).map((t) => textWidth(t));
    Object.values(columns).forEach((c, i) => {
      expect(before[i]).toBeGreaterThanOrEqual(c);
      expect(after[i]).toBeGreaterThanOrEqual(c);
      expect(after[i]).toBeLessThanOrEqual(before[i]);
    });
    expect(after.reduce((a, b) => a + b)).toBeLessThan(before.reduce((a, b) => a + b));
  });
});
