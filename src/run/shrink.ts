/**
 * The shrinker of exploration failures (issue 11 §2, issue 12 §4), as Hypothesis and fast-check
 * shrink and as Jepsen users minimise a history by hand: a failing run's faults are made explicit,
 * then made smaller while the run still fails with the same property.
 *
 * 1. **Record.** The failing run is run again (the same seed and settings, a pure function of
 *    them) and its fault injector's log is read: every crash, restart, partition and heal it made,
 *    drawn or scheduled, as `--schedule` steps; a crash that fired at a crash point keeps its
 *    `after POINT`, armed at the instant it fired.
 * 2. **Replay.** The same seed and settings with the drawn crashes, partitions and crash points
 *    switched off (`--crash-every 0 --partition-every 0 --crash-points 0`) and the recorded
 *    schedule in their place. The crash and partition draws have their own streams (`crashes`,
 *    `partitions`), so switching them off moves neither the network's nor the disks' nor the
 *    clients' draws; every fault runs first in its millisecond (`Simulation.atFirst`) and a halted
 *    server's restart delay has its own stream (`halts`), so the replay is the same run, record
 *    for record. It must fail with the same property, or there is nothing to shrink
 *    (`reproduced` false).
 * 3. **Shrink**, every candidate one deterministic replay that must fail with the same property:
 *    no step at all; then delta debugging over the steps (Zeller's ddmin: drop halves, quarters,
 *    ... single steps); then the faulty period's network faults dropped (loss, duplication,
 *    reordering, ACK reordering: all at once, else one by one) and ddmin again if one went; then
 *    each step moved earlier (to the previous step's time, else halfway, binary search).
 *
 * Replays are counted against a budget (`--shrink-budget`); a candidate already tried is not run
 * again. The result is deterministic: the same failure and budget give the same schedule.
 */
import { formatSchedule, type ScheduledFault } from '../sim/faults.ts';
import type { ShrunkSchedule } from '../trace/results.ts';
import { createRun, releaseRun, runJudged, verdictOf } from './run.ts';
import { formatSettings, optionsFromSettings, resolveSettings, type Settings, type SettingValue } from './settings.ts';

/** Replays a shrink may make unless told (`--shrink-budget`). */
export const DEFAULT_SHRINK_BUDGET = 100;

/** The network faults of the faulty period a shrink tries to drop, in this order. */
export const NETWORK_FAULTS = ['loss', 'duplicate', 'reorder', 'ack-reorder'] as const;

/** A shrunk failure (the JSON of `shrunk` in `explore --json` and failures.jsonl, docs/results.md). */
export type Shrunk = ShrunkSchedule;

/** Runs `settings` (with `stop-early`) and returns its first violation's property (null: none) and the faults injected. */
export function replayFaults(settings: Settings): { readonly property: string | null; readonly injected: readonly ScheduledFault[] } {
  const given = new Map<string, SettingValue>(settings);
  given.set('stop-early', true);
  const opts = optionsFromSettings(resolveSettings(given));
  const run = createRun(opts, null);
  runJudged(run, opts.untilMs);
  const out = { property: verdictOf(run).violations[0]?.property ?? null, injected: run.faults.injected };
  releaseRun(run);
  return out;
}

/**
 * The settings of a failing run with its drawn crashes and partitions off, ready for an explicit
 * schedule. A run without `swarm` has its faulty period and length pinned first, as the original
 * resolved them (a schedule alone would resolve them differently).
 */
function withoutDrawnFaults(settings: Settings): Map<string, SettingValue> {
  const base = new Map<string, SettingValue>(settings);
  base.delete('schedule');
  base.delete('stop-early');
  if (settings.get('swarm') !== true) {
    const resolved = resolveSettings(settings);
    for (const k of ['faults-until', 'until'] as const) if (resolved.has(k)) base.set(k, resolved.get(k) as SettingValue);
  }
  base.set('crash-every', 0);
  base.set('partition-every', 0);
  base.set('crash-points', 0);
  return base;
}

/** The settings of one candidate: the base, network faults dropped, and the schedule (none when empty). */
function candidateSettings(base: Settings, dropped: readonly string[], steps: readonly ScheduledFault[]): Map<string, SettingValue> {
  const m = new Map<string, SettingValue>(base);
  for (const d of dropped) m.set(d, 0);
  if (steps.length > 0) m.set('schedule', formatSchedule(steps));
  m.set('stop-early', true);
  return m;
}

