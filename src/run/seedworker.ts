/**
 * The worker of `explore --workers N` (src/run/parallel.ts): a worker thread of the piscina pool
 * that runs a few explored seeds per task (parallel.ts SEEDS_PER_TASK) and returns their plain
 * results, which structured clone copies back to the main thread. The settings common to every
 * seed arrive once, as workerData. Built to dist/run/seedworker.js for the bin; the tests load
 * this file through tsx's loader.
 */
import { workerData } from 'node:worker_threads';
import { exploreSeed, type SeedResult } from './explore.ts';
import { SettingsError, type SettingValue } from './settings.ts';
import type { StrategyName } from './strategy.ts';

/** What every task of a pool shares: the settings over each seed's draw. */
export interface SeedWorkerData {
  readonly overrides: readonly (readonly [string, SettingValue])[];
  readonly swarm: boolean;
  /** The per-seed strategy (swarm or pct) that makes each seed's run. */
  readonly strategy: StrategyName;
}

const data = workerData as SeedWorkerData;
const overrides = new Map(data.overrides);

/**
 * What a task returns: the seed's result, or the sentence of a SettingsError (settings that this
 * seed's draw cannot run: bad input, which the main thread raises again as such, exit 2, where
 * an error crossing the thread boundary would lose its class and read as an internal error).
 */
export type SeedOutcome = SeedResult | { readonly settingsError: string };

/** Runs one seed. */
function runSeed(seed: number): SeedOutcome {
  try {
    return exploreSeed(seed, overrides, data.swarm, data.strategy);
  } catch (e) {
    if (e instanceof SettingsError) return { settingsError: e.message };
    throw e;
  }
}

/** Runs the seeds of one task, in order (piscina's task function). */
export default function runSeeds(seeds: readonly number[]): SeedOutcome[] {
  return seeds.map(runSeed);
}
