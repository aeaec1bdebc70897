import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { archiveSize, archiveStream, type ArchiveContents } from '../../src/output/archive.js';
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
