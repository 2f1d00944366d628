import { defineConfig } from 'vitest/config';

// No per-test wall-clock limit: a test's budget is a count of runs (test/budget.ts), so a busy
// machine makes the suite slower, never red. A hung test is caught by CI's own time limit.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 0,
    hookTimeout: 0,
    pool: 'forks',
    maxWorkers: 2,
  },
});
