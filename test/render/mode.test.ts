import { describe, expect, test } from 'vitest';
import { pickMode, type ProgressChoice } from '../../src/render/renderer.js';
import { requestedProgress, type CliOptions } from '../../src/cli/options.js';
import { colours } from '../../src/render/colour.js';
import { DpullError } from '../../src/errors.js';

const stream = (isTTY: boolean) => ({ isTTY }) as NodeJS.WriteStream;
const options = (o: Partial<CliOptions>): CliOptions => ({ image: 'x', allTags: false, quiet: false, tty: true, ...o });

describe('the output mode matrix', () => {
  // [flags, env, stderr is a terminal, expected renderer]
  test.each<[Partial<CliOptions>, NodeJS.ProcessEnv, boolean, string]>([
    [{}, {}, true, 'tty'],
    [{}, {}, false, 'plain'],
    [{}, { TERM: 'dumb' }, true, 'plain'],
    [{}, { CI: 'true' }, true, 'tty'],
    [{}, { CI: 'true' }, false, 'plain'],
    [{}, { NO_COLOR: '1' }, true, 'tty'],
    [{}, { FORCE_COLOR: '1' }, false, 'plain'],
    [{ tty: false }, {}, true, 'plain'],
    [{ quiet: true }, {}, true, 'quiet'],
    [{ quiet: true }, {}, false, 'quiet'],
    [{ progress: 'json' }, {}, true, 'json'],
    [{ progress: 'tty' }, {}, false, 'tty'],
    [{ progress: 'plain' }, {}, true, 'plain'],
    [{ progress: 'quiet' }, {}, true, 'quiet'],
    [{ progress: 'auto' }, { TERM: 'dumb' }, true, 'plain'],
    [{}, { DPULL_PROGRESS: 'json' }, true, 'json'],
    [{ progress: 'plain' }, { DPULL_PROGRESS: 'json' }, true, 'plain'],
    [{ tty: false }, { DPULL_PROGRESS: 'json' }, true, 'plain'],
    [{ quiet: true, progress: 'quiet' }, {}, true, 'quiet'],
  ])('%j with %j, terminal: %s → %s', (flags, env, isTTY, expected) => {
    expect(pickMode(requestedProgress(options(flags), env), stream(isTTY), env)).toBe(expected);
  });

  test.each<[Partial<CliOptions>, NodeJS.ProcessEnv, string]>([
    [{ quiet: true, progress: 'json' }, {}, 'conflicting output modes: json, quiet (choose one)'],
    [{ quiet: true, tty: false }, {}, 'conflicting output modes: quiet, plain (choose one)'],
    [{}, { DPULL_PROGRESS: 'fancy' }, 'invalid DPULL_PROGRESS "fancy": expected one of auto, tty, plain, json, quiet'],
  ])('%j with %j is a usage error', (flags, env, message) => {
    expect(() => requestedProgress(options(flags), env)).toThrowError(new DpullError(message, 2));
  });
});

describe('colour', () => {
  test.each<[NodeJS.ProcessEnv, boolean, boolean, number]>([
    [{}, true, true, 1],
    [{}, false, true, 0],
    [{ NO_COLOR: '1' }, true, true, 0],
    [{ NO_COLOR: '' }, true, true, 1],
    [{ TERM: 'dumb' }, true, true, 0],
    [{ FORCE_COLOR: '1' }, false, true, 1],
    [{ FORCE_COLOR: '1', NO_COLOR: '1' }, false, true, 1],
    [{ FORCE_COLOR: '0' }, true, true, 0],
    [{}, true, false, 0], // plain mode on a terminal: no colour unless forced
    [{ FORCE_COLOR: '1' }, false, false, 1],
  ])('%j, terminal %s, auto %s → level %i', (env, isTTY, auto, level) => {
    expect(colours(stream(isTTY), env, auto).level).toBe(level);
  });
});
