/**
 * The leader's side of synchronization (src/protocol/sync.ts, zab-protocol.md §5): the sync mode
 * each learner is sent, as the coverage map counts it (probeSyncPlan: a DIFF or TRUNC with or
 * without proposals after it, or SNAP), and zabsim's rule for txns committed but not yet applied
 * (sparingToBeApplied: rule 2 of §5.1 must not cut what is in toBeApplied), with its boundaries
 * and its trace reasons. Fixed delays (5 ms one way, 2 ms fsync); coverage counting on.
 */
import { produce } from 'immer';
import { writeStep } from '../../src/protocol/cow.ts';
import { describe, expect, it } from 'vitest';
import type { StepContext } from '../../src/protocol/context.ts';
import { Fifo } from '../../src/protocol/fifo.ts';
import { PROBE } from '../../src/protocol/probes.ts';
import { onSyncingLearnerPacket, sparingToBeApplied, startSync } from '../../src/protocol/sync.ts';
import type { SyncPlan } from '../../src/protocol/syncplan.ts';
import type { Effect, LeaderState, Message } from '../../src/protocol/types.ts';
import { formatZxid, zxid } from '../../src/protocol/zxid.ts';
import { txnFor } from './driver.ts';
import { boot, established, excerpt, leaderOf, log, type BootOptions } from './harness.ts';

const E1 = { acceptedEpoch: 1, currentEpoch: 1 };
const MODES = ['sync.mode.snap', 'sync.mode.trunc', 'sync.mode.trunc+diff', 'sync.mode.diff', 'sync.mode.empty-diff'] as const;

/** The sync modes the leader sent, counted over the run. */
function modesSent(o: BootOptions, leader: number): Record<string, number> {
  const b = boot({ ...o, coverage: true });
  b.sim.runUntil(1000);
  expect(leaderOf(b.sim), excerpt(b.trace)).toBe(leader);
  const cov = b.sim.coverage as Uint32Array;
  return Object.fromEntries(MODES.map((m) => [m, cov[PROBE[m]] ?? 0]));
}

describe('§5.1 the sync mode each learner is sent, as the coverage map counts it', () => {
  it('a learner one txn behind gets a DIFF with that proposal (sync.mode.diff); one already in sync gets an empty DIFF (sync.mode.empty-diff)', () => {
    const modes = modesSent({ voters: 3, images: { 1: { ...E1, log: log([1, 1]) }, 2: { ...E1, log: log([1, 1], [1, 2]) }, 3: { ...E1, log: log([1, 1], [1, 2]) } } }, 3);
    expect(modes).toEqual({ 'sync.mode.snap': 0, 'sync.mode.trunc': 0, 'sync.mode.trunc+diff': 0, 'sync.mode.diff': 1, 'sync.mode.empty-diff': 1 });
  });

  it('a learner holding a txn the leader lacks, within its committedLog, is cut back to the txn before it, then sent the leader\'s newer txn (sync.mode.trunc+diff)', () => {
    const modes = modesSent({ voters: 3, images: { 1: { ...E1, log: log([1, 1], [1, 2], [1, 3]) }, 2: { ...E1, log: log([1, 1], [1, 2], [1, 4]) }, 3: { ...E1, log: log([1, 1], [1, 2], [1, 4]) } } }, 3);
    expect(modes).toEqual({ 'sync.mode.snap': 0, 'sync.mode.trunc': 0, 'sync.mode.trunc+diff': 1, 'sync.mode.diff': 0, 'sync.mode.empty-diff': 1 });
  });

  it('a learner past the leader\'s last committed txn, that the leader has nothing to add to, gets a TRUNC alone (sync.mode.trunc)', () => {
    const modes = modesSent({ voters: 3, startAt: { 1: 300 }, images: { 1: { ...E1, log: log([1, 1], [1, 2]) }, 2: { ...E1, log: log([1, 1]) }, 3: { ...E1, log: log([1, 1]) } } }, 3);
    expect(modes).toEqual({ 'sync.mode.snap': 0, 'sync.mode.trunc': 1, 'sync.mode.trunc+diff': 0, 'sync.mode.diff': 0, 'sync.mode.empty-diff': 1 });
  });

  it('a learner with an empty database, when the leader\'s log does not reach back to zxid 0, gets SNAP (sync.mode.snap)', () => {
    const modes = modesSent({ voters: 3, images: { 1: {}, 2: { ...E1, log: log([1, 1], [1, 2]) }, 3: { ...E1, log: log([1, 1], [1, 2]) } } }, 3);
    expect(modes).toEqual({ 'sync.mode.snap': 1, 'sync.mode.trunc': 0, 'sync.mode.trunc+diff': 0, 'sync.mode.diff': 0, 'sync.mode.empty-diff': 1 });
  });
});

