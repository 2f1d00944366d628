/**
 * The rules the bug flaws B1, B2, B6 and B16 of zab-bugs.md change, each shown with the flaw off
 * (ZooKeeper 3.4.4 and later / 3.9) and on (the release the catalogue names): the epoch choice
 * (§4.3), the DIFF decision (§5.1 rule 3), the vote's zxid after a role ends (§3.1, §1.1) and the
 * counter guard of Leader.propose (§6). Scenarios under scenarios/bugs/ replay each bug whole.
 */
import { describe, expect, it } from 'vitest';
import type { Flaws } from '../../src/protocol/config.ts';
import { applyCommitted, loadDatabase, logTxn } from '../../src/protocol/db.ts';
import { syncFollower, type SyncOp } from '../../src/protocol/syncplan.ts';
import type { TraceEvent } from '../../src/sim/events.ts';
import { formatZxid, zxid } from '../../src/protocol/zxid.ts';
import { boot, entry, established, first, log, notes, one, sends, when, write } from './harness.ts';

function show(ops: readonly SyncOp[]): string[] {
  return ops.map((op) => (op.type === 'PROPOSAL' ? `P ${formatZxid(op.entry.zxid)}` : op.type === 'COMMIT' ? `C ${formatZxid(op.zxid)}` : `${op.type} ${formatZxid(op.zxid)}`));
}

describe('B1 ZOOKEEPER-335 (epoch_from_last_logged_zxid): §4.3 the epoch a leader proposes', () => {
  // Every server holds <1,1> with acceptedEpoch = currentEpoch = 3 (epochs 2 and 3 ran without a txn).
  const images = { 1: { acceptedEpoch: 3, currentEpoch: 3, log: log([1, 1]) }, 2: { acceptedEpoch: 3, currentEpoch: 3, log: log([1, 1]) }, 3: { acceptedEpoch: 3, currentEpoch: 3, log: log([1, 1]) } };
  function run(flaws: Partial<Flaws>): TraceEvent[] {
    const { sim, trace } = boot({ voters: 3, flaws, images });
    sim.runUntil(1000);
    return trace;
  }

  it('off: 1 + the greatest acceptedEpoch of the quorum (Zab 1.0): 4', () => {
    const trace = run({});
    expect(one(notes(trace, 3, /^epoch \d+ decided/), 'decision').text).toBe('epoch 4 decided with [3,1]; writing acceptedEpoch');
    expect(first(sends(trace, 'ACKEPOCH', 2, 3), 'ACKEPOCH').msg.currentEpoch).toBe(3);
  });

  it('on: 1 + the epoch of the leader\'s last logged zxid, whatever was accepted: 2, an epoch that already ran', () => {
    const trace = run({ epoch_from_last_logged_zxid: true });
    expect(one(notes(trace, 3, /^epoch \d+ decided/), 'decision').text).toBe('epoch 2 decided with [3,1]; writing acceptedEpoch');
    expect(first(sends(trace, 'LEADERINFO', 3, 2), 'LEADERINFO').msg.zxid).toBe(zxid(2, 0));
    // The learner compares with its last logged zxid only (epoch 1) and answers with its currentEpoch.
    expect(first(sends(trace, 'ACKEPOCH', 2, 3), 'ACKEPOCH').msg).toEqual({ type: 'ACKEPOCH', zxid: zxid(1, 1), currentEpoch: 3 });
    expect(one(notes(trace, 3, /^established/), 'established').text).toMatch(/^established epoch 2 /);
  });
});

