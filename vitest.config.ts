import { configDefaults, defineConfig } from 'vitest/config';

/**
 * `npm test` leaves out the two integration tests that build and install things (test/package:
 * npm pack, an install into a temporary project, a TypeScript consumer; test/deploy: the
 * Kubernetes and GitHub Actions scripts run for two shards): about 40 s of CPU, a fifth of the
 * suite. `npm run test:deep` (ZABSIM_DEEP=1) runs them, and CI runs both.
 */
const DEEP = process.env['ZABSIM_DEEP'] === '1';

// No per-test wall-clock limit: a test's budget is a count of runs (test/budget.ts), so a busy
// machine makes the suite slower, never red. A hung test is caught by CI's own time limit.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...(DEEP ? [] : ['test/package/**', 'test/deploy/**'])],
    setupFiles: ['test/setup.ts'],
    testTimeout: 0,
    hookTimeout: 0,
    pool: 'forks',
    maxWorkers: 2,
  },
});
