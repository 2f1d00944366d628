/**
 * The learner's side of synchronization from NEWLEADER to UPTODATE (src/protocol/sync.ts,
 * zab-protocol.md §1.3, §5.2; Learner.syncWithLeader): the DIFF txns committed before NEWLEADER,
 * the NEWLEADER of ZOOKEEPER-4394 and ZOOKEEPER-4685, and UPTODATE's logging of the remaining
 * proposals and its held COMMITs; on each path, a txn the learner logged or queued in its last
 * role and never applied (ZOOKEEPER-2845, ZOOKEEPER-4712) comes back and is applied by its COMMIT,
 * as in ZooKeeper, which never passes a synced proposal over. These were survivors of StrykerJS
 * over sync.ts, learner side (issue 12 §2; docs/checkers.md, "sync.ts, learner side"). s3 of five
 * voters (log <1,1> <1,2>, epoch 1) follows s5 into epoch 2 (the observer s6 where a test says
 * so), fed one packet at a time. A channel that duplicates or reorders packets breaks ZAB's FIFO assumption; zabsim's
 * network can do both, and the learner must not log, apply or commit a txn twice because of it.
 */
import { describe, expect, it } from 'vitest';
import { makeClusterConfig, type Flaws } from '../../src/protocol/config.ts';
import { TIMER_FINALIZE } from '../../src/protocol/election.ts';
import { step } from '../../src/protocol/peer.ts';
import type { Effect, Message } from '../../src/protocol/types.ts';
import { formatZxid } from '../../src/protocol/zxid.ts';
import { awaitingSync, image, Node, note, txnFor, z } from './driver.ts';
import { writeName } from './harness.ts';

const P = (e: number, c: number): Message => ({ type: 'PROPOSAL', zxid: z(e, c), txn: txnFor(z(e, c)) });
const C = (e: number, c: number): Message => ({ type: 'COMMIT', zxid: z(e, c) });
const DIFF = (e: number, c: number): Message => ({ type: 'DIFF', zxid: z(e, c) });
const NEWLEADER = (e: number): Message => ({ type: 'NEWLEADER', zxid: z(e, 0) });
const UPTODATE: Message = { type: 'UPTODATE' };

const writes = (es: readonly Effect[]): string[] => es.flatMap((e) => (e.kind === 'persist' ? [writeName(e.write)] : []));
const acks = (es: readonly Effect[]): string[] => es.flatMap((e) => (e.kind === 'send' && e.msg.type === 'ACK' ? [formatZxid(e.msg.zxid)] : []));
const notes = (es: readonly Effect[]): string[] => es.flatMap((e) => (e.kind === 'note' ? [e.text] : []));
const halts = (es: readonly Effect[]): string[] => es.flatMap((e) => (e.kind === 'halt' ? [e.reason] : []));
const buffered = (n: Node): string[] => (n.state.learner?.sync.packetsNotLogged.items ?? []).map((e) => formatZxid(e.zxid));
const pending = (n: Node): string[] => (n.state.learner?.pendingTxns.items ?? []).map((e) => formatZxid(e.zxid));
const logged = (n: Node): string[] => n.state.db.log.entries.slice(0, n.state.db.log.length).map((e) => formatZxid(e.zxid));

/** Feeds packets from the leader s5 in order; returns every effect. */
function feed(n: Node, ...msgs: Message[]): Effect[] {
  return msgs.flatMap((m) => [...n.msg(5, m)]);
}

/** The observer s6 (five voters and one observer) has read LEADERINFO for epoch 2 from s5 and waits for the sync stream. */
function observerAwaitingSync(flaws: Partial<Flaws>): Node {
  const o = Node.start(makeClusterConfig(5, 1, {}, flaws), 6, image([z(1, 1), z(1, 2)], 1));
  o.nFrom([3, 4, 5], note('LOOKING', 5, z(1, 5), 1, 1));
  o.timer(TIMER_FINALIZE);
  o.msg(5, { type: 'LEADERINFO', zxid: z(2, 0) });
  o.flush();
  if (o.state.state !== 'OBSERVING' || o.state.learner?.phase !== 'sync') throw new Error(`observerAwaitingSync: s6 is ${o.state.state} in phase ${o.state.learner?.phase ?? '-'}`);
  return o;
}

