/**
 * `zabsim explore`: maps its flags onto an exploration (src/run/explore.ts), shows progress on
 * stderr (a cli-progress bar on a terminal; a line every few seconds otherwise), then prints a
 * table of failing seeds with the property each broke and the command that replays it. Exit 1 if
 * any seed failed a check, 3 if a run threw (an internal error of zabsim). Ctrl-C stops after the
 * current seed and prints what was found so far (a second Ctrl-C ends at once).
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { coverageJson, formatCoverage } from '../run/coverage.ts';
import { exploring, type ExploreOptions, type ExploreSummary, type SeedResult } from '../run/explore.ts';
import { defaultWorkers, exploringParallel, SEEDS_PER_WORKER } from '../run/parallel.ts';
import { DEFAULT_STRATEGY, PER_SEED, STRATEGIES, type StrategyName } from '../run/strategy.ts';
import { formatShard, parseShard, shardSize, type Shard } from '../run/shard.ts';
import { DEFAULT_SHRINK_BUDGET, shrinkFailure, type Shrunk } from '../run/shrink.ts';
import { sweepFailure, sweepJson, type Stopped, type SweepFailure, type SweepResult } from '../run/sweep.ts';
import { checkSettings, formatSettings, resolveSettings, settingsArgs } from '../run/settings.ts';
import { SweepFolder } from './sweep.ts';
import { describeDraw, SWARM_DRAWS } from '../run/swarm.ts';
import { alignColumns } from '../trace/format.ts';
import { parseFlags, UsageError, type CommandSpec, type FlagValue } from './args.ts';
import type { Terminal } from './output.ts';
import { RUN_SPEC, type Output } from './run.ts';

/** Run flags that make no sense per explored seed. */
const NOT_FOR_EXPLORE = new Set(['seed', 'json', 'check-determinism', 'stop-early', 'swarm', 'no-color', 'quiet', 'around', 'record-numbers', 'out', 'html', 'coverage']);

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
    { name: 'out', kind: 'string', arg: 'DIR', help: 'write a sweep folder DIR/explore-seedsA-B-TIME: failures.jsonl, progress.json, a replay folder per failing seed, plots, index.html (docs/results.md)' },
    { name: 'resume', kind: 'bool', help: 'with --out: continue the newest unfinished sweep of the same flags in DIR (or DIR itself), skipping the seeds it finished' },
    { name: 'no-color', kind: 'bool', help: 'plain text even on a terminal' },
    { name: 'workers', kind: 'int', min: 1, max: 1024, help: 'worker threads running seeds (same results as one)', defaultText: `one per ${SEEDS_PER_WORKER} seeds, up to the number of cores` },
    { name: 'shard', kind: 'string', arg: 'I/N', help: 'run only shard I of N: the seeds from+I-1, from+I-1+N, ... (merge the shards with zabsim merge)', expects: 'I/N', resolve: (raw) => { const s = parseShard(raw); return 'error' in s ? s : formatShard(s); } },
    { name: 'json', kind: 'bool', help: 'JSON lines: a header, one line per failing seed, a count (for zabsim merge)' },
    { name: 'shrink', kind: 'bool', help: 'shrink the first failure of each property: its faults as an explicit --schedule, made smaller by replays while it fails the same way (docs/checkers.md)' },
    { name: 'shrink-budget', kind: 'int', min: 1, max: 100_000, help: 'replays one shrink may make (implies --shrink)', defaultText: String(DEFAULT_SHRINK_BUDGET) },
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
export async function exploreCommand(flags: Map<string, FlagValue>, out: Output, err: Terminal, argv: readonly string[] = [], test: ExploreTestHooks = {}): Promise<number> {
  const total = (flags.get('seeds') as number | undefined) ?? 100;
  const first = (flags.get('from') as number | undefined) ?? 1;
  if (first + total - 1 > MAX_SEED) throw new UsageError(`--from ${first} with --seeds ${total} reaches seed ${first + total - 1}, above the largest seed ${MAX_SEED}.`, 'explore');
  const timeLimit = flags.get('time') as number | undefined;
  const maxTotal = flags.get('max-failures') as number | undefined;
  const overrides = runOverrides(flags);
  const swarm = flags.get('no-swarm') !== true;
  const shardText = flags.get('shard') as string | undefined;
  const shard = shardText === undefined ? undefined : (parseShard(shardText) as Shard);
  const workersGiven = flags.get('workers') as number | undefined;
  const json = flags.get('json') === true;
  const strategy = ((flags.get('strategy') as string | undefined) ?? DEFAULT_STRATEGY) as StrategyName;
  const coverage = flags.get('coverage') === true;
  const shrinkBudget = (flags.get('shrink-budget') as number | undefined) ?? (flags.get('shrink') === true ? DEFAULT_SHRINK_BUDGET : null);
  // The first failure of each property is shrunk, once it is counted (in seed order, so the same
  // failures are shrunk however many workers run): a map from its result to its shrink.
  const shrunkOf = new Map<SeedResult, Shrunk | null>();
  const coverageFile = flags.get('coverage-json') as string | undefined;
  if (coverageFile !== undefined && !coverage) throw new UsageError('--coverage-json writes the map that --coverage counts: give --coverage too.', 'explore');
  if (flags.has('strategy') && !swarm) throw new UsageError('--strategy chooses among swarm draws: it does not go with --no-swarm.', 'explore');
  if (!PER_SEED.has(strategy) && shard !== undefined) throw new UsageError(`--shard slices the seeds of a per-seed strategy (swarm, pct); --strategy ${strategy} chooses its runs from the results of earlier ones, so it cannot be sharded.`, 'explore');
  if (!PER_SEED.has(strategy) && flags.get('resume') === true) throw new UsageError(`--resume continues a sweep of per-seed runs (swarm, pct) in seed order; a --strategy ${strategy} sweep cannot be resumed.`, 'explore');
  // Settings that no seed could run: refused once, before exploring.
  checkSettings(resolveSettings(new Map([['seed', first], ...(swarm ? ([['swarm', true]] as const) : []), ...overrides])));
  const outDir = flags.get('out') as string | undefined;
  if (flags.get('resume') === true && outDir === undefined) throw new UsageError('--resume continues a sweep saved with --out DIR; give --out DIR.', 'explore');
  if (flags.get('resume') === true && shard !== undefined) throw new UsageError('--resume continues a sweep in seed order and cannot resume a shard yet; run the shard again without --resume.', 'explore');
  const perSeed = swarm && strategy !== 'swarm' ? { strategy } : {};
  const sweep = outDir === undefined ? null : SweepFolder.open(outDir, { from: first, seeds: total, swarm, overrides: settingsArgs(overrides), maxFailures: maxTotal ?? null, ...perSeed }, flags.get('resume') === true, argv);
  // A resumed sweep's earlier sessions shrank their properties' first failures already.
  const shrunkProperties = new Set<string>((sweep?.failures ?? []).flatMap((f) => (f.shrunk === null || f.shrunk === undefined ? [] : [f.shrunk.property])));
  if (sweep?.resumed === true) err.write(`zabsim: resuming ${sweep.path}: ${sweep.doneCount} of ${total} seeds done, ${sweep.failures.length} failing\n`);
  // This session: the seeds not done yet, and the failures still allowed.
  const from = sweep === null ? first : sweep.nextSeed();
  const seeds = first + total - from;
  const maxFailures = maxTotal === undefined ? undefined : maxTotal - (sweep?.failures.length ?? 0);
  const skip = seeds <= 0 || (maxFailures !== undefined && maxFailures <= 0);
  const size = skip ? 0 : shardSize(seeds, shard);
  const workers = workersGiven ?? defaultWorkers(size, availableParallelism());

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
  bar?.start(size, 0, { rate: '0', failing: 0 });
  let lastLine = performance.now();
  let latest: ExploreSummary = { results: [], ran: 0, failures: [], events: 0, wallMs: 0, coverage: null };
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
    const eta = done > 0 ? Math.round((secs / done) * (size - done)) : 0;
    err.write(`explore: ${done}/${size} seeds, ${(done / Math.max(secs, 1e-3)).toFixed(1)} seeds/s, ${rate(s.events, secs)} events/s, ${s.failures.length} failing, ETA ${eta}s\n`);
  };

  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
  };
  process.once('SIGINT', onSigint);
  let s: ExploreSummary = latest;
  const options: ExploreOptions = { from, seeds: skip ? 0 : seeds, ...(timeLimit !== undefined ? { timeLimitMs: timeLimit } : {}), ...(maxFailures !== undefined ? { maxFailures } : {}), overrides, swarm, ...(shard !== undefined ? { shard } : {}), strategy, coverage, keepResults: false, onSeed: progress };
  try {
    // Worker threads run the seeds of a per-seed strategy (swarm, pct); a strategy that learns
    // from earlier runs, and coverage counting, run on this thread (docs/scaling.md).
    const parallel = workers > 1 && size > 1 && (PER_SEED.has(strategy) || !swarm) && !coverage;
    const it = parallel ? exploringParallel(options, workers) : inline(options);
    for (let k = 1; ; k++) {
      const r = await it.next();
      if (r.done === true) {
        s = r.value;
        break;
      }
      const shrunk = shrinkBudget === null ? null : shrinkFirst(r.value, shrinkBudget, shrunkOf, shrunkProperties, showProgress && bar === null ? err : null);
      sweep?.record(r.value, shrunk);
      if (interrupted || k === test.interruptAfter) {
        interrupted = true;
        s = latest;
        // Cancels the seeds the workers still run.
        await it.return(s);
        break;
      }
    }
  } catch (e) {
    sweep?.close(false, 3);
    throw e;
  } finally {
    process.removeListener('SIGINT', onSigint);
    bar?.stop();
  }
  // The whole sweep, earlier sessions of a resumed one included.
  const n = sweep === null ? s.ran : sweep.doneCount;
  const done = s.ran === size; // this session ran every seed it had (a resumed one: every seed left)
  // Only a shrunk failure has the field, in --json as in a merge of failures.jsonl's lines.
  const withShrunk = (f: SweepFailure, shrunk: Shrunk | null | undefined): SweepFailure => (shrunk === null || shrunk === undefined ? f : { ...f, shrunk });
  const failures: readonly SweepFailure[] =
    sweep === null
      ? s.failures.map((r) => withShrunk(sweepFailure(r), shrunkOf.get(r)))
      : sweep.failures.map((f) => withShrunk({ seed: f.seed, violation: f.violation, error: f.error, events: f.events, endMs: f.endMs, replay: f.replay }, f.shrunk));
  const stopped: Stopped = interrupted ? 'interrupted' : maxTotal !== undefined && failures.length >= maxTotal ? 'max-failures' : done ? 'done' : 'time';
  const result: SweepResult = {
    header: { from: first, seeds: total, swarm, with: formatSettings(overrides), maxFailures: maxTotal ?? null, shard: shard ?? null, ...perSeed },
    failures,
    explored: n,
    events: sweep === null ? s.events : sweep.events,
    stopped,
  };
  const code = exitCode(result);
  if (sweep !== null) {
    const finished = stopped === 'done' || stopped === 'max-failures';
    sweep.writeJson(sweepJson(result));
    const linked = sweep.close(finished, code);
    err.write(`zabsim: results in ${sweep.path}${finished ? '' : ' (not finished: the same command with --resume continues it)'}; open ${sweep.path}/index.html${linked ? '' : `; ${outDir}/latest is a text file naming it (symbolic links failed here)`}\n`);
  }
  const secs = s.wallMs / 1000;
  const session = sweep?.resumed === true ? `; this session ${s.ran} seed${s.ran === 1 ? '' : 's'} in ${secs.toFixed(1)}s` : '';
  if (json) {
    for (const line of sweepJson(result)) out.write(line);
    if (showProgress) err.write(`explore: ${n} seed${n === 1 ? '' : 's'} in ${secs.toFixed(1)}s, ${rate(s.events, secs)} events/s\n`);
  } else {
    if (interrupted) out.write(`interrupted (Ctrl-C) after ${n} seed${n === 1 ? '' : 's'}; what was found so far:`);
    const what = PER_SEED.has(strategy) || !swarm ? `seed${n === 1 ? '' : 's'} (${describeSeeds(result)})` : `run${n === 1 ? '' : 's'} (from seed ${first}, strategy ${strategy}${overrides.size > 0 ? `, with ${formatSettings(overrides)}` : ''})`;
    out.write(`explored ${n} ${what}${session === '' ? ` in ${secs.toFixed(1)}s` : session}: ${result.events.toLocaleString('en-US')} events${session === '' ? `, ${rate(result.events, secs)} events/s` : ''}`);
    writeFailureTable(result, out);
    if (coverage && s.coverage !== null) for (const l of formatCoverage(s.coverage)) out.write(l);
  }
  if (coverageFile !== undefined && s.coverage !== null) writeFileSync(coverageFile, `${JSON.stringify(coverageJson(s.coverage))}\n`);
  return code;
}

