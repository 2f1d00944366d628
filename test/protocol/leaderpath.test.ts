/**
 * The leader's proposal path as ZooKeeper's request processors (docs/protocol.md "Threads and
 * queues", zab-protocol.md §6): ProposalRequestProcessor → the leader's own SyncRequestProcessor
 * (the log writer stage) → AckRequestProcessor, and Leader.tryToCommit → the leader's
 * CommitProcessor → ToBeAppliedRequestProcessor → FinalRequestProcessor (commit is not apply).
 * s3 leads epoch 1 over logs holding <1,1>; fixed delays (5 ms one way, 2 ms fsync).
 */
import { describe, expect, it } from 'vitest';
import { getData } from '../../src/protocol/datatree.ts';
import { Fifo } from '../../src/protocol/fifo.ts';
import { step } from '../../src/protocol/peer.ts';
import { sparingToBeApplied } from '../../src/protocol/sync.ts';
import type { SyncPlan } from '../../src/protocol/syncplan.ts';
import type { LeaderState } from '../../src/protocol/types.ts';
import { txnFor } from './driver.ts';
import type { Sid } from '../../src/protocol/config.ts';
import type { SimOptions } from '../../src/sim/kernel.ts';
import { formatZxid, zxid } from '../../src/protocol/zxid.ts';
import { appendOf, boot, delivers, excerpt, fsyncs, leaderOf, log, notes, one, persists, replies, request, sends, write, type SendEv } from './harness.ts';

const E1 = { acceptedEpoch: 1, currentEpoch: 1 };
const Z21 = zxid(2, 1);

function ensemble(o: Partial<SimOptions> & { startAt?: Record<Sid, number | null> }) {
  const b = boot({ voters: 3, images: { 1: { ...E1, log: log([1, 1]) }, 2: { ...E1, log: log([1, 1]) }, 3: { ...E1, log: log([1, 1]) } }, ...o });
  b.sim.runUntil(1000);
  expect(leaderOf(b.sim), excerpt(b.trace)).toBe(3);
  return b;
}

describe('§6 the leader\'s SyncRequestProcessor and AckRequestProcessor', () => {
  it('§6 propose 4: the PROPOSAL leaves at once, the leader logs it when its writer runs (20 ms later) and counts its own ACK only after that fsync', () => {
    const { sim, trace } = ensemble({ stageDelay: { kind: 'constant', ms: 20 } });
    write(sim, 3, '/a');
    const t0 = sim.now;
    sim.runUntil(t0 + 19);
    expect(sends(trace, 'PROPOSAL', 3).map((e) => [e.to, e.t])).toEqual([[1, t0], [2, t0]]);
    const l = sim.server(3).state;
    expect(l.logWriter.queue.items.map((q) => q.entry.zxid)).toEqual([Z21]);
    expect(l.db.log.lastZxid(0)).toBe(zxid(1, 1));
    expect(l.leader?.outstanding.items.map((p) => [...p.acks])).toEqual([[]]);
    sim.runUntil(t0 + 100);
    const p = one(persists(trace, 3, appendOf(Z21)), 'append <2,1> on s3');
    expect(p.t).toBe(t0 + 20);
    const done = one(fsyncs(trace, 3, appendOf(Z21)), 'fsync <2,1> on s3');
    expect(done.t).toBe(t0 + 22);
    // The followers' ACKs arrive at t0 + 5 + 20 + 2 + 5; the leader's own counted at t0 + 22,
    // so the COMMIT goes with the first follower ACK.
    const commit = sends(trace, 'COMMIT', 3)[0] as SendEv;
    expect(commit.t).toBe(t0 + 32);
    expect(getData(sim.server(3).state.db.tree, '/a')).toBe('v');
  });

  it('§6 the leader counts itself only after its own flush: with its fsync 50 ms slow, the two followers\' ACKs commit without it', () => {
    // Every writer is descheduled for 20 ms; s1 and s2 ACK at t0 + 32, a quorum of 3 without the
    // leader, whose fsync ends at t0 + 72 (its ACK then finds the proposal committed).
    const { sim, trace } = ensemble({ stageDelay: { kind: 'constant', ms: 20 } });
    const disk = sim.server(3).disk;
    const submit = disk.submit.bind(disk);
    disk.submit = (now, token, w) => submit(w.op === 'appendLog' ? now + 50 : now, token, w);
    write(sim, 3, '/a');
    const t0 = sim.now;
    sim.runUntil(t0 + 31);
    expect(sim.server(3).state.leader?.outstanding.items.map((p) => [...p.acks])).toEqual([[]]);
    sim.runUntil(t0 + 200);
    const commit = sends(trace, 'COMMIT', 3)[0] as SendEv;
    expect(commit.t).toBe(t0 + 32);
    expect(one(fsyncs(trace, 3, appendOf(Z21)), 'fsync <2,1> on s3').t).toBe(t0 + 72);
  });

  it('a crash of the leader loses the proposal its writer holds: the restarted server has not logged it', () => {
    const { sim, trace } = ensemble({ stageDelay: { kind: 'constant', ms: 20 } });
    write(sim, 3, '/a');
    const t0 = sim.now;
    sim.runUntil(t0 + 10);
    expect(sim.server(3).state.logWriter.queue.length).toBe(1);
    sim.crash(3);
    sim.runUntil(t0 + 50);
    expect(persists(trace, 3, appendOf(Z21))).toEqual([]);
    expect(sim.server(3).disk.image.log.map((e) => e.zxid)).toEqual([zxid(1, 1)]);
  });

  it('a role change shuts the leader\'s writer down: what it holds is written before the fast-forward, so the server votes with it', () => {
    const { sim } = ensemble({ stageDelay: { kind: 'constant', ms: 20 } });
    write(sim, 3, '/a');
    sim.runUntil(sim.now + 10);
    const before = sim.server(3).state;
    expect(before.logWriter.queue.length).toBe(1);
    const r = step(sim.cfg, before, { kind: 'roleFailed', reason: 'test' });
    expect(r.effects).toContainEqual({ kind: 'note', text: 'log writer shut down: writing 1 queued txns first' });
    expect(r.state.db.log.lastZxid(0)).toBe(Z21);
    expect(r.state.db.lastProcessedZxid).toBe(Z21); // the fast-forward applied the logged txn
    expect(r.effects.filter((e) => e.kind === 'persist').map((e) => (e.kind === 'persist' ? e.write.op : ''))).toEqual(['appendLog']);
  });
});

