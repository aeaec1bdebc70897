import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

// Two projects: `unit` needs no engine (npm run test:unit); `e2e` brings the real stack up around
// itself (test/support/stack-setup.ts). `npm test` runs both, as CI does.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    env: { FORCE_COLOR: '0' },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/e2e/**'] },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/stack-setup.ts'],
          // The end-to-end tests share one engine and its image store: one file at a time.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
