// dpull on a real terminal: a pseudo-terminal whose bytes go into a terminal emulator, and tmux.
import { paneAfter } from '../support/tmux.js';
import { beforeEach, describe, expect, test } from 'vitest';
import { inspectImage, removeAllImages, stack } from '../support/stack.js';
import { runInPty } from '../support/pty.js';
import { screenOf, someFrameShows } from '../support/screen.js';
import { dpullBin, dpullNode } from '../support/run-dpull.js';

const s = stack();
const env = { DOCKER_HOST: s.dockerHost };

beforeEach(() => removeAllImages());

describe('on a terminal', () => {
  test('a throttled 8-layer pull redraws in place and ends with every layer complete', async () => {
    const ref = `${s.slowRegistry}/demo/eight:1.0`;
    const run = await runInPty([ref], env, { cols: 100, rows: 30 });
    expect(run.exitCode).toBe(0);
    expect(run.output).toContain('\x1b[?2026h'); // frames in synchronized output
    const screen = await screenOf(run.output, 100, 30, false);
    expect(screen.wrapped).toBe(0);
    expect(screen.lines[0]).toBe(`Pulling ${ref}`);
    const layerRows = screen.lines.filter((l) => /^[0-9a-f]{12}  /.test(l));
    expect(layerRows).toHaveLength(8);
    for (const row of layerRows) expect(row).toMatch(/^[0-9a-f]{12}  Pull complete\s+1\.5 MB$/);
    expect(screen.lines).toContainEqual(expect.stringMatching(/^8\/8 layers · 12\.0\/12\.0 MB · 100% · \d+s$/));
    expect(screen.lines).toContainEqual(expect.stringMatching(/^Digest: sha256:[0-9a-f]{64}$/));
    expect(screen.lines).toContain(`Status: Downloaded newer image for ${ref}`);
    expect(screen.lines.at(-1)).toBe(ref);
    expect(screen.cursorHidden).toBe(false);
    // The display moved while the pull ran: a frame showed a partly filled bar.
    const partlyFilled = (lines: string[]) => lines.some((l) => /Downloading\s+█+░+/.test(l));
    expect(await someFrameShows(run.output, 100, 30, partlyFilled, false)).toBe(true);
    expect(await inspectImage(ref)).toBeDefined();
  });

  test('Ctrl-C mid-pull aborts the request, restores the cursor and exits 130', async () => {
    const ref = `${s.slowRegistry}/demo/three:1.0`;
    const run = await runInPty([ref], env, { cols: 100, rows: 30 }, {
      act: { when: (out) => out.includes('█'), act: (term) => term.write('\x03') },
    });
    expect(run.exitCode).toBe(130);
    const screen = await screenOf(run.output, 100, 30, false);
    expect(screen.cursorHidden).toBe(false);
    expect(screen.lines.some((l) => l.includes('Downloading'))).toBe(true);
    expect(screen.lines.some((l) => l.startsWith('Status:'))).toBe(false);
    expect(screen.lines.some((l) => l.startsWith('dpull:'))).toBe(false);
    // The engine cancelled the pull: well past the time the whole pull takes, no image exists.
    await new Promise((r) => setTimeout(r, 4000));
    expect(await inspectImage(ref)).toBeUndefined();
  });

  test('--no-tty gives plain lines with no escape bytes even on a terminal', async () => {
    const ref = `${s.registry}/demo/three:1.0`;
    const run = await runInPty(['--no-tty', ref], env, { cols: 100, rows: 30 });
    expect(run.exitCode).toBe(0);
    expect(run.output).not.toContain('\x1b');
    expect(run.output).toContain(`${ref}  Status: Downloaded newer image for ${ref}`);
  });

  test('in tmux, the pane shows the finished pull', async () => {
    const ref = `${s.slowRegistry}/demo/three:1.0`;
    const lines = await paneAfter(`env DOCKER_HOST=${s.dockerHost} ${dpullNode()} ${dpullBin} ${ref}`, { cols: 90, rows: 20 });
    expect(lines).toContain('exit=0');
    expect(lines[0]).toBe(`Pulling ${ref}`);
    expect(lines.filter((l) => /^[0-9a-f]{12}  Pull complete/.test(l))).toHaveLength(3);
    expect(lines).toContainEqual(expect.stringMatching(/^3\/3 layers · 9\.0\/9\.0 MB · 100% · \d+s$/));
    expect(lines).toContain(`Status: Downloaded newer image for ${ref}`);
    expect(lines.filter((l) => l.startsWith('Pulling '))).toHaveLength(1);
  });
});
