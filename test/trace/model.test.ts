/**
 * The viewer's state panel is reconstructed from the trace records alone (src/trace/model.ts).
 * These tests run real simulations in steps of virtual time and, after every step, compare the
 * reconstruction at the last record emitted with the kernel's own server states: role, phase,
 * leader, both epochs, lastProcessedZxid (the applied prefix), the last logged zxid and, for a
 * down server, the durable epochs.
 */
import { setAutoFreeze } from 'immer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRun, type RunOptions } from '../../src/sim/run.ts';
import type { TraceEvent } from '../../src/sim/events.ts';
import { fmtZxid, TraceModel } from '../../src/trace/model.ts';
import { budget } from '../budget.ts';

function options(seed: number): RunOptions {
  return {
    seed,
    voters: 3 + (seed % 3),
    observers: seed % 2,
    untilMs: 30_000,
    workload: { clients: 3, opsPerSecPerClient: 20, startMs: 1500 },
    faults: { crashMeanIntervalMs: 4000, partitionMeanIntervalMs: 7000, partitionDuration: { kind: 'uniform', minMs: 500, maxMs: 4000 }, restartDelay: { kind: 'uniform', minMs: 300, maxMs: 3000 }, crashPointProb: 0.05 },
    network: { lossProb: 0.002 },
    check: false,
  };
}

describe('state reconstruction from the trace', () => {
  beforeAll(() => setAutoFreeze(false));
  afterAll(() => setAutoFreeze(true));

  const seeds = budget(6, 40);
  it(`matches the kernel's server states every 100 ms of ${seeds} faulty runs with clients`, () => {
    let compared = 0;
    let sawDown = 0;
    let sawLeader = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const opts = options(seed);
      const records: TraceEvent[] = [];
      const run = createRun(opts, (ev) => records.push(ev));
      const sids = run.sim.sids.slice();
      let model: TraceModel | null = null;
      for (let t = 100; t <= opts.untilMs; t += 100) {
        run.sim.runUntil(t);
        if (records.length === 0) continue;
        // The model indexes the records it is given; a fresh one over the growing prefix.
        model = new TraceModel(records.slice(), sids);
        const views = model.stateAt(records.length - 1);
        for (const sid of sids) {
          const rt = run.sim.server(sid);
          const v = views[sid]!;
          const where = `seed ${seed}, t=${t}, s${sid}`;
          expect(v.up, where).toBe(rt.up);
          if (!rt.up) {
            sawDown++;
            expect({ a: v.disk.acceptedEpoch, c: v.disk.currentEpoch, at: v.disk.acceptedTmp, ct: v.disk.currentTmp, u: v.disk.updatingEpoch }, where).toEqual({ a: rt.disk.image.acceptedEpoch, c: rt.disk.image.currentEpoch, at: rt.disk.image.acceptedEpochTmp, ct: rt.disk.image.currentEpochTmp, u: rt.disk.image.updatingEpoch });
            continue;
          }
          const s = rt.state;
          if (s.state === 'LEADING') sawLeader++;
          expect(
            { role: v.role, phase: v.phase, leader: v.role === 'LEADING' ? sid : v.leader, acceptedEpoch: v.acceptedEpoch, currentEpoch: v.currentEpoch, applied: fmtZxid(v.applied), lastLogged: fmtZxid(v.log.length > 0 ? v.log[v.log.length - 1]! : v.applied) },
            where,
          ).toEqual({
            role: s.state,
            phase: s.zabState,
            leader: s.state === 'LEADING' ? sid : (s.learner?.leader ?? null),
            acceptedEpoch: s.acceptedEpoch,
            currentEpoch: s.currentEpoch,
            applied: fmtZxid(s.db.lastProcessedZxid),
            lastLogged: fmtZxid(s.db.log.lastZxid(s.db.lastProcessedZxid)),
          });
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(seeds * 500);
    expect(sawDown).toBeGreaterThan(0);
    expect(sawLeader).toBeGreaterThan(0);
  });
});
