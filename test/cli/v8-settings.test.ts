import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { runCli } from '../../src/cli/run.js';
import { setRegistryPullSettings } from '../../src/v8-settings.js';

// The command's V8 settings for a registry pull (bin/v8-settings.js: no optimizing compiler) are
// one per process: a command that also streams from an engine keeps V8's, which its floods need.
describe("a command's V8 settings", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(`${tmpdir()}/dpull-v8-settings-`);
  });
  afterEach(() => {
    setRegistryPullSettings(undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (hosts: string[]) => {
    const use = vi.fn();
    setRegistryPullSettings(use);
    let err = '';
    const stderr = new Writable({ write: (chunk, _enc, done) => ((err += chunk), done()) });
    const stdout = new Writable({ write: (_chunk, _enc, done) => done() });
    // Nothing listens at either address: each pull fails at once, after it has started.
    const code = await runCli([...hosts.flatMap((h) => ['-H', h]), '--no-tty', '--timeout', '5', '127.0.0.1:9/demo/three:1.0'], {
      stdout,
      stderr,
      env: { DOCKER_CONFIG: `${dir}/docker`, XDG_CACHE_HOME: `${dir}/cache`, HOME: dir },
      clock: () => performance.now(),
    });
    return { code, err, used: use.mock.calls.length };
  };

  test('a pull from the registry into containerd switches to the registry pull settings', async () => {
    const { code, err, used } = await run(['containerd:///nonexistent/containerd.sock']);
    expect(err).toMatch(/containerd/);
    expect(code).toBe(3);
    expect(used).toBe(1);
  });

  test("beside an engine's stream in the same command, it keeps V8's", async () => {
    const { code, err, used } = await run(['unix:///nonexistent/docker.sock', 'containerd:///nonexistent/containerd.sock']);
    expect(err).toMatch(/2 of 2 pulls failed/);
    expect(code).toBe(3);
    expect(used).toBe(0);
  });
});
