/**
 * Search strategies for exploration (issue 12 §4). A strategy proposes candidates one generation
 * at a time; a candidate is plain data (a seed and the settings of `zabsim run`), so that its
 * replay is the exact command `npx zabsim run <settings>`. The next generation depends only on
 * the results of the earlier ones, in candidate order: a generation's candidates can run in any
 * order, or in parallel, and the exploration is the same.
 *
 * - `swarm`: seeds from, from+1, ... each with its own drawn fault mix (the original exploration).
 * - `coverage`: coverage-guided. Keeps the candidates whose run reached a coverage cell, or a
 *   count bucket of a cell (1, 2-3, 4-7, ...), not seen before, and mutates them: a new run seed
 *   over the parent's whole draw (new network, disk and scheduler streams), some of the parent's
 *   parameters re-drawn, or a crash aimed at a window; half of each generation stays fresh swarm seeds.
 * - `pct`: priority-based scheduling of the interleavings (PCT, as Coyote and P use): each swarm
 *   seed runs with `--pct D`, random server priorities with D - 1 priority-change points (src/sim/faults.ts).
 * - `targeted`: each swarm seed with a crash armed at a flaw-relevant window (`--schedule 'T crash
 *   sN after POINT'`: a NEWLEADER ACK, a currentEpoch or synced log write made durable, a COMMIT);
 *   with no flaw given, a quarter of them also start in the stale-LEADERINFO window (`--accepted-ahead
 *   2`) and a quarter reset a learner's connection after its NEWLEADER ACK (`--newleader-ack-resets 0.5`).
 * - `mix`: the generations take turns: swarm, coverage (mutants of the corpus that every
 *   generation feeds), pct, targeted.
 */
import type { Flaws } from '../protocol/config.ts';
import { flawByName } from '../protocol/flaws.ts';
import { CRASH_POINTS, type CrashPointName } from '../sim/faults.ts';
import { RngRoot, type Rng } from '../sim/rng.ts';
import { RUN_DEFAULTS, type Settings, type SettingValue } from './settings.ts';
import { SWARM_DRAWS, swarmSettings } from './swarm.ts';

export const STRATEGIES = ['swarm', 'coverage', 'pct', 'targeted', 'mix'] as const;
export type StrategyName = (typeof STRATEGIES)[number];

/**
 * The strategy explore uses unless told. The measurements in docs/checkers.md decide it: over
 * every flaw from five starts ("Which strategy is the default: five starts, not one"), the swarm
 * ranks first (97 of 100 cells within 300 runs in 5,244 runs, against pct's 96 in 5,407), so it
 * stays the default.
 */
export const DEFAULT_STRATEGY: StrategyName = 'swarm';

/** One run to make: its settings (with `seed`) as `zabsim run` takes them, and where it came from. */
export interface Candidate {
  readonly settings: Settings;
  /** How the strategy made it (`swarm`, `mutant of 17: re-drew loss, delay`...), for the report. */
  readonly origin: string;
}

/** What a strategy learns from a run: the candidate, whether it failed, and its coverage. */
export interface Feedback {
  readonly candidate: Candidate;
  readonly failed: boolean;
  /** Hit counts per cell (null when coverage was not counted). */
  readonly coverage: Uint32Array | null;
}

export interface Strategy {
  readonly name: StrategyName;
  /** Whether runs must count coverage for this strategy. */
  readonly needsCoverage: boolean;
  /** The candidates of generation `g` (at most `max`), given the feedback of generation g - 1. */
  generation(g: number, max: number, previous: readonly Feedback[]): Candidate[];
}

/** Candidates per generation: what can run in parallel; a constant, so the search is the same however it runs. */
export const GENERATION_SIZE = 16;

/** The PCT depth used by the pct strategy (priority-change points + 1). */
export const PCT_DEPTH = 3;

function swarmCandidate(seed: number, overrides: Settings, extra: readonly (readonly [string, SettingValue])[] = [], origin = 'swarm'): Candidate {
  return { settings: new Map<string, SettingValue>([['seed', seed], ['swarm', true], ...extra, ...overrides]), origin };
}

