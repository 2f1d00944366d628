/**
 * The worker of `explore --workers N` (src/run/parallel.ts): a worker thread of the piscina pool
 * that runs one explored seed per task and returns its plain result, which structured clone
 * copies back to the main thread. The settings common to every seed arrive once, as workerData.
 * Built to dist/run/seedworker.js for the bin; the tests load this file through tsx's loader.
 */
import { setAutoFreeze } from 'immer';
import { workerData } from 'node:worker_threads';
import { exploreSeed, type SeedResult } from './explore.ts';
import type { SettingValue } from './settings.ts';

/** What every task of a pool shares: the settings over each seed's draw. */
export interface SeedWorkerData {
  readonly overrides: readonly (readonly [string, SettingValue])[];
  readonly swarm: boolean;
}

// Speed, as in the CLI: the kernel never mutates states (the tests prove it with auto-freeze on).
setAutoFreeze(false);
const data = workerData as SeedWorkerData;
const overrides = new Map(data.overrides);

/** Runs one seed (piscina's task function). */
export default function runSeed(seed: number): SeedResult {
  return exploreSeed(seed, overrides, data.swarm);
}
