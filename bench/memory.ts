/**
 * `npm run bench -- memory`: memory over long runs, as figures to compare between commits (a
 * benchmark: it asserts nothing; test/sim/memory.test.ts bounds what is retained by structure).
 *
 * - hour: 5 voters, 20 clients asking for 2,000 writes/s (60% writes, as `zabsim run --servers 5
 *   --clients 20 --writes-per-sec 2000`), no faults, one hour of virtual time, checkers on.
 * - 10m-crash: the same load with the leader crashing every ~10 s (restarts after 0.5-2 s),
 *   until 10 million events.
 * - hour-crash, 10m: the same two lengths with and without the crashes the other has.
 *
 * `--only hour,10m-crash` (the default) picks the runs; `--minutes N` shortens the hour runs,
 * `--events N` the event-count runs (for a quick look).
 *
 * bench/bench.ts runs this file as compiled JavaScript (bundled with esbuild, no TypeScript loader,
 * whose compiled code and caches are about 30 MB of RSS) under `node --max-old-space-size=1024`;
 * docs/architecture.md ("Bounded memory") says why that limit keeps the peak RSS down.
 *
 * Every sample forces a garbage collection first, so "heap" is what is live; "rss" is the
 * process's resident set then, and the peak RSS is the process's maximum so far (getrusage).
 * Between samples, the largest V8 heap seen (used and total, without a forced collection) is
 * sampled every virtual second. No trace sink is attached (a `--json` run streams its records;
 * docs/architecture.md).
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createRun, runJudged, type Run, type RunOptions } from '../src/run/run.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MB = 1024 * 1024;
const mb = (x: number): string => `${(x / MB).toFixed(0)} MB`.padStart(7);

/** The largest V8 heap (used, total) seen since the last sample, without a forced collection. */
let maxUsed = 0;
let maxTotal = 0;
function watchHeap(): void {
  const h = getHeapStatistics();
  if (h.used_heap_size > maxUsed) maxUsed = h.used_heap_size;
  if (h.total_heap_size > maxTotal) maxTotal = h.total_heap_size;
}

function sample(label: string, events: number, t0: number): void {
  const between = `max heap between samples ${mb(maxUsed)} of ${mb(maxTotal)}`;
  maxUsed = 0;
  maxTotal = 0;
  gc();
  const m = process.memoryUsage();
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(
    `${label.padEnd(10)} ${String(events).padStart(11)} events  heap used ${mb(m.heapUsed)} of ${mb(m.heapTotal)}  external ${mb(m.external)}  rss ${mb(m.rss)}  peak rss ${mb(peak)}  ${between}  ${((performance.now() - t0) / 1000).toFixed(0).padStart(5)} s wall  load ${loadavg()[0]?.toFixed(1)}`,
  );
}

const LOAD: RunOptions = {
  seed: 7,
  voters: 5,
  untilMs: Infinity,
  startSpreadMs: 300,
  workload: { clients: 20, opsPerSecPerClient: 2000 / 20 / 0.6, writeRatio: 0.6, keys: 8, startMs: 2000 },
};
const CRASHES: RunOptions = { ...LOAD, seed: 8, faults: { crashMeanIntervalMs: 10_000, crashTarget: 'leader', restartDelay: { kind: 'uniform', minMs: 500, maxMs: 2000 } } };

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}
const minutes = Number(arg('minutes') ?? 60);
const maxEvents = Number(arg('events') ?? 10_000_000);
const only = (arg('only') ?? 'hour,10m-crash').split(',');

function verdict(run: Run): string {
  const v = run.checkers?.verdict();
  return `${(run.sim.now / 60_000).toFixed(1)} min virtual, ${run.sim.eventCount} events, ${v?.committed ?? 0} txns committed, ${run.clients.stats.invoked} client operations, checks ${v?.ok === true ? 'passed' : 'FAILED'}`;
}

/** Runs to `minutes` of virtual time, sampling 12 times. */
function hour(opts: RunOptions): void {
  const run = createRun(opts, null);
  const t0 = performance.now();
  const step = Math.max(1, Math.floor(minutes / 12)) * 60_000;
  for (let t = step; t <= minutes * 60_000; t += step) {
    for (let s = run.sim.now + 1000; s <= t; s += 1000) {
      runJudged(run, s);
      watchHeap();
    }
    sample(`${t / 60_000} min`, run.sim.eventCount, t0);
  }
  console.log(`  ${verdict(run)}, ${((performance.now() - t0) / 1000).toFixed(0)} s wall`);
}

/** Runs to `maxEvents` events, sampling every million. */
function events(opts: RunOptions): void {
  const run = createRun(opts, null);
  const t0 = performance.now();
  let next = 1_000_000;
  while (run.sim.eventCount < maxEvents) {
    runJudged(run, run.sim.now + 1000);
    watchHeap();
    if (run.sim.eventCount >= next || run.sim.eventCount >= maxEvents) {
      sample(`${(run.sim.now / 60_000).toFixed(1)} min`, run.sim.eventCount, t0);
      next += 1_000_000;
    }
  }
  console.log(`  ${verdict(run)}, ${((performance.now() - t0) / 1000).toFixed(0)} s wall`);
}

const CRASH_TEXT = 'leader crash every ~10 s (restart after 0.5-2 s)';
const RUNS: Record<string, [string, () => void]> = {
  hour: [`hour: 5 voters, 20 clients at 2,000 writes/s requested, no faults, ${minutes} min virtual, checkers on, purge every 60 s (defaults)`, () => hour(LOAD)],
  'hour-crash': [`hour-crash: the same load, ${CRASH_TEXT}, ${minutes} min virtual`, () => hour(CRASHES)],
  '10m': [`10m: the same load, no faults, until ${maxEvents.toLocaleString('en-US')} events`, () => events({ ...LOAD, seed: 8 })],
  '10m-crash': [`10m-crash: the same load, ${CRASH_TEXT}, until ${maxEvents.toLocaleString('en-US')} events`, () => events(CRASHES)],
};

console.log(`zabsim memory bench: node ${process.version} ${process.execArgv.join(' ')}, ${process.platform}/${process.arch}, heap limit ${mb(getHeapStatistics().heap_size_limit)}, load average ${loadavg()[0]?.toFixed(2)} at start`);
for (const name of only) {
  const r = RUNS[name];
  if (r === undefined) {
    console.error(`bench memory: --only ${name}: expected some of ${Object.keys(RUNS).join(', ')}.`);
    process.exit(2);
  }
  console.log(r[0]);
  r[1]();
}
