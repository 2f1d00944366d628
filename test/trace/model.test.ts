/**
 * The viewer's state panel is reconstructed from the trace records alone (src/trace/model.ts).
 * These tests run real simulations in steps of virtual time and, after every step, compare the
 * reconstruction at the last record emitted with the kernel's own server states: role, phase,
 * leader, both epochs, lastProcessedZxid (the applied prefix), the last logged zxid, the durable
 * snapshots (by label, in the disk's order) and, for a down server, the durable epochs.
 */
import { setStateFreezing } from '../../src/protocol/cow.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRun, type RunOptions } from '../../src/run/run.ts';
import type { TraceEvent } from '../../src/sim/events.ts';
import { KEPT_SNAPSHOTS } from '../../src/protocol/db.ts';
import { fmtZxid, TraceModel, VIEW_KEPT_SNAPSHOTS } from '../../src/trace/model.ts';
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
  it('keeps as many snapshots as a disk does', () => {
    expect(VIEW_KEPT_SNAPSHOTS).toBe(KEPT_SNAPSHOTS);
  });

  beforeAll(() => setStateFreezing(false));
  afterAll(() => setStateFreezing(true));

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
          expect(v.disk.snapshots.map((x) => fmtZxid(x.zxid)), `${where}: durable snapshots`).toEqual(rt.disk.image.snapshots.map((x) => fmtZxid(x.zxid)));
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

describe('the diagram window', () => {
  it('messagesInWindow returns exactly the messages whose arrow crosses the window, including ones never delivered', async () => {
    const { cleanTrace, flawTrace } = await import('./fixture.ts');
    const { parseTrace } = await import('../../src/trace/load.ts');
    for (const text of [cleanTrace(), flawTrace()]) {
      const t = parseTrace(text, 't.jsonl');
      // The end of the trace cuts some messages in flight: they must cross every later window.
      // Cut just after a send whose delivery comes later.
      let at = Math.floor(t.records.length * 0.7);
      while (!(t.records[at]!.type === 'send' && t.records[at + 1]!.type !== 'drop')) at++;
      const cut = t.records.slice(0, at + 1);
      const model = new TraceModel(cut, t.sids);
      expect(model.unended.length).toBeGreaterThan(0);
      const last = cut[cut.length - 1]!.t;
      for (let k = 0; k < 60; k++) {
        const t0 = Math.floor((k * 7919) % Math.max(1, last));
        const t1 = t0 + 1 + ((k * 37) % 400);
        const got = model.messagesInWindow(t0, t1).map((m) => m.id).sort((a, b) => a - b);
        const want = model.messages
          .filter((m) => {
            const a = cut[m.sendI]!.t;
            const b = m.endI < 0 ? Infinity : cut[m.endI]!.t;
            return a <= t1 && b >= t0;
          })
          .map((m) => m.id)
          .sort((a, b) => a - b);
        expect(got, `window ${t0}..${t1}`).toEqual(want);
      }
    }
  });
});
