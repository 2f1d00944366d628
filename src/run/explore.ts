/**
 * Exploration: many runs, each judged by every checker and ended early at its first violation or
 * once it recovered. A search strategy (strategy.ts) proposes the runs one generation at a time,
 * as plain candidates (a seed and settings); {@link runCandidate} runs one and returns a plain
 * result. By default each candidate is a swarm seed (its own cluster, faults and workload drawn
 * from the seed).
 */
import type { Violation } from '../check/index.ts';
import { addCoverage, emptyCoverage, type CoverageCounts } from './coverage.ts';
import { createRun, releaseRun, runJudged, verdictOf, type Run } from './run.ts';
import { formatSettings, optionsFromSettings, resolveSettings, SettingsError, type Settings, type SettingValue } from './settings.ts';
import { shardSeed, shardSize, type Shard } from './shard.ts';
import { DEFAULT_STRATEGY, GENERATION_SIZE, makeStrategy, PER_SEED, perSeedCandidate, type Feedback, type StrategyName } from './strategy.ts';
import type { Candidate } from './strategy.ts';

export interface SeedResult {
  readonly seed: number;
  readonly ok: boolean;
  /** The first violation (safety, client or liveness), if any. */
  readonly violation: Violation | null;
  readonly events: number;
  /** Virtual time the run reached. */
  readonly endMs: number;
  /** The command that replays this seed and stops at its first violation. */
  readonly replay: string;
  /** An exception inside the run (a bug in zabsim, not in the protocol): its message and stack. */
  readonly error: string | null;
  /** How the strategy made this run (`swarm`, `pct 3`, `mutant of seed 17: ...`). */
  readonly origin: string;
  /** The run's settings, as `zabsim run` takes them (with `seed`, without `stop-early`): what a shrink replays. */
  readonly settings: Settings;
}

/** A run's result and its coverage counts (null unless asked for). */
export interface CandidateRun {
  readonly result: SeedResult;
  readonly coverage: CoverageCounts | null;
}

/**
 * Runs one candidate: its settings are those of `zabsim run` (with `seed`), and the replay is
 * exactly that command with `--stop-early`. An exception inside the run is an internal error of
 * this candidate, returned, not thrown (settings no run could take are thrown: SettingsError).
 */
export function runCandidate(c: Candidate, coverage = false): CandidateRun {
  const given = new Map<string, SettingValue>(c.settings);
  given.set('stop-early', true);
  const seed = (given.get('seed') as number | undefined) ?? 1;
  const replay = `npx zabsim run ${formatSettings(given)}`;
  const base = optionsFromSettings(resolveSettings(given));
  const opts = coverage ? { ...base, coverage: true } : base;
  let run: Run | null = null;
  try {
    run = createRun(opts, null);
    runJudged(run, opts.untilMs);
    const v = verdictOf(run);
    return { result: { seed, ok: v.ok, violation: v.violations[0] ?? null, events: run.sim.eventCount, endMs: run.sim.now, replay, error: null, origin: c.origin, settings: c.settings }, coverage: run.sim.coverage };
  } catch (e) {
    if (e instanceof SettingsError) throw e;
    const err = e instanceof Error ? e : new Error(String(e));
    const at = run === null ? '' : ` (at ${run.sim.now}ms, after ${run.sim.eventCount} events)`;
    const result = { seed, ok: false, violation: null, events: run?.sim.eventCount ?? 0, endMs: run?.sim.now ?? 0, replay, error: `${err.message}${at}\n${err.stack ?? ''}`, origin: c.origin, settings: c.settings };
    return { result, coverage: run?.sim.coverage ?? null };
  } finally {
    // The result is read: let the collector have the run at once.
    if (run !== null) releaseRun(run);
  }
}

/**
 * Runs one explored seed with the given settings over the swarm's draw (or over the defaults, with
 * `swarm` false), as the per-seed strategy `strategy` (swarm or pct) makes its run.
 */
export function exploreSeed(seed: number, overrides: Settings, swarm = true, strategy: StrategyName = 'swarm'): SeedResult {
  return runCandidate(seedCandidate(seed, overrides, swarm, strategy)).result;
}

function seedCandidate(seed: number, overrides: Settings, swarm: boolean, strategy: StrategyName): Candidate {
  if (swarm) return perSeedCandidate(strategy, seed, overrides);
  return { settings: new Map<string, SettingValue>([['seed', seed], ...overrides]), origin: 'defaults' };
}

export interface ExploreSummary {
  /** Every run's result, in order; empty when the exploration was told not to keep them (`keepResults`). */
  readonly results: readonly SeedResult[];
  /** How many runs were made (`results.length` when they are kept). */
  readonly ran: number;
  /** Seeds whose run failed a check, or threw (an internal error: `error` is set). */
  readonly failures: readonly SeedResult[];
  readonly events: number;
  readonly wallMs: number;
  /** Coverage summed over every run, when counted (`coverage`, or a strategy that needs it). */
  readonly coverage: CoverageCounts | null;
}

