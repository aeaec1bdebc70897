import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { TtyBoard } from '../../src/render/tty/tty-board.js';
import { PullState } from '../../src/state/pull-state.js';
import type { Outcome } from '../../src/render/renderer-interface.js';
import { pullError } from '../../src/errors.js';
import { FakeTty, asWriteStream } from '../support/fake-tty.js';
import { recordedEvents } from '../support/replay.js';
import { screenOf } from '../support/screen.js';

afterEach(() => vi.useRealTimers());

interface Replayed {
  name: string;
  outcome?: Outcome;
  engine?: string;
}

/**
 * Several recordings through one board at once, their events interleaved one by one with 20 ms
 * of clock between events; `stopAfter` steps of the interleaving, then (unless stopped) each
 * pull finishes with its outcome and the board closes.
 */
function replayMany(pulls: Replayed[], columns: number, rows: number, stopAfter = Infinity) {
  vi.useFakeTimers();
  let now = 0;
  const tty = new FakeTty(columns, rows);
  const board = new TtyBoard({ stream: asWriteStream(tty), out: new PassThrough(), clock: () => now, env: {} }, pulls.length);
  const running = pulls.map((p) => ({
    ...p,
    renderer: board.renderer({ label: `registry.local/demo/${p.name}`, reference: '', ...(p.engine && { engine: p.engine }) }),
    state: new PullState(0),
    events: recordedEvents(p.name),
  }));
  for (const pull of running) pull.renderer.start('unix:///var/run/docker.sock');
  let step = 0;
  for (let i = 0; step < stopAfter && running.some((p) => i < p.events.length); i++) {
    for (const pull of running) {
      if (i >= pull.events.length || step++ >= stopAfter) continue;
      now += 20;
      vi.advanceTimersByTime(20);
      pull.state.apply(pull.events[i], now);
      pull.renderer.update(pull.state, [pull.events[i]]);
      if (i === pull.events.length - 1) pull.renderer.finish(pull.state, pull.outcome ?? { kind: 'pulled' });
    }
  }
  vi.advanceTimersByTime(200);
  if (stopAfter === Infinity) board.close();
  vi.useRealTimers(); // the terminal emulator runs on real timers
  return { output: tty.output, running };
}

const headers = (lines: string[]) => lines.filter((l) => /^[↓✔✘·] /.test(l));

describe('several pulls on one terminal', () => {
  test('a section per image with its layers, a grand total last, nothing wider than the terminal', async () => {
    const { output } = replayMany([{ name: 'three-fresh' }, { name: 'three-partial' }, { name: 'three-up-to-date' }], 100, 40);
    const screen = await screenOf(output, 100, 40);
    expect(screen.wrapped).toBe(0);
    expect(headers(screen.lines)).toEqual([
      expect.stringMatching(/^✔ registry\.local\/demo\/three-fresh  3 layers pulled · 9\.0 MB · \d+s$/),
      expect.stringMatching(/^✔ registry\.local\/demo\/three-partial  1 layer pulled · 3 reused · /),
      expect.stringMatching(/^✔ registry\.local\/demo\/three-up-to-date  up to date$/),
    ]);
    // Each header is followed by its own layers, indented.
    const fresh = screen.lines.indexOf(headers(screen.lines)[0]);
    expect(screen.lines.slice(fresh + 1, fresh + 4)).toEqual(Array(3).fill(expect.stringMatching(/^  [0-9a-f]{12}  Pull complete/)));
    expect(screen.lines.filter((l) => l.startsWith('Total'))).toEqual([expect.stringMatching(/^Total  3\/3 images pulled · 7\/7 layers · 3 reused · /)]);
    expect(screen.lines.at(-1)).toMatch(/^Total /);
    expect(screen.cursorHidden).toBe(false);
  });

  test('a failed pull says why on its header; the others finish', async () => {
    const error = pullError('manifest for registry.local/demo/missing:1.0 not found: manifest unknown');
    const { output } = replayMany([{ name: 'three-fresh' }, { name: 'three-partial', outcome: { kind: 'failed', error } }], 80, 30);
    const screen = await screenOf(output, 80, 30);
    expect(headers(screen.lines)).toEqual([
      expect.stringMatching(/^✔ registry\.local\/demo\/three-fresh  3 layers pulled/),
      expect.stringMatching(/^✘ registry\.local\/demo\/three-partial  manifest for registry\.local\/demo\/missing.*…$/),
    ]);
    expect(screen.lines.at(-1)).toMatch(/^Total  1\/2 images pulled · 1 failed · /);
  });

  test('sections are labelled by engine when a run has several', async () => {
    const { output } = replayMany([{ name: 'three-fresh', engine: 'podman' }, { name: 'three-fresh', engine: 'build1' }], 100, 30);
    const screen = await screenOf(output, 100, 30);
    expect(headers(screen.lines).map((l) => l.split('  ')[0])).toEqual([
      '✔ registry.local/demo/three-fresh (podman)',
      '✔ registry.local/demo/three-fresh (build1)',
    ]);
    // One image twice: the total counts pulls.
    expect(screen.lines.at(-1)).toMatch(/^Total  2\/2 pulls complete · /);
  });

  test('short of rows, a finished image folds to its header and the running one keeps the rest', async () => {
    // three-fresh has finished by step 150; forty-fresh is still downloading.
    const { output, running } = replayMany([{ name: 'three-fresh' }, { name: 'forty-fresh' }], 80, 12, 150);
    expect(running[0].state.layers.size).toBe(3);
    const screen = await screenOf(output, 80, 12);
    expect(screen.wrapped).toBe(0);
    const frame = screen.viewport.filter((l) => l !== '');
    expect(frame.length).toBeLessThanOrEqual(11);
    expect(frame[0]).toMatch(/^✔ registry\.local\/demo\/three-fresh  3 layers pulled/);
    expect(frame[1]).toMatch(/^↓ registry\.local\/demo\/forty-fresh  \d+\/40 layers/);
    expect(frame.slice(2, -2).every((l) => /^  [0-9a-f]{12}  /.test(l))).toBe(true);
    expect(frame.at(-2)).toMatch(/^  … (\d+ \w+(, )?)+$/);
    expect(frame.at(-1)).toMatch(/^Total  1\/2 images pulled · 1 running · /);
    // The screen holds the one frame: no stale copy of a header or the total above it.
    expect(screen.lines.filter((l) => l.startsWith('Total'))).toHaveLength(1);
  });

  test('more images than rows: the running ones are shown, the rest counted in one line', async () => {
    const pulls = Array.from({ length: 12 }, (_, i) => ({ name: i === 0 ? 'forty-fresh' : 'three-up-to-date' }));
    const { output } = replayMany(pulls, 80, 8, 40);
    const screen = await screenOf(output, 80, 8);
    const frame = screen.viewport.filter((l) => l !== '');
    expect(frame.length).toBeLessThanOrEqual(7);
    expect(frame[0]).toMatch(/^↓ registry\.local\/demo\/forty-fresh /);
    expect(frame).toContainEqual(expect.stringMatching(/^… \d+ more images: \d+ pulled/));
    expect(frame.at(-1)).toMatch(/^Total  11\/12 images pulled · 1 running · /);
  });
});
