/**
 * The CommitProcessor stage's own checks (src/protocol/commitproc.ts), found as surviving mutants
 * of `npx stryker run --mutate src/protocol/commitproc.ts` (docs/checkers.md, "Mutation
 * testing"): no run reaches them, because the protocol never hands the stage what they refuse, so
 * the tests hand it that directly. s3 leads epoch 2 of three voters whose logs hold <1,1>; fixed
 * delays (test/protocol/harness.ts).
 */
import { ownLeader, writeStep } from '../../src/protocol/cow.ts';
import { describe, expect, it } from 'vitest';
import { makeClusterConfig } from '../../src/protocol/config.ts';
import { enqueueCommit, fenceCommitProcessor, IDLE_COMMIT_PROCESSOR, runCommitProcessor } from '../../src/protocol/commitproc.ts';
import { Fifo } from '../../src/protocol/fifo.ts';
import type { CommitItem, Effect, LogEntry, Proposal, ServerState } from '../../src/protocol/types.ts';
import { formatZxid } from '../../src/protocol/zxid.ts';
import { z } from './driver.ts';
import { established, log } from './harness.ts';

const E1 = { acceptedEpoch: 1, currentEpoch: 1 };

function ensemble() {
  return established({ voters: 3, images: { 1: { ...E1, log: log([1, 1]) }, 2: { ...E1, log: log([1, 1]) }, 3: { ...E1, log: log([1, 1]) } } }, 3);
}

const write = (zx: number): LogEntry => ({ zxid: zx, txn: { type: 'setData', path: '/', data: `v${zx}`, version: -1 } });

/** Runs the CommitProcessor's step on `s` with `queue` (and, for the leader, `toBeApplied`) in place. */
function run(s: ServerState, queue: readonly CommitItem[], toBeApplied?: readonly LogEntry[]): { state: ServerState; effects: Effect[] } {
  const effects: Effect[] = [];
  const ctx = { cfg: makeClusterConfig(3, 0), sid: s.sid, effects, probe: null, owned: [] };
  const state = writeStep(ctx, s, (d) => {
    d.commitProcessor = { queue: queue.reduce((f, item) => f.push(item), Fifo.empty<CommitItem>()), woken: true };
    if (toBeApplied !== undefined && d.leader !== null) {
      ownLeader(ctx, d).toBeApplied = toBeApplied.reduce((f, e) => f.push({ zxid: e.zxid, txn: e.txn, acks: [] }), Fifo.empty<Proposal>());
    }
    runCommitProcessor(d, ctx);
  });
  return { state, effects };
}

describe('§6 the leader\'s ToBeAppliedRequestProcessor (Leader.ToBeAppliedRequestProcessor.processRequest)', () => {
  it('the txn the FinalRequestProcessor applied leaves the head of toBeApplied, and only that one', () => {
    const leader = ensemble().sim.server(3).state;
    expect(leader.leader).not.toBeNull();
    const a = write(z(2, 1));
    const b = write(z(2, 2));
    const { state } = run(leader, [{ entry: a, origin: null, role: leader.role }], [a, b]);
    expect(state.db.lastProcessedZxid).toBe(z(2, 1));
    expect(state.leader?.toBeApplied.items.map((p) => p.zxid)).toEqual([z(2, 2)]);
  });

  // ZooKeeper logs "Committed request not found on toBeApplied" when the applied txn is not the
  // list's head; zabsim's leader commits in zxid order into toBeApplied and its CommitProcessor
  // alike, so a mismatch is a bug of zabsim's own and stops the run, naming both zxids.
  it('a txn applied with toBeApplied empty is an internal error that says so', () => {
    const leader = ensemble().sim.server(3).state;
    expect(() => run(leader, [{ entry: write(z(2, 1)), origin: null, role: leader.role }], [])).toThrow(/^s3: leader applies <2,1> but toBeApplied starts at nothing$/);
  });

  it('a txn applied while toBeApplied starts at another zxid is an internal error naming both', () => {
    const leader = ensemble().sim.server(3).state;
    expect(() => run(leader, [{ entry: write(z(2, 2)), origin: null, role: leader.role }], [write(z(2, 1)), write(z(2, 2))])).toThrow(/^s3: leader applies <2,2> but toBeApplied starts at <2,1>$/);
  });
});

