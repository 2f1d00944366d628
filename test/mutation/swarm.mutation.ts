/**
 * The short swarm exploration StrykerJS runs against every mutant of src/protocol
 * (vitest.mutation.config.ts): with every flaw off, the first seeds of the default swarm find
 * nothing. A mutant that breaks a safety, client or liveness property on one of them is killed
 * here, as a user's exploration would catch their own change. (Not part of `npm test`: the
 * clean sweep of test/check/explore.test.ts covers these seeds and more.)
 */
import { setStateFreezing } from '../../src/protocol/cow.ts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { explore } from '../../src/run/explore.ts';

/** Enough seeds to reach elections under crashes, partitions, every sync mode and sessions. */
const SEEDS = 25;

beforeAll(() => setStateFreezing(false));
afterAll(() => setStateFreezing(true));

it(`with every flaw off, swarm seeds 1..${SEEDS} find nothing`, () => {
  const s = explore({ from: 1, seeds: SEEDS, overrides: new Map(), maxFailures: 1 });
  expect(s.failures.map((f) => `seed ${f.seed}: ${f.violation?.property ?? 'internal error'}: ${f.violation?.message ?? ''}`)).toEqual([]);
});
