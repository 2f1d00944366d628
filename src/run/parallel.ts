/**
 * `explore --workers N`: the same exploration as `exploring` (src/run/explore.ts), with its seeds
 * run by N worker threads of a piscina pool (docs/scaling.md says why piscina). Results are taken
 * back in seed order and counted by the same ExploreTally, so the summary, the failure table, the
 * replay commands and the JSON are those of one thread: a worker only computes `exploreSeed(seed)`,
 * a pure function of the seed and the settings. Seeds run ahead of the one awaited (at most
 * AHEAD), SEEDS_PER_TASK to a task; when the tally stops (enough failures) or the caller stops
 * (Ctrl-C), those are discarded.
 */
import { Piscina } from 'piscina';
import { setFlagsFromString } from 'node:v8';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { ExploreTally, type ExploreOptions, type ExploreSummary, type SeedResult } from './explore.ts';
import type { SeedOutcome, SeedWorkerData } from './seedworker.ts';
import { SettingsError } from './settings.ts';
import { DEFAULT_STRATEGY, PER_SEED } from './strategy.ts';

/**
 * Seeds per task. A task costs a message each way and a wake-up of the worker and of the main
 * thread, about 0.2 ms of the main thread's time per task on 2 cores, where a standard-swarm
 * seed takes about 7 ms: four seeds a task pay it once for four. Few enough that the pool stays
 * balanced when one seed runs far longer than the rest.
 */
export const SEEDS_PER_TASK = 4;

/**
 * Tasks handed to the pool per worker: the one it runs and the next, so that no worker waits for
 * the main thread between tasks. An early stop waits for at most these.
 */
const IN_POOL_PER_WORKER = 2;

/**
 * How far past the seed awaited the workers may run (in seeds): their results wait, in order, to
 * be counted. Swarm seeds differ in length by orders of magnitude; a short window would leave
 * every other worker idle behind one long seed.
 */
const AHEAD = 1024;

/**
 * Seeds per worker thread, when the number of workers is not given: a worker's start-up and JIT
 * warm-up cost about as much CPU as a few hundred standard-swarm seeds (3 to 5 s), so below about
 * 500 seeds a second worker makes a sweep slower, not faster. Measured on 2 cores (docs/
 * scaling.md, "Sixth session"): one worker against two, 100 seeds 2.2-2.5 s against 2.7-2.8 s,
 * 400 seeds about even, 800 seeds 7.1-7.4 s against 6.5-7.0 s, 1,200 seeds 9.9-10.6 s against
 * 7.9-8.5 s.
 */
export const SEEDS_PER_WORKER = 500;

/** The workers `explore` uses when not told: one per SEEDS_PER_WORKER seeds, at least one, at most one per core. */
export function defaultWorkers(seeds: number, cores: number): number {
  return Math.max(1, Math.min(cores, Math.floor(seeds / SEEDS_PER_WORKER)));
}

/**
 * Pools running in this process. While there is one, V8's scavenger (the young-generation
 * collector) runs on the collecting thread alone (`--no-parallel-scavenge`). A parallel scavenge
 * hands work to V8's helper threads and waits for them before the thread resumes; with every core
 * busy running seeds, the helpers are often descheduled, and the worker waits. Measured on 2 cores
 * (docs/scaling.md, "Sixth session"): the sweep kept 1.86-1.87 cores busy with parallel scavenges
 * and 1.93-1.94 without, and gave the same output. One thread (no pool) keeps V8's default, since
 * its helpers have an idle core. The flag is read at each scavenge, so setting it at run time
 * takes effect at the next one; it is set back when the last pool ends, unless the process was
 * started with it.
 */
let poolsRunning = 0;
const SCAVENGE_SET_BY_USER = process.execArgv.some((a) => a === '--no-parallel-scavenge' || a === '--no_parallel_scavenge' || a === '--single-threaded-gc' || a === '--single-threaded');

function poolStarts(): void {
  if (poolsRunning++ === 0 && !SCAVENGE_SET_BY_USER) setFlagsFromString('--no-parallel-scavenge');
}

function poolEnds(): void {
  if (--poolsRunning === 0 && !SCAVENGE_SET_BY_USER) setFlagsFromString('--parallel-scavenge');
}

