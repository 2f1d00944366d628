/**
 * The time-to-find table (issue 11 §2, issue 12 §4): for each flaw and each search strategy, an
 * exploration from seed 1 (or from each start `--from` names) with that flaw on, stopped at its
 * first failure or at a run budget. Several starts measure the strategies on trajectories that do
 * not share a seed, so that one seed's luck does not decide which strategy wins.
 * `npm run bench -- flaws` (bench/flaws.ts) prints it; docs/checkers.md holds the last one.
 *
 * One row is one call of src/run's `exploring` in this thread (no child process per run), so its
 * run count is exactly what `npx zabsim explore --flaw F --strategy S --seeds B --max-failures 1`
 * reports. A row gives the failing run's length in events to the violation, the steps of the
 * explicit fault schedule it carries (the targeted strategy's armed crash, a mutant's), and then
 * its shrink (src/run/shrink.ts, as `explore --shrink` makes it): the steps of the schedule
 * recorded from the run, and of the shrunk schedule, within a budget of replays.
 */
import { performance } from 'node:perf_hooks';
import { FLAW_CATALOGUE } from '../src/protocol/flaws.ts';
import type { Flaws } from '../src/protocol/config.ts';
import { exploring, type SeedResult } from '../src/run/explore.ts';
import type { SettingValue } from '../src/run/settings.ts';
import { DEFAULT_SHRINK_BUDGET, shrinkFailure } from '../src/run/shrink.ts';
import { STRATEGIES, type StrategyName } from '../src/run/strategy.ts';

export type FlawName = keyof Flaws;

/** Every flaw switch, in the catalogue's order. */
export const FLAW_NAMES = Object.keys(FLAW_CATALOGUE) as FlawName[];

/** Runs per cell unless `--budget` says: the swarm gets more, since it is the cheapest per run and the reference. */
export const DEFAULT_BUDGET: Readonly<Record<StrategyName, number>> = { swarm: 1000, coverage: 300, pct: 300, targeted: 300, mix: 300 };

/**
 * TLC's figures on the same bugs, as issue 11 §2 quotes them from the TLA+ specification of
 * zab-bugs.md (AlphaCanisMajoris/zookeeper-tla-spec), on 2 cores.
 */
export const TLC_FIGURES: Readonly<Record<string, string>> = {
  'ZOOKEEPER-2845': 'TLC BFS 1.6-7.8 s',
  'ZOOKEEPER-3911': 'TLC simulation 3.7-13.4 s; BFS not in 600 s',
  'ZOOKEEPER-4643': 'not found in 600 s',
  'ZOOKEEPER-4646': 'not found in 300 s',
};

export interface FlawRow {
  readonly flaw: FlawName;
  /** The ticket the flaw is known by, `zabsim finding` when none. */
  readonly bug: string;
  readonly strategy: StrategyName;
  /** The first seed of the cell's exploration (`explore --from`); absent in rows saved before it existed, which started at 1. */
  readonly from?: number;
  readonly budget: number;
  /** Runs made: up to and including the first failing one, or the whole budget. */
  readonly runs: number;
  readonly found: boolean;
  /** The failing run's seed (its `--seed`), or null. */
  readonly seed: number | null;
  /** The property the failing run violated first, `internal error` for a run that threw, or null. */
  readonly property: string | null;
  /** The failing run's length in events, to the violation (its replay stops there), or null. */
  readonly events: number | null;
  /** Virtual time of the violation, ms, or null. */
  readonly virtualMs: number | null;
  /** Steps of the explicit fault schedule the failing run carries (0: only drawn faults), or null. */
  readonly scheduleSteps: number | null;
  /** How the strategy made the failing run (`swarm`, `targeted: ...`, `mutant of seed 17: ...`). */
  readonly origin: string | null;
  /** The command that replays the failing run to its violation. */
  readonly replay: string | null;
  readonly wallMs: number;
  /** CPU time of this process over the cell (user + system), ms. */
  readonly cpuMs: number;
  /** Events over every run of the cell. */
  readonly totalEvents: number;
  /** Steps of the fault schedule recorded from the failing run (every crash, restart, partition, heal), or null. */
  readonly recordedSteps?: number | null;
  /** Steps of the shrunk schedule (null: not found, not reproduced, or not shrunk). */
  readonly shrunkSteps?: number | null;
  /** The shrunk failure's replay command, or null. */
  readonly shrunkReplay?: string | null;
  /** Replays the shrink made, and its wall time (not in `wallMs`), ms. */
  readonly shrinkReplays?: number | null;
  readonly shrinkMs?: number | null;
}

