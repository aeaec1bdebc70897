import { readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { archiveSize, archiveStream, packArchive, type ArchiveContents } from '../../src/output/archive.js';
import { scratchDir } from '../support/scratch.js';

test('the size said before a docker-archive is sent (--load\'s "sent N of M") is the size of the tar then made', async () => {
  const dir = scratchDir('dpull-archive-');
  // Sizes around tar's 512-byte blocks: none, one short, exactly one, one over, and a big one.
  const sizes = [0, 511, 512, 513, 3 * 1024 * 1024 + 7];
  const blobs = sizes.map((size, i) => {
    const path = join(dir, `blob${i}`);
    writeFileSync(path, Buffer.alloc(size, i));
    return { name: `blobs/sha256/${String(i).repeat(64)}`, path, size };
  });
  const contents: ArchiveContents = {
    blobs,
    index: Buffer.from('{"schemaVersion":2,"manifests":[]}'),
    docker: { Config: blobs[0].name, RepoTags: ['registry.example/app:1.0'], Layers: blobs.slice(1).map(({ name }) => name) },
  };
  let length = 0;
  for await (const chunk of await archiveStream(contents)) length += (chunk as Buffer).length;
  expect(archiveSize(contents)).toBe(length);
});

test('an archive packed through a few reused read buffers holds every blob\'s bytes, in order', async () => {
  const dir = scratchDir('dpull-archive-');
  const sizes = [0, 511, 3 * 1024 * 1024 + 7, 2 * 1024 * 1024, 700_001, 5 * 1024 * 1024 + 1];
  const blobs = sizes.map((size, i) => {
    const path = join(dir, `blob${i}`);
    writeFileSync(path, randomBytes(size));
    return { name: `blobs/sha256/${String(i).repeat(64)}`, path, size };
  });
  const file = join(dir, 'out.tar');
  await packArchive(file, { blobs, index: Buffer.from('{}') });
  const { default: tar } = await import('tar-stream');
  const extract = tar.extract();
  const found = new Map<string, Buffer>();
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      found.set(header.name, Buffer.concat(chunks));
      next();
    });
  });
  await new Promise((resolve, reject) => {
    extract.on('finish', resolve).on('error', reject);
    extract.end(readFileSync(file));
  });
  for (const blob of blobs) expect(found.get(blob.name)?.equals(readFileSync(blob.path)), blob.name).toBe(true);
});
