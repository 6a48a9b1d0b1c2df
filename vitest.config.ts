import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native addons must not share a worker-thread pool.
    pool: 'forks',
    // Training saturates both cores of the project's machines: run the files
    // one after another so timings (and the event-loop test) stay meaningful.
    fileParallelism: false,
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    reporters: ['default', './test/summary-reporter.ts'],
  },
})
