import { defineConfig } from 'vitest/config';

// `npm run test:browser`: the viewer in headless Chromium (test/browser). Kept out of `npm test`
// so that a clone without Chromium passes `npm ci && npm test`. One worker: one browser.
export default defineConfig({
  test: {
    include: ['test/browser/**/*.browser.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 0,
    hookTimeout: 0,
    pool: 'forks',
    maxWorkers: 1,
  },
});