/**
 * The crash point at the window of a flaw, where one is known: a flaw turned on by the overrides
 * makes the targeted strategy aim half its crashes there (the other half at any point). The deep
 * ones only: the re-sync ACK finding needs the COMMIT of a re-sent proposal, ZOOKEEPER-1653/2354 a
 * crash between the synced log's fsync and the currentEpoch write, ZOOKEEPER-4643 a crash after
 * the currentEpoch write while the log is pending.
 */
export const FLAW_WINDOWS: Readonly<Partial<Record<keyof Flaws, CrashPointName>>> = {
  leader_keeps_acks_across_resync: 'resync-commit',
  newleader_no_epoch_marker: 'log-durable',
  follower_epoch_before_log_durable: 'epoch-durable',
};

/** The window the overrides' flaws aim at (the first flaw given that has one), or null. */
export function aimedPoint(overrides: Settings): CrashPointName | null {
  for (const f of (overrides.get('flaw') as readonly string[] | undefined) ?? []) {
    const name = flawByName(f);
    const point = name === null ? undefined : FLAW_WINDOWS[name];
    if (point !== undefined) return point;
  }
  return null;
}

/** Points only a leader reaches, and which server leads then is unknown: a crash there is armed on every server. */
const LEADER_ONLY: ReadonlySet<CrashPointName> = new Set(['resync-commit']);

/** What every strategy draws from: the overrides, its random stream, and the next fresh swarm seed. */
interface Source {
  readonly overrides: Settings;
  /** The crash point of the flaw's window (aimedPoint), or null. */
  readonly aimed: CrashPointName | null;
  readonly rng: Rng;
  /** Seeds from, from+1, ...: each fresh seed once. */
  fresh(): number;
}

function swarmGen(src: Source, n: number): Candidate[] {
  return Array.from({ length: n }, () => swarmCandidate(src.fresh(), src.overrides));
}

/** The pct candidate of a seed: the swarm seed with `--pct D` (the swarm's own when the overrides give `pct`). */
function pctCandidate(seed: number, overrides: Settings): Candidate {
  return overrides.has('pct') ? swarmCandidate(seed, overrides) : swarmCandidate(seed, overrides, [['pct', PCT_DEPTH]], `pct ${PCT_DEPTH}`);
}

function pctGen(src: Source, n: number): Candidate[] {
  return Array.from({ length: n }, () => pctCandidate(src.fresh(), src.overrides));
}

/**
 * The strategies whose run for a seed depends on that seed and the overrides alone, not on
 * earlier runs: their k-th run is `perSeedCandidate(name, from + k)`, so a worker pool, a shard
 * and a resumed sweep run them as they run the swarm, with the same results as one thread.
 */
export const PER_SEED: ReadonlySet<StrategyName> = new Set(['swarm', 'pct']);

/** The candidate a per-seed strategy makes for `seed`; throws for a strategy that is not per-seed. */
export function perSeedCandidate(name: StrategyName, seed: number, overrides: Settings): Candidate {
  switch (name) {
    case 'swarm':
      return swarmCandidate(seed, overrides);
    case 'pct':
      return pctCandidate(seed, overrides);
    default:
      throw new Error(`perSeedCandidate: strategy ${name} chooses its runs from earlier ones; it has no run per seed`);
  }
}

/**
 * A crash armed at a window: at a time within the faulty period, at the server's next such point.
 * `drawn` holds the run's cluster size and faulty period (a swarm draw, or a mutant's settings).
 * With a flaw's window known (`aimed`), half the crashes aim there; a point only a leader reaches
 * is armed on every server (the first leader to reach it crashes).
 */
function targetedSchedule(r: Rng, drawn: Settings, aimed: CrashPointName | null): string {
  const servers = ((drawn.get('servers') as number | undefined) ?? 3) + ((drawn.get('observers') as number | undefined) ?? 0);
  const until = (drawn.get('faults-until') as number | undefined) ?? 20_000;
  const sid = r.int(1, servers);
  const point = CRASH_POINTS[r.int(0, CRASH_POINTS.length - 1)] as CrashPointName;
  const at = r.int(500, Math.max(500, Math.floor(until / 2)));
  const chosen = aimed !== null && r.chance(0.5) ? aimed : point;
  if (LEADER_ONLY.has(chosen)) return Array.from({ length: servers }, (_, i) => `${at}ms crash s${i + 1} after ${chosen}`).join('; ');
  return `${at}ms crash s${sid} after ${chosen}`;
}

