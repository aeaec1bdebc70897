import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { TtyRenderer } from '../../src/render/tty/tty-renderer.js';
import { FRAME_INTERVAL_MS } from '../../src/render/tty/live-region.js';
import { PullState } from '../../src/state/pull-state.js';
import type { Outcome } from '../../src/render/renderer-interface.js';
import { pullError } from '../../src/errors.js';
import { FakeTty, asWriteStream } from '../support/fake-tty.js';
import { recordedEvents } from '../support/replay.js';
import { screenAfter, screenOf } from '../support/screen.js';

let now = 0;
afterEach(() => vi.useRealTimers());

/** Replays a recording through the TTY renderer, 20 ms of clock between events, and returns what the terminal got. */
function replay(
  name: string,
  columns: number,
  rows: number,
  opts: { outcome?: Outcome; stopAfter?: number; resizeAt?: { event: number; columns: number; rows: number }; storm?: { event: number; columns: number; rows: number }[] } = {},
) {
  vi.useFakeTimers();
  now = 0;
  const tty = new FakeTty(columns, rows);
  const renderer = new TtyRenderer({
    stream: asWriteStream(tty),
    out: new PassThrough(),
    label: 'registry.local/demo/app:1.0',
    reference: 'registry.local/demo/app:1.0',
    clock: () => now,
    env: {},
  });
  const state = new PullState(0);
  renderer.start('unix:///var/run/docker.sock');
  const events = recordedEvents(name).slice(0, opts.stopAfter);
  let beforeResize = '';
  const steps: { bytes: string; cols: number; rows: number }[] = [];
  let stepStart = 0;
  for (const [index, event] of events.entries()) {
    if (opts.resizeAt?.event === index) {
      beforeResize = tty.output;
      tty.resize(opts.resizeAt.columns, opts.resizeAt.rows);
    }
    for (const size of opts.storm?.filter((r) => r.event === index) ?? []) {
      steps.push({ bytes: tty.output.slice(stepStart), cols: tty.columns, rows: tty.rows });
      stepStart = tty.output.length;
      tty.resize(size.columns, size.rows);
    }
    now += 20;
    vi.advanceTimersByTime(20);
    state.apply(event, now);
    renderer.update(state, [event]);
  }
  renderer.finish(state, opts.outcome ?? { kind: 'pulled' });
  steps.push({ bytes: tty.output.slice(stepStart), cols: tty.columns, rows: tty.rows });
  vi.useRealTimers(); // the terminal emulator runs on real timers
  return { tty, state, output: tty.output, beforeResize, steps };
}

/** Lines of the live display the terminal had to wrap: none may be (what is printed for good may). */
const liveLinesWrapped = (screen: { wrappedLines: string[] }) => screen.wrappedLines.filter((l) => !/^(Digest|Status): |^✔ /.test(l));

