import { PassThrough } from 'node:stream';
import { PullState } from '../../src/state/pull-state.js';
import type { Outcome, Renderer, RendererOptions } from '../../src/render/renderer-interface.js';
import { recordedEvents } from './replay.js';

/** Text written to a stream that is not a terminal. */
export function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d) => (text += d));
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

/**
 * Feeds a recording through a renderer with a fake clock (`msPerEvent` between events) and
 * returns what it wrote to stderr and stdout.
 */
export function replayThrough(
  make: (options: RendererOptions) => Renderer,
  name: string,
  opts: { msPerEvent?: number; env?: NodeJS.ProcessEnv; outcome?: Outcome; stopAfter?: number; intervalSeconds?: number } = {},
) {
  const err = capture();
  const out = capture();
  let now = 0;
  const renderer = make({
    stream: err.stream,
    out: out.stream,
    label: 'demo/three:1.0',
    reference: '127.0.0.1:5731/demo/three:1.0',
    clock: () => now,
    env: opts.env ?? {},
    ...(opts.intervalSeconds !== undefined && { intervalSeconds: opts.intervalSeconds }),
  });
  const state = new PullState(0);
  renderer.start('unix:///var/run/docker.sock');
  for (const event of recordedEvents(name).slice(0, opts.stopAfter)) {
    now += opts.msPerEvent ?? 100;
    state.apply(event, now);
    renderer.update(state, [event]);
  }
  renderer.finish(state, opts.outcome ?? { kind: 'pulled' });
  return { stderr: err.text(), stdout: out.text(), state };
}
