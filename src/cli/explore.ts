/**
 * `zabsim explore`: maps its flags onto an exploration (src/run/explore.ts), shows progress on
 * stderr (a cli-progress bar on a terminal; a line every few seconds otherwise), then prints a
 * table of failing seeds with the property each broke and the command that replays it. Exit 1 if
 * any seed failed a check, 3 if a run threw (an internal error of zabsim). Ctrl-C stops after the
 * current seed and prints what was found so far (a second Ctrl-C ends at once).
 */
import { setAutoFreeze } from 'immer';
import { writeFileSync } from 'node:fs';
import { coverageJson, formatCoverage } from '../run/coverage.ts';
import { exploring, type ExploreSummary, type SeedResult } from '../run/explore.ts';
import { DEFAULT_STRATEGY, STRATEGIES, type StrategyName } from '../run/strategy.ts';
import { checkSettings, formatSettings, resolveSettings } from '../run/settings.ts';
import { describeDraw, SWARM_DRAWS } from '../run/swarm.ts';
import { parseFlags, UsageError, type CommandSpec, type FlagValue } from './args.ts';
import type { Terminal } from './output.ts';
import { RUN_SPEC, type Output } from './run.ts';

/** Run flags that make no sense per explored seed. */
const NOT_FOR_EXPLORE = new Set(['seed', 'json', 'check-determinism', 'stop-early', 'swarm', 'no-color', 'quiet', 'around', 'record-numbers', 'coverage']);

const DRAWN = new Map(SWARM_DRAWS);
const MAX_SEED = 2 ** 32 - 1;

export const EXPLORE_SPEC: CommandSpec = {
  name: 'explore',
  summary: 'Runs many seeds, each with its own fault mix drawn from the seed (swarm), judges each run, and prints the failing seeds with replay commands. Run flags given here override the draw for every seed.',
  flags: [
    { name: 'seeds', kind: 'int', min: 1, max: 100_000_000, help: 'number of seeds to run', defaultText: '100' },
    { name: 'from', kind: 'int', min: 0, max: MAX_SEED, help: 'first seed', defaultText: '1' },
    { name: 'time', kind: 'duration', min: 1, help: 'stop after this much wall-clock time', defaultText: 'no limit' },
    { name: 'no-swarm', kind: 'bool', help: 'use the run defaults and the flags given instead of drawing per seed' },
    { name: 'strategy', kind: 'string', arg: 'NAME', expects: `one of ${STRATEGIES.join(', ')}`, resolve: (raw: string) => ((STRATEGIES as readonly string[]).includes(raw) ? raw : { error: `--strategy: no strategy named '${raw}'; expected one of ${STRATEGIES.join(', ')}.` }), help: 'how runs are chosen: swarm (seed after seed), coverage (mutate the runs that reached new coverage cells), pct (priority scheduling), targeted (crashes at the flaw windows), mix (each in turn); docs/checkers.md', defaultText: DEFAULT_STRATEGY },
    { name: 'coverage', kind: 'bool', help: 'count the coverage cells over every run and print the map at the end (docs/checkers.md)' },
    { name: 'coverage-json', kind: 'string', arg: 'FILE', help: 'with --coverage: also write the map as JSON to FILE' },
    { name: 'max-failures', kind: 'int', min: 1, max: 1_000_000, help: 'stop after this many failing seeds', defaultText: 'no limit' },
    { name: 'no-progress', kind: 'bool', help: 'no progress on stderr' },
    { name: 'no-color', kind: 'bool', help: 'plain text even on a terminal' },
    // Each run flag shows what the swarm draws for it (the run default applies only with --no-swarm).
    ...RUN_SPEC.flags
      .filter((f) => !NOT_FOR_EXPLORE.has(f.name))
      .map((f) => {
        const d = DRAWN.get(f.name);
        return d === undefined ? f : { ...f, defaultText: `swarm draws ${describeDraw(d)}` };
      }),
  ],
  hints: { seed: '--from (the first seed; --seeds is how many)' },
};

/** The flags given to explore that apply to each run, in the order given. */
export function runOverrides(flags: ReadonlyMap<string, FlagValue>): Map<string, FlagValue> {
  const runNames = new Set(RUN_SPEC.flags.map((f) => f.name));
  const out = new Map<string, FlagValue>();
  for (const [k, v] of flags) if (runNames.has(k) && !NOT_FOR_EXPLORE.has(k)) out.set(k, v);
  return out;
}

function rate(n: number, secs: number): string {
  return Math.round(n / Math.max(secs, 1e-3)).toLocaleString('en-US');
}

