/**
 * Run budgets for the property and exploration tests. `npm test` runs every test at a modest
 * budget so the suite finishes in minutes on a busy 2-core machine; `npm run test:deep` sets
 * ZABSIM_DEEP=1 and runs the same tests at the large budgets (600-run properties, 2,000 explore
 * seeds, 600 schedules). Budgets are counts of runs, never wall-clock limits.
 */
export const DEEP = process.env['ZABSIM_DEEP'] === '1';

/** `modest` under `npm test`, `deep` under `npm run test:deep`. */
export function budget(modest: number, deep: number): number {
  return DEEP ? deep : modest;
}