describe('§6 the leader\'s CommitProcessor and toBeApplied: commit is not apply', () => {
  it('with a 30 ms commit delay the leader sends COMMIT at once and applies 30 ms later; toBeApplied holds the txn meanwhile', () => {
    const { sim, trace } = ensemble({ commitDelay: { kind: 'constant', ms: 30 } });
    const cx = request(sim, 3, 'create', '/a', 'x');
    sim.runUntil(sim.now + 300);
    const commit = sends(trace, 'COMMIT', 3)[0] as SendEv;
    const reply = trace.find((e) => e.type === 'reply' && e.sid === 3 && e.reply.cxid === cx);
    expect(reply?.t).toBe(commit.t + 30);
    expect(replies(trace, 3, cx).map((r) => [r.ok, r.zxid])).toEqual([[true, Z21]]);
    expect(sim.server(3).state.leader?.toBeApplied.length).toBe(0);
  });

  it('a sync of the leader\'s own client is answered behind the txns committed before it, once they are applied', () => {
    const { sim, trace } = ensemble({ commitDelay: { kind: 'constant', ms: 30 } });
    request(sim, 3, 'create', '/a', 'x');
    sim.runUntil(sim.now + 20); // committed (t0 + 12), not yet applied
    expect(sim.server(3).state.leader?.toBeApplied.items.map((p) => p.zxid)).toEqual([Z21]);
    const cx = request(sim, 3, 'sync', '/');
    sim.runUntil(sim.now + 300);
    expect(replies(trace, 3, cx).map((r) => [r.ok, r.zxid])).toEqual([[true, Z21]]);
  });

  it('§5.1 startForwarding: a learner that syncs while a commit waits in toBeApplied gets it as PROPOSAL and COMMIT after the sync, and applies it', () => {
    // s1 starts late; the leader commits <2,1> with s2 and applies it only 2 s later. s1's sync
    // is built from the applied database (up to <1,1>), so <2,1> comes from toBeApplied.
    const { sim, trace } = ensemble({ commitDelay: { kind: 'constant', ms: 2000 }, startAt: { 1: null } });
    request(sim, 3, 'create', '/a', 'x');
    sim.runUntil(sim.now + 50);
    expect(sim.server(3).state.leader?.toBeApplied.items.map((p) => p.zxid)).toEqual([Z21]);
    const t0 = sim.now;
    sim.start(1);
    sim.runUntil(t0 + 1000);
    const toS1 = trace.filter((e): e is SendEv => e.type === 'send' && e.from === 3 && e.to === 1 && e.t >= t0 && e.msg.type !== 'NOTIFICATION' && e.msg.type !== 'PING');
    const shown = toS1.map((e) => `${e.msg.type}${'zxid' in e.msg ? ` ${formatZxid(e.msg.zxid)}` : ''}`);
    expect(shown, excerpt(trace, t0)).toEqual(['LEADERINFO <2,0>', 'DIFF <1,1>', 'PROPOSAL <2,1>', 'COMMIT <2,1>', 'NEWLEADER <2,0>', 'UPTODATE']);
    expect(getData(sim.server(3).state.db.tree, '/a')).toBeNull(); // the leader has still not applied it
    sim.runUntil(t0 + 3000);
    for (const sid of [1, 2, 3]) expect(getData(sim.server(sid).state.db.tree, '/a'), `s${sid}`).toBe('x');
    expect(notes(trace, null, /toBeApplied/)).toEqual([]);
    expect(delivers(trace, 'COMMIT', 3, 1).length).toBe(1);
  });
});