/** `zabsim explore` with already-parsed flags; resolves to the exit code. */
export async function exploreCommand(flags: Map<string, FlagValue>, out: Output, err: Terminal): Promise<number> {
  setAutoFreeze(false);
  const seeds = (flags.get('seeds') as number | undefined) ?? 100;
  const from = (flags.get('from') as number | undefined) ?? 1;
  if (from + seeds - 1 > MAX_SEED) throw new UsageError(`--from ${from} with --seeds ${seeds} reaches seed ${from + seeds - 1}, above the largest seed ${MAX_SEED}.`, 'explore');
  const timeLimit = flags.get('time') as number | undefined;
  const maxFailures = flags.get('max-failures') as number | undefined;
  const overrides = runOverrides(flags);
  const swarm = flags.get('no-swarm') !== true;
  const strategy = ((flags.get('strategy') as string | undefined) ?? DEFAULT_STRATEGY) as StrategyName;
  const coverage = flags.get('coverage') === true;
  const coverageFile = flags.get('coverage-json') as string | undefined;
  if (coverageFile !== undefined && !coverage) throw new UsageError('--coverage-json writes the map that --coverage counts: give --coverage too.', 'explore');
  if (flags.has('strategy') && !swarm) throw new UsageError('--strategy chooses among swarm draws: it does not go with --no-swarm.', 'explore');
  // Settings that no seed could run: refused once, before exploring.
  checkSettings(resolveSettings(new Map([['seed', from], ...(swarm ? ([['swarm', true]] as const) : []), ...overrides])));

  const showProgress = flags.get('no-progress') !== true;
  // Loaded only here, so that the other commands start without it.
  const cliProgress = showProgress && err.isTTY ? (await import('cli-progress')).default : null;
  const bar =
    cliProgress !== null
      ? new cliProgress.SingleBar(
          {
            stream: err as unknown as NodeJS.WritableStream,
            format: '[{bar}] {value}/{total} seeds | {rate} seeds/s | {failing} failing | ETA {eta_formatted}',
            barsize: Math.max(10, Math.min(30, (err.columns ?? 80) - 70)),
            gracefulExit: false,
            hideCursor: false,
            linewrap: false,
            etaBuffer: 50,
          },
          cliProgress.Presets.legacy,
        )
      : null;
  bar?.start(seeds, 0, { rate: '0', failing: 0 });
  let lastLine = performance.now();
  let latest: ExploreSummary = { results: [], failures: [], events: 0, wallMs: 0, coverage: null };
  const progress = (r: SeedResult, done: number, s: ExploreSummary): void => {
    latest = s;
    if (!showProgress) return;
    const secs = s.wallMs / 1000;
    if (bar !== null) {
      bar.update(done, { rate: (done / Math.max(secs, 1e-3)).toFixed(1), failing: s.failures.length });
      return;
    }
    // Not a terminal: a plain line every 5 s of wall-clock time, and at each failure.
    const now = performance.now();
    if (now - lastLine < 5000 && r.ok) return;
    lastLine = now;
    const eta = done > 0 ? Math.round((secs / done) * (seeds - done)) : 0;
    err.write(`explore: ${done}/${seeds} seeds, ${(done / Math.max(secs, 1e-3)).toFixed(1)} seeds/s, ${rate(s.events, secs)} events/s, ${s.failures.length} failing, ETA ${eta}s\n`);
  };

  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
  };
  process.once('SIGINT', onSigint);
  let s: ExploreSummary;
  try {
    const it = exploring({ from, seeds, ...(timeLimit !== undefined ? { timeLimitMs: timeLimit } : {}), ...(maxFailures !== undefined ? { maxFailures } : {}), overrides, swarm, strategy, coverage, onSeed: progress });
    for (;;) {
      const r = it.next();
      if (r.done === true) {
        s = r.value;
        break;
      }
      // Let a Ctrl-C arrive between seeds.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (interrupted) {
        s = latest;
        break;
      }
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
    bar?.stop();
  }
  const n = s.results.length;
  const secs = s.wallMs / 1000;
  if (interrupted) out.write(`interrupted (Ctrl-C) after ${n} seed${n === 1 ? '' : 's'}; what was found so far:`);
  const covLines = (): void => {
    if (!coverage || s.coverage === null) return;
    for (const l of formatCoverage(s.coverage)) out.write(l);
    if (coverageFile !== undefined) writeFileSync(coverageFile, `${JSON.stringify(coverageJson(s.coverage))}\n`);
  };
  const what = !swarm ? '' : strategy === 'swarm' ? ', swarm' : `, strategy ${strategy}`;
  out.write(`explored ${n} ${strategy === 'swarm' || !swarm ? `seed${n === 1 ? '' : 's'} (${from}..${from + n - 1}` : `run${n === 1 ? '' : 's'} (from seed ${from}`}${what}${overrides.size > 0 ? `, with ${formatSettings(overrides)}` : ''}) in ${secs.toFixed(1)}s: ${s.events.toLocaleString('en-US')} events, ${rate(s.events, secs)} events/s`);
  if (s.failures.length === 0) {
    out.write('no violations');
    covLines();
    return interrupted ? 130 : 0;
  }
  out.write(`${s.failures.length} failing seed${s.failures.length === 1 ? '' : 's'}:`);
  const rows = [['seed', 'property', 'at', 'replay'], ...s.failures.map((r) => [String(r.seed), r.error !== null ? 'INTERNAL ERROR' : (r.violation?.property ?? '?'), `${r.violation?.t ?? r.endMs}ms`, r.replay])];
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  for (const row of rows) out.write(row.map((cell, c) => (c < 3 ? cell.padEnd(widths[c] ?? 0) : cell)).join('  '));
  const first = s.failures[0] as SeedResult;
  if (first.violation !== null) out.write(`first failure (seed ${first.seed}): ${first.violation.message}`);
  const errors = s.failures.filter((r) => r.error !== null);
  for (const r of errors) out.write(`internal error of zabsim in seed ${r.seed} (a bug in zabsim, not in the protocol; replay: ${r.replay}): ${r.error}`);
  covLines();
  return errors.length > 0 ? 3 : 1;
}

export function parseExploreFlags(argv: readonly string[]): Map<string, FlagValue> {
  return parseFlags(EXPLORE_SPEC, argv);
}
