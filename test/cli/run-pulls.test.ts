import { describe, expect, test } from 'vitest';
import { exitCodeOf, failureList } from '../../src/cli/run-pulls.js';
import { planPulls } from '../../src/cli/pull-plan.js';
import { DpullError, ExitCode } from '../../src/errors.js';
import type { Outcome } from '../../src/render/renderer.js';

const pulled: Outcome = { kind: 'pulled' };
const failed = (code: 1 | 2 | 3, message = 'why'): Outcome => ({ kind: 'failed', error: new DpullError(message, code) });
const interrupted: Outcome = { kind: 'interrupted', exitCode: ExitCode.interrupted };

describe('the exit code of several pulls', () => {
  test.each([
    [[pulled, pulled], false, 0],
    [[pulled, failed(1)], false, 1],
    [[failed(1), failed(3), pulled], false, 3],
    [[failed(3), failed(1)], false, 3],
    [[failed(1), interrupted, failed(3)], false, 130],
    [[pulled, failed(1), failed(3)], true, 0],
    [[pulled, failed(2)], true, 2],
    [[failed(1), interrupted], true, 130],
  ] as const)('%j, ignoring pull failures: %s → %i', (outcomes, ignore, code) => {
    expect(exitCodeOf([...outcomes], ignore)).toBe(code);
  });
});

describe('the closing list of failures', () => {
  const plans = planPulls(['redis:7', 'nginx:1.27'], { hosts: ['unix:///run/a.sock', 'tcp://127.0.0.1:2375'], contexts: [] }, { env: {} });

  test('names each failed pull with its engine and says why, in full', () => {
    const outcomes = [pulled, failed(3, 'cannot connect to the Docker engine at tcp://127.0.0.1:2375: connection refused'), failed(1, 'manifest unknown'), pulled];
    expect(failureList(plans, outcomes, false)).toBe(
      'dpull: 2 of 4 pulls failed:\n' +
        '  redis:7 (tcp://127.0.0.1:2375): cannot connect to the Docker engine at tcp://127.0.0.1:2375: connection refused\n' +
        '  nginx:1.27 (unix:///run/a.sock): manifest unknown\n',
    );
  });

  test('is a warning when failures are ignored, and nothing when none failed', () => {
    expect(failureList(plans, [pulled, pulled, failed(1), pulled], true)).toMatch(/^dpull: warning: 1 of 4 pulls failed \(ignored\):\n/);
    expect(failureList(plans, [pulled, pulled, pulled, interrupted], false)).toBe('');
  });
});
