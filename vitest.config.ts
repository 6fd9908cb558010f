import { defineConfig } from 'vitest/config';

// Two projects, both run by `npx vitest run` (and `npm test`):
//
// - "default": every test, each Sabre with the server's default io-threads.
// - "io-threads-2": integration and differential suites again, every Sabre
//   started with `--io-threads 2` (test/helpers/servers.ts startSabre reads
//   SABRE_TEST_IO_THREADS and adds the flag unless the test gives its own) and
//   the suites' usual 4 shards, as issue 8 asks.
//
// The second project runs the suites that exercise the front threads
// (connections, parsing and buffer limits, one client's order, multi-shard
// atomicity, server/CLIENT/CONFIG/INFO commands, blocking pops, the keyspace
// fan-outs KEYS/SCAN/DBSIZE, timeouts, the slow log) rather than all of them.
// Measured on the 2-core machine (shared, load 7-9 from other work): `npm test`
// took 12 min 15 s with this subset, whose files took 109 s of it (the
// default project's 465 s); all of integration and differential with
// io-threads 2 took 7 min 23 s on their own, which would make `npm test`
// about 18 minutes. The collection suites (hashes, sets, zsets, geo, ...)
// run on the shards, not on the fronts, so a second run of them adds little.
// SABRE_TEST_IO_FULL=1 makes the second project run every integration and
// differential file:
//   SABRE_TEST_IO_FULL=1 npx vitest run --project io-threads-2
//
// The io-threads*.test.ts, cross-thread-*.test.ts and server-wide.test.ts
// files start their servers with an explicit --io-threads, so they run in
// "default" only.

const FRONT_SUITES = [
  'test/integration/connection.test.ts',
  'test/integration/ordering.test.ts',
  'test/integration/atomicity.test.ts',
  'test/integration/server.test.ts',
  'test/integration/strings.test.ts',
  'test/integration/keys.test.ts',
  'test/integration/blocking.test.ts',
  'test/integration/lists.test.ts',
  'test/integration/scan.test.ts',
  'test/integration/robustness.test.ts',
  'test/integration/buffer-limits.test.ts',
  'test/integration/client-timeout.test.ts',
  'test/integration/slowlog.test.ts',
  'test/differential/memory.test.ts',
  'test/differential/ordering.test.ts',
  'test/differential/strings.test.ts',
  'test/differential/keys.test.ts',
  'test/differential/keys-types.test.ts',
  'test/differential/blocking.test.ts',
  'test/differential/server.test.ts',
  'test/differential/smoke.test.ts',
];

const fullSecondRun = (process.env.SABRE_TEST_IO_FULL ?? '') !== '' && process.env.SABRE_TEST_IO_FULL !== '0';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites each start real servers; running files in parallel on a
    // 2-core machine only adds noise, so files run one after another.
    fileParallelism: false,
    projects: [
      {
        extends: true,
        test: {
          name: 'default',
          include: ['test/**/*.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'io-threads-2',
          include: fullSecondRun ? ['test/integration/**/*.test.ts', 'test/differential/**/*.test.ts'] : FRONT_SUITES,
          exclude: ['test/integration/io-threads*.test.ts', 'test/integration/cross-thread-*.test.ts', 'test/integration/server-wide.test.ts'],
          env: { SABRE_TEST_IO_THREADS: '2' },
          // Files still run one at a time (fileParallelism false).
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
