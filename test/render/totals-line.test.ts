// The totals line at every moment of real pulls: 100% only when the pull is done.
import { expect, test } from 'vitest';
import { PullState } from '../../src/state/pull-state.js';
import { totalsParts } from '../../src/render/tty/frame.js';
import { recordedEvents } from '../support/replay.js';

/** The totals line after each event of a recording (and after the engine's end, for the last). */
function linesOf(name: string): { line: string; done: boolean }[] {
  const state = new PullState(0);
  const events = recordedEvents(name);
  const lines = events.map((event, i) => {
    state.apply(event, (i + 1) * 50);
    const totals = state.totals((i + 1) * 50);
    return { line: totalsParts(totals).join(' · '), done: totals.pulled + totals.reused === totals.layers };
  });
  state.succeed();
  const totals = state.totals(events.length * 50 + 50);
  lines.push({ line: totalsParts(totals).join(' · '), done: totals.pulled + totals.reused === totals.layers });
  return lines;
}

test.each(['three-fresh', 'forty-fresh', 'eight-slow', 'containerd-eight-slow', 'containerd-forty-fresh'])(
  '%s: 100%% appears only once every layer is done; while layers unpack the line says so',
  (name) => {
    const lines = linesOf(name);
    for (const { line, done } of lines) if (line.includes('100%')) expect(done, line).toBe(true);
    expect(lines.some(({ line }) => /\d+(\.\d)? [kM]?B downloaded · unpacking \d+ layers?/.test(line))).toBe(true);
    expect(lines.at(-1)!.done).toBe(true);
  },
);

test('Docker 26 unpacks in silence after the last download: the line says every layer is unpacking', () => {
  const lines = linesOf('containerd-eight-slow');
  // The last line before the pull's end: all bytes in, nothing complete yet.
  expect(lines.at(-2)!.line).toMatch(/^0\/8 layers · 12\.0 MB downloaded · unpacking 8 layers · /);
});

test('fetched and on its way into the engine (--load, containerd): the line says sending, not a finished 100%', () => {
  const state = new PullState(0);
  state.apply({ type: 'layer', id: 'aaaaaaaaaaaa', phase: 'pending', status: 'Pulling fs layer', total: 2_000_000 }, 10);
  state.apply({ type: 'layer', id: 'aaaaaaaaaaaa', phase: 'downloading', status: 'Downloading', current: 1_000_000, total: 2_000_000 }, 20);
  state.apply({ type: 'sending', engine: 'containerd:///run/containerd/containerd.sock', sentBytes: 0, totalBytes: 2_001_000, layers: 1 }, 30);
  // Still fetching: the download is what moves.
  expect(totalsParts(state.totals(40)).join(' · ')).toMatch(/^0\/1 layers · 1\.0\/2\.0 MB · 50%/);
  state.apply({ type: 'layer', id: 'aaaaaaaaaaaa', phase: 'complete', status: 'Pull complete' }, 50);
  state.apply({ type: 'sending', engine: 'containerd:///run/containerd/containerd.sock', sentBytes: 800_000, totalBytes: 2_001_000, layers: 1 }, 60);
  expect(totalsParts(state.totals(1060)).join(' · ')).toBe('1/1 layers · 2.0 MB downloaded · sending 0.8/2.0 MB · 39% · 1s');
  state.apply({ type: 'load', engine: 'containerd:///run/containerd/containerd.sock', sentBytes: 2_001_000, skippedBytes: 0, upToDate: false }, 70);
  expect(totalsParts(state.totals(1070)).join(' · ')).toBe('1/1 layers · 2.0/2.0 MB · 100% · 1s');
});