/**
 * Shrinks a failing run when it is the first failure of its property (an internal error is not
 * shrunk: its replay is its seed); records the shrink in `shrunkOf` and returns it, else null.
 */
function shrinkFirst(r: SeedResult, budget: number, shrunkOf: Map<SeedResult, Shrunk | null>, done: Set<string>, log: Terminal | null): Shrunk | null {
  if (r.ok || r.error !== null || r.violation === null || done.has(r.violation.property)) return null;
  done.add(r.violation.property);
  log?.write(`explore: shrinking the failure of seed ${r.seed} (${r.violation.property}), at most ${budget} replays\n`);
  const shrunk = shrinkFailure(r.settings, r.violation.property, budget);
  shrunkOf.set(r, shrunk);
  return shrunk;
}

/** For tests: stop as Ctrl-C would, after this many seeds of this session. */
export interface ExploreTestHooks {
  readonly interruptAfter?: number;
}

/** The seeds an exploration covers, its swarm and its flags, for the first line of the report. */
export function describeSeeds(r: SweepResult): string {
  const h = r.header;
  const last = h.shard === null ? h.from + r.explored - 1 : h.from + h.seeds - 1;
  const range = `${h.shard === null ? '' : `shard ${formatShard(h.shard)} of `}${h.from}..${last}`;
  return `${range}${h.swarm ? ', swarm' : ''}${h.strategy !== undefined && h.strategy !== 'swarm' ? `, strategy ${h.strategy}` : ''}${h.with !== '' ? `, with ${h.with}` : ''}`;
}

