/**
 * Exploration: many runs, each judged by every checker and ended early at its first violation or
 * once it recovered. A search strategy (strategy.ts) proposes the runs one generation at a time,
 * as plain candidates (a seed and settings); {@link runCandidate} runs one and returns a plain
 * result. By default each candidate is a swarm seed (its own cluster, faults and workload drawn
 * from the seed).
 */
import type { Violation } from '../check/index.ts';
import { addCoverage, emptyCoverage, type CoverageCounts } from './coverage.ts';
import { createRun, runJudged, verdictOf, type Run } from './run.ts';
import { formatSettings, optionsFromSettings, resolveSettings, SettingsError, type Settings, type SettingValue } from './settings.ts';
import { GENERATION_SIZE, makeStrategy, type Candidate, type Feedback, type StrategyName } from './strategy.ts';

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
    return { result: { seed, ok: v.ok, violation: v.violations[0] ?? null, events: run.sim.eventCount, endMs: run.sim.now, replay, error: null, origin: c.origin }, coverage: run.sim.coverage };
  } catch (e) {
    if (e instanceof SettingsError) throw e;
    const err = e instanceof Error ? e : new Error(String(e));
    const at = run === null ? '' : ` (at ${run.sim.now}ms, after ${run.sim.eventCount} events)`;
    const result = { seed, ok: false, violation: null, events: run?.sim.eventCount ?? 0, endMs: run?.sim.now ?? 0, replay, error: `${err.message}${at}\n${err.stack ?? ''}`, origin: c.origin };
    return { result, coverage: run?.sim.coverage ?? null };
  }
}

/** Runs one explored seed with the given settings over the swarm's draw (or over the defaults, with `swarm` false). */
export function exploreSeed(seed: number, overrides: Settings, swarm = true): SeedResult {
  return runCandidate(seedCandidate(seed, overrides, swarm)).result;
}

function seedCandidate(seed: number, overrides: Settings, swarm: boolean): Candidate {
  return { settings: new Map<string, SettingValue>([['seed', seed], ...(swarm ? ([['swarm', true]] as const) : []), ...overrides]), origin: swarm ? 'swarm' : 'defaults' };
}

export interface ExploreSummary {
  readonly results: readonly SeedResult[];
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
  /** How candidates are chosen (strategy.ts); default swarm. Ignored with `swarm` false. */
  readonly strategy?: StrategyName;
  /** Count coverage and sum it into the summary. */
  readonly coverage?: boolean;
  readonly onSeed?: (r: SeedResult, done: number, summary: ExploreSummary) => void;
}

/**
 * Explores `seeds` runs (or until the time limit or enough failures), a generation of candidates
 * at a time from the strategy, yielding after each run so that a caller can show progress or
 * stop; returns the summary. Each generation depends only on the earlier ones' results, in order,
 * so its candidates could run in parallel (runCandidate) with the same outcome.
 */
export function* exploring(o: ExploreOptions): Generator<SeedResult, ExploreSummary, undefined> {
  const t0 = performance.now();
  const results: SeedResult[] = [];
  const failures: SeedResult[] = [];
  const swarm = o.swarm ?? true;
  const strategy = swarm ? makeStrategy(o.strategy ?? 'swarm', o.from, o.overrides) : null;
  const counting = o.coverage === true || strategy?.needsCoverage === true;
  const total = counting ? emptyCoverage() : null;
  let events = 0;
  let previous: Feedback[] = [];
  let nextSeed = o.from;
  const summary = (): ExploreSummary => ({ results, failures, events, wallMs: performance.now() - t0, coverage: total });
  for (let g = 0; results.length < o.seeds; g++) {
    const n = Math.min(GENERATION_SIZE, o.seeds - results.length);
    const candidates = strategy !== null ? strategy.generation(g, n, previous) : Array.from({ length: n }, () => seedCandidate(nextSeed++, o.overrides, false));
    previous = [];
    for (const c of candidates) {
      if (o.timeLimitMs !== undefined && performance.now() - t0 >= o.timeLimitMs) return summary();
      const { result: r, coverage } = runCandidate(c, counting);
      if (total !== null && coverage !== null) addCoverage(total, coverage);
      previous.push({ candidate: c, failed: !r.ok, coverage });
      results.push(r);
      events += r.events;
      if (!r.ok) failures.push(r);
      o.onSeed?.(r, results.length, summary());
      yield r;
      if (o.maxFailures !== undefined && failures.length >= o.maxFailures) return summary();
    }
  }
  return summary();
}

/** Explores (see {@link exploring}) to the end and returns the summary. */
export function explore(o: ExploreOptions): ExploreSummary {
  const it = exploring(o);
  for (;;) {
    const r = it.next();
    if (r.done === true) return r.value;
  }
}