/** s3 after a SNAP of s5's state at <1,2> (its own tree), then <1,3> proposed and committed: applied in memory. */
function snapSynced(flaws: Partial<Flaws>): Node {
  const n = awaitingSync(flaws);
  feed(n, { type: 'SNAP', zxid: z(1, 2), tree: n.state.db.tree, lastTxn: z(1, 2) }, P(1, 3), C(1, 3));
  expect(n.state.db.lastProcessedZxid).toBe(z(1, 3));
  return n;
}

/**
 * ZOOKEEPER-2845 (election_advertises_in_memory_zxid): s3 follows s5 in epoch 2 and logs <2,1>;
 * the connection closes before the COMMIT. Without the fast-forward its database stays at <1,2>,
 * below its log, and it tells the epoch-3 leader (s5 again) so in ACKEPOCH: the DIFF starts at
 * <1,2> and carries <2,1> again. Returns s3 waiting for that sync stream.
 */
function loggedNotApplied(flaws: Partial<Flaws>): Node {
  const n = awaitingSync({ election_advertises_in_memory_zxid: true, ...flaws });
  feed(n, DIFF(1, 2), NEWLEADER(2));
  n.flush();
  feed(n, UPTODATE, P(2, 1));
  n.flush();
  n.feed({ kind: 'disconnected', peer: 5 });
  n.flush();
  n.nFrom([4, 5, 3], note('LOOKING', 5, z(2, 1), n.state.fle.logicalclock, 2));
  n.timer(TIMER_FINALIZE);
  n.msg(5, { type: 'LEADERINFO', zxid: z(3, 0) });
  const ackEpoch = n.flush().flatMap((e) => (e.kind === 'send' && e.msg.type === 'ACKEPOCH' ? [formatZxid(e.msg.zxid)] : []));
  expect(ackEpoch).toEqual(['<1,2>']);
  expect(logged(n)).toEqual(['<1,1>', '<1,2>', '<2,1>']);
  expect(n.state.db.lastProcessedZxid).toBe(z(1, 2));
  return n;
}

describe('§1.3 Learner.syncWithLeader at NEWLEADER, DIFF mode: the txns whose COMMIT came before NEWLEADER are logged and applied', () => {
  it('a COMMIT delivered twice finds no proposal left: ZooKeeper\'s warning ("Committing <1,3>, but next proposal is none") and it is passed over; <1,3> is logged and applied once', () => {
    const n = awaitingSync({});
    feed(n, DIFF(1, 2), P(1, 3), C(1, 3), C(1, 3));
    const es = feed(n, NEWLEADER(2));
    expect(notes(es)).toEqual(['Committing <1,3>, but next proposal is none']);
    expect(writes(es)).toEqual(['create updatingEpoch', 'appendLog <1,3>']);
    expect(n.state.db.lastProcessedZxid).toBe(z(1, 3));
    expect(acks(n.flush())).toEqual(['<2,0>']);
    expect(logged(n)).toEqual(['<1,1>', '<1,2>', '<1,3>']);
  });

  it('COMMITs out of order: one that does not name the oldest buffered proposal is passed over with the warning, the next is logged and applied; <1,4> waits for UPTODATE', () => {
    const n = awaitingSync({});
    feed(n, DIFF(1, 2), P(1, 3), P(1, 4), C(1, 4), C(1, 3));
    const es = feed(n, NEWLEADER(2));
    expect(notes(es)).toEqual(['Committing <1,4>, but next proposal is <1,3>']);
    expect(writes(es)).toEqual(['create updatingEpoch', 'appendLog <1,3>']);
    expect(n.state.db.lastProcessedZxid).toBe(z(1, 3));
    expect(buffered(n)).toEqual(['<1,4>']);
  });

  it('a PROPOSAL and its COMMIT delivered twice: the second copy, at lastProcessedZxid once the first is applied, is passed over, not logged or applied again', () => {
    const n = awaitingSync({});
    feed(n, DIFF(1, 2), P(1, 3), C(1, 3), P(1, 3), C(1, 3));
    const es = feed(n, NEWLEADER(2));
    expect(writes(es)).toEqual(['create updatingEpoch', 'appendLog <1,3>']);
    expect(n.state.db.lastProcessedZxid).toBe(z(1, 3));
    expect(buffered(n)).toEqual([]);
    expect(acks(n.flush())).toEqual(['<2,0>']);
  });

  it('ZOOKEEPER-2845 (election_advertises_in_memory_zxid): <2,1>, logged in the last role and never applied, comes back by DIFF with its COMMIT; NEWLEADER applies it and does not append it to the log again', () => {
    const n = loggedNotApplied({});
    feed(n, DIFF(1, 2), P(2, 1), C(2, 1));
    const es = feed(n, NEWLEADER(3));
    expect(writes(es)).toEqual(['create updatingEpoch', 'currentEpoch := 3']);
    expect(n.state.db.lastProcessedZxid).toBe(z(2, 1));
    expect(n.state.db.tree.get('/t_2_1_')).toBeDefined();
    expect(logged(n)).toEqual(['<1,1>', '<1,2>', '<2,1>']);
  });
});

