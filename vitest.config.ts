import { defineConfig } from 'vitest/config'

// Two groups of test files. The SDK's unit tests share one msw server module and swap its handlers,
// so each of their files gets a fresh module registry (isolate). Everything else starts real
// servers over its own database and owns its data, so its files share the worker's module registry
// (isolate: false): importing the server, drizzle, PGlite and Hono once per worker instead of once
// per file saves about a third of the suite's CPU on a 2-core machine.
const shared = {
  // Tests wait on conditions, never on the clock; these ceilings only end a test that hangs. They
  // are high because a loaded 2-core machine stretches real I/O (PGlite, SMTP, child processes)
  // three times and more: a test that passes in 10 s idle must not fail at 30 s under load.
  testTimeout: 120_000,
  hookTimeout: 180_000,
  pool: 'forks' as const,
}
const SDK_UNIT = 'packages/sdk/test/!(e2e).test.ts'

export default defineConfig({
  test: {
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      { test: { ...shared, name: 'sdk-unit', include: [SDK_UNIT], isolate: true } },
      {
        test: {
          ...shared,
          name: 'real-servers',
          include: ['apps/*/test/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'examples/test/**/*.test.ts'],
          exclude: [SDK_UNIT, '**/node_modules/**'],
          globalSetup: ['packages/testkit/src/global-setup.ts', 'apps/console/test/global-setup.ts'],
          isolate: false,
          // On a Citus cluster (MAILROOM_TEST_CITUS_URL) every file shares one database whose workers
          // claim every tenant's queued work: one file at a time, each leaving the database empty.
          // (A project with another number of workers must run in a group of its own: after sdk-unit.)
          fileParallelism: !process.env.MAILROOM_TEST_CITUS_URL,
          ...(process.env.MAILROOM_TEST_CITUS_URL ? { sequence: { groupOrder: 1 } } : {}),
        },
      },
    ],
  },
})
