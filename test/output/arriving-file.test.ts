import { appendFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect, test } from 'vitest';
import { ArrivingFileReplaced, readArriving } from '../../src/output/arriving-file.js';
import { scratchDir } from '../support/scratch.js';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fetch as blob-fetch.ts makes one: the partial file written piece by piece, then renamed to the blob's name. */
async function fetchInPieces(path: string, content: Buffer, pieces: number, replaceAt?: number): Promise<void> {
  const partial = `${path}.partial`;
  writeFileSync(partial, '', { flag: 'wx' });
  const step = Math.ceil(content.length / pieces);
  for (let at = 0; at < content.length; at += step) {
    if (replaceAt !== undefined && at >= replaceAt) {
      // Started again from zero: a new file under the same name, written whole.
      rmSync(partial);
      writeFileSync(partial, content, { flag: 'wx' });
      break;
    }
    appendFileSync(partial, content.subarray(at, at + step));
    await tick(3);
  }
  renameSync(partial, path);
}

async function readAll(path: string, size: number, done: Promise<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await readArriving({ path, partial: `${path}.partial`, size, done }, (chunk) => void chunks.push(Buffer.from(chunk)));
  return Buffer.concat(chunks);
}

test('a blob read while its fetch writes it: every byte, in order, once the fetch has finished that very file', async () => {
  const path = join(scratchDir('dpull-arriving-'), 'blob');
  const content = randomBytes(3 * 1024 * 1024 + 17);
  const done = fetchInPieces(path, content, 40);
  expect((await readAll(path, content.length, done)).equals(content)).toBe(true);
});

test('a blob already whole is read from its file', async () => {
  const path = join(scratchDir('dpull-arriving-'), 'blob');
  const content = randomBytes(100_000);
  writeFileSync(path, content);
  expect((await readAll(path, content.length, Promise.resolve())).equals(content)).toBe(true);
});

test('a fetch that starts again from zero: the bytes read were another file\'s, and it is said (the archive is then made again)', async () => {
  const path = join(scratchDir('dpull-arriving-'), 'blob');
  const content = randomBytes(1024 * 1024);
  const done = fetchInPieces(path, content, 20, 512 * 1024);
  await expect(readAll(path, content.length, done)).rejects.toBeInstanceOf(ArrivingFileReplaced);
});

test('a fetch that fails: its failure, not a wait for bytes that will never come', async () => {
  const path = join(scratchDir('dpull-arriving-'), 'blob');
  writeFileSync(`${path}.partial`, randomBytes(1000));
  const failure = new Error('the registry broke off');
  const done = tick(20).then(() => Promise.reject(failure));
  await expect(readAll(path, 5000, done)).rejects.toBe(failure);
});

test('a symlink planted where the blob goes is not followed', async () => {
  const dir = scratchDir('dpull-arriving-');
  const path = join(dir, 'blob');
  writeFileSync(join(dir, 'elsewhere'), randomBytes(100));
  const { symlinkSync } = await import('node:fs');
  symlinkSync(join(dir, 'elsewhere'), path);
  await expect(readAll(path, 100, Promise.resolve())).rejects.toMatchObject({ code: 'ELOOP' });
});
