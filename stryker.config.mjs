// Mutation testing of the pure protocol (issue 12 §2): StrykerJS mutates src/protocol and runs,
// for each mutant, the tests that cover it from vitest.mutation.config.ts (the unit and rule
// tests, the scenarios, the checkers' teeth, and a short swarm exploration). `npm run mutate`
// runs every file; `npm run mutate -- --mutate src/protocol/vote.ts` runs one shard.
// docs/checkers.md ("Mutation testing") records the score per file and explains each survivor.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: ['src/protocol/**/*.ts', '!src/protocol/types.ts', '!src/protocol/flaws.ts'],
  coverageAnalysis: 'perTest',
  // Module-level constants would need every test per mutant (docs/checkers.md says why they are
  // left out, and which tests assert the constants instead).
  ignoreStatic: true,
  concurrency: 2,
  timeoutMS: 60_000,
  timeoutFactor: 3,
  // Stryker may abandon a mutant's run only on its own test-runner timeouts above (generous, by
  // design: the machine may be busy); the incremental file lets a later run reuse every result
  // whose code and tests did not change.
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  thresholds: { high: 90, low: 85, break: null },
};
