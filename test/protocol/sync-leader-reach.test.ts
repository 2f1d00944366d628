/**
 * The leader's side of synchronization (src/protocol/sync.ts, zab-protocol.md §5) where the
 * tests of sync-leader.test.ts did not reach (issue 12 §2, docs/checkers.md, "The seven open questions settled, and sync.ts's unreached mutants"):
 * sparingToBeApplied's epoch check, startForwarding's pass-over of the toBeApplied txns the sync
 * already covers, the forwarding start of a SNAP, and the session tracker of establishment. Fixed
 * delays (5 ms one way, 2 ms fsync); no wall-clock time.
 */
import { produce } from 'immer';
import { writeStep } from '../../src/protocol/cow.ts';
import { describe, expect, it } from 'vitest';
import type { Flaws, ProtocolParams } from '../../src/protocol/config.ts';
import type { StepContext } from '../../src/protocol/context.ts';
import { Fifo } from '../../src/protocol/fifo.ts';
import { PROBE } from '../../src/protocol/probes.ts';
import { sparingToBeApplied, startSync } from '../../src/protocol/sync.ts';
import type { SyncPlan } from '../../src/protocol/syncplan.ts';
import type { Effect, LeaderState, LearnerHandler, LogEntry, Message, ServerState } from '../../src/protocol/types.ts';
import { formatZxid, zxid } from '../../src/protocol/zxid.ts';
import { txnFor } from './driver.ts';
import { established, excerpt, log, notes, sends } from './harness.ts';

const E1 = { acceptedEpoch: 1, currentEpoch: 1 };
const show = (m: Message): string => `${m.type}${'zxid' in m ? ` ${formatZxid(m.zxid as number)}` : ''}`;
const proposal = (e: number, c: number, acks: number[] = []) => ({ zxid: zxid(e, c), txn: txnFor(zxid(e, c)), acks });
type Prop = ReturnType<typeof proposal>;

/**
 * s3 established as leader of epoch 2 over s1 and s2 (all three logged <1,1>); `edit` then sets
 * the leader's queues and s1's handler, which is put back at ACKEPOCH (its sync not yet decided),
 * and startSync runs for s1. Returns what s1 was sent (or, for a SNAP, what waits in its handler's
 * queue), the probes counted, and the state after.
 */
function resync(edit: (l: LeaderState, h: LearnerHandler, d: ServerState) => void, o: { flaws?: Partial<Flaws>; params?: Partial<ProtocolParams> } = {}) {
  const { sim } = established({ voters: 3, ...o, images: { 1: { ...E1, log: log([1, 1]) }, 2: { ...E1, log: log([1, 1]) }, 3: { ...E1, log: log([1, 1]) } } }, 3);
  const s0 = produce(sim.server(3).state, (d) => {
    const l = d.leader as LeaderState;
    const h = l.learners[1];
    if (h === undefined) throw new Error('no handler for s1');
    h.stage = 'ackepoch';
    h.forwarding = false;
    edit(l, h, d as ServerState);
  });
  const effects: Effect[] = [];
  const probes: number[] = [];
  const ctx: StepContext = { cfg: sim.cfg, sid: 3, effects, probe: (id) => void probes.push(id), owned: [] };
  const s1 = writeStep(ctx, s0, (d) => {
    const l = d.leader as LeaderState;
    startSync(d, ctx, l.learners[1] as LearnerHandler);
  });
  const l = s1.leader as LeaderState;
  const sent = effects.flatMap((e) => (e.kind === 'send' && e.to === 1 ? [show(e.msg)] : []));
  const queued = (l.learners[1]?.snapSync?.queuedPackets ?? []).map(show);
  const noted = effects.flatMap((e) => (e.kind === 'note' ? [e.text] : []));
  const count = (p: keyof typeof PROBE): number => probes.filter((x) => x === PROBE[p]).length;
  return { sent, queued, notes: noted, count, db: s0.db };
}

describe('§5.1 sparingToBeApplied keeps ZooKeeper\'s TRUNC for a learner of an older epoch (LearnerHandler.syncFollower)', () => {
  it('a learner at <2,9>, past maxCommittedLog <2,5> of the previous epoch, is cut to <2,5> although the epoch-3 leader has <3,1> committed and not applied: its <2,6>..<2,9> are no txns of toBeApplied', () => {
    const leader = { epoch: 3, toBeApplied: Fifo.empty<Prop>().push(proposal(3, 1)) } as unknown as LeaderState;
    const rule2: SyncPlan = { needSnap: false, ops: [{ type: 'TRUNC', zxid: zxid(2, 5) }], currentZxid: zxid(2, 5), reason: 'rule 2: peer <2,9> past maxCommittedLog <2,5>: TRUNC', probe: PROBE['sync.rule2'] };
    const plan = sparingToBeApplied(rule2, leader, zxid(2, 9));
    expect(plan).toBe(rule2);
    expect(plan.ops).toEqual([{ type: 'TRUNC', zxid: zxid(2, 5) }]);
    // The same learner one epoch later (<3,1>, the txn toBeApplied holds) is spared the cut.
    expect(sparingToBeApplied({ ...rule2, reason: 'rule 2: peer <3,1> past maxCommittedLog <2,5>: TRUNC' }, leader, zxid(3, 1)).ops).toEqual([{ type: 'DIFF', zxid: zxid(3, 1) }]);
  });
});