/**
 * Two windows of issue 12 §2 that are not crash points, each drawn for a quarter of the targeted
 * runs when no flaw is given (a user's own change, the bug classes of test/mutation/classes.ts),
 * so that the flaw hunts keep their measured schedules:
 * - stale LEADERINFO: `--accepted-ahead 2` pre-loads one voter's acceptedEpoch two above its
 *   currentEpoch, as after leading two epochs that each failed right after its acceptedEpoch
 *   became durable (src/sim/history.ts). A quorum without it then decides an epoch below its
 *   promise, and the LEADERINFO it gets is stale (one above would only meet an equal epoch).
 *   ZooKeeper 3.9 answers that with its acceptedEpoch lockout (docs/checkers.md), which such a
 *   run of a correct model may then report as Liveness.
 * - a second NEWLEADER ACK: `--newleader-ack-resets 0.5` resets a learner's connection right after
 *   its leader counted its NEWLEADER ACK, while the leader waits for more (src/sim/faults.ts): the
 *   learner syncs again with the same leader and ACKs NEWLEADER a second time. It shows with 5
 *   voters or more (with 3 the first ACK already makes the quorum), so a run drawn smaller gets 5.
 */
export const TARGETED_WINDOWS: readonly (readonly [string, SettingValue])[] = [
  ['accepted-ahead', 2],
  ['newleader-ack-resets', 0.5],
];

/** The voters a window needs to show anything: a run drawn smaller gets this many. */
const WINDOW_MIN_VOTERS: Readonly<Record<string, number>> = { 'newleader-ack-resets': 5 };

function targetedGen(src: Source, n: number): Candidate[] {
  return Array.from({ length: n }, () => {
    const seed = src.fresh();
    if (src.overrides.has('schedule')) return swarmCandidate(seed, src.overrides);
    const drawn = new Map([...swarmSettings(seed), ...src.overrides]);
    const schedule = targetedSchedule(src.rng, drawn, src.aimed);
    // One draw: a quarter of the runs in each window, half in neither.
    const w = src.overrides.has('flaw') ? undefined : TARGETED_WINDOWS[src.rng.int(0, 2 * TARGETED_WINDOWS.length - 1)];
    if (w !== undefined && !src.overrides.has(w[0])) {
      const voters = WINDOW_MIN_VOTERS[w[0]] ?? 0;
      const more = !src.overrides.has('servers') && ((drawn.get('servers') as number | undefined) ?? 3) < voters ? ([['servers', voters]] as const) : [];
      return swarmCandidate(seed, src.overrides, [['schedule', schedule], w, ...more], `targeted: ${schedule}; ${w[0]} ${String(w[1])}${more.length > 0 ? `; servers ${voters}` : ''}`);
    }
    return swarmCandidate(seed, src.overrides, [['schedule', schedule]], `targeted: ${schedule}`);
  });
}

/** AFL's hit-count buckets: 1, 2-3, 4-7, 8-15, ... as one bit each. */
function bucket(n: number): number {
  return n === 0 ? 0 : 1 << Math.min(30, 31 - Math.clz32(n));
}

/** The names the swarm draws that a mutation may re-draw (not the cluster size: schedules name servers). */
const REDRAWABLE = SWARM_DRAWS.map(([name]) => name).filter((n) => n !== 'servers' && n !== 'observers' && n !== 'clients-from');

/** The coverage-guided part: the corpus of candidates that reached something new, and their mutants. */
class Corpus {
  /** Per cell, the count buckets seen so far (a bit set). */
  private seen: Uint32Array | null = null;
  /** Candidates that brought something new, oldest first. */
  readonly kept: Candidate[] = [];

  observe(previous: readonly Feedback[]): void {
    for (const f of previous) {
      if (f.coverage === null) continue;
      const seen = (this.seen ??= new Uint32Array(f.coverage.length));
      let fresh = false;
      for (let i = 0; i < f.coverage.length; i++) {
        const b = bucket(f.coverage[i] as number);
        if (b !== 0 && ((seen[i] as number) & b) === 0) {
          seen[i] = (seen[i] as number) | b;
          fresh = true;
        }
      }
      // A failing candidate is reported, not mutated further (its mutants would fail the same way).
      if (fresh && !f.failed) this.kept.push(f.candidate);
    }
  }

