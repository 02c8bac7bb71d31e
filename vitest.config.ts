import { defineConfig } from 'vitest/config';

// Four kinds of tests. `npm test` (scripts/test.sh) runs them in two vitest processes side by side:
// unit and integration in one, browser then embedded in the other (sequence.groupOrder); the unit
// files run side by side, the files of the others one at a time (fileParallelism: false; each
// starts collectors and browsers of its own). A plain `vitest run` runs all four in one process.
//   unit         pure logic (node, or jsdom for the tracker: see the file's first line)
//   integration  the built collector against the real ClickHouse server (Debian's 18.16) and Redis
//   embedded     the same integration tests on the embedded engine (ClickHouse 26.x in each
//                collector, CLICKHOUSE_URL=embedded: tests/helpers/clickhouse.ts), but for
//                those that need a server or never touch ClickHouse (below)
//   browser      real Chromium (and WebKitGTK) loading the real tracker from a real collector
// Integration and browser tests refuse to run (and fail) when a service is down.

/** Integration tests the embedded engine does not run, and why. */
const NOT_EMBEDDED = [
  // They stop, crash and restart a ClickHouse server of their own.
  'tests/integration/faults.test.ts',
  // A cluster of ClickHouse servers and ZooKeeper of its own (cluster mode needs servers).
  'tests/integration/cluster.test.ts',
  // Two collectors on one database at once: an embedded data directory belongs to one process.
  'tests/integration/several-collectors.test.ts',
  // The script that starts and stops the ClickHouse server.
  'tests/integration/attack/services-script.test.ts',
  // It moves an embedded directory to the server: both engines by name.
  'tests/integration/move.test.ts',
  // It cuts a ClickHouse server off through a relay; the embedded engine is down only when the collector is.
  'tests/integration/health-outage.test.ts',
  // It reads the stored CRM configuration (crm_config) after each refusal, which the SQL endpoint
  // (the tests' way into a running embedded collector) keeps secret; what it tests is the
  // collector's validation, the same code on either engine.
  'tests/integration/attack/admin-config.test.ts',
  // They never touch ClickHouse: one run is the whole test.
  'tests/integration/salt.test.ts',
  'tests/integration/spill.test.ts',
  'tests/integration/first-party-snippets.test.ts',
  'tests/integration/attack/slow-clients.test.ts',
];

const integration = {
  include: ['tests/integration/**/*.test.ts'],
  fileParallelism: false,
  testTimeout: 60_000,
  hookTimeout: 120_000,
};

export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      { test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], environment: 'node' } },
      { test: { name: 'integration', ...integration, globalSetup: ['tests/helpers/require-services.ts'] } },
      {
        test: {
          name: 'embedded',
          ...integration,
          sequence: { groupOrder: 1 },
          exclude: NOT_EMBEDDED,
          env: { CLICKHOUSE_URL: 'embedded' },
          globalSetup: ['tests/helpers/require-redis.ts'],
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