/**
 * The worker's file and the loader it needs. Compiled (dist/run/parallel.js), the worker is
 * dist/run/seedworker.js, plain JavaScript. Run from the TypeScript sources (vitest, tsx), it is
 * src/run/seedworker.ts, which the worker thread loads through tsx's loader (`--import tsx`, a
 * dev dependency: the installed package never takes this branch).
 */
function workerEntry(): { filename: string; execArgv: string[] } {
  const here = import.meta.url;
  if (here.endsWith('.js')) return { filename: new URL('./seedworker.js', here).href, execArgv: [] };
  const tsx = pathToFileURL(createRequire(here).resolve('tsx')).href;
  return { filename: new URL('./seedworker.ts', here).href, execArgv: ['--import', tsx] };
}

/**
 * Explores as `exploring` does, on `workers` threads; yields each seed's result in seed order.
 * Returning early (the caller's `return()`, after Ctrl-C) discards the seeds still running, once
 * they have finished (at most IN_POOL_PER_WORKER tasks of SEEDS_PER_TASK seeds per worker), and
 * the results held ahead.
 */
export async function* exploringParallel(o: ExploreOptions, workers: number): AsyncGenerator<SeedResult, ExploreSummary, undefined> {
  const tally = new ExploreTally(o);
  const size = tally.size;
  const threads = Math.max(1, Math.min(workers, size));
  const strategy = o.strategy ?? DEFAULT_STRATEGY;
  if (!PER_SEED.has(strategy)) throw new SettingsError(`worker threads run the seeds of a per-seed strategy (swarm, pct); strategy ${strategy} chooses its runs from earlier ones and runs on one thread.`);
  const data: SeedWorkerData = { overrides: [...o.overrides], swarm: o.swarm ?? true, strategy };
  const pool = new Piscina<readonly number[], SeedOutcome[]>({ ...workerEntry(), workerData: data, minThreads: threads, maxThreads: threads, idleTimeout: 60_000 });
  poolStarts();
  /** Tasks by index: task t runs the seeds of indices t * SEEDS_PER_TASK on (the last may run fewer). */
  const running = new Map<number, Promise<SeedOutcome[]>>();
  let tasks = 0;
  /** Seeds handed to the pool so far (indices 0 .. submitted - 1). */
  let submitted = 0;
  let inPool = 0;
  /** The seed index awaited (counted next). */
  let awaited = 0;
  let stopping = false;
  const inPoolLimit = threads * IN_POOL_PER_WORKER;
  // Called at the start and as each task ends: keeps the pool fed, at most AHEAD seeds past the
  // one awaited.
  const refill = (): void => {
    while (!stopping && inPool < inPoolLimit && submitted < size && submitted < awaited + AHEAD && !tally.timeUp()) {
      const seeds: number[] = [];
      for (let j = 0; j < SEEDS_PER_TASK && submitted < size; j++) seeds.push(tally.seed(submitted++));
      inPool++;
      const task = pool.run(seeds);
      // Cancelled when the exploration stops early: not an error.
      task.then(
        () => {
          inPool--;
          refill();
        },
        () => {
          inPool--;
        },
      );
      running.set(tasks++, task);
    }
  };
  try {
    refill();
    let results: SeedOutcome[] = [];
    for (let i = 0; i < size; i++) {
      awaited = i;
      refill();
      const k = i % SEEDS_PER_TASK;
      if (k === 0) {
        const t = i / SEEDS_PER_TASK;
        const task = running.get(t);
        // The time limit stopped new seeds before this one.
        if (task === undefined) break;
        running.delete(t);
        results = await task;
      }
      const r = results[k] as SeedOutcome;
      if ('settingsError' in r) throw new SettingsError(r.settingsError);
      const enough = tally.add(r);
      yield r;
      if (enough) break;
    }
  } finally {
    // Let the seeds still in the pool finish before it goes: destroying it under a worker that
    // is about to answer makes piscina throw "Unexpected message from Worker" outside any task.
    // At most IN_POOL_PER_WORKER tasks per worker run on, their results unused.
    stopping = true;
    try {
      await Promise.allSettled(running.values());
      await pool.destroy();
    } finally {
      poolEnds();
    }
  }
  return tally.summary();
}