describe('§5.1 rule 2 spares toBeApplied (zabsim\'s fix of a 3.9 race; flaw sync_trunc_cuts_to_be_applied restores 3.9)', () => {
  // Leader of epoch 3: applied up to <3,1> (maxCommittedLog), committed <3,2> and <3,3> not yet applied.
  const e = 3;
  const prop = (c: number) => ({ zxid: zxid(e, c), txn: txnFor(zxid(e, c)), acks: [] as number[] });
  const leader = { epoch: e, toBeApplied: Fifo.empty<ReturnType<typeof prop>>().push(prop(2)).push(prop(3)) } as unknown as LeaderState;
  const R2 = (p: number): string => `rule 2: peer ${formatZxid(p)} past maxCommittedLog <3,1>: TRUNC`;
  const rule2 = (p: number, cut = zxid(e, 1)): SyncPlan => ({ needSnap: false, ops: [{ type: 'TRUNC', zxid: cut }], currentZxid: cut, reason: R2(p), probe: 0 });

  it('a learner at the last txn of toBeApplied is in sync: an empty DIFF at its own zxid, and the trace says why', () => {
    const p = sparingToBeApplied(rule2(zxid(e, 3)), leader, zxid(e, 3));
    expect(p.ops).toEqual([{ type: 'DIFF', zxid: zxid(e, 3) }]);
    expect(p.currentZxid).toBe(zxid(e, 3));
    expect(p.reason).toBe(`${R2(zxid(e, 3))}, but <3,3> is committed up to <3,3>, not yet applied (toBeApplied): DIFF instead`);
  });

  it('a learner one past toBeApplied is cut to its last txn, not to maxCommittedLog, and the trace says why', () => {
    const p = sparingToBeApplied(rule2(zxid(e, 4)), leader, zxid(e, 4));
    expect(p.ops).toEqual([{ type: 'TRUNC', zxid: zxid(e, 3) }]);
    expect(p.currentZxid).toBe(zxid(e, 3));
    expect(p.reason).toBe(`${R2(zxid(e, 4))}, but committed up to <3,3>, not yet applied (toBeApplied): TRUNC to <3,3> instead`);
  });

  it('ZooKeeper\'s plan stands when it is no TRUNC, already reaches toBeApplied, or the learner is not past it', () => {
    // A DIFF (no TRUNC to spare): kept as it is.
    const diff: SyncPlan = { needSnap: false, ops: [{ type: 'DIFF', zxid: zxid(e, 1) }], currentZxid: zxid(e, 1), reason: 'rule 1', probe: 0 };
    expect(sparingToBeApplied(diff, leader, zxid(e, 2))).toBe(diff);
    // A SNAP has no ops at all.
    const snap: SyncPlan = { needSnap: true, ops: [], currentZxid: zxid(e, 1), reason: 'rule 5', probe: 0 };
    expect(sparingToBeApplied(snap, leader, zxid(e, 2))).toBe(snap);
    // A TRUNC that already ends at the last txn of toBeApplied cuts nothing of it.
    const atLast = rule2(zxid(e, 4), zxid(e, 3));
    expect(sparingToBeApplied(atLast, leader, zxid(e, 4))).toBe(atLast);
    // A peer of an older epoch past maxCommittedLog holds a fork, not txns of toBeApplied: ZooKeeper's TRUNC stands.
    const fork = rule2(zxid(2, 9));
    expect(sparingToBeApplied(fork, leader, zxid(2, 9))).toBe(fork);
    // A learner at the TRUNC's own zxid loses nothing.
    const atCut = rule2(zxid(e, 1));
    expect(sparingToBeApplied(atCut, leader, zxid(e, 1))).toBe(atCut);
  });
});

