// A blob's digest read back from its file on the worker thread, as the file is written: the same
// digest as hashing the chunks themselves, the file it read named, and refusals said.
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, lstatSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { inlineDigest, workerDigest } from '../../src/registry/blob-digest.js';
import { scratchDir } from '../support/scratch.js';

const dir = scratchDir('dpull-digest-test-');

describe('the digest read back on the worker thread', () => {
  test('a file written in pieces while it is read: the digest of all its bytes, the file it read', async () => {
    const path = join(dir, 'grown');
    const pieces = [randomBytes(3 << 20), randomBytes(5), randomBytes(2 << 20)];
    writeFileSync(path, '');
    const digest = workerDigest(path, 'sha256');
    let size = 0;
    for (const piece of pieces) {
      appendFileSync(path, piece);
      size += piece.length;
      digest.written(size);
    }
    const answer = await digest.digest(size);
    const inline = inlineDigest('sha256');
    for (const piece of pieces) inline.update(piece);
    expect(answer.hex).toBe(createHash('sha256').update(Buffer.concat(pieces)).digest('hex'));
    expect(answer.hex).toBe((await inline.digest(size)).hex);
    const stats = lstatSync(path);
    expect(answer.file).toEqual({ dev: stats.dev, ino: stats.ino });
  });

  test('a file shorter than the bytes said to be written: refused, not hashed short', async () => {
    const path = join(dir, 'short');
    writeFileSync(path, randomBytes(1000));
    await expect(workerDigest(path, 'sha256').digest(2000)).rejects.toThrow('cannot read back a blob to check its digest: the file is shorter than what was written to it');
  });

  test('a symlink where the file should be is not followed', async () => {
    const target = join(dir, 'elsewhere');
    writeFileSync(target, randomBytes(100));
    const path = join(dir, 'link');
    symlinkSync(target, path);
    await expect(workerDigest(path, 'sha256').digest(100)).rejects.toThrow(/cannot read back a blob to check its digest: .*ELOOP/);
  });

  test('sha512 as well', async () => {
    const path = join(dir, 'sha512');
    const bytes = randomBytes(12345);
    writeFileSync(path, bytes);
    expect((await workerDigest(path, 'sha512').digest(bytes.length)).hex).toBe(createHash('sha512').update(bytes).digest('hex'));
  });
});
