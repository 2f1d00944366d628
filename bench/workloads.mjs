/**
 * The two workloads of `npm run bench` (issue 14 §1), in one place for every tool that runs them:
 * bench/bench.ts, bench/profile.ts, bench/fingerprint.ts and bench/instructions.mjs. Plain
 * JavaScript, so that bench/instructions.mjs, which runs the compiled dist/ under plain node (and
 * under valgrind), can import it too; its types are in workloads.d.mts.
 */

/** Election: 5 voters, the leader crashes every ~3 s of virtual time and restarts after 0.5-2 s; no clients. */
export const ELECTION = Object.freeze({
  seed: 42,
  voters: 5,
  untilMs: 4 * 3600_000,
  startSpreadMs: 300,
  faults: Object.freeze({
    crashMeanIntervalMs: 3000,
    crashTarget: 'leader',
    restartDelay: Object.freeze({ kind: 'uniform', minMs: 500, maxMs: 2000 }),
  }),
});

/** Broadcast: 5 voters, no faults, 20 clients at 50 ops/s each (80 % writes over 16 keys) from 2 s on; runs until stopped. */
export const BROADCAST = Object.freeze({
  seed: 7,
  voters: 5,
  untilMs: Infinity,
  startSpreadMs: 300,
  workload: Object.freeze({ clients: 20, opsPerSecPerClient: 50, writeRatio: 0.8, keys: 16, startMs: 2000 }),
});

/** Txns committed so far in a run: the established leader's lastCommitted counter (0 while none is). */
export function committedTxns(run) {
  for (const sid of run.sim.sids) {
    const l = run.sim.server(sid).state.leader;
    if (l !== null && l.established) return l.lastCommitted % 2 ** 32;
  }
  return 0;
}

/** Runs `run` on, 100 ms of virtual time at a step, until at least `n` txns are committed. */
export function runToCommitted(run, n) {
  while (committedTxns(run) < n) run.sim.runUntil(run.sim.now + 100);
}
