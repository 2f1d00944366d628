/**
 * The learner's sync-phase commit path, as ZooKeeper 3.9.4 has it and as the two releases with a
 * bug on it had it, at step level. s3 (log <1,1>, <1,2>, epoch 1) follows s5 of a 5-voter
 * ensemble into epoch 2 and is synced.
 *
 * zab-bugs.md B13 (ZOOKEEPER-4394, §5.2): a COMMIT between NEWLEADER and UPTODATE is held with
 * the proposal it commits; up to 3.9.2 NEWLEADER emptied the buffer and the COMMIT threw.
 * zab-bugs.md B15 (ZOOKEEPER-4925, §1.2 committedLog): every txn the sync applies joins the
 * committedLog a later DIFF is built from; 3.9.3 left them out.
 *
 * §6 commit is not apply: a follower's COMMIT hands the txn to its CommitProcessor, a stage of
 * its own (src/protocol/commitproc.ts), which applies it and answers the client; a `sync` reply
 * goes the same way, behind it; a role change drops what it holds.
 */
import { describe, expect, it } from 'vitest';
import { makeClusterConfig, type Flaws } from '../../src/protocol/config.ts';
import { syncFollower } from '../../src/protocol/syncplan.ts';
import { step } from '../../src/protocol/peer.ts';
import type { Effect, ServerState } from '../../src/protocol/types.ts';
import { awaitingSync, Node, txnFor, z } from './driver.ts';
import { established, replies, request } from './harness.ts';

/** DIFF <1,3>: <1,3> committed; then the outstanding <1,4> forwarded, and NEWLEADER, all durable. */
function afterNewLeader(flaws: Partial<Flaws>): Node {
  const n = awaitingSync(flaws);
  n.msg(5, { type: 'DIFF', zxid: z(1, 3) });
  n.msg(5, { type: 'PROPOSAL', zxid: z(1, 3), txn: txnFor(z(1, 3)) });
  n.msg(5, { type: 'COMMIT', zxid: z(1, 3) });
  n.msg(5, { type: 'PROPOSAL', zxid: z(1, 4), txn: txnFor(z(1, 4)) });
  const effects = [...n.msg(5, { type: 'NEWLEADER', zxid: z(2, 0) }), ...n.flush()];
  expect(effects.flatMap((e) => (e.kind === 'send' ? [`${e.msg.type} ${'zxid' in e.msg ? e.msg.zxid : ''}`] : []))).toEqual([`ACK ${z(2, 0)}`]);
  return n;
}

describe('§5.2 a COMMIT between NEWLEADER and UPTODATE (ZOOKEEPER-4394)', () => {
  it('default (3.9.3+): NEWLEADER logs and applies only the committed <1,3>; <1,4> stays buffered, its COMMIT is held and applied after UPTODATE', () => {
    const n = afterNewLeader({});
    expect(n.state.db.lastProcessedZxid).toBe(z(1, 3));
    expect(n.state.learner?.sync.packetsNotLogged.items.map((e) => e.zxid)).toEqual([z(1, 4)]);
    n.msg(5, { type: 'COMMIT', zxid: z(1, 4) });
    expect(n.state.state).toBe('FOLLOWING');
    expect(n.state.learner?.sync.packetsCommitted).toEqual([z(1, 4)]);
    n.msg(5, { type: 'UPTODATE' });
    n.flush();
    expect(n.state.learner?.phase).toBe('broadcast');
    expect(n.state.db.lastProcessedZxid).toBe(z(1, 4));
  });

  it('follower_newleader_clears_pending (up to 3.9.2): NEWLEADER logs both and empties the buffer; the COMMIT throws and s3 leaves s5', () => {
    const n = afterNewLeader({ follower_newleader_clears_pending: true });
    expect(n.state.db.log.lastZxid(0)).toBe(z(1, 4));
    expect(n.state.learner?.sync.packetsNotLogged.length).toBe(0);
    expect(n.state.learner?.pendingTxns.items.map((e) => e.zxid)).toEqual([z(1, 3), z(1, 4)]);
    n.msg(5, { type: 'COMMIT', zxid: z(1, 4) });
    expect(n.state.state).toBe('LOOKING');
    expect(n.notes()).toContain('going LOOKING: NullPointerException: COMMIT <1,4> after NEWLEADER, and no proposal is buffered (Learner.syncWithLeader)');
  });

  it('follower_newleader_clears_pending, no COMMIT before UPTODATE: the held <1,3> and the later one commit through pendingTxns', () => {
    const n = afterNewLeader({ follower_newleader_clears_pending: true });
    n.msg(5, { type: 'PROPOSAL', zxid: z(1, 5), txn: txnFor(z(1, 5)) });
    n.msg(5, { type: 'COMMIT', zxid: z(1, 4) }); // the buffer holds <1,5>: no exception
    n.msg(5, { type: 'UPTODATE' });
    n.flush();
    expect(n.state.state).toBe('FOLLOWING');
    expect(n.state.learner?.phase).toBe('broadcast');
    expect(n.state.db.lastProcessedZxid).toBe(z(1, 4));
    expect(n.state.learner?.pendingTxns.items.map((e) => e.zxid)).toEqual([z(1, 5)]);
  });
});

