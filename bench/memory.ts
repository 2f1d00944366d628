/**
 * `npm run bench -- memory`: memory over long runs, as figures to compare between commits (a
 * benchmark: it asserts nothing; test/sim/memory.test.ts bounds what is retained by structure).
 *
 * - hour: 5 voters, 20 clients asking for 2,000 writes/s (60% writes, as `zabsim run --servers 5
 *   --clients 20 --writes-per-sec 2000`), no faults, one hour of virtual time, checkers on.
 * - 10M events: the same load with the leader crashing every ~10 s (restarts after 0.5-2 s),
 *   until 10 million events.
 *
 * Every sample forces a garbage collection first, so "heap" is what is live; "rss" is the
 * process's resident set then, and the peak RSS is the process's maximum so far (getrusage). No
 * trace sink is attached (a `--json` run streams its records; docs/architecture.md).
 * `--minutes N` shortens the hour run (for a quick look).
 */
import { setAutoFreeze } from 'immer';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createRun, runJudged, type RunOptions } from '../src/run/run.ts';

setAutoFreeze(false);
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MB = 1024 * 1024;
const mb = (x: number): string => `${(x / MB).toFixed(0)} MB`.padStart(7);

function sample(label: string, events: number, t0: number): void {
  gc();
  const m = process.memoryUsage();
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(`${label.padEnd(12)} ${String(events).padStart(11)} events  heap used ${mb(m.heapUsed)} of ${mb(m.heapTotal)}  external ${mb(m.external)}  rss ${mb(m.rss)}  peak rss ${mb(peak)}  ${((performance.now() - t0) / 1000).toFixed(0).padStart(5)} s wall`);
}

const LOAD: RunOptions = {
  seed: 7,
  voters: 5,
  untilMs: Infinity,
  startSpreadMs: 300,
  workload: { clients: 20, opsPerSecPerClient: 2000 / 20 / 0.6, writeRatio: 0.6, keys: 8, startMs: 2000 },
};

const minutesArg = process.argv.indexOf('--minutes');
const minutes = minutesArg > 0 ? Number(process.argv[minutesArg + 1]) : 60;

console.log(`zabsim memory bench: node ${process.version}, ${process.platform}/${process.arch}`);
console.log(`hour: 5 voters, 20 clients at 2,000 writes/s requested, no faults, ${minutes} min virtual, checkers on, purge every 60 s (defaults)`);
{
  const run = createRun(LOAD, null);
  const t0 = performance.now();
  const step = Math.max(1, Math.floor(minutes / 12)) * 60_000;
  for (let t = step; t <= minutes * 60_000; t += step) {
    runJudged(run, t);
    sample(`${t / 60_000} min`, run.sim.eventCount, t0);
  }
  const v = run.checkers?.verdict();
  console.log(`  ${v?.committed ?? 0} txns committed, ${run.clients.stats.invoked} client operations, checks ${v?.ok === true ? 'passed' : 'FAILED'}`);
}

console.log(`10M events: the same load, leader crash every ~10 s (restart after 0.5-2 s), until 10,000,000 events`);
{
  const run = createRun({ ...LOAD, seed: 8, faults: { crashMeanIntervalMs: 10_000, crashTarget: 'leader', restartDelay: { kind: 'uniform', minMs: 500, maxMs: 2000 } } }, null);
  const t0 = performance.now();
  let next = 1_000_000;
  while (run.sim.eventCount < 10_000_000) {
    runJudged(run, run.sim.now + 1000);
    if (run.sim.eventCount >= next) {
      sample(`${(run.sim.now / 60_000).toFixed(1)} min`, run.sim.eventCount, t0);
      next += 1_000_000;
    }
  }
  const v = run.checkers?.verdict();
  console.log(`  ${(run.sim.now / 60_000).toFixed(1)} min virtual, ${v?.committed ?? 0} txns committed, checks ${v?.ok === true ? 'passed' : 'FAILED'}`);
}