describe('§1.3 Learner.syncWithLeader at NEWLEADER (3.9.3+): a follower logs and applies the held COMMITs whatever the sync mode', () => {
  it('SNAP, NEWLEADER delivered twice: the second finds <1,4> proposed and committed after the first and appends and applies it before its ACK, as ZooKeeper\'s loop does (it checks only that packetsCommitted is not empty, not the mode)', () => {
    // In a SNAP or TRUNC sync the COMMITs before the first NEWLEADER are applied at once, so only a
    // second NEWLEADER (the channel duplicated it) finds a held COMMIT here.
    const n = snapSynced({});
    feed(n, NEWLEADER(2));
    n.flush();
    feed(n, P(1, 4), C(1, 4));
    const es = [...feed(n, NEWLEADER(2)), ...n.flush()];
    expect(writes(es)).toEqual(['create updatingEpoch', 'snapshot <1,3>', 'appendLog <1,4>', 'currentEpoch := 2', 'delete updatingEpoch']);
    expect(acks(es)).toEqual(['<2,0>']);
    expect(n.state.db.lastProcessedZxid).toBe(z(1, 4));
    expect(buffered(n)).toEqual([]);
    expect(n.state.learner?.sync.packetsCommitted).toEqual([]);
  });
});

describe('ZOOKEEPER-4394 (follower_newleader_clears_pending, 3.8.5-3.8.6, 3.9.2): at NEWLEADER fzk.appendRequest for every buffered proposal', () => {
  it('the follower appends each buffered proposal, committed or not, to its log (one appendLog write each) and makes it pending; the buffer is emptied', () => {
    const n = awaitingSync({ follower_newleader_clears_pending: true });
    feed(n, DIFF(1, 2), P(1, 3), C(1, 3), P(1, 4));
    const es = feed(n, NEWLEADER(2));
    expect(writes(es)).toEqual(['create updatingEpoch', 'appendLog <1,3>', 'appendLog <1,4>']);
    expect(pending(n)).toEqual(['<1,3>', '<1,4>']);
    expect(buffered(n)).toEqual([]);
  });

  it('an observer keeps its buffer (only a FollowerZooKeeperServer appends at NEWLEADER): it logs and commits the two txns at UPTODATE', () => {
    // The leader sends an observer committed txns only, as PROPOSAL+COMMIT pairs (startForwarding
    // skips the outstanding proposals for observers).
    const o = observerAwaitingSync({ follower_newleader_clears_pending: true });
    feed(o, DIFF(1, 2), P(1, 3), C(1, 3), P(1, 4), C(1, 4));
    const es = [...feed(o, NEWLEADER(2)), ...o.flush()];
    expect(writes(es)).toEqual(['create updatingEpoch', 'currentEpoch := 2', 'delete updatingEpoch']);
    expect(buffered(o)).toEqual(['<1,3>', '<1,4>']);
    expect(pending(o)).toEqual([]);
    const up = [...feed(o, UPTODATE), ...o.flush()];
    expect(writes(up)).toEqual(['appendLog <1,3>', 'appendLog <1,4>']);
    expect(o.state.db.lastProcessedZxid).toBe(z(1, 4));
  });

  it('after a SNAP, a PROPOSAL delivered twice whose first copy the sync already applied is neither appended nor made pending again', () => {
    const n = snapSynced({ follower_newleader_clears_pending: true });
    feed(n, P(1, 3), P(1, 4));
    const es = feed(n, NEWLEADER(2));
    expect(writes(es)).toEqual(['create updatingEpoch', 'snapshot <1,3>', 'appendLog <1,4>']);
    expect(pending(n)).toEqual(['<1,4>']);
  });
  it('ZOOKEEPER-2845 with it: <2,1>, logged in the last role and not applied, comes back by DIFF; fzk.appendRequest makes it pending without a second append, and its COMMIT applies it at UPTODATE', () => {
    const n = loggedNotApplied({ follower_newleader_clears_pending: true });
    feed(n, DIFF(1, 2), P(2, 1), P(2, 2), C(2, 1), C(2, 2));
    const es = [...feed(n, NEWLEADER(3)), ...n.flush()];
    expect(writes(es)).toEqual(['create updatingEpoch', 'appendLog <2,2>', 'currentEpoch := 3', 'delete updatingEpoch']);
    expect(pending(n)).toEqual(['<2,1>', '<2,2>']);
    const up = [...feed(n, UPTODATE), ...n.flush()];
    expect(halts(up)).toEqual([]);
    expect(n.state.db.lastProcessedZxid).toBe(z(2, 2));
    expect(n.state.db.tree.get('/t_2_1_')).toBeDefined();
    expect(logged(n)).toEqual(['<1,1>', '<1,2>', '<2,1>', '<2,2>']);
  });
});