describe('§5.3 the first packet from a syncing learner (LearnerHandler.run, Leader.waitForNewLeaderAck)', () => {
  /** s3 leading epoch 2 over s1, s2; rewound to before its NEWLEADER quorum unless `est`, with s1's handler still syncing. */
  function syncing(est: boolean) {
    const { sim } = established({ voters: 3, images: { 1: { ...E1, log: log([1, 1]) }, 2: { ...E1, log: log([1, 1]) }, 3: { ...E1, log: log([1, 1]) } } }, 3);
    const s = produce(sim.server(3).state, (d) => {
      const l = d.leader as LeaderState;
      l.established = est;
      l.newLeaderAcks = est ? l.newLeaderAcks : [];
      const h = l.learners[1];
      if (h === undefined) throw new Error('no handler for s1');
      h.stage = 'sync';
    });
    return { cfg: sim.cfg, s };
  }
  function packet(est: boolean, msg: Message) {
    const { cfg, s } = syncing(est);
    const effects: Effect[] = [];
    const probes: number[] = [];
    const dropped: number[] = [];
    const ctx: StepContext = { cfg, sid: 3, effects, probe: (id) => void probes.push(id), owned: [] };
    const state = writeStep(ctx, s, (d) => {
      const l = d.leader as LeaderState;
      onSyncingLearnerPacket(d, ctx, l.learners[1] as NonNullable<(typeof l.learners)[number]>, msg, (sid) => void dropped.push(sid));
    });
    const l = state.leader as LeaderState;
    return { effects, probes, dropped, l, h: l.learners[1], notes: effects.flatMap((e) => (e.kind === 'note' ? [e.text] : [])), sent: effects.flatMap((e) => (e.kind === 'send' ? [e.msg.type] : [])) };
  }
  const WINDOW = PROBE['window.ack-from-syncing-learner'];

  it('anything but an ACK is dropped with ZooKeeper\'s message, and counts no ack-from-syncing-learner window', () => {
    const r = packet(false, { type: 'PROPOSAL', zxid: zxid(2, 5), txn: txnFor(zxid(2, 5)) } as Message);
    expect(r.notes).toEqual(['Next packet was supposed to be an ACK, but received PROPOSAL from s1; dropping it']);
    expect(r.dropped).toEqual([1]);
    expect(r.h?.stage).toBe('sync');
    expect(r.probes).not.toContain(WINDOW);
  });

  it('the NEWLEADER ACK <2,0> counts toward the quorum; the handler is synced but gets no UPTODATE before the leader is established', () => {
    const r = packet(false, { type: 'ACK', zxid: zxid(2, 0) } as Message);
    expect(r.l.newLeaderAcks).toEqual([1]);
    expect(r.h?.stage).toBe('synced');
    expect(r.sent).not.toContain('UPTODATE');
    expect(r.probes).not.toContain(WINDOW);
    expect(r.dropped).toEqual([]);
  });

  it('an ACK of a proposal (<2,5>) where the NEWLEADER ACK was due: the window is counted, and it is no NEWLEADER ACK (ZooKeeper\'s "different epoch" message)', () => {
    const r = packet(false, { type: 'ACK', zxid: zxid(2, 5) } as Message);
    expect(r.probes.filter((p) => p === WINDOW)).toHaveLength(1);
    expect(r.notes).toContain('NEWLEADER ACK from s1 is from a different epoch - current <2,0> received <2,5>');
    expect(r.l.newLeaderAcks).toEqual([]);
    expect(r.sent).not.toContain('UPTODATE');
  });

  it('once the leader is established, a late NEWLEADER ACK gets UPTODATE at once and no longer counts toward the quorum', () => {
    const before = syncing(true).s.leader as LeaderState;
    const r = packet(true, { type: 'ACK', zxid: zxid(2, 0) } as Message);
    expect(r.sent).toEqual(['UPTODATE']);
    expect(r.h?.stage).toBe('broadcast');
    expect(r.l.newLeaderAcks).toEqual(before.newLeaderAcks);
    expect(r.notes.filter((n) => n.startsWith('established'))).toEqual([]);
  });
});

describe('§5.1 Leader.startForwarding: after the sync, toBeApplied as PROPOSAL+COMMIT, then outstanding proposals', () => {
  it('a learner in sync gets an empty DIFF, the txns above its zxid only, each once; a re-sent proposal drops its earlier ACK; the mode is a DIFF with proposals', () => {
    const { sim } = established({ voters: 3, images: { 1: { ...E1, log: log([1, 1]) }, 2: { ...E1, log: log([1, 1]) }, 3: { ...E1, log: log([1, 1]) } } }, 3);
    const p = (c: number, acks: number[]) => ({ zxid: zxid(2, c), txn: txnFor(zxid(2, c)), acks });
    const s0 = produce(sim.server(3).state, (d) => {
      const l = d.leader as LeaderState;
      // <2,1> committed and not applied; <2,2> outstanding, ACKed by s1 and s3, <2,3> by s3 only.
      l.toBeApplied = Fifo.empty<ReturnType<typeof p>>().push(p(1, [1, 2, 3]));
      l.outstanding = Fifo.empty<ReturnType<typeof p>>().push(p(2, [1, 3])).push(p(3, [3]));
      const h = l.learners[1];
      if (h === undefined) throw new Error('no handler for s1');
      h.stage = 'ackepoch';
      h.peerLastZxid = d.db.lastProcessedZxid;
    });
    const effects: Effect[] = [];
    const probes: number[] = [];
    const ctx: StepContext = { cfg: sim.cfg, sid: 3, effects, probe: (id) => void probes.push(id), owned: [] };
    const s1 = writeStep(ctx, s0, (d) => {
      const l = d.leader as LeaderState;
      startSync(d, ctx, l.learners[1] as NonNullable<(typeof l.learners)[number]>);
    });
    const to1 = effects.flatMap((e) => (e.kind === 'send' && e.to === 1 ? [`${e.msg.type} ${'zxid' in e.msg ? formatZxid(e.msg.zxid as number) : ''}`] : []));
    expect(to1.filter((x) => x.startsWith('PROPOSAL') || x.startsWith('COMMIT') || x.startsWith('DIFF'))).toEqual(['DIFF <2,0>', 'PROPOSAL <2,1>', 'COMMIT <2,1>', 'PROPOSAL <2,2>', 'PROPOSAL <2,3>']);
    expect((s1.leader as LeaderState).outstanding.items.map((x) => x.acks)).toEqual([[3], [3]]);
    expect(probes.filter((x) => x === PROBE['window.resync-drops-ack'])).toHaveLength(1);
    expect(probes.filter((x) => x === PROBE['sync.mode.diff'])).toHaveLength(1);
    expect(probes.filter((x) => x === PROBE['sync.mode.empty-diff'])).toHaveLength(0);
  });
});
