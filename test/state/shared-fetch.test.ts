import { expect, test } from 'vitest';
import type { PullEvent } from '../../src/decode/pull-event.js';
import { SharedFetch } from '../../src/state/shared-fetch.js';

// What a registry pull with --load says of its layers (src/pull/registry-pull.ts, load-into-engine.ts):
// announced with their sizes, fetched by the pull holding a blob's lock, found present by the others
// once it is done, then loaded into each pull's own engine.
const layer = (id: string, phase: Extract<PullEvent, { type: 'layer' }>['phase'], status: string, current?: number, total?: number): PullEvent => ({
  type: 'layer',
  id,
  phase,
  status,
  ...(current !== undefined && { current }),
  ...(total !== undefined && { total }),
});

test('two engines, one fetch: each layer shows the furthest its fetch has come, its bytes counted once; the engines\' loads are not the fetch\'s', () => {
  const fetch = new SharedFetch(0);
  const announce = [layer('aaaaaaaaaaaa', 'pending', 'Pulling fs layer', undefined, 1000), layer('bbbbbbbbbbbb', 'pending', 'Pulling fs layer', undefined, 3000)];
  fetch.apply(announce, 0); // engine A's pull
  fetch.apply(announce, 0); // engine B's: the same, nothing counted twice
  expect(fetch.state.totals(0)).toMatchObject({ layers: 2, knownBytes: 4000, downloadedBytes: 0 });
  fetch.apply([layer('aaaaaaaaaaaa', 'downloading', 'Downloading', 600, 1000)], 100); // A fetches a
  fetch.apply([layer('aaaaaaaaaaaa', 'waiting', 'Waiting')], 110); // B waits on its lock
  expect(fetch.state.layers.get('aaaaaaaaaaaa')).toMatchObject({ phase: 'downloading', current: 600 });
  // Engine B holds layer b (it is not fetched for B), A still needs it: its fetch is what counts.
  fetch.apply([layer('bbbbbbbbbbbb', 'exists', 'Already exists')], 120);
  fetch.apply([layer('bbbbbbbbbbbb', 'downloading', 'Downloading', 3000, 3000)], 200);
  fetch.apply([layer('aaaaaaaaaaaa', 'downloading', 'Downloading', 1000, 1000), layer('aaaaaaaaaaaa', 'complete', 'Pull complete'), layer('bbbbbbbbbbbb', 'complete', 'Pull complete')], 300);
  fetch.apply([layer('aaaaaaaaaaaa', 'exists', 'Already exists')], 310); // B finds it present
  // Both engines load: their progress is their own.
  fetch.apply([layer('aaaaaaaaaaaa', 'extracting', 'Loading layer', 5, 9), layer('aaaaaaaaaaaa', 'complete', 'Loaded'), layer('bbbbbbbbbbbb', 'complete', 'Loaded')], 400);
  expect([...fetch.state.layers.values()].map((l) => [l.id, l.phase, l.status])).toEqual([
    ['aaaaaaaaaaaa', 'complete', 'Pull complete'],
    ['bbbbbbbbbbbb', 'complete', 'Pull complete'],
  ]);
  expect(fetch.state.totals(400)).toMatchObject({ layers: 2, pulled: 2, reused: 0, downloadedBytes: 4000, knownBytes: 4000 });
});

test('every engine holds a layer, or the cache has it: it is reused, and no byte is counted for it', () => {
  const fetch = new SharedFetch(0);
  fetch.apply([layer('aaaaaaaaaaaa', 'pending', 'Pulling fs layer', undefined, 1000)], 0);
  fetch.apply([layer('aaaaaaaaaaaa', 'exists', 'Already exists')], 10);
  fetch.apply([layer('aaaaaaaaaaaa', 'exists', 'Already exists')], 20);
  expect(fetch.state.totals(20)).toMatchObject({ layers: 1, pulled: 0, reused: 1, downloadedBytes: 0 });
});
