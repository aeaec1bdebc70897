import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

// Three projects: `unit` needs no engine (npm run test:unit); `e2e` brings the real stack up around
// itself (test/support/stack-setup.ts); `e2e-node24` then runs the pull, terminal and package
// tests again with dpull on Node 24. `npm test` runs them all, as CI does.
const e2e = {
  globalSetup: ['test/support/stack-setup.ts'],
  // The end-to-end tests share one engine and its image store: one file at a time, one project at a time.
  fileParallelism: false,
  testTimeout: 120_000,
  hookTimeout: 300_000,
};

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    env: { FORCE_COLOR: '0' },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/e2e/**'], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], ...e2e, sequence: { groupOrder: 1 } },
      },
      {
        extends: true,
        test: {
          name: 'e2e-node24',
          include: ['test/e2e/pull.test.ts', 'test/e2e/terminal.test.ts', 'test/e2e/package.test.ts'],
          ...e2e,
          globalSetup: ['test/support/node24-setup.ts', ...e2e.globalSetup],
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
