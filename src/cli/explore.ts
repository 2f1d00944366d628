/**
 * `zabsim explore`: maps its flags onto an exploration (src/run/explore.ts) and prints progress
 * on a terminal, then a table of failing seeds with the property each broke and the command that
 * replays it. Exit 1 if any seed failed.
 */
import { setAutoFreeze } from 'immer';
import { explore, type ExploreSummary, type SeedResult } from '../run/explore.ts';
import { formatSettings } from '../run/settings.ts';
import { parseFlags, type CommandSpec, type FlagValue } from './args.ts';
import { RUN_SPEC, type Output } from './run.ts';

/** Run flags that make no sense per explored seed. */
const NOT_FOR_EXPLORE = new Set(['seed', 'json', 'check-determinism', 'stop-early', 'swarm', 'no-color']);

export const EXPLORE_SPEC: CommandSpec = {
  name: 'explore',
  summary: 'Runs many seeds, each with its own fault mix drawn from the seed (swarm), judges each run, and prints the failing seeds with replay commands. Run flags given here override the draw for every seed.',
  flags: [
    { name: 'seeds', kind: 'int', min: 1, max: 100_000_000, help: 'number of seeds to run', defaultText: '100' },
    { name: 'from', kind: 'int', min: 0, max: 2 ** 32 - 1, help: 'first seed', defaultText: '1' },
    { name: 'time', kind: 'duration', min: 1, help: 'stop after this much wall-clock time', defaultText: 'no limit' },
    { name: 'no-swarm', kind: 'bool', help: 'use the run defaults and the flags given instead of drawing per seed' },
    { name: 'max-failures', kind: 'int', min: 1, max: 1_000_000, help: 'stop after this many failing seeds', defaultText: 'no limit' },
    ...RUN_SPEC.flags.filter((f) => !NOT_FOR_EXPLORE.has(f.name)),
  ],
};

/** The flags given to explore that apply to each run, in the order given. */
export function runOverrides(flags: ReadonlyMap<string, FlagValue>): Map<string, FlagValue> {
  const runNames = new Set(RUN_SPEC.flags.map((f) => f.name));
  const out = new Map<string, FlagValue>();
  for (const [k, v] of flags) if (runNames.has(k) && !NOT_FOR_EXPLORE.has(k)) out.set(k, v);
  return out;
}

/** `zabsim explore` with already-parsed flags; returns the exit code. */
export function exploreCommand(flags: Map<string, FlagValue>, out: Output, tty: { isTTY: boolean; write(s: string): void } | null): number {
  setAutoFreeze(false);
  const seeds = (flags.get('seeds') as number | undefined) ?? 100;
  const from = (flags.get('from') as number | undefined) ?? 1;
  const timeLimit = flags.get('time') as number | undefined;
  const maxFailures = flags.get('max-failures') as number | undefined;
  const overrides = runOverrides(flags);
  const swarm = flags.get('no-swarm') !== true;
  let lastDraw = 0;
  const progress = (r: SeedResult, done: number, s: ExploreSummary): void => {
    if (tty === null || !tty.isTTY) return;
    const now = performance.now();
    if (now - lastDraw < 150 && done < seeds && r.ok) return;
    lastDraw = now;
    const width = 30;
    const filled = Math.round((done / seeds) * width);
    const secs = s.wallMs / 1000;
    tty.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${seeds} seeds  ${(done / Math.max(secs, 1e-3)).toFixed(1)} seeds/s  ${Math.round(s.events / Math.max(secs, 1e-3)).toLocaleString('en-US')} events/s  ${s.failures.length} failing `);
  };
  const s = explore({ from, seeds, ...(timeLimit !== undefined ? { timeLimitMs: timeLimit } : {}), ...(maxFailures !== undefined ? { maxFailures } : {}), overrides, swarm, onSeed: progress });
  if (tty !== null && tty.isTTY) tty.write('\n');
  const n = s.results.length;
  const secs = s.wallMs / 1000;
  out.write(`explored ${n} seed${n === 1 ? '' : 's'} (${from}..${from + n - 1}${swarm ? ', swarm' : ''}${overrides.size > 0 ? `, with ${formatSettings(overrides)}` : ''}) in ${secs.toFixed(1)}s: ${s.events.toLocaleString('en-US')} events, ${Math.round(s.events / Math.max(secs, 1e-3)).toLocaleString('en-US')} events/s`);
  if (s.failures.length === 0) {
    out.write('no violations');
    return 0;
  }
  out.write(`${s.failures.length} failing seed${s.failures.length === 1 ? '' : 's'}:`);
  const rows = [['seed', 'property', 'at', 'replay'], ...s.failures.map((r) => [String(r.seed), r.violation?.property ?? '?', `${r.violation?.t ?? r.endMs}ms`, r.replay])];
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  for (const row of rows) out.write(row.map((cell, c) => (c < 3 ? cell.padEnd(widths[c] ?? 0) : cell)).join('  '));
  const first = s.failures[0] as SeedResult;
  if (first.violation !== null) out.write(`first failure (seed ${first.seed}): ${first.violation.message}`);
  return 1;
}

export function parseExploreFlags(argv: readonly string[]): Map<string, FlagValue> {
  return parseFlags(EXPLORE_SPEC, argv);
}