/** Zeller's ddmin over the steps: the smallest subsequence found that still fails, within the budget. */
function ddmin(steps: readonly ScheduledFault[], fails: (s: readonly ScheduledFault[]) => boolean): ScheduledFault[] {
  let cur = [...steps];
  let n = 2;
  while (cur.length >= 2) {
    const chunk = Math.ceil(cur.length / n);
    let reduced = false;
    for (let i = 0; i < n && i * chunk < cur.length; i++) {
      const complement = [...cur.slice(0, i * chunk), ...cur.slice((i + 1) * chunk)];
      if (fails(complement)) {
        cur = complement;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= cur.length) break;
      n = Math.min(cur.length, n * 2);
    }
  }
  if (cur.length === 1 && fails([])) return [];
  return cur;
}

/** Each step moved as early as it still fails: to the previous step's time, else by binary search. */
function earlier(steps: readonly ScheduledFault[], fails: (s: readonly ScheduledFault[]) => boolean): ScheduledFault[] {
  const cur = [...steps];
  for (let i = 0; i < cur.length; i++) {
    const floor = i === 0 ? 0 : (cur[i - 1] as ScheduledFault).atMs;
    let lo = floor;
    let hi = (cur[i] as ScheduledFault).atMs;
    // Invariant: hi fails; find the earliest time in [lo, hi] that fails, trying lo first.
    for (let round = 0; hi > lo && round < 6; round++) {
      const t = round === 0 ? lo : Math.floor((lo + hi) / 2);
      const moved = [...cur.slice(0, i), { ...(cur[i] as ScheduledFault), atMs: t }, ...cur.slice(i + 1)];
      if (fails(moved)) {
        hi = t;
        cur[i] = moved[i] as ScheduledFault;
        if (round === 0) break;
      } else {
        lo = t + 1;
      }
    }
  }
  return cur;
}

/** Stops the shrink when the budget of replays is spent. */
class BudgetSpent extends Error {}

/**
 * Shrinks the failure of `settings` (a failing run's settings, as its replay command gives them)
 * whose first violation was `property`, in at most `budget` replays (at least 1: the recorded
 * schedule's own replay).
 */
export function shrinkFailure(settings: Settings, property: string, budget = DEFAULT_SHRINK_BUDGET): Shrunk {
  const recorded = replayFaults(settings).injected;
  const base = withoutDrawnFaults(settings);
  const resolved = resolveSettings(base);
  const networkOn = NETWORK_FAULTS.filter((k) => ((resolved.get(k) as number | undefined) ?? 0) > 0);
  const tried = new Map<string, boolean>();
  let replays = 0;
  let dropped: readonly string[] = [];
  const failsWith = (drop: readonly string[], steps: readonly ScheduledFault[]): boolean => {
    const s = candidateSettings(base, drop, steps);
    const key = formatSettings(s);
    const known = tried.get(key);
    if (known !== undefined) return known;
    if (replays >= budget) throw new BudgetSpent();
    replays++;
    const ok = replayFaults(s).property === property;
    tried.set(key, ok);
    return ok;
  };
  const fails = (steps: readonly ScheduledFault[]): boolean => failsWith(dropped, steps);
  const result = (steps: readonly ScheduledFault[], reproduced: boolean): Shrunk => ({
    property,
    reproduced,
    schedule: formatSchedule(steps),
    steps: steps.length,
    recordedSteps: recorded.length,
    dropped,
    replays,
    replay: `npx zabsim run ${formatSettings(candidateSettings(base, dropped, steps))}`,
  });
  // Not reproduced: the recorded schedule and its replay, for the reader to see; nothing shrunk.
  if (!fails(recorded)) return result(recorded, false);
  let steps: ScheduledFault[] = [...recorded];
  try {
    if (steps.length > 0 && fails([])) steps = [];
    steps = ddmin(steps, (s) => {
      const ok = fails(s);
      if (ok) steps = [...s];
      return ok;
    });
    if (networkOn.length > 0) {
      if (failsWith(networkOn, steps)) dropped = [...networkOn];
      else for (const k of networkOn) if (failsWith([...dropped, k], steps)) dropped = [...dropped, k];
      if (dropped.length > 0 && steps.length > 0) {
        steps = ddmin(steps, (s) => {
          const ok = fails(s);
          if (ok) steps = [...s];
          return ok;
        });
      }
    }
    steps = earlier(steps, (s) => {
      const ok = fails(s);
      if (ok) steps = [...s];
      return ok;
    });
  } catch (e) {
    // The budget ran out: `steps` and `dropped` hold the smallest failing candidate so far.
    if (!(e instanceof BudgetSpent)) throw e;
  }
  return result(steps, true);
}
