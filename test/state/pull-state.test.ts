import { describe, expect, test } from 'vitest';
import { PullState } from '../../src/state/pull-state.js';
import { announcedSizes, recordedEvents } from '../support/replay.js';

function replay(name: string, msPerEvent = 50) {
  const state = new PullState(0);
  recordedEvents(name).forEach((event, i) => state.apply(event, (i + 1) * msPerEvent));
  return state;
}

test('layers announced with their sizes (a registry pull): the total is known before any byte, and the ETA with the first', () => {
  const state = new PullState(0);
  for (const [id, size] of [['aaaaaaaaaaaa', 1000], ['bbbbbbbbbbbb', 3000]] as const) state.apply({ type: 'layer', id, phase: 'pending', status: 'Pulling fs layer', total: size }, 0);
  expect(state.totals(0)).toMatchObject({ knownBytes: 4000, sizesKnown: true, downloadedBytes: 0 });
  state.apply({ type: 'layer', id: 'aaaaaaaaaaaa', phase: 'downloading', status: 'Downloading', current: 500, total: 1000 }, 1000);
  state.apply({ type: 'layer', id: 'aaaaaaaaaaaa', phase: 'downloading', status: 'Downloading', current: 1000, total: 1000 }, 2000);
  expect(state.totals(2000).etaSeconds).toBeGreaterThan(0);
  expect(state.totals(2000).knownBytes).toBe(4000);
});

describe('the pull state of real recorded streams', () => {
  test('a fresh pull ends with every layer complete and every byte counted once', () => {
    const state = replay('three-fresh');
    const sizes = announcedSizes('three-fresh');
    const totals = state.totals(10_000);
    expect([...state.layers.keys()].sort()).toEqual([...sizes.keys()].sort());
    expect([...state.layers.values()].every((l) => l.phase === 'complete')).toBe(true);
    expect(totals).toMatchObject({ layers: 3, pulled: 3, reused: 0, sizesKnown: true });
    const sum = [...sizes.values()].reduce((a, b) => a + b, 0);
    expect(totals.downloadedBytes).toBe(sum);
    expect(totals.knownBytes).toBe(sum);
    expect(state.tags).toHaveLength(1);
    expect(state.tags[0].digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(state.tags[0].upToDate).toBe(false);
  });

  test.each(['containerd-eight-slow', 'containerd-forty-fresh'])(
    'Docker 26 (containerd store, %s): layers end at Download complete; once the pull succeeds every one is complete',
    (name) => {
      const state = replay(name);
      const sizes = announcedSizes(name);
      const layers = [...state.layers.values()];
      expect(layers.every((l) => l.phase === 'downloaded')).toBe(true);
      state.succeed();
      const totals = state.totals(60_000);
      expect(totals).toMatchObject({ layers: layers.length, pulled: layers.length, reused: 0 });
      // Bytes only of the layers whose size the engine said; the others are counted as unsized.
      expect(totals.downloadedBytes).toBe([...sizes.values()].reduce((a, b) => a + b, 0));
      expect(totals.unsizedLayers).toBe(layers.length - sizes.size);
    },
  );

  test('Docker 26 (containerd store): a partly present image shows only the layer it fetches', () => {
    const state = replay('containerd-three-partial');
    state.succeed();
    expect(state.totals(10_000)).toMatchObject({ layers: 1, pulled: 1, reused: 0, unsizedLayers: 0 });
  });

  test('layers the engine already has are counted apart from downloads', () => {
    const totals = replay('three-partial').totals(10_000);
    const sizes = announcedSizes('three-partial');
    expect(totals).toMatchObject({ layers: 4, pulled: 1, reused: 3 });
    expect(totals.downloadedBytes).toBe([...sizes.values()].reduce((a, b) => a + b, 0));
  });

  test('an up-to-date pull has no layers and says so', () => {
    const state = replay('three-up-to-date');
    expect(state.layers.size).toBe(0);
    expect(state.tags[0].upToDate).toBe(true);
  });

  test('--all-tags gives one block per tag, each with its digest, and one status at the end', () => {
    const state = replay('three-all-tags');
    expect(state.tags.map((t) => t.tag).sort()).toEqual(['1.0', '1.1']);
    expect(state.tags.every((t) => /^sha256:[0-9a-f]{64}$/.test(t.digest ?? ''))).toBe(true);
    expect(state.tags.at(-1)?.status).toMatch(/^Downloaded newer image for .*\/demo\/three$/);
  });

  test('order of layers is the order of first appearance', () => {
    const state = replay('forty-fresh');
    const firstSeen: string[] = [];
    for (const event of recordedEvents('forty-fresh')) {
      if (event.type === 'layer' && !firstSeen.includes(event.id)) firstSeen.push(event.id);
    }
    expect([...state.layers.keys()]).toEqual(firstSeen);
    expect(firstSeen).toHaveLength(40);
  });

  test('speed and ETA come from the injected clock', () => {
    const state = new PullState(0);
    state.apply({ type: 'layer', id: 'a', phase: 'downloading', status: 'Downloading', current: 0, total: 10_000_000 }, 0);
    for (let t = 1; t <= 10; t++) {
      state.apply({ type: 'layer', id: 'a', phase: 'downloading', status: 'Downloading', current: t * 500_000, total: 10_000_000 }, t * 500);
    }
    const totals = state.totals(5000);
    expect(totals.bytesPerSecond).toBeCloseTo(1_000_000, -3);
    expect(totals.etaSeconds).toBeCloseTo(5, 0);
  });

  test('current beyond total never counts more than the layer size', () => {
    const state = new PullState(0);
    state.apply({ type: 'layer', id: 'a', phase: 'downloading', status: 'Downloading', current: 900, total: 500 }, 1);
    expect(state.totals(2).downloadedBytes).toBe(500);
  });
});