  /** Half mutants of the corpus, half fresh swarm seeds (all fresh while the corpus is empty). */
  generation(src: Source, n: number): Candidate[] {
    if (this.kept.length === 0) return swarmGen(src, n);
    const out: Candidate[] = [];
    const mutants = Math.floor(n / 2);
    for (let i = 0; i < mutants; i++) {
      // Recent finds are mutated more often: half the picks among the newest eighth.
      const recent = Math.max(1, Math.ceil(this.kept.length / 8));
      const k = src.rng.chance(0.5) ? this.kept.length - 1 - src.rng.int(0, recent - 1) : src.rng.int(0, this.kept.length - 1);
      out.push(mutate(src, this.kept[k] as Candidate));
    }
    return [...out, ...swarmGen(src, n - mutants)];
  }
}

/**
 * A mutant: a new run seed over the parent's whole draw (made explicit, so it is kept), and either
 * nothing else (new network, disk, timer and thread streams), one to three parameters re-drawn
 * from another seed's draw, or a crash armed at a window.
 */
function mutate(src: Source, parent: Candidate): Candidate {
  const r = src.rng;
  const parentSeed = parent.settings.get('seed') as number;
  const base = new Map<string, SettingValue>([...swarmSettings(parentSeed), ...parent.settings]);
  base.set('seed', r.int(1, 2 ** 31 - 1));
  const kind = r.int(0, 2);
  const changed: string[] = [];
  if (kind === 1) {
    const donor = swarmSettings(r.int(1, 2 ** 31 - 1));
    const n = r.int(1, 3);
    for (let i = 0; i < n; i++) {
      const name = REDRAWABLE[r.int(0, REDRAWABLE.length - 1)] as string;
      if (src.overrides.has(name)) continue;
      base.set(name, donor.get(name) ?? undrawn(name));
      changed.push(name);
    }
  } else if (kind === 2 && !base.has('schedule')) {
    base.set('schedule', targetedSchedule(r, base, src.aimed));
    changed.push('schedule');
  }
  // Every drawn setting explicit (a draw left out, as `history` 0, at its default), so the new
  // seed's own draw, which `--swarm` lays underneath, changes nothing.
  for (const [name] of SWARM_DRAWS) if (!base.has(name)) base.set(name, undrawn(name));
  for (const [k, v] of src.overrides) base.set(k, v);
  return { settings: base, origin: `mutant of seed ${parentSeed}: ${changed.length === 0 ? 'new run seed' : `re-drew ${changed.join(', ')}`}` };
}

/** The value of a draw the swarm left out of its settings: the run default. */
function undrawn(name: string): SettingValue {
  const byDefault = (RUN_DEFAULTS as Record<string, SettingValue>)[name];
  if (byDefault !== undefined) return byDefault;
  // A setting without a run default (commit-delay): the draw's `unless` is the run without it.
  const draw = SWARM_DRAWS.find(([n]) => n === name)?.[1];
  return draw !== undefined && 'unless' in draw && draw.unless !== undefined ? draw.unless : 0;
}

/** The strategy `name`, deterministic from `from` (the first seed) and the overrides. */
export function makeStrategy(name: StrategyName, from: number, overrides: Settings): Strategy {
  let next = from;
  const src: Source = { overrides, aimed: aimedPoint(overrides), rng: new RngRoot(from).stream('explore'), fresh: () => next++ };
  const corpus = new Corpus();
  switch (name) {
    case 'swarm':
      return { name, needsCoverage: false, generation: (_g, n) => swarmGen(src, n) };
    case 'pct':
      return { name, needsCoverage: false, generation: (_g, n) => pctGen(src, n) };
    case 'targeted':
      return { name, needsCoverage: false, generation: (_g, n) => targetedGen(src, n) };
    case 'coverage':
      return {
        name,
        needsCoverage: true,
        generation: (_g, n, previous) => {
          corpus.observe(previous);
          return corpus.generation(src, n);
        },
      };
    case 'mix':
      return {
        name,
        needsCoverage: true,
        generation: (g, n, previous) => {
          corpus.observe(previous);
          switch (g % 4) {
            case 0:
              return swarmGen(src, n);
            case 1:
              return corpus.generation(src, n);
            case 2:
              return pctGen(src, n);
            default:
              return targetedGen(src, n);
          }
        },
      };
  }
}
