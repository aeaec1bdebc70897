import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect, test } from 'vitest';
import { FileWriter } from '../../src/output/file-writer.js';
import { scratchDir } from '../support/scratch.js';

test('a caller that writes and ends the file from its drain callback: end() resolves only when every byte is on disk', async () => {
  const dir = scratchDir('dpull-writer-');
  const content = randomBytes(1536 << 10);
  const chunks = Array.from({ length: 24 }, (_, i) => content.subarray(i * 65536, (i + 1) * 65536));
  for (let round = 0; round < 20; round++) {
    const path = join(dir, `blob-${round}.partial`);
    let onDisk = 0;
    const file = new FileWriter(path, { create: true }, (err) => {
      throw err;
    }, (n) => (onDisk = n));
    // As blob-fetch.ts does with a body whose end comes with the drain: write until asked to
    // wait; on the drain, the rest (a write of its own at once) and the end, in the same turn.
    let i = 0;
    while (i < chunks.length && file.write(chunks[i++]));
    const ended = await new Promise<Promise<void>>((resolve) =>
      file.onDrain(() => {
        while (i < chunks.length) file.write(chunks[i++]);
        resolve(file.end());
      }),
    );
    await ended;
    expect(onDisk, `round ${round}`).toBe(content.length);
    expect(readFileSync(path).equals(content), `round ${round}`).toBe(true);
  }
});
