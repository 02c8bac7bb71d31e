import { defineConfig } from 'vitest/config';

// Three kinds of tests, run in this order by `npm test`:
//   unit         pure logic (node, or jsdom for the tracker: see the file's first line)
//   integration  the built collector against the real ClickHouse and Redis
//   browser      real Chromium loading the real tracker from a real collector
// Integration and browser tests refuse to run (and fail) when a service is down.
export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      { test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], environment: 'node' } },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          globalSetup: ['tests/helpers/require-services.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['tests/browser/**/*.test.ts'],
          globalSetup: ['tests/helpers/require-services.ts'],
          fileParallelism: false,
          testTimeout: 90_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
