/**
 * The liveness phase (issue 4 §3; src/check/liveness.ts): after the faults stop, within the bound,
 * one established leader, every running server following it and applying what it had proposed,
 * and every client operation completed. The workload goes on meanwhile, so recovery cannot wait
 * for a moment with nothing in flight.
 */
import { setStateFreezing } from '../../src/protocol/cow.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zxid } from '../../src/protocol/zxid.ts';
import { createRun, runJudged, type Run } from '../../src/run/run.ts';
import { runOptions, settings, type SettingValue } from '../../src/run/settings.ts';
import { slowDisk } from '../protocol/harness.ts';

function build(given: Record<string, SettingValue>): { run: Run; untilMs: number } {
  const opts = runOptions(settings(given));
  return { run: createRun(opts, null), untilMs: opts.untilMs };
}

describe('liveness phase', () => {
  beforeAll(() => setStateFreezing(false));
  afterAll(() => setStateFreezing(true));

  it('a cluster under a steady write load recovers although some proposal is nearly always outstanding', () => {
    // Swarm seed 529's load: ~200 writes/s over links of up to 100 ms.
    const { run, untilMs } = build({ seed: 529, servers: 5, observers: 2, delay: [1, 100], clients: 6, 'ops-per-sec': 40, 'write-ratio': 0.9, 'crash-every': 4000, 'crash-target': 'leader', 'faults-until': 20_000, until: 60_000 });
    const sim = run.sim;
    let polls = 0;
    let busy = 0;
    const sample = (): void => {
      const leader = sim.sids.find((sid) => sim.server(sid).up && sim.server(sid).state.leader?.established === true);
      polls++;
      if (leader !== undefined && (sim.server(leader).state.leader?.outstanding.length ?? 0) > 0) busy++;
      if (sim.now + 100 < untilMs) sim.at(sim.now + 100, sample);
    };
    sim.at(20_000, sample);
    const checkers = run.checkers as NonNullable<Run['checkers']>;
    const lc = checkers.liveness as NonNullable<typeof checkers.liveness>;
    let outstandingAtRecovery = -1;
    const then = lc.onRecovered;
    lc.onRecovered = () => {
      const leader = sim.sids.find((sid) => sim.server(sid).up && sim.server(sid).state.leader?.established === true);
      outstandingAtRecovery = leader === undefined ? -1 : (sim.server(leader).state.leader?.outstanding.length ?? -1);
      then?.();
    };
    runJudged(run, untilMs);
    const v = checkers.verdict();
    expect(v.violations).toEqual([]);
    expect(v.ok).toBe(true);
    const r = checkers.liveness?.result;
    expect(r?.recoveredMs).not.toBeNull();
    expect((r?.recoveredMs ?? Infinity) - 20_000).toBeLessThan(r?.boundMs ?? 0);
    // Recovery was seen while proposals were in flight: a definition that waits for a silent
    // instant could not have said so then, and under this load such instants are rare.
    expect(outstandingAtRecovery).toBeGreaterThan(0);
    expect(busy / polls).toBeGreaterThan(0.75);
  });

  it('without clients, an established leader that proposed nothing counts as recovered (its lastProposed (e,0) is nobody\'s applied txn)', () => {
    const { run, untilMs } = build({ seed: 1, servers: 3, 'crash-every': 1000, 'crash-target': 'leader', 'faults-until': 3000, until: 60_000 });
    runJudged(run, untilMs);
    const checkers = run.checkers as NonNullable<Run['checkers']>;
    expect(checkers.verdict().ok).toBe(true);
    expect(checkers.liveness?.result.recoveredMs).not.toBeNull();
    // The situation the check must get right: lastProposed is (e,0), no server applied any txn.
    const leader = run.sim.sids.find((sid) => run.sim.server(sid).state.leader?.established === true) as number;
    const ls = run.sim.server(leader).state;
    expect(ls.leader?.lastProposed).toBe(zxid(ls.leader?.epoch ?? -1, 0));
    expect(run.sim.sids.map((sid) => run.sim.server(sid).state.db.lastTxn)).toEqual([0, 0, 0]);
  });

  it('a follower whose log writes take ten minutes fails the phase, named in the report', () => {
    // s1 never ACKs, so the leader drops it after syncLimit (§7) and it waits for its pending
    // writes before it can look for a leader again (peer.ts goLooking): it is still LOOKING when
    // the bound runs out, while s2 and s3 serve on.
    const { run, untilMs } = build({ seed: 3, servers: 3, clients: 2, 'ops-per-sec': 10, 'faults-until': 15_000, 'liveness-bound': 30_000, until: 50_000 });
    slowDisk(run.sim, 1, 600_000, (w) => w.op === 'appendLog');
    runJudged(run, untilMs);
    const checkers = run.checkers as NonNullable<Run['checkers']>;
    const v = checkers.verdict();
    expect(v.ok).toBe(false);
    expect(v.violations.map((x) => x.property)).toEqual(['Liveness']);
    expect(v.violations[0]?.message).toBe('no recovery within 30000ms after the faults stopped at 15000ms: s1 is LOOKING/ELECTION, not following s3');
  });
});
