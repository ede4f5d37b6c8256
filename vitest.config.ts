import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['apps/*/test/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'examples/test/**/*.test.ts'],
    globalSetup: ['apps/server/test/helpers/global-setup.ts'],
    // Tests wait on conditions, never on the clock; these ceilings only end a test that hangs. They
    // are high because a loaded 2-core machine stretches real I/O (PGlite, SMTP, child processes)
    // three times and more: a test that passes in 10 s idle must not fail at 30 s under load.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
})
