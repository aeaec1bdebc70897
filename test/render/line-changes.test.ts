import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import xterm from '@xterm/headless';
import { Chalk } from 'chalk';
import { paint, type Line } from '../../src/render/line.js';
import { lineUpdate } from '../../src/render/tty/line-changes.js';

const chalk = new Chalk({ level: 1 });
// One palette, as the renderers make it: the same colour is the same function.
const c = { bold: chalk.bold, cyan: chalk.cyan, dim: chalk.dim, red: chalk.red, green: chalk.green };
const bar = (status: string, cells: number, numbers: string): Line => [
  { text: 'abc123def456', style: c.bold },
  { text: '  ' },
  { text: status.padEnd(18), style: c.cyan },
  { text: '  ' },
  { text: '█'.repeat(cells) + '░'.repeat(20 - cells), style: c.cyan },
  { text: `  ${numbers}` },
];

/** Each cell of the terminal's first row: its character and colours, as xterm holds them. */
async function rowAfter(bytes: string): Promise<string[]> {
  const term = new xterm.Terminal({ cols: 80, rows: 2, allowProposedApi: true });
  await new Promise<void>((resolve) => term.write(bytes, resolve));
  const line = term.buffer.active.getLine(0)!;
  const cells: string[] = [];
  for (let x = 0; x < term.cols; x++) {
    const cell = line.getCell(x)!;
    cells.push(`${cell.getChars() || ' '}/${cell.getFgColor()}/${cell.isBold()}/${cell.isDim()}`);
  }
  term.dispose();
  return cells;
}

/** What the row shows when `prev` is on it and the update for `next` is written from its first column. */
const updated = (prev: Line, next: Line) => rowAfter(`${paint(prev)}\r${lineUpdate(prev, next) ?? ''}`);

describe('rewriting only the cells that changed', () => {
  test('a moving bar: only the cells that filled and the digits that changed are written', async () => {
    const prev = bar('Downloading', 3, '0.3/1.0 MB');
    const next = bar('Downloading', 4, '0.4/1.0 MB');
    const update = lineUpdate(prev, next)!;
    expect(update).toBe(`\x1b[38G${c.cyan('█')}\x1b[59G4`);
    expect(await updated(prev, next)).toEqual(await rowAfter(paint(next)));
  });

  test('a colour change alone rewrites those cells though the text is the same', async () => {
    const prev: Line = [{ text: 'id  ' }, { text: 'Waiting', style: c.dim }];
    const next: Line = [{ text: 'id  ' }, { text: 'Waiting', style: c.red }];
    expect(lineUpdate(prev, next)).toBe(`\x1b[5G${c.red('Waiting')}`);
    expect(await updated(prev, next)).toEqual(await rowAfter(paint(next)));
  });

  test('identical lines need nothing; a shorter line erases the rest', async () => {
    expect(lineUpdate(bar('Waiting', 0, ''), bar('Waiting', 0, ''))).toBeUndefined();
    expect(lineUpdate([{ text: 'a' }, { text: 'b' }], [{ text: 'a' }])).toBe('\x1b[2G\x1b[K');
  });

  test('a line with wide or combining characters is rewritten whole', async () => {
    const prev: Line = [{ text: '名前' }, { text: ' 1' }];
    const next: Line = [{ text: '名前' }, { text: ' 2' }];
    expect(lineUpdate(prev, next)).toBe('\r名前 2\x1b[K');
    expect(lineUpdate(prev, [...prev])).toBeUndefined();
    expect(await updated(prev, next)).toEqual(await rowAfter(paint(next)));
  });

  test('any line turned into any other shows exactly what writing the new one whole shows', async () => {
    const styles = [undefined, c.bold, c.cyan, c.dim, c.red];
    const text = fc.stringMatching(/^[ a-z0-9.█░·…éñ名e\u0301]{0,12}$/);
    const line = fc.array(fc.record({ text, style: fc.constantFrom(...styles) }), { maxLength: 5 });
    await fc.assert(
      fc.asyncProperty(line, line, async (prev, next) => {
        expect(await updated(prev, next)).toEqual(await rowAfter(paint(next)));
      }),
      { numRuns: 1000 },
    );
  });
});
