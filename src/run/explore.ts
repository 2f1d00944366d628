/**
 * Exploration: many seeds, each a swarm run (its own cluster, faults and workload drawn from the
 * seed) judged by every checker, ended early at its first violation or once it recovered.
 */
import type { Violation } from '../check/index.ts';
import { createRun, runJudged, verdictOf, type Run } from './run.ts';
import { formatSettings, optionsFromSettings, resolveSettings, SettingsError, type Settings, type SettingValue } from './settings.ts';
import { shardSeed, shardSize, type Shard } from './shard.ts';

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
}

/** Runs one explored seed with the given settings over the swarm's draw (or over the defaults, with `swarm` false). */
export function exploreSeed(seed: number, overrides: Settings, swarm = true): SeedResult {
  const given = new Map<string, SettingValue>([['seed', seed], ...(swarm ? ([['swarm', true]] as const) : []), ...overrides]);
  given.set('stop-early', true);
  const replay = `npx zabsim run ${formatSettings(given)}`;
  const opts = optionsFromSettings(resolveSettings(given));
  let run: Run | null = null;
  try {
    run = createRun(opts, null);
    runJudged(run, opts.untilMs);
    const v = verdictOf(run);
    return { seed, ok: v.ok, violation: v.violations[0] ?? null, events: run.sim.eventCount, endMs: run.sim.now, replay, error: null };
  } catch (e) {
    if (e instanceof SettingsError) throw e;
    const err = e instanceof Error ? e : new Error(String(e));
    const at = run === null ? '' : ` (at ${run.sim.now}ms, after ${run.sim.eventCount} events)`;
    return { seed, ok: false, violation: null, events: run?.sim.eventCount ?? 0, endMs: run?.sim.now ?? 0, replay, error: `${err.message}${at}\n${err.stack ?? ''}` };
  }
}

export interface ExploreSummary {
  readonly results: readonly SeedResult[];
  /** Seeds whose run failed a check, or threw (an internal error: `error` is set). */
  readonly failures: readonly SeedResult[];
  readonly events: number;
  readonly wallMs: number;
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
  readonly onSeed?: (r: SeedResult, done: number, summary: ExploreSummary) => void;
}

/**
 * The summary of an exploration, built from its seeds' results in seed order: the one place that
 * decides what counts and when to stop, for one thread (`exploring`) and for a worker pool
 * (src/run/parallel.ts) alike, so that both give the same summary.
 */
export class ExploreTally {
  private readonly t0 = performance.now();
  readonly results: SeedResult[] = [];
  readonly failures: SeedResult[] = [];
  events = 0;

  constructor(private readonly o: ExploreOptions) {}

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

  /** Counts the next seed's result (in seed order); returns whether enough failures were found to stop. */
  add(r: SeedResult): boolean {
    this.results.push(r);
    this.events += r.events;
    if (!r.ok) this.failures.push(r);
    this.o.onSeed?.(r, this.results.length, this.summary());
    return this.o.maxFailures !== undefined && this.failures.length >= this.o.maxFailures;
  }

  summary(): ExploreSummary {
    return { results: this.results, failures: this.failures, events: this.events, wallMs: performance.now() - this.t0 };
  }
}

/**
 * Explores seeds from..from+seeds-1 (or its shard's slice of them; or until the time limit or
 * enough failures), yielding after each seed so that a caller can show progress or stop; returns
 * the summary.
 */
export function* exploring(o: ExploreOptions): Generator<SeedResult, ExploreSummary, undefined> {
  const tally = new ExploreTally(o);
  for (let i = 0; i < tally.size; i++) {
    if (tally.timeUp()) break;
    const r = exploreSeed(tally.seed(i), o.overrides, o.swarm ?? true);
    const enough = tally.add(r);
    yield r;
    if (enough) break;
  }
  return tally.summary();
}

/** Explores seeds from..from+seeds-1 (or until the time limit or enough failures). */
export function explore(o: ExploreOptions): ExploreSummary {
  const it = exploring(o);
  for (;;) {
    const r = it.next();
    if (r.done === true) return r.value;
  }
}