export interface ExploreOptions {
  readonly from: number;
  readonly seeds: number;
  /** Wall-clock limit: no new seed starts after it. */
  readonly timeLimitMs?: number;
  readonly maxFailures?: number;
  /** Settings applied to every seed, over its swarm draw. */
  readonly overrides: Settings;
  /** Draw each seed's settings (default true); false runs the defaults plus `overrides`. */
  readonly swarm?: boolean;
  /** Only this shard's slice of the seeds (src/run/shard.ts). */
  readonly shard?: Shard;
  /** How candidates are chosen (strategy.ts); default DEFAULT_STRATEGY. Ignored with `swarm` false. */
  readonly strategy?: StrategyName;
  /** Count coverage and sum it into the summary. */
  readonly coverage?: boolean;
  /**
   * Keep every run's result in the summary's `results` (default true). False keeps the failures
   * only, so that a sweep of a million seeds holds a million counts, not a million results
   * (about 0.6 KB each): `zabsim explore` needs no more.
   */
  readonly keepResults?: boolean;
  readonly onSeed?: (r: SeedResult, done: number, summary: ExploreSummary) => void;
}

/**
 * The summary of an exploration, built from its runs' results in order: the one place that
 * decides what counts and when to stop, for one thread (`exploring`) and for a worker pool
 * (src/run/parallel.ts) alike, so that both give the same summary.
 */
export class ExploreTally {
  private readonly t0 = performance.now();
  readonly results: SeedResult[] = [];
  readonly failures: SeedResult[] = [];
  /** Runs counted so far. */
  ran = 0;
  events = 0;
  /** Coverage summed over every run, when counted. */
  readonly coverage: CoverageCounts | null;

  constructor(
    private readonly o: ExploreOptions,
    counting = o.coverage === true,
  ) {
    this.coverage = counting ? emptyCoverage() : null;
  }

  /** Seeds this exploration runs at most (its shard's share of `seeds`). */
  get size(): number {
    return shardSize(this.o.seeds, this.o.shard);
  }

  /** The k-th seed (from 0) to run. */
  seed(k: number): number {
    return shardSeed(this.o.from, this.o.shard, k);
  }

  /** Whether the wall-clock limit forbids starting another seed. */
  timeUp(): boolean {
    return this.o.timeLimitMs !== undefined && performance.now() - this.t0 >= this.o.timeLimitMs;
  }

  /** Counts the next run's result (in order) and its coverage; returns whether enough failures were found to stop. */
  add(r: SeedResult, coverage: CoverageCounts | null = null): boolean {
    if (this.coverage !== null && coverage !== null) addCoverage(this.coverage, coverage);
    if (this.o.keepResults !== false) this.results.push(r);
    this.ran++;
    this.events += r.events;
    if (!r.ok) this.failures.push(r);
    this.o.onSeed?.(r, this.ran, this.summary());
    return this.o.maxFailures !== undefined && this.failures.length >= this.o.maxFailures;
  }

  summary(): ExploreSummary {
    return { results: this.results, ran: this.ran, failures: this.failures, events: this.events, wallMs: performance.now() - this.t0, coverage: this.coverage };
  }
}

/**
 * Explores `seeds` runs (or until the time limit or enough failures), yielding after each run so
 * that a caller can show progress or stop; returns the summary. The swarm strategy (the default)
 * runs seeds from..from+seeds-1, or its shard's slice of them. Another strategy asks for a
 * generation of candidates at a time; each generation depends only on the earlier ones' results,
 * in order, so its candidates could run in parallel (runCandidate) with the same outcome.
 */
export function* exploring(o: ExploreOptions): Generator<SeedResult, ExploreSummary, undefined> {
  const swarm = o.swarm ?? true;
  const name = o.strategy ?? DEFAULT_STRATEGY;
  // A per-seed strategy (swarm, pct) runs seed after seed, or its shard's slice of them.
  const strategy = swarm && !PER_SEED.has(name) ? makeStrategy(name, o.from, o.overrides) : null;
  if (strategy !== null && o.shard !== undefined) throw new SettingsError(`a shard slices the seeds of a per-seed strategy (swarm, pct); strategy ${name} chooses its runs from the results of earlier ones, so it cannot be sharded.`);
  const counting = o.coverage === true || strategy?.needsCoverage === true;
  const tally = new ExploreTally(o, counting);
  if (strategy === null) {
    for (let i = 0; i < tally.size; i++) {
      if (tally.timeUp()) break;
      const { result: r, coverage } = runCandidate(seedCandidate(tally.seed(i), o.overrides, swarm, name), counting);
      const enough = tally.add(r, coverage);
      yield r;
      if (enough) break;
    }
    return tally.summary();
  }
  let previous: Feedback[] = [];
  for (let g = 0; tally.ran < o.seeds; g++) {
    const n = Math.min(GENERATION_SIZE, o.seeds - tally.ran);
    const candidates = strategy.generation(g, n, previous);
    previous = [];
    for (const c of candidates) {
      if (tally.timeUp()) return tally.summary();
      const { result: r, coverage } = runCandidate(c, counting);
      previous.push({ candidate: c, failed: !r.ok, coverage });
      const enough = tally.add(r, coverage);
      yield r;
      if (enough) return tally.summary();
    }
  }
  return tally.summary();
}

/** Explores (see {@link exploring}) to the end and returns the summary. */
export function explore(o: ExploreOptions): ExploreSummary {
  const it = exploring(o);
  for (;;) {
    const r = it.next();
    if (r.done === true) return r.value;
  }
}
