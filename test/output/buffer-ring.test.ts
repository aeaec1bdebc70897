import { expect, test } from 'vitest';
import { BufferRing } from '../../src/output/buffer-ring.js';

const settledSoon = async (promise: Promise<unknown>) => Promise.race([promise.then(() => true), new Promise((r) => setTimeout(() => r(false), 20))]);

test('a buffer is given out again only once the bytes last read into it are on disk', async () => {
  const ring = new BufferRing(2, 1024);
  const first = await ring.take();
  const second = await ring.take();
  expect(first.buffer).not.toBe(second.buffer);
  ring.placed(first.subarray(0, 1000), 1000);
  ring.placed(second.subarray(0, 500), 1500);
  const third = ring.take(); // the first again, once its bytes are written
  expect(await settledSoon(third)).toBe(false);
  ring.written(999);
  expect(await settledSoon(third)).toBe(false);
  ring.written(1000);
  expect((await third).buffer).toBe(first.buffer);
  // One taken and neither handed on nor given back is held; given back (nothing read into it), it is free at once.
  ring.written(1500);
  expect((await ring.take()).buffer).toBe(second.buffer);
  const fifth = ring.take();
  expect(await settledSoon(fifth)).toBe(false);
  ring.giveBack(await third);
  expect((await fifth).buffer).toBe(first.buffer);
});

test('a chunk of no buffer of the ring (a tar header) changes nothing', async () => {
  const ring = new BufferRing(1, 64);
  const only = await ring.take();
  ring.placed(Buffer.alloc(512), 512);
  expect(await settledSoon(ring.take())).toBe(false);
  ring.giveBack(only);
});
