/**
 * The viewer's state panel is reconstructed from the trace records alone (src/trace/model.ts).
 * These tests run real simulations in steps of virtual time and, after every step, compare the
 * reconstruction at the last record emitted with the kernel's own server states: role, phase,
 * leader, both epochs, lastProcessedZxid (the applied prefix), the last logged zxid, the durable
 * snapshots (by label, in the disk's order) and, for a down server, the durable epochs.
 */
import { setStateFreezing } from '../../src/protocol/cow.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRun, type Run, type RunOptions } from '../../src/run/run.ts';
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
    const seen = { compared: 0, down: 0, leader: 0, corrupt: 0, removed: 0, skipped: 0 };
    for (let seed = 1; seed <= seeds; seed++) compareRun(seed, options(seed), seen);
    expect(seen.compared).toBeGreaterThan(seeds * 500);
    expect(seen.down).toBeGreaterThan(0);
    expect(seen.leader).toBeGreaterThan(0);
  });

  // Snapshot files that fail their CRC: left by crashes while a snapshot was being written, and
  // made so on disk every 1.5 s (the newest readable file of one server after another, as
  // `corrupt sN snapshot` does); the fault injector's operator deletes them when none reads back
  // (repair). A start loads the newest file that reads back, which the model must follow.
  const storageSeeds = budget(4, 24);
  it(`follows snapshot files that fail their CRC and their removal, every 100 ms of ${storageSeeds} runs with storage faults`, () => {
    const seen = { compared: 0, down: 0, leader: 0, corrupt: 0, removed: 0, skipped: 0 };
    for (let seed = 1; seed <= storageSeeds; seed++) {
      const base = options(seed);
      const opts: RunOptions = { ...base, params: { snapCount: 6 }, disk: { corruptSnapshotProb: 0.6 } };
      compareRun(seed, opts, seen, (run, t) => {
        if (t % 1500 !== 0) return;
        const sids = run.sim.sids;
        run.sim.corruptSnapshot(sids[(t / 1500) % sids.length]!);
      });
    }
    expect(seen.compared).toBeGreaterThan(storageSeeds * 400);
    // The runs exercised what the test is about: files failing their CRC, removed ones, and
    // starts that loaded an older snapshot than the newest on disk.
    expect(seen.corrupt).toBeGreaterThan(storageSeeds);
    expect(seen.removed).toBeGreaterThan(0);
    expect(seen.skipped).toBeGreaterThan(0);
  });
});

/** What compareRun saw, summed over runs: comparisons, and the situations they covered. */
interface Seen {
  compared: number;
  down: number;
  leader: number;
  corrupt: number;
  removed: number;
  skipped: number;
}

/**
 * Runs `opts` in steps of 100 ms of virtual time (calling `between` after each) and compares the
 * model's reconstruction at the last record with the kernel's server states.
 */
function compareRun(seed: number, opts: RunOptions, seen: Seen, between?: (run: Run, t: number) => void): void {
  const records: TraceEvent[] = [];
  const run = createRun(opts, (ev) => records.push(ev));
  const sids = run.sim.sids.slice();
  for (let t = 100; t <= opts.untilMs; t += 100) {
    run.sim.runUntil(t);
    between?.(run, t);
    if (records.length === 0) continue;
    // The model indexes the records it is given; a fresh one over the growing prefix.
    const model = new TraceModel(records.slice(), sids);
    const views = model.stateAt(records.length - 1);
    for (const sid of sids) {
      const rt = run.sim.server(sid);
      const v = views[sid]!;
      const where = `seed ${seed}, t=${t}, s${sid}`;
      expect(v.up, where).toBe(rt.up);
      expect(
        v.disk.snapshots.map((x) => `${fmtZxid(x.zxid)}${x.corrupt ? ' corrupt' : ''}`),
        `${where}: durable snapshots`,
      ).toEqual(rt.disk.image.snapshots.map((x) => `${fmtZxid(x.zxid)}${x.corrupt === true ? ' corrupt' : ''}`));
      if (!rt.up) {
        seen.down++;
        expect({ a: v.disk.acceptedEpoch, c: v.disk.currentEpoch, at: v.disk.acceptedTmp, ct: v.disk.currentTmp, u: v.disk.updatingEpoch }, where).toEqual({ a: rt.disk.image.acceptedEpoch, c: rt.disk.image.currentEpoch, at: rt.disk.image.acceptedEpochTmp, ct: rt.disk.image.currentEpochTmp, u: rt.disk.image.updatingEpoch });
        continue;
      }
      const s = rt.state;
      if (s.state === 'LEADING') seen.leader++;
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
      seen.compared++;
    }
  }
  for (const ev of records) {
    if (ev.type === 'snapfile' && ev.change === 'corrupt') seen.corrupt++;
    else if (ev.type === 'snapfile') seen.removed++;
    else if (ev.type === 'note' && ev.text.startsWith('problem reading snap file')) seen.skipped++;
  }
}

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
