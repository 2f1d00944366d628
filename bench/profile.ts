/**
 * `node --cpu-prof bin/run-ts.mjs bench/profile.ts [broadcast|election] [N]`: one bench workload,
 * checkers on, for a CPU profile (broadcast to N committed txns, default 20,000; election for N
 * virtual minutes, default 60). Prints events per CPU second (process.cpuUsage: steadier than wall time on a
 * shared machine) and its ratio to the reference loop (bench/reference.ts)
 * measured before and after it.
 */
import { performance } from 'node:perf_hooks';
import { createRun, runToEnd } from '../src/run/run.ts';
import { referenceLoop } from './reference.ts';
import { BROADCAST, ELECTION, runToCommitted } from './workloads.mjs';

/** CPU time of this process in ms: less disturbed than wall time on a shared machine. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
function reference(): number {
  const c0 = cpuMs();
  const r = referenceLoop(2_000_000);
  return (r.events / (cpuMs() - c0)) * 1000;
}
referenceLoop(200_000);
const ref0 = reference();
const which = process.argv[3] ?? 'broadcast';
const n = Number(process.argv[4] ?? (which === 'broadcast' ? 20_000 : 60));
const t0 = performance.now();
const c0 = cpuMs();
let events = 0;
if (which === 'broadcast') {
  const run = createRun(BROADCAST, null);
  runToCommitted(run, n);
  events = run.sim.eventCount;
} else {
  const run = runToEnd({ ...ELECTION, untilMs: n * 60_000 });
  events = run.sim.eventCount;
}
const ms = performance.now() - t0;
const cpu = cpuMs() - c0;
const ref = (ref0 + reference()) / 2;
const eps = (events / cpu) * 1000;
console.log(`${which} ${n}: ${events} events in ${ms.toFixed(0)} ms wall, ${cpu.toFixed(0)} ms CPU: ${Math.round(eps)} events per CPU second; reference loop ${Math.round(ref)} (before and after); ratio ${((eps / ref) * 100).toFixed(2)}%`);
