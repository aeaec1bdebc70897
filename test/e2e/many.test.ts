// Several images, several engines: the real stack's dockerd and podman, its registries.
import { beforeEach, describe, expect, test } from 'vitest';
import { engineHas, removeAllImages, stack } from '../support/stack.js';
import { runDpull } from '../support/run-dpull.js';
import { runInPty } from '../support/pty.js';
import { screenOf } from '../support/screen.js';

const s = stack();
const podmanSocket = s.podmanHost.replace('unix://', '');
const env = { DOCKER_HOST: s.dockerHost };
const three = `${s.registry}/demo/three:1.0`;
const eight = `${s.registry}/demo/eight:1.0`;
const missing = `${s.registry}/demo/missing:1.0`;

beforeEach(async () => {
  await removeAllImages();
  await removeAllImages(podmanSocket);
});

const jsonLines = (stdout: string) => stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('several images at once', () => {
  test('one existing and one missing: exit 1, the good one pulled, the failure listed with its reason', async () => {
    const run = await runDpull(['--no-tty', three, missing], env);
    expect(run.code).toBe(1);
    expect(await engineHas(three)).toBe(true);
    expect(run.stdout).toBe(`${three}\n`);
    const lines = run.stderr.trimEnd().split('\n');
    // Every progress line names its image; the closing list says what failed and why.
    const listAt = lines.indexOf('dpull: 1 of 2 pulls failed:');
    expect(listAt).toBeGreaterThan(0);
    for (const line of lines.slice(0, listAt)) expect(line).toMatch(new RegExp(`^(${three}|${missing})  `));
    expect(lines).toContain(`${three}  Status: Downloaded newer image for ${three}`);
    expect(lines.slice(listAt + 1)).toEqual([`  ${missing}: manifest for ${missing} not found: manifest unknown: manifest unknown`]);
  });

  test('--ignore-pull-failures: exit 0 for what could be pulled, the failure still reported', async () => {
    const run = await runDpull(['-q', '--ignore-pull-failures', missing, three], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${three}\n`);
    expect(run.stderr).toBe(`dpull: warning: 1 of 2 pulls failed (ignored):\n  ${missing}: manifest for ${missing} not found: manifest unknown: manifest unknown\n`);
    expect(await engineHas(three)).toBe(true);
  });

  test('a missing image (1) and an unreachable engine (3): the worst code wins, every failure listed', async () => {
    const absent = `unix://${s.socketPath}.absent`;
    const run = await runDpull(['-q', '-H', s.dockerHost, '-H', absent, three, missing], {});
    expect(run.code).toBe(3);
    expect(run.stdout).toBe(`${three}\n`);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('dpull: 3 of 4 pulls failed:');
    expect(lines.slice(1).map((l) => l.split(': ')[0])).toEqual([`  ${three} (${absent})`, `  ${missing} (${s.dockerHost})`, `  ${missing} (${absent})`]);
    expect(lines[1]).toContain('cannot connect');
  });

  test('the same image named twice is pulled once', async () => {
    const run = await runDpull(['--progress', 'json', three, three], env);
    expect(run.code).toBe(0);
    const results = jsonLines(run.stdout).filter((o) => o.type === 'result');
    expect(results).toHaveLength(1);
  });

  test('pulls run at once by default, one after another with --parallel 1', async () => {
    const slow = [`${s.slowRegistry}/demo/three:1.0`, `${s.slowRegistry}/demo/eight:1.0`];
    const order = async (args: string[]) => {
      await removeAllImages();
      const run = await runDpull(['--progress', 'json', ...args, ...slow], env);
      expect(run.code).toBe(0);
      const events = jsonLines(run.stdout);
      const firstOf = (image: string) => events.findIndex((o) => o.image === image);
      const resultOf = (image: string) => events.findIndex((o) => o.image === image && o.type === 'result');
      return { secondStarts: firstOf(slow[1]), firstEnds: resultOf(slow[0]) };
    };
    const together = await order([]);
    expect(together.secondStarts).toBeLessThan(together.firstEnds);
    const oneByOne = await order(['--parallel', '1']);
    expect(oneByOne.secondStarts).toBeGreaterThan(oneByOne.firstEnds);
  });

  test('on a terminal: a section per image, the failed one marked, a grand total, then the list', async () => {
    const run = await runInPty([eight, missing, three], env, { cols: 140, rows: 40 });
    expect(run.exitCode).toBe(1);
    const screen = await screenOf(run.output, 140, 40, false);
    expect(screen.wrapped).toBe(0);
    const headers = screen.lines.filter((l) => /^[↓✔✘·] /.test(l));
    expect(headers).toEqual([
      expect.stringMatching(new RegExp(`^✔ ${eight}  8 layers pulled · 12\\.0 MB · \\d+s · sha256:[0-9a-f]{12}$`)),
      expect.stringMatching(new RegExp(`^✘ ${missing}  manifest for ${missing} not found`)),
      expect.stringMatching(new RegExp(`^✔ ${three}  3 layers pulled · 9\\.0 MB · \\d+s · sha256:[0-9a-f]{12}$`)),
    ]);
    const total = screen.lines.findIndex((l) => l.startsWith('Total'));
    expect(screen.lines[total]).toMatch(/^Total  2\/3 images pulled · 1 failed · 11\/11 layers · 21\.0\/21\.0 MB · 100% · \d+s$/);
    expect(screen.lines.slice(total + 1)).toEqual([eight, three, 'dpull: 1 of 3 pulls failed:', expect.stringContaining(`  ${missing}: manifest for`)]);
    expect(screen.cursorHidden).toBe(false);
  });

  test('Ctrl-C on a terminal: every running pull stops, the board ends whole, the cursor is shown, exit 130', async () => {
    const slow = [`${s.slowRegistry}/demo/eight:1.0`, `${s.slowRegistry}/demo/forty:1.0`];
    const run = await runInPty(slow, env, { cols: 120, rows: 30 }, { act: { when: (out) => out.includes('Downloading'), act: (term) => term.write('\x03') } });
    expect(run.exitCode).toBe(130);
    const screen = await screenOf(run.output, 120, 30, false);
    expect(screen.cursorHidden).toBe(false);
    expect(screen.lines.filter((l) => /^[↓✔✘·] /.test(l)).slice(0, -1)).toEqual(slow.map((ref) => `✘ ${ref}  interrupted`));
    expect(screen.lines.at(-2)).toMatch(/^Total  0\/2 images pulled · 2 interrupted · /);
    expect(screen.lines.at(-1)).toBe('✘ interrupted — the engine cancelled the pull');
    for (const ref of slow) expect(await engineHas(ref)).toBe(false);
  });
});

describe('one image on several engines', () => {
  test('dockerd and podman both have the image afterwards; json names the engine on every line', async () => {
    const run = await runDpull(['--progress', 'json', '-H', s.dockerHost, '-H', s.podmanHost, eight], {});
    expect(run.code).toBe(0);
    expect(await engineHas(eight)).toBe(true);
    expect(await engineHas(eight, podmanSocket)).toBe(true);
    const events = jsonLines(run.stdout);
    expect(new Set(events.map((o) => o.engine))).toEqual(new Set([s.dockerHost, s.podmanHost]));
    const results = events.filter((o) => o.type === 'result');
    expect(results.map((o) => [o.engine, o.reference])).toEqual(
      expect.arrayContaining([
        [s.dockerHost, eight],
        [s.podmanHost, eight],
      ]),
    );
  });

  test('plain: every line names image and engine; two images on two engines are four pulls', async () => {
    const run = await runDpull(['--no-tty', '-H', s.dockerHost, '-H', s.podmanHost, three, eight], {});
    expect(run.code).toBe(0);
    const summaries = run.stderr.split('\n').filter((l) => / {2}Pulled /.test(l));
    expect(summaries.map((l) => l.split('  ')[0]).sort()).toEqual(
      [`${eight} (${s.dockerHost})`, `${eight} (${s.podmanHost})`, `${three} (${s.dockerHost})`, `${three} (${s.podmanHost})`].sort(),
    );
    for (const line of run.stderr.trimEnd().split('\n')) expect(line).toMatch(/^\S+ \((unix:\/\/\S+)\) {2}/);
    for (const ref of [three, eight]) {
      expect(await engineHas(ref)).toBe(true);
      expect(await engineHas(ref, podmanSocket)).toBe(true);
    }
  });
});