describe('the live display on a terminal', () => {
  test.each([40, 80, 120, 200])('at %i columns no line is wider than the terminal and every layer ends complete', async (columns) => {
    const { output, state } = replay('three-fresh', columns, 30);
    const screen = await screenOf(output, columns, 30);
    // Only the lines printed for good may wrap: they are printed whole.
    expect(liveLinesWrapped(screen)).toEqual([]);
    for (const id of state.layers.keys()) {
      const rows = screen.lines.filter((l) => l.startsWith(id.slice(0, Math.min(12, columns - 2))));
      expect(rows).toHaveLength(1);
      if (columns >= 40) expect(rows[0]).toContain('Pull complete');
    }
    expect(screen.lines.filter((l) => l.startsWith('Pulling '))).toHaveLength(1);
    expect(screen.lines.some((l) => l.startsWith('Digest: sha256:'))).toBe(true);
    expect(screen.cursorHidden).toBe(false);
  });

  test('a progress bar is drawn at 120 columns and dropped for the numbers alone at 40', async () => {
    const wide = await screenOf(replay('three-fresh', 120, 30, { stopAfter: 20 }).output, 120, 30);
    expect(wide.lines.some((l) => /Downloading\s+█+░*\s+\d/.test(l))).toBe(true);
    const narrow = await screenOf(replay('three-fresh', 40, 30, { stopAfter: 20 }).output, 40, 30);
    expect(narrow.lines.some((l) => l.includes('Downloading') && !l.includes('█'))).toBe(true);
    expect(liveLinesWrapped(narrow)).toEqual([]);
  });

  test('a 40-layer pull in a 12-row terminal leaves no stale rows', async () => {
    const { output, state } = replay('forty-fresh', 80, 12);
    const screen = await screenOf(output, 80, 12);
    expect(screen.wrapped).toBe(0);
    expect(screen.lines.filter((l) => l.startsWith('Pulling '))).toHaveLength(1);
    for (const id of state.layers.keys()) {
      expect(screen.lines.filter((l) => l.startsWith(id))).toEqual([expect.stringContaining('Pull complete')]);
    }
    expect(screen.lines.filter((l) => l.startsWith('…'))).toHaveLength(0);
  });

  test('mid-pull, a 40-layer pull in 12 rows fits the screen with the rest folded into one line', async () => {
    const { output } = replay('forty-fresh', 80, 12, { stopAfter: 120, outcome: { kind: 'interrupted', exitCode: 130 } });
    // Everything before the final frame: the frame as the user watched it.
    const lastFrame = output.slice(0, output.lastIndexOf('\x1b[?2026h'));
    const screen = await screenOf(lastFrame, 80, 12);
    expect(screen.lines.length).toBeLessThanOrEqual(11);
    expect(screen.lines[0]).toBe('Pulling registry.local/demo/app:1.0');
    expect(screen.lines.some((l) => /^… \d+ /.test(l))).toBe(true);
    expect(screen.lines.at(-1)).toMatch(/^\d+\/40 layers/);
  });

  test('the display is redrawn at most every 150 ms, however many events arrive', () => {
    expect(FRAME_INTERVAL_MS).toBe(150);
    const { output } = replay('forty-fresh', 80, 60);
    const frames = output.split('\x1b[?2026h').length - 1;
    const events = recordedEvents('forty-fresh').length;
    // 20 ms between events: one frame at once, then at most one per 150 ms (7.5 events), plus the final one.
    expect(frames).toBeLessThanOrEqual(Math.ceil((events * 20) / 150) + 2);
    expect(frames).toBeGreaterThan(Math.floor((events * 20) / 250)); // and no fewer than one per 250 ms
  });

  test('a change too soon after a frame is drawn by the next data after the interval, or 250 ms after the frame at the latest', () => {
    vi.useFakeTimers();
    now = 0;
    const tty = new FakeTty(80, 20);
    const renderer = new TtyRenderer({ stream: asWriteStream(tty), out: new PassThrough(), label: 'x:1', reference: 'x:1', clock: () => now, env: {} });
    const state = new PullState(0);
    renderer.start('unix:///var/run/docker.sock');
    const events = recordedEvents('three-fresh');
    const frames = () => tty.output.split('\x1b[?2026h').length - 1;
    const step = (ms: number, index: number) => {
      now += ms;
      vi.advanceTimersByTime(ms);
      state.apply(events[index], now);
      renderer.update(state, [events[index]]);
    };
    step(0, 0);
    expect(frames()).toBe(1); // the first at once
    step(100, 1); // too soon: waits
    expect(frames()).toBe(1);
    step(100, 2); // 200 ms after the frame: this data draws it, no timer of its own
    expect(frames()).toBe(2);
    step(100, 3); // too soon again, and nothing follows
    vi.advanceTimersByTime(149);
    now += 149;
    expect(frames()).toBe(2);
    vi.advanceTimersByTime(1);
    expect(frames()).toBe(3); // 250 ms after the last frame
    renderer.finish(state, { kind: 'interrupted', exitCode: 130 });
    vi.useRealTimers();
  });

  test('a failed pull leaves the unfinished layers marked and the cursor shown', async () => {
    const outcome: Outcome = { kind: 'failed', error: pullError('registry went away') };
    const { output } = replay('three-fresh', 80, 30, { stopAfter: 15, outcome });
    const screen = await screenOf(output, 80, 30);
    expect(screen.cursorHidden).toBe(false);
    expect(screen.lines.some((l) => l.includes('Downloading'))).toBe(true);
    expect(screen.lines.some((l) => l.startsWith('Status:'))).toBe(false);
    expect(screen.lines.at(-1)).toBe('dpull: registry went away');
  });

  test('the totals line shows layers, bytes and percent', async () => {
    const { output } = replay('three-partial', 100, 30);
    const screen = await screenOf(output, 100, 30);
    expect(screen.lines.find((l) => /^\d+\/\d+ layers/.test(l))).toMatch(/^4\/4 layers · 3 reused · 2\.0\/2\.0 MB · 100% · /);
  });

  test.each([
    [120, 50],
    [50, 120],
  ])('a resize from %i to %i columns mid-pull leaves no fragments of the old layout', async (from, to) => {
    const { output, beforeResize, state } = replay('three-fresh', from, 30, { resizeAt: { event: 25, columns: to, rows: 30 } });
    const screen = await screenAfter([
      { bytes: beforeResize, cols: from, rows: 30 },
      { bytes: output.slice(beforeResize.length), cols: to, rows: 30 },
    ]);
    expect(screen.logical.filter((l) => l.startsWith('Pulling '))).toHaveLength(1);
    for (const id of state.layers.keys()) {
      expect(screen.logical.filter((l) => l.includes(id))).toEqual([expect.stringMatching(new RegExp(`^${id}  Pull complete`))]);
    }
    // Every line is one the final frame or the result wrote: nothing left over from before.
    const known = /^(Pulling |[0-9a-f]{12}  |\d+\/\d+ layers|Digest: |Status: |✔ registry\.local\/demo\/app:1\.0  pulled in )/;
    expect(screen.logical.filter((l) => !known.test(l))).toEqual([]);
    expect(liveLinesWrapped(screen)).toEqual([]);
  });

  test('at 50 columns the digest and status stay whole in the scrollback (wrapped, not cut)', async () => {
    const { output, state } = replay('three-fresh', 50, 30);
    const screen = await screenOf(output, 50, 30);
    expect(screen.logical).toContain(`Digest: ${state.tags[0].digest}`);
    expect(screen.logical).toContain(`Status: ${state.tags[0].status}`);
    expect(screen.logical.some((l) => l.includes('…'))).toBe(false);
  });

  test('Ctrl-C with 40 layers in 15 rows: the frame as it was on screen and one line saying so', async () => {
    const { output } = replay('forty-fresh', 80, 15, { stopAfter: 120, outcome: { kind: 'interrupted', exitCode: 130 } });
    const screen = await screenOf(output, 80, 15);
    const layerRows = screen.lines.filter((l) => /^[0-9a-f]{12}  /.test(l));
    expect(layerRows.length).toBeLessThanOrEqual(15);
    expect(screen.lines.some((l) => /^… \d+ /.test(l))).toBe(true);
    expect(screen.lines.at(-1)).toBe('✘ interrupted — the engine cancelled the pull');
    expect(screen.lines.filter((l) => l.startsWith('Pulling '))).toHaveLength(1);
    expect(screen.cursorHidden).toBe(false);
  });

  test('a resize storm (60 resizes 50 ms apart, heights 3 to 32): the screen after it is one clean frame', async () => {
    // Heights from a fixed pseudo-random walk, one resize every event or so, mid-pull.
    let seed = 7;
    const storm = Array.from({ length: 60 }, (_, i) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return { event: 20 + i * 2, columns: 80, rows: 3 + (seed % 30) };
    });
    const { steps } = replay('forty-fresh', 80, 24, { stopAfter: 160, storm, outcome: { kind: 'interrupted', exitCode: 130 } });
    const screen = await screenAfter(steps);
    const known = /^(Pulling registry\.local\/demo\/app:1\.0$|[0-9a-f]{12}  |… \d+ |\d+\/40 layers|✘ interrupted — the engine cancelled the pull$)/;
    const view = screen.viewport.filter((l) => l !== '');
    expect(view.filter((l) => !known.test(l))).toEqual([]);
    // The header may have scrolled off a short terminal with the closing line; never twice.
    expect(view.filter((l) => l.startsWith('Pulling ')).length).toBeLessThanOrEqual(1);
    const ids = view.filter((l) => /^[0-9a-f]{12}  /.test(l)).map((l) => l.slice(0, 12));
    expect(new Set(ids).size).toBe(ids.length);
    expect(view.at(-1)).toBe('✘ interrupted — the engine cancelled the pull');
  });
});
