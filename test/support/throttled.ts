// The stack's throttling proxy (scripts/throttle-proxy.mjs) started by a test in front of the open
// registry at a rate of its own, on a free port: a pull that lasts long enough to interrupt.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

const running = new Set<ChildProcess>();
afterEach(() => {
  for (const child of running) child.kill();
  running.clear();
});

/** `127.0.0.1:PORT`, serving `registry` at `rate` bytes per second per connection; stopped after the test. */
export async function throttledRegistry(registry: string, rate: number): Promise<string> {
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const child = spawn(process.execPath, [fileURLToPath(new URL('../../scripts/throttle-proxy.mjs', import.meta.url)), String(port), registry.split(':')[1], String(rate)], { stdio: 'ignore' });
  running.add(child);
  for (let i = 0; i < 50; i++) {
    if (await fetch(`http://127.0.0.1:${port}/v2/`).then(() => true, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return `127.0.0.1:${port}`;
}