describe('ZOOKEEPER-4685 (follower_starts_processors_before_newleader_ack, 3.8.0-3.8.4, 3.9.0-3.9.1): at NEWLEADER fzk.logRequest for every buffered proposal', () => {
  it('an observer hands nothing to its log writer at NEWLEADER (Learner.syncWithLeader does so for a FollowerZooKeeperServer only): its buffer waits for UPTODATE', () => {
    const o = observerAwaitingSync({ follower_starts_processors_before_newleader_ack: true });
    feed(o, DIFF(1, 2), P(1, 3), C(1, 3), P(1, 4), C(1, 4));
    const es = [...feed(o, NEWLEADER(2)), ...o.flush()];
    expect(writes(es)).toEqual(['create updatingEpoch', 'currentEpoch := 2', 'delete updatingEpoch']);
    expect(buffered(o)).toEqual(['<1,3>', '<1,4>']);
    expect(pending(o)).toEqual([]);
  });

  it('after a SNAP, a PROPOSAL delivered twice whose first copy the sync already applied is not handed to the writer again: the writer logs and ACKs <1,4> alone', () => {
    const n = snapSynced({ follower_starts_processors_before_newleader_ack: true });
    feed(n, P(1, 3), P(1, 4));
    const es = [...feed(n, NEWLEADER(2)), ...n.flush()];
    expect(writes(es).filter((w) => w.startsWith('appendLog'))).toEqual(['appendLog <1,4>']);
    expect(acks(es).filter((a) => a !== '<2,0>')).toEqual(['<1,4>']);
    expect(pending(n)).toEqual(['<1,4>']);
  });
  it('ZOOKEEPER-2845 with it: <2,1>, logged in the last role and not applied, comes back by DIFF; fzk.logRequest makes it pending without handing it to the writer again, and UPTODATE commits it instead of halting on <2,2>', () => {
    const n = loggedNotApplied({ follower_starts_processors_before_newleader_ack: true });
    feed(n, DIFF(1, 2), P(2, 1), P(2, 2), C(2, 1), C(2, 2));
    const es = [...feed(n, NEWLEADER(3)), ...n.flush()];
    expect(writes(es).filter((w) => w.startsWith('appendLog'))).toEqual(['appendLog <2,2>']);
    expect(acks(es)).toEqual(['<3,0>', '<2,2>']);
    // <2,1> is not handed to the writer at all: no "log writer: skipped" note.
    expect(notes(es)).toEqual([]);
    expect(pending(n)).toEqual(['<2,1>', '<2,2>']);
    const up = [...feed(n, UPTODATE), ...n.flush()];
    expect(halts(up)).toEqual([]);
    expect(n.state.db.lastProcessedZxid).toBe(z(2, 2));
    expect(n.state.db.tree.get('/t_2_1_')).toBeDefined();
  });
  it('ZOOKEEPER-4712 (shutdown_leaves_log_writer_running) with it, as in 3.9.1: <2,1>, still queued by the writer of the last role, comes back by DIFF; fzk.logRequest hands it to this role\'s writer and UPTODATE commits it; the old writer\'s copy is then skipped', () => {
    const flaws = { follower_starts_processors_before_newleader_ack: true, shutdown_leaves_log_writer_running: true };
    const n = awaitingSync(flaws);
    feed(n, DIFF(1, 2), NEWLEADER(2));
    n.flush();
    feed(n, UPTODATE);
    n.flush();
    const oldRole = n.state.role;
    // One step alone: <2,1> is queued and its writer woken, but the writer does not run.
    n.state = step(n.cfg, n.state, { kind: 'message', from: 5, msg: P(2, 1) }).state;
    n.feed({ kind: 'disconnected', peer: 5 });
    n.flush();
    expect(n.state.db.lastProcessedZxid).toBe(z(1, 2));
    n.nFrom([4, 5, 3], note('LOOKING', 5, z(2, 1), n.state.fle.logicalclock, 2));
    n.timer(TIMER_FINALIZE);
    n.msg(5, { type: 'LEADERINFO', zxid: z(3, 0) });
    n.flush();
    feed(n, DIFF(1, 2), P(2, 1), C(2, 1), NEWLEADER(3));
    n.flush();
    expect(pending(n)).toEqual(['<2,1>']);
    expect(n.state.logWriter.queue.items.map((q) => [formatZxid(q.entry.zxid), q.role === oldRole])).toEqual([['<2,1>', true], ['<2,1>', false]]);
    const up = [...feed(n, UPTODATE), ...n.flush()];
    expect(halts(up)).toEqual([]);
    expect(n.state.db.lastProcessedZxid).toBe(z(2, 1));
    const run = [...n.feed({ kind: 'stage', stage: 'logWriter' }), ...n.flush()];
    expect(notes(run)).toEqual(['log writer: skipped <2,1>, the log already reaches <2,1>']);
    expect(writes(run)).toEqual(['appendLog <2,1>']);
    expect(acks(run)).toEqual(['<2,1>']);
    expect(logged(n)).toEqual(['<1,1>', '<1,2>', '<2,1>']);
  });
});