describe('B2 ZOOKEEPER-1154 (sync_diff_without_divergence_check): §5.1 rule 3 for a peer inside the window but off the history', () => {
  // The leader committed <7,1>..<7,3>, then <8,1>; the peer holds <7,4>, which this history lacks.
  let db = loadDatabase({ log: log([7, 1], [7, 2], [7, 3]), snapshots: [], acceptedEpoch: 8, currentEpoch: 8, acceptedEpochTmp: null, currentEpochTmp: null, updatingEpoch: false });
  const e81 = entry(8, 1);
  db = applyCommitted(logTxn(db, e81), e81).db;
  const P = { commitLogCount: 500, snapshotSizeFactor: 0.33 };

  it('off: the walk finds the fork (the next txn is of epoch 8) and sends SNAP', () => {
    const plan = syncFollower(db, zxid(7, 4), P);
    expect(plan.needSnap).toBe(true);
    expect(plan.reason).toBe('rule 3: peer <7,4> forked from my history across an epoch boundary: SNAP');
    // `if (needSnap) currentZxid = db.getDataTreeLastProcessedZxid()`: forwarding starts above the leader's state, not the peer's.
    expect(plan.currentZxid).toBe(zxid(8, 1));
  });

  it('on: DIFF(maxCommittedLog) with every txn above the peer, and <7,4> stays on the peer', () => {
    const plan = syncFollower(db, zxid(7, 4), { ...P, diffWithoutDivergenceCheck: true });
    expect(plan.needSnap).toBe(false);
    expect(show(plan.ops)).toEqual(['DIFF <8,1>', 'P <8,1>', 'C <8,1>']);
    expect(plan.currentZxid).toBe(zxid(8, 1));
  });

  it('on, a peer in the history: the same DIFF as the correct walk', () => {
    expect(show(syncFollower(db, zxid(7, 2), { ...P, diffWithoutDivergenceCheck: true }).ops)).toEqual(show(syncFollower(db, zxid(7, 2), P).ops));
  });
});

describe('B6 ZOOKEEPER-2845 (election_advertises_in_memory_zxid): §3.1 the zxid a server votes with after its role ends', () => {
  /** s3 leads; it logs <1,1> for a write, and the PROPOSAL never arrives (both links cut at once). */
  function isolatedLeaderVote(flaws: Partial<Flaws>): number {
    const { sim, trace } = established({ voters: 3, flaws }, 3);
    write(sim, 3, '/x');
    sim.partition([[3, 1], [3, 2], [1, 3], [2, 3]], 's3 alone');
    let lookingAt = -1;
    when(sim, () => sim.server(3).state.state === 'LOOKING', () => (lookingAt = trace.length));
    sim.runUntil(30_000);
    expect(sim.server(3).state.db.log.lastZxid(-1)).toBe(zxid(1, 1));
    const vote = first(sends(trace.slice(lookingAt), 'NOTIFICATION', 3), 's3 vote after LOOKING');
    return vote.msg.zxid;
  }

  it('off: the database is fast-forwarded from the log, so s3 votes with <1,1>', () => {
    expect(formatZxid(isolatedLeaderVote({}))).toBe('<1,1>');
  });

  it('on: s3 keeps its in-memory database and votes with <1,0> (Leader.startZkServer\'s lastProcessedZxid), hiding <1,1>', () => {
    expect(formatZxid(isolatedLeaderVote({ election_advertises_in_memory_zxid: true }))).toBe('<1,0>');
  });
});

describe('B16 ZOOKEEPER-1277 (zxid_counter_overflow_carries_into_epoch): §6 Leader.propose at the last counter value', () => {
  /** zxidCounterLimit 3 stands for 0xffffffff; four writes at the established leader s3. */
  function proposals(flaws: Partial<Flaws>): { zxids: string[]; trace: TraceEvent[] } {
    const { sim, trace } = established({ voters: 3, flaws, params: { zxidCounterLimit: 3 } }, 3);
    for (let i = 0; i < 4; i++) sim.at(1000 + 50 * i, () => write(sim, 3, `/w${i}`));
    sim.runUntil(1300);
    return { zxids: sends(trace, 'PROPOSAL', 3, 1).map((e) => formatZxid(e.msg.zxid)), trace };
  }

  it('off: counter 3 (all ones) is refused; the leader forces a new epoch', () => {
    const { zxids, trace } = proposals({});
    expect(zxids).toEqual(['<1,1>', '<1,2>']);
    expect(one(notes(trace, 3, /rolled over/), 'rollover').text).toBe('going LOOKING: zxid lower 32 bits have rolled over (counter 3), forcing re-election, and therefore new epoch start');
  });

  it('on: the counter takes 3, then carries into the epoch: <2,0> from the leader of epoch 1', () => {
    const { zxids, trace } = proposals({ zxid_counter_overflow_carries_into_epoch: true });
    expect(zxids).toEqual(['<1,1>', '<1,2>', '<1,3>', '<2,0>']);
    expect(notes(trace, 3, /rolled over/)).toEqual([]);
  });
});
