// A paced pull is read in batches after its first second (src/pull/pull-events.ts): the engine's
// messages wait in the kernel and arrive as one chunk. Checked against a stand-in engine on a
// real unix socket: every event still arrives, in order, and a trickle of messages takes far
// fewer hand-overs than it had messages; a flood and an up-to-date pull are not held back.
import { afterEach, describe, expect, test } from 'vitest';
import type http from 'node:http';
import { fakeEngine, type FakeEngine } from '../support/fake-engine.js';
import { streamPullEvents } from '../../src/pull/pull-events.js';
import { parseEngineUrl } from '../../src/engine/address.js';
import type { PullEvent } from '../../src/decode/pull-event.js';

const line = (message: object) => `${JSON.stringify(message)}\r\n`;
const progress = (current: number) => line({ status: 'Downloading', progressDetail: { current, total: 1000 }, id: 'aaaaaaaaaaaa' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An engine whose pull stream is written by `write`, and which has the image afterwards. */
function engineWith(write: (res: http.ServerResponse) => Promise<void>): Promise<FakeEngine> {
  return fakeEngine((req, res) => {
    if (req.method === 'POST') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      void write(res).then(() => res.end(line({ status: 'Status: Downloaded newer image for demo/x:1' })));
    } else if (req.url?.includes('/images/json')) {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify([{ Id: 'sha256:1', Size: 1, RepoTags: ['demo/x:1'] }]));
    } else {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ Id: 'sha256:1', Size: 1, RepoTags: ['demo/x:1'] }));
    }
  });
}

async function pullFrom(engine: FakeEngine): Promise<{ batches: PullEvent[][]; ms: number }> {
  const batches: PullEvent[][] = [];
  const started = Date.now();
  await streamPullEvents({ engine: parseEngineUrl(engine.host), name: 'demo/x', tag: '1' }, (events) => batches.push(events));
  return { batches, ms: Date.now() - started };
}

const currents = (batches: PullEvent[][]) => batches.flat().flatMap((e) => (e.type === 'layer' && e.current !== undefined ? [e.current] : []));

describe('reading the engine stream', () => {
  let engine: FakeEngine | undefined;
  afterEach(async () => {
    await engine?.close();
    engine = undefined;
  });

  test('a trickle after the first second comes in batches, every message in order', async () => {
    engine = await engineWith(async (res) => {
      res.write(progress(1));
      await sleep(1100);
      for (let i = 2; i <= 41; i++) {
        res.write(progress(i));
        await sleep(20);
      }
    });
    const { batches } = await pullFrom(engine);
    expect(currents(batches)).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
    // 40 messages over ~0.8 s, read every 200 ms: a handful of hand-overs, not 40.
    const trickle = batches.filter((b) => b.some((e) => e.type === 'layer' && (e.current ?? 0) >= 2));
    expect(trickle.length).toBeLessThanOrEqual(12);
  });

  test('the first second is read as it comes: an up-to-date pull is not held back', async () => {
    engine = await engineWith(async (res) => {
      for (let i = 1; i <= 10; i++) {
        res.write(progress(i));
        await sleep(20);
      }
    });
    const { batches, ms } = await pullFrom(engine);
    expect(currents(batches)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(batches.length).toBeGreaterThanOrEqual(10);
    expect(ms).toBeLessThan(800);
  });

  test('a flood after the first second is read without pause', async () => {
    const chunk = Array.from({ length: 200 }, (_, i) => progress(i)).join('');
    engine = await engineWith(async (res) => {
      res.write(progress(0));
      await sleep(1100);
      for (let i = 0; i < 300; i++) if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
    });
    const { batches, ms } = await pullFrom(engine);
    expect(currents(batches)).toHaveLength(1 + 300 * 200);
    // 300 writes of ~20 kB: paused 200 ms each, they would take a minute.
    expect(ms).toBeLessThan(1100 + 3000);
    // Handed over in small batches all the same (a flood's memory stays flat).
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(64 + 64);
  }, 15_000);
});