describe('§6 FinalRequestProcessor applies each committed txn once', () => {
  // No path of the protocol queues a commit at or below lastProcessedZxid. A bug that does (the
  // commit-order class of test/mutation/classes.ts: COMMITs newest first) finds the txn passed
  // over with a note, so that the learners' TotalOrder judges it rather than the leader's step
  // failing; ZooKeeper's DataTree.processTxn would apply it again.
  it('a txn at or below lastProcessedZxid handed to the stage is passed over with a note: tree and lastProcessedZxid stay', () => {
    const follower = ensemble().sim.server(1).state;
    expect(follower.db.lastProcessedZxid).toBe(z(1, 1));
    for (const zx of [z(1, 1), z(1, 0)]) {
      const { state, effects } = run(follower, [{ entry: write(zx), origin: null, role: follower.role }]);
      expect(state.db).toBe(follower.db);
      expect(effects).toEqual([{ kind: 'note', text: `commit processor: ${formatZxid(zx)} already applied` }]);
    }
    // The next zxid is applied.
    expect(run(follower, [{ entry: write(z(2, 1)), origin: null, role: follower.role }]).state.db.lastProcessedZxid).toBe(z(2, 1));
  });
});

describe('§6 a role\'s CommitProcessor holds only that role\'s requests (CommitProcessor.halt at the role\'s end)', () => {
  // QuorumPeer.run builds a new ZooKeeperServer, and with it a new CommitProcessor, for each role;
  // the old one was halted (queuedRequests cleared, the thread stopped). zabsim keeps one queue per
  // server and empties it when a role ends (fenceCommitProcessor), so an item of another role
  // reaching the stage is a bug of zabsim's own: it stops the run instead of applying the txn.
  it('an item queued in an earlier role is refused (the step fails), naming both roles', () => {
    const follower = ensemble().sim.server(1).state;
    expect(follower.state).toBe('FOLLOWING');
    const stale: CommitItem = { entry: write(z(2, 1)), origin: null, role: follower.role - 1 };
    expect(() => run(follower, [stale])).toThrow(new RegExp(`^s1: commit processor holds an item of role ${follower.role - 1} in role ${follower.role}$`));
    // The same item in the current role is applied: the refusal is about the role alone.
    const { state } = run(follower, [{ ...stale, role: follower.role }]);
    expect(state.db.lastProcessedZxid).toBe(z(2, 1));
  });

  it('a sync reply queued in an earlier role is refused too, not answered', () => {
    const follower = ensemble().sim.server(1).state;
    const stale: CommitItem = { entry: null, origin: { server: 1, client: 7, cxid: 3 }, role: follower.role + 1 };
    expect(() => run(follower, [stale])).toThrow(/commit processor holds an item of role/);
    const { effects } = run(follower, [{ ...stale, role: follower.role }]);
    expect(effects.filter((e) => e.kind === 'reply')).toEqual([{ kind: 'reply', reply: { client: 7, cxid: 3, ok: true, zxid: follower.db.lastProcessedZxid } }]);
  });
});

describe('§6 the CommitProcessor thread: woken once per batch (CommitProcessor.run\'s wait and notify)', () => {
  it('a role that ends with commits queued drops them but stays woken until its pending step runs; that step idles it, so the next commit wakes it again', () => {
    const follower = ensemble().sim.server(1).state;
    const effects: Effect[] = [];
    const ctx = { cfg: makeClusterConfig(3, 0), sid: 1, effects, probe: null, owned: [] };
    const state = writeStep(ctx, follower, (d) => {
      enqueueCommit(d, ctx, write(z(2, 1)));
      expect(effects.filter((e) => e.kind === 'wake')).toHaveLength(1);
      enqueueCommit(d, ctx, write(z(2, 2)));
      expect(effects.filter((e) => e.kind === 'wake')).toHaveLength(1); // already woken
      fenceCommitProcessor(d, ctx);
      expect(d.commitProcessor.queue.length).toBe(0);
      expect(d.commitProcessor.woken).toBe(true); // its step is still on its way
      runCommitProcessor(d, ctx); // that step: nothing to apply
      expect(d.commitProcessor).toBe(IDLE_COMMIT_PROCESSOR);
      enqueueCommit(d, ctx, write(z(2, 1)));
    });
    expect(effects.filter((e) => e.kind === 'wake')).toHaveLength(2);
    expect(state.commitProcessor.queue.length).toBe(1);
  });
});