describe('§5.2 Learner.syncWithLeader at UPTODATE: log the remaining proposals, commit the held COMMITs', () => {
  it('after a SNAP, a PROPOSAL and COMMIT of <1,3> delivered again after NEWLEADER: the copy of an applied txn is not logged or made pending, and its COMMIT is passed over with it; <1,4> is logged', () => {
    const n = snapSynced({});
    feed(n, NEWLEADER(2));
    n.flush();
    feed(n, P(1, 3), C(1, 3), P(1, 4));
    const es = [...feed(n, UPTODATE), ...n.flush()];
    expect(halts(es)).toEqual([]);
    expect(writes(es)).toEqual(['appendLog <1,4>']);
    expect(acks(es)).toEqual(['<2,0>', '<1,4>']);
    expect(pending(n)).toEqual(['<1,4>']);
    expect(n.state.learner?.phase).toBe('broadcast');
  });

  it('after a SNAP, <1,3> delivered again after NEWLEADER is passed over with its own COMMIT only: the held COMMIT of <1,4> still commits <1,4>', () => {
    const n = snapSynced({});
    feed(n, NEWLEADER(2));
    n.flush();
    feed(n, P(1, 3), C(1, 3), P(1, 4), C(1, 4));
    const es = [...feed(n, UPTODATE), ...n.flush()];
    expect(halts(es)).toEqual([]);
    expect(writes(es)).toEqual(['appendLog <1,4>']);
    expect(pending(n)).toEqual([]);
    expect(n.state.db.lastProcessedZxid).toBe(z(1, 4));
  });

  it('a held COMMIT that does not name the oldest pending txn (COMMITs reordered) ends the process, as FollowerZooKeeperServer.commit does (UNMATCHED_TXN_COMMIT); the COMMITs after it are not taken', () => {
    const n = awaitingSync({});
    feed(n, DIFF(1, 2), NEWLEADER(2));
    n.flush();
    feed(n, P(1, 3), P(1, 4), C(1, 4), C(1, 3));
    // One step alone: the halted process runs no thread the step woke.
    const r = step(n.cfg, n.state, { kind: 'message', from: 5, msg: UPTODATE });
    expect(halts(r.effects)).toEqual(['Committing zxid <1,4> but next pending txn <1,3>']);
    expect(r.state.commitProcessor.queue.length).toBe(0);
  });

  it('ZOOKEEPER-2845: <2,1>, logged in the last role and not applied, comes back by DIFF with its COMMIT behind NEWLEADER (reordered): fzk.logRequest makes it pending, not logged again, and its COMMIT applies it before <3,1>', () => {
    const n = loggedNotApplied({});
    feed(n, DIFF(1, 2), P(2, 1), NEWLEADER(3));
    n.flush();
    feed(n, C(2, 1), P(3, 1), C(3, 1));
    const es = [...feed(n, UPTODATE), ...n.flush()];
    expect(halts(es)).toEqual([]);
    expect(writes(es)).toEqual(['appendLog <3,1>']);
    // ZooKeeper's SyncRequestProcessor would append <2,1> a second time and ACK it; the leader has
    // committed it and ignores that ACK. zabsim neither writes nor ACKs it again.
    expect(acks(es)).toEqual(['<3,0>', '<3,1>']);
    expect(notes(es)).toEqual([]);
    expect(n.state.db.lastProcessedZxid).toBe(z(3, 1));
    expect(n.state.db.tree.get('/t_2_1_')).toBeDefined();
    expect(logged(n)).toEqual(['<1,1>', '<1,2>', '<2,1>', '<3,1>']);
    expect(pending(n)).toEqual([]);
  });

  it('a PROPOSAL delivered twice after NEWLEADER: both copies join pendingTxns (fzk.logRequest), one is logged; the COMMIT applies the first, and the next COMMIT meets the copy and ends the process, as FollowerZooKeeperServer.commit does', () => {
    const n = awaitingSync({});
    feed(n, DIFF(1, 2), NEWLEADER(2));
    n.flush();
    feed(n, P(1, 3), P(1, 3), C(1, 3));
    const es = [...feed(n, UPTODATE), ...n.flush()];
    expect(halts(es)).toEqual([]);
    expect(writes(es)).toEqual(['appendLog <1,3>']);
    expect(acks(es)).toEqual(['<2,0>', '<1,3>']);
    expect(notes(es)).toEqual([]);
    expect(n.state.db.lastProcessedZxid).toBe(z(1, 3));
    expect(pending(n)).toEqual(['<1,3>']);
    feed(n, P(1, 4));
    n.flush();
    const r = step(n.cfg, n.state, { kind: 'message', from: 5, msg: C(1, 4) });
    expect(halts(r.effects)).toEqual(['Committing zxid <1,4> but next pending txn <1,3>']);
  });
});