describe('§6 the observer\'s SyncRequestProcessor and CommitProcessor (ObserverZooKeeperServer.commitRequest)', () => {
  function withObserver(o: Partial<SimOptions>) {
    const b = boot({ voters: 3, observers: 1, images: { 1: { ...E1, log: log([1, 1]) }, 2: { ...E1, log: log([1, 1]) }, 3: { ...E1, log: log([1, 1]) }, 4: { ...E1, log: log([1, 1]) } }, ...o });
    b.sim.runUntil(1000);
    expect(leaderOf(b.sim), excerpt(b.trace)).toBe(3);
    expect(b.sim.server(4).state.zabState).toBe('BROADCAST');
    return b;
  }

  it('§6 observer on INFORM: its writer logs the txn (no ACK), and its CommitProcessor applies it and answers the client 30 ms after the INFORM', () => {
    const { sim, trace } = withObserver({ commitDelay: { kind: 'constant', ms: 30 } });
    const cx = request(sim, 4, 'create', '/a', 'x');
    sim.runUntil(sim.now + 300);
    const inform = one(delivers(trace, 'INFORM', 3, 4), 'INFORM to s4');
    expect(one(persists(trace, 4, appendOf(Z21)), 'append <2,1> on s4').t).toBe(inform.t);
    const reply = trace.find((e) => e.type === 'reply' && e.sid === 4 && e.reply.cxid === cx);
    expect(reply?.t).toBe(inform.t + 30);
    expect(replies(trace, 4, cx).map((r) => [r.ok, r.zxid])).toEqual([[true, Z21]]);
    expect(sends(trace, 'ACK', 4).filter((e) => e.msg.zxid === Z21)).toEqual([]);
  });

  it('an observer\'s writer descheduled 20 ms logs the INFORM then; a crash before loses it, though the CommitProcessor applied it in memory', () => {
    const { sim, trace } = withObserver({ stageDelay: { kind: 'constant', ms: 20 } });
    write(sim, 3, '/a');
    let informAt = -1;
    for (let t = sim.now; t < sim.now + 100 && informAt < 0; t++) {
      sim.runUntil(t);
      if (delivers(trace, 'INFORM', 3, 4).length > 0) informAt = t;
    }
    expect(informAt).toBeGreaterThan(0);
    const s4 = sim.server(4).state;
    expect(getData(s4.db.tree, '/a')).toBe('v');
    expect(s4.logWriter.queue.items.map((q) => q.entry.zxid)).toEqual([Z21]);
    sim.crash(4);
    sim.runUntil(informAt + 50);
    expect(persists(trace, 4, appendOf(Z21))).toEqual([]);
    expect(sim.server(4).disk.image.log.map((e) => e.zxid)).toEqual([zxid(1, 1)]);
  });
});

describe('§5.1 rule 2 and toBeApplied (zabsim\'s fix; sync_trunc_cuts_to_be_applied restores 3.9)', () => {
  const e = 3;
  const prop = (c: number) => ({ zxid: zxid(e, c), txn: txnFor(zxid(e, c)), acks: [] as number[] });
  const leader = { epoch: e, toBeApplied: Fifo.empty<ReturnType<typeof prop>>().push(prop(2)).push(prop(3)) } as unknown as LeaderState;
  const rule2 = (p: number): SyncPlan => ({ needSnap: false, ops: [{ type: 'TRUNC', zxid: zxid(e, 1) }], currentZxid: zxid(e, 1), reason: `rule 2: peer ${formatZxid(p)} past maxCommittedLog <3,1>: TRUNC`, probe: 0 });

  it('a learner within toBeApplied gets an empty DIFF at its own zxid; one beyond it is cut to the last committed txn; others keep ZooKeeper\'s plan', () => {
    const within = sparingToBeApplied(rule2(zxid(e, 2)), leader, zxid(e, 2));
    expect([within.ops, within.currentZxid]).toEqual([[{ type: 'DIFF', zxid: zxid(e, 2) }], zxid(e, 2)]);
    const beyond = sparingToBeApplied(rule2(zxid(e, 5)), leader, zxid(e, 5));
    expect([beyond.ops, beyond.currentZxid]).toEqual([[{ type: 'TRUNC', zxid: zxid(e, 3) }], zxid(e, 3)]);
    // A peer of an older epoch past maxCommittedLog holds a fork: ZooKeeper's TRUNC stands.
    const fork = rule2(zxid(2, 9));
    expect(sparingToBeApplied(fork, leader, zxid(2, 9))).toBe(fork);
    const none = { ...leader, toBeApplied: Fifo.empty() } as unknown as LeaderState;
    const plain = rule2(zxid(e, 2));
    expect(sparingToBeApplied(plain, none, zxid(e, 2))).toBe(plain);
  });
});