/** The failing seeds (a table with the replay commands), or "no violations"; the same for explore and merge. */
export function writeFailureTable(r: SweepResult, out: Output): void {
  if (r.failures.length === 0) {
    out.write('no violations');
    return;
  }
  out.write(`${r.failures.length} failing seed${r.failures.length === 1 ? '' : 's'}:`);
  const rows = [['seed', 'property', 'at', 'replay'], ...r.failures.map((f) => [String(f.seed), f.error !== null ? 'INTERNAL ERROR' : (f.violation?.property ?? '?'), `${f.violation?.t ?? f.endMs}ms`, f.replay])];
  for (const line of alignColumns(rows)) out.write(line);
  const first = r.failures[0] as SweepFailure;
  if (first.violation !== null) out.write(`first failure (seed ${first.seed}): ${first.violation.message}`);
  for (const f of r.failures) if (f.shrunk !== undefined && f.shrunk !== null) out.write(describeShrunk(f.seed, f.shrunk));
  for (const f of r.failures) if (f.error !== null) out.write(`internal error of zabsim in seed ${f.seed} (a bug in zabsim, not in the protocol; replay: ${f.replay}): ${f.error}`);
}

/** One line on a shrunk failure: its length in steps, what it took, and the command that replays it. */
export function describeShrunk(seed: number, s: Shrunk): string {
  if (!s.reproduced) return `seed ${seed} not shrunk: its ${s.recordedSteps} recorded fault steps, replayed in place of the drawn faults, did not fail with ${s.property} (${s.replay})`;
  const dropped = s.dropped.length === 0 ? '' : `, without ${s.dropped.join(', ')}`;
  return `seed ${seed} shrunk (${s.property}): ${s.steps} step${s.steps === 1 ? '' : 's'} (recorded ${s.recordedSteps}${dropped}) in ${s.replays} replays: ${s.replay}`;
}

/** 0 no violations, 1 a check failed, 3 an internal error; 130 interrupted before finding anything. */
export function exitCode(r: SweepResult): number {
  if (r.failures.length === 0) return r.stopped === 'interrupted' ? 130 : 0;
  return r.failures.some((f) => f.error !== null) ? 3 : 1;
}

/** One thread: `exploring`, letting a Ctrl-C arrive between seeds. */
async function* inline(o: ExploreOptions): AsyncGenerator<SeedResult, ExploreSummary, undefined> {
  const it = exploring(o);
  for (;;) {
    const r = it.next();
    if (r.done === true) return r.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
    yield r.value;
  }
}

export function parseExploreFlags(argv: readonly string[]): Map<string, FlagValue> {
  return parseFlags(EXPLORE_SPEC, argv);
}
