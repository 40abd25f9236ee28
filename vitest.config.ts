import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // No test changes process-wide state (env, cwd, module mocks), so workers are reused across files:
    // about a second of start-up saved per file, and the emulator's render cache is shared within a worker.
    isolate: false,
    // Vitest's default is one worker per core minus one: a single worker on a 2-core machine. Most test time is
    // spent waiting on child CLI processes and the emulator's scaled clock, so two workers keep both cores busy.
    maxWorkers: 2,
  },
});