describe('§1.2 the committedLog after a DIFF sync (ZOOKEEPER-4925)', () => {
  function committedAfterSync(flaws: Partial<Flaws>): number[] {
    const n = afterNewLeader(flaws);
    n.msg(5, { type: 'UPTODATE' });
    n.flush();
    n.msg(5, { type: 'COMMIT', zxid: z(1, 4) });
    const c = n.state.db.committed;
    return Array.from({ length: c.length }, (_, i) => c.at(i).zxid);
  }

  it('default (3.9.4+): <1,3>, applied at NEWLEADER, is in committedLog between <1,2> and <1,4>; a DIFF from <1,2> sends both', () => {
    expect(committedAfterSync({})).toEqual([z(1, 1), z(1, 2), z(1, 3), z(1, 4)]);
  });

  it('learner_sync_skips_committedlog_append (3.9.3): committedLog has a hole at <1,3>, and the DIFF built from it skips <1,3>', () => {
    expect(committedAfterSync({ learner_sync_skips_committedlog_append: true })).toEqual([z(1, 1), z(1, 2), z(1, 4)]);
    const n = afterNewLeader({ learner_sync_skips_committedlog_append: true });
    n.msg(5, { type: 'UPTODATE' });
    n.flush();
    n.msg(5, { type: 'COMMIT', zxid: z(1, 4) });
    const plan = syncFollower(n.state.db, z(1, 2), { commitLogCount: 500, snapshotSizeFactor: 0.33 });
    expect(plan.ops.filter((op) => op.type === 'PROPOSAL').map((op) => (op.type === 'PROPOSAL' ? op.entry.zxid : 0))).toEqual([z(1, 4)]);
  });
});

describe('§6 the follower\'s CommitProcessor: commit is not apply', () => {
  /** s3 in broadcast under s5 (synced as above), <1,5> proposed, logged and ACKed. */
  function inBroadcast(): Node {
    const n = afterNewLeader({});
    n.msg(5, { type: 'UPTODATE' });
    n.flush();
    n.msg(5, { type: 'COMMIT', zxid: z(1, 4) });
    n.msg(5, { type: 'PROPOSAL', zxid: z(1, 5), txn: { ...txnFor(z(1, 5)), origin: { server: 3, client: 7, cxid: 1 } } });
    n.flush();
    expect(n.state.db.log.lastZxid(0)).toBe(z(1, 5));
    return n;
  }
  const stage = (st: ServerState): { state: ServerState; effects: readonly Effect[] } => step(cfgOf, st, { kind: 'stage', stage: 'commitProcessor' });
  const cfgOf = makeClusterConfig(5, 0, {}, {});

  it('COMMIT matches pendingTxns and queues the txn; the CommitProcessor step applies it and answers the client', () => {
    const n = inBroadcast();
    const c = step(n.cfg, n.state, { kind: 'message', from: 5, msg: { type: 'COMMIT', zxid: z(1, 5) } });
    expect(c.effects.filter((e) => e.kind !== 'setTimer')).toEqual([{ kind: 'wake', stage: 'commitProcessor' }]); // the read timeout is re-armed too
    expect(c.state.db.lastProcessedZxid).toBe(z(1, 4));
    expect(c.state.learner?.pendingTxns.length).toBe(0);
    const a = stage(c.state);
    expect(a.state.db.lastProcessedZxid).toBe(z(1, 5));
    expect(a.effects).toEqual([{ kind: 'reply', reply: { client: 7, cxid: 1, ok: true, zxid: z(1, 5), path: '/t_1_5_' } }]);
  });

  it('a sync answered by the leader is replied to behind the txns committed before it', () => {
    const n = inBroadcast();
    const c = step(n.cfg, n.state, { kind: 'message', from: 5, msg: { type: 'COMMIT', zxid: z(1, 5) } });
    const y = step(n.cfg, c.state, { kind: 'message', from: 5, msg: { type: 'SYNC', origin: { server: 3, client: 8, cxid: 4 } } });
    expect(y.effects.filter((e) => e.kind !== 'setTimer')).toEqual([]);
    const a = stage(y.state);
    expect(a.effects.map((e) => (e.kind === 'reply' ? `${e.reply.client} ${e.reply.zxid}` : e.kind))).toEqual([`7 ${z(1, 5)}`, `8 ${z(1, 5)}`]);
  });

  it('a role change halts it: what it held is dropped, and the fast-forward from the log applies the logged <1,5>', () => {
    const n = inBroadcast();
    const c = step(n.cfg, n.state, { kind: 'message', from: 5, msg: { type: 'COMMIT', zxid: z(1, 5) } });
    const d = step(n.cfg, c.state, { kind: 'disconnected', peer: 5 });
    expect(d.state.state).toBe('LOOKING');
    expect(d.effects).toContainEqual({ kind: 'note', text: 'commit processor halted: 1 queued requests dropped' });
    expect(d.state.commitProcessor.queue.length).toBe(0);
    expect(d.state.db.lastProcessedZxid).toBe(z(1, 5));
    expect(d.effects.some((e) => e.kind === 'reply')).toBe(false);
  });
});

describe('§6 the CommitProcessor as a thread the kernel schedules (--commit-delay)', () => {
  it('with a 30 ms delay a follower applies a committed write 30 ms after its COMMIT, and answers its client then', () => {
    const { sim, trace } = established({ voters: 3, commitDelay: { kind: 'constant', ms: 30 } }, 3);
    const cx = request(sim, 1, 'create', '/w', 'x');
    let commitAt = -1;
    let appliedAt = -1;
    for (let t = sim.now; t < sim.now + 200 && appliedAt < 0; t++) {
      sim.runUntil(t);
      const s1 = sim.server(1).state;
      if (commitAt < 0 && s1.learner !== null && s1.commitProcessor.queue.length > 0) commitAt = t;
      if (s1.db.tree.nodes['/w'] !== undefined) appliedAt = t;
    }
    expect(commitAt).toBeGreaterThan(0);
    expect(appliedAt - commitAt).toBe(30);
    expect(replies(trace, 1, cx).map((r) => r.ok)).toEqual([true]);
  });
});
