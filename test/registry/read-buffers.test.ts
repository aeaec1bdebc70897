import { expect, test } from 'vitest';
import { ReadBuffers } from '../../src/registry/read-buffers.js';

/** Reads up to `n` bytes of `fill` as a socket would: into the region `next` gave. */
function read(buffers: ReadBuffers, n: number, fill: number, region = buffers.next()) {
  const length = Math.min(n, region.length);
  region.fill(fill, 0, length);
  return buffers.took(region, length);
}

/** Reads 64 kB at a time until the socket is handed the parking buffer; returns what was read, and that buffer. */
function fillUp(buffers: ReadBuffers) {
  const pieces = [];
  for (let region = buffers.next(); !buffers.parked; region = buffers.next()) pieces.push(read(buffers, 64 << 10, 1, region));
  return { pieces, parking: buffers.next() };
}

test('every slab held: the socket is given the parking buffer, and reading waits; a slab freed, it goes on', () => {
  const buffers = new ReadBuffers();
  const { pieces } = fillUp(buffers);
  expect(buffers.full).toBe(true);
  let freed = 0;
  buffers.onFree = () => freed++;
  buffers.release({ slab: pieces[0].slab, length: pieces.filter((p) => p.slab === pieces[0].slab).length * (64 << 10) });
  expect(freed).toBe(1);
  expect(buffers.full).toBe(false);
});

test('bytes read into the parking buffer while every slab is still held (a TLS socket hands over what it had decrypted): kept whole in a slab more, let go once free', () => {
  const buffers = new ReadBuffers();
  const { pieces, parking } = fillUp(buffers);
  const slabsBefore = new Set(pieces.map((p) => p.slab)).size;
  const late = read(buffers, 16 << 10, 7, parking); // into the parking buffer, nothing free
  expect(late.view.length).toBe(16 << 10);
  expect(late.view.every((b) => b === 7)).toBe(true);
  expect(pieces.some((p) => p.slab === late.slab)).toBe(false);
  // Everything the earlier pieces held is still theirs.
  expect(pieces.every((p) => p.view.every((b) => b === 1))).toBe(true);
  expect(buffers.count).toBe(slabsBefore + 1);
  // Not full any more (the socket, stopped when it was, is to read on: nothing else would wake it).
  expect(buffers.full).toBe(false);
  // Once free and no longer read into, the extra slab is not kept among the connection's.
  buffers.release({ slab: late.slab, length: 16 << 10 });
  for (const piece of pieces) buffers.release({ slab: piece.slab, length: piece.view.length });
  for (let i = 0; i < 8; i++) buffers.release({ ...read(buffers, 64 << 10, 3), length: 64 << 10 });
  expect(buffers.count).toBe(slabsBefore);
});