describe('§5.1 Leader.startForwarding passes over the toBeApplied txns at or below the sync\'s last zxid', () => {
  it('a learner that logged <2,1> of toBeApplied [<2,1>, <2,2>] gets an empty DIFF at <2,1>, then <2,2> alone as PROPOSAL+COMMIT; its sync counts as a DIFF with proposals', () => {
    const r = resync((l, h) => {
      l.toBeApplied = Fifo.empty<Prop>().push(proposal(2, 1, [1, 2, 3])).push(proposal(2, 2, [2, 3]));
      h.peerLastZxid = zxid(2, 1);
    });
    expect(r.notes.filter((n) => n.startsWith('sync s1'))).toEqual([
      'sync s1: rule 2: peer <2,1> past maxCommittedLog <1,1>: TRUNC, but <2,1> is committed up to <2,2>, not yet applied (toBeApplied): DIFF instead',
    ]);
    expect(r.sent).toEqual(['DIFF <2,1>', 'PROPOSAL <2,2>', 'COMMIT <2,2>', 'NEWLEADER <2,0>']);
    expect(r.count('sync.mode.diff')).toBe(1);
    expect(r.count('sync.mode.empty-diff')).toBe(0);
  });

  it('a learner already in sync with the leader, which has only toBeApplied to forward (<2,1>, nothing outstanding), counts as a DIFF with proposals, not an empty DIFF', () => {
    const r = resync((l, h, d) => {
      l.toBeApplied = Fifo.empty<Prop>().push(proposal(2, 1, [1, 2, 3]));
      h.peerLastZxid = d.db.lastProcessedZxid;
    });
    expect(r.sent).toEqual(['DIFF <2,0>', 'PROPOSAL <2,1>', 'COMMIT <2,1>', 'NEWLEADER <2,0>']);
    expect(r.count('sync.mode.diff')).toBe(1);
    expect(r.count('sync.mode.empty-diff')).toBe(0);
  });
});

describe('§5.1 a SNAP forwards what lies above the leader\'s applied state (LearnerHandler.syncFollower: if (needSnap) currentZxid = db.getDataTreeLastProcessedZxid())', () => {
  it('zxid_counter_overflow_carries_into_epoch (B16): a learner that logged up to the carried <3,0> of an epoch-2 leader gets SNAP, and after it every txn above the leader\'s applied <2,0>: <2,1>, <2,2>, <3,0> (committed, not applied) as PROPOSAL+COMMIT, then the outstanding <3,1>', () => {
    // With a counter limit of 2 the leader of epoch 2 proposes <2,1>, <2,2>, then carries into
    // <3,0>, then <3,1>. s1 logged up to <3,0> and reconnects before the leader applied any of
    // them: rule 2 does not apply to a counter-0 zxid and <3,0> lies past the committedLog, so
    // syncFollower decides SNAP, and forwards from the leader's lastProcessedZxid <2,0>.
    const r = resync(
      (l, h) => {
        l.lastProposed = zxid(3, 1);
        l.lastCommitted = zxid(3, 0);
        l.toBeApplied = Fifo.empty<Prop>().push(proposal(2, 1, [1, 2, 3])).push(proposal(2, 2, [1, 2, 3])).push(proposal(3, 0, [1, 2, 3]));
        l.outstanding = Fifo.empty<Prop>().push(proposal(3, 1, [3]));
        h.peerLastZxid = zxid(3, 0);
      },
      { flaws: { zxid_counter_overflow_carries_into_epoch: true }, params: { zxidCounterLimit: 2 } },
    );
    expect(r.db.lastProcessedZxid).toBe(zxid(2, 0));
    expect(r.notes.filter((n) => n.startsWith('sync s1'))).toEqual(['sync s1: rule 5: peer <3,0>: SNAP']);
    expect(r.sent).toEqual([]);
    expect(r.queued).toEqual(['PROPOSAL <2,1>', 'COMMIT <2,1>', 'PROPOSAL <2,2>', 'COMMIT <2,2>', 'PROPOSAL <3,0>', 'COMMIT <3,0>', 'PROPOSAL <3,1>']);
    expect(r.count('sync.mode.snap')).toBe(1);
  });
});

describe('§6 the new leader tracks every session of its database (LeaderZooKeeperServer.createSessionTracker)', () => {
  it('a session created in epoch 1 whose client never comes back expires one timeout (6 s) after the leader of epoch 2 is established: the leader closes it and its ephemeral goes everywhere', () => {
    const entries: LogEntry[] = [
      { zxid: zxid(1, 1), txn: { type: 'createSession', session: 7, timeoutMs: 6000 } },
      { zxid: zxid(1, 2), txn: { type: 'create', path: '/e7', data: '', ephemeral: true, sequential: false, session: 7 } },
    ];
    const img = { ...E1, log: entries };
    const { sim, trace } = established({ voters: 3, images: { 1: img, 2: img, 3: img } }, 3);
    const est = notes(trace, 3, /^established epoch 2/);
    expect(est, excerpt(trace)).toHaveLength(1);
    const t0 = (est[0] as (typeof est)[number]).t;
    expect(sim.server(3).state.leader?.sessionExpiry).toEqual({ 7: 6000 });
    sim.runUntil(t0 + 6000 + 2000);
    const expired = notes(trace, 3, /^session 7 expired$/);
    expect(expired.map((e) => e.t - t0), excerpt(trace, t0 + 5000)).toEqual([6000]);
    const closes = sends(trace, 'PROPOSAL', 3).filter((e) => e.msg.txn.type === 'closeSession');
    expect(closes.map((e) => `${formatZxid(e.msg.zxid)} ${e.msg.txn.type} -> s${e.to}`)).toEqual(['<2,1> closeSession -> s1', '<2,1> closeSession -> s2']);
    for (const sid of [1, 2, 3]) {
      expect(sim.server(sid).state.db.tree.sessions[7], `s${sid}`).toBeUndefined();
      expect(sim.server(sid).state.db.tree.get('/e7'), `s${sid}`).toBeUndefined();
    }
  });
});
