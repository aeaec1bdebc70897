import { describe, expect, test } from 'vitest';
import { planPulls } from '../../src/cli/pull-plan.js';
import { DpullError } from '../../src/errors.js';

const env = {};
const plan = (images: string[], hosts: string[] = ['unix:///run/a.sock'], contexts: string[] = []) =>
  planPulls(images, { hosts, contexts }, { env }).map((p) => ({ image: p.image, engine: p.engineName, url: p.prepared.engine.url }));

describe('what a run pulls, and where', () => {
  test('images that name the same reference are pulled once, as first spelled', () => {
    expect(plan(['nginx', 'docker.io/library/nginx:latest', 'library/nginx', 'redis:7', 'nginx:latest'])).toEqual([
      { image: 'nginx', url: 'unix:///run/a.sock' },
      { image: 'redis:7', url: 'unix:///run/a.sock' },
    ]);
  });

  test('every image on every engine, image by image, each pull labelled by its engine', () => {
    expect(plan(['redis:7', 'nginx:1.27'], ['unix:///run/a.sock', 'tcp://127.0.0.1:2375'])).toEqual([
      { image: 'redis:7', engine: 'unix:///run/a.sock', url: 'unix:///run/a.sock' },
      { image: 'redis:7', engine: 'tcp://127.0.0.1:2375', url: 'tcp://127.0.0.1:2375' },
      { image: 'nginx:1.27', engine: 'unix:///run/a.sock', url: 'unix:///run/a.sock' },
      { image: 'nginx:1.27', engine: 'tcp://127.0.0.1:2375', url: 'tcp://127.0.0.1:2375' },
    ]);
  });

  test('the same engine named twice is one engine, and then no label is needed', () => {
    expect(plan(['redis:7'], ['unix:///run/a.sock', 'unix:///run/a.sock'])).toEqual([{ image: 'redis:7', url: 'unix:///run/a.sock' }]);
  });

  test.each([
    [['redis:7', 'Not/Valid'], [], 'invalid reference format: repository name (Valid) must be lowercase'],
    [['redis:7'], ['ftp://x'], 'ftp://x'],
  ])('one bad image or engine is a usage error before anything is pulled: %j on %j', (images, hosts, message) => {
    const thrown = (() => {
      try {
        plan(images, hosts.length > 0 ? hosts : undefined);
      } catch (err) {
        return err as DpullError;
      }
    })();
    expect(thrown?.message).toContain(message);
    expect(thrown?.exitCode).toBe(2);
  });

  test('-H and --context together are refused, as the docker CLI refuses them', () => {
    expect(() => plan(['redis:7'], ['unix:///run/a.sock'], ['build1'])).toThrow('conflicting options: either specify --host or --context, not both');
  });
});
