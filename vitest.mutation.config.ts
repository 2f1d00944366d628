import { defineConfig } from 'vitest/config';

// The tests StrykerJS runs against each mutant of src/protocol (stryker.config.mjs): what finds
// bugs in zabsim. The rule and unit tests, the scenarios (each replays a bug with and without its
// flaw), the checkers' firing cases, and a short swarm exploration with every flaw off
// (test/mutation/swarm.mutation.ts), which is how a user finds a bug in their own change. The CLI,
// package, trace and browser tests say nothing about the protocol and are left out.
export default defineConfig({
  test: {
    include: ['test/protocol/**/*.test.ts', 'test/scenario/**/*.test.ts', 'test/check/teeth.test.ts', 'test/check/liveness.test.ts', 'test/mutation/**/*.mutation.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 0,
    hookTimeout: 0,
  },
});