/** The settings every run of a cell gets over its draw: the flaw alone. */
export function flawOverrides(flaw: FlawName): Map<string, SettingValue> {
  return new Map<string, SettingValue>([['flaw', [flaw]]]);
}

function scheduleSteps(r: SeedResult): number {
  const m = /--schedule '([^']*)'/.exec(r.replay);
  return m === null ? 0 : (m[1] as string).split(';').filter((x) => x.trim() !== '').length;
}

/** Explores one cell: seeds from `from` with `flaw` on, strategy `strategy`, at most `budget` runs, stopping at the first failure. */
export function measureFlaw(flaw: FlawName, strategy: StrategyName, budget: number, shrinkBudget: number = DEFAULT_SHRINK_BUDGET, from = 1): FlawRow {
  const info = FLAW_CATALOGUE[flaw];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const it = exploring({ from, seeds: budget, overrides: flawOverrides(flaw), strategy, maxFailures: 1 });
  let r = it.next();
  while (r.done !== true) r = it.next();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const s = r.value;
  const f = s.failures[0] ?? null;
  const s0 = performance.now();
  const shrunk = f === null || f.violation === null || shrinkBudget === 0 ? null : shrinkFailure(f.settings, f.violation.property, shrinkBudget);
  const shrinkMs = shrunk === null ? null : performance.now() - s0;
  return {
    flaw,
    bug: info.tickets[0] ?? 'zabsim finding',
    strategy,
    from,
    budget,
    runs: s.results.length,
    found: f !== null,
    seed: f?.seed ?? null,
    property: f === null ? null : f.error !== null ? 'internal error' : (f.violation?.property ?? null),
    events: f?.events ?? null,
    virtualMs: f?.endMs ?? null,
    scheduleSteps: f === null ? null : scheduleSteps(f),
    origin: f?.origin ?? null,
    replay: f?.replay ?? null,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    totalEvents: s.events,
    recordedSteps: shrunk?.recordedSteps ?? null,
    shrunkSteps: shrunk?.reproduced === true ? shrunk.steps : null,
    shrunkReplay: shrunk?.reproduced === true ? shrunk.replay : null,
    shrinkReplays: shrunk?.replays ?? null,
    shrinkMs,
  };
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** The shrink part of a cell: `recorded → shrunk sh`, `R not reproduced`, or nothing for a row measured without it. */
function shrinkCell(r: FlawRow): string {
  if (r.recordedSteps === undefined || r.recordedSteps === null) return '';
  return r.shrunkSteps === null || r.shrunkSteps === undefined ? ` · ${r.recordedSteps} not reproduced` : ` · ${r.recordedSteps}→${r.shrunkSteps} sh`;
}

/** One cell of the table: `runs · wall time · events · schedule steps · recorded → shrunk steps` (and the property when it is not the row's), or `none in N`. */
export function cell(r: FlawRow, rowProperty: string | null): string {
  if (!r.found) return `none in ${r.runs} (${secs(r.wallMs)})`;
  const other = r.property === rowProperty ? '' : ` ${r.property}`;
  return `**${r.runs}**${other} · ${secs(r.wallMs)} · ${r.events} ev · ${r.scheduleSteps} st${shrinkCell(r)}`;
}

/** The property most cells of a flaw's row found first (the first strategy's on a tie). */
function rowProperty(cells: readonly FlawRow[]): string | null {
  let best: string | null = null;
  let n = 0;
  for (const c of cells) {
    if (c.property === null) continue;
    const k = cells.filter((x) => x.property === c.property).length;
    if (k > n) [best, n] = [c.property, k];
  }
  return best;
}

/** The first seed of a row's exploration (1 for rows saved before `from` existed). */
export const rowStart = (r: FlawRow): number => r.from ?? 1;

/** A row per flaw, a column per strategy, for the rows of one start. */
function flawLines(rows: readonly FlawRow[], strategies: readonly StrategyName[]): string[] {
  const flaws = FLAW_NAMES.filter((f) => rows.some((r) => r.flaw === f));
  const out: string[] = [];
  out.push(`| Flaw | Bug | Property | ${strategies.join(' | ')} | TLC (2 cores) |`);
  out.push(`|---|---|---|${strategies.map(() => '---|').join('')}---|`);
  for (const f of flaws) {
    const bug = FLAW_CATALOGUE[f].tickets[0] ?? 'zabsim finding';
    const mine = rows.filter((x) => x.flaw === f);
    const prop = rowProperty(mine);
    const cells = strategies.map((s) => {
      const r = mine.find((x) => x.strategy === s);
      return r === undefined ? '' : cell(r, prop);
    });
    out.push(`| \`${f}\` | ${bug} | ${prop === null ? '' : `\`${prop}\``} | ${cells.join(' | ')} | ${TLC_FIGURES[bug] ?? ''} |`);
  }
  return out;
}

/**
 * The markdown table: a row per flaw, a column per strategy measured (runs to the first failure,
 * wall time, the failing run's events and explicit schedule steps), and TLC's figure where issue
 * 11 gives one; one such table per start when the rows come from several (`--from`). Then the
 * strategies ranked by the rule of {@link rankStrategies}, over every row.
 */
export function markdownTable(rows: readonly FlawRow[]): string {
  const strategies = STRATEGIES.filter((s) => rows.some((r) => r.strategy === s));
  const starts = [...new Set(rows.map(rowStart))].sort((a, b) => a - b);
  const out: string[] = [];
  if (starts.length === 1) out.push(...flawLines(rows, strategies));
  else {
    for (const [k, start] of starts.entries()) {
      if (k > 0) out.push('');
      out.push(`From seed ${start}:`, '');
      out.push(...flawLines(rows.filter((r) => rowStart(r) === start), strategies));
    }
  }
  out.push('');
  const cap = Math.min(...rows.map((r) => r.budget));
  if (starts.length === 1) {
    out.push(`| Strategy | Flaws found in ${cap} runs | Runs over every flaw (a miss counts the budget) | Wall time | CPU time |`);
  } else {
    out.push(`| Strategy | Flaws found in ${cap} runs, over ${starts.length} starts | Runs over every flaw and start (a miss counts the budget) | Wall time | CPU time |`);
  }
  out.push('|---|---|---|---|---|');
  for (const t of rankStrategies(rows)) out.push(`| ${t.strategy} | ${t.found} of ${t.cells} | ${t.runs} | ${secs(t.wallMs)} | ${secs(t.cpuMs)} |`);
  return out.join('\n');
}

export interface StrategyTotal {
  readonly strategy: StrategyName;
  readonly cells: number;
  readonly found: number;
  readonly runs: number;
  readonly wallMs: number;
  readonly cpuMs: number;
}

/**
 * The strategies, best first: the most flaws found within budget wins; among equals, the fewest
 * runs over every flaw (a miss counts the runs it spent); then the least CPU time. A cell is one
 * flaw from one start, so rows from several starts rank the strategies over all of them. Cells are
 * compared at the smallest budget among them (the swarm's 1,000 against the others' 300: a swarm
 * find after run 300 counts as a miss of 300 runs), so that a larger budget wins nothing.
 */
export function rankStrategies(rows: readonly FlawRow[]): StrategyTotal[] {
  const cap = Math.min(...rows.map((r) => r.budget));
  const totals = STRATEGIES.filter((s) => rows.some((r) => r.strategy === s)).map((strategy): StrategyTotal => {
    const mine = rows.filter((r) => r.strategy === strategy);
    return {
      strategy,
      cells: mine.length,
      found: mine.filter((r) => r.found && r.runs <= cap).length,
      runs: mine.reduce((a, r) => a + Math.min(r.runs, cap), 0),
      wallMs: mine.reduce((a, r) => a + r.wallMs, 0),
      cpuMs: mine.reduce((a, r) => a + r.cpuMs, 0),
    };
  });
  return totals.sort((a, b) => b.found - a.found || a.runs - b.runs || a.cpuMs - b.cpuMs);
}
