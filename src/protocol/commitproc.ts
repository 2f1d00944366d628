/**
 * The learner's commit path: ZooKeeper's CommitProcessor thread and the FinalRequestProcessor
 * after it (zab-protocol.md §6; issue 11 §1). Commit is not apply.
 *
 * The protocol thread matches a COMMIT with the oldest pending txn
 * (`FollowerZooKeeperServer.commit`) and hands the request to `CommitProcessor.commit`: a queue.
 * The CommitProcessor runs as a step of its own, scheduled by the kernel after a drawn delay
 * (`--commit-delay`; none by default), and passes each request, in order, to the
 * FinalRequestProcessor, which applies the txn to the database (`zks.processTxn`: the DataTree
 * and committedLog) and answers the client connected here. A follower's `sync` is answered
 * through the same queue (`FollowerZooKeeperServer.sync` → `commitProcessor.commit`), after
 * every txn committed before it. The leader's CommitProcessor is the same thread
 * (`LeaderZooKeeperServer`: CommitProcessor → ToBeAppliedRequestProcessor → FinalRequestProcessor):
 * `Leader.tryToCommit` hands it each committed proposal, and a `sync` of the leader's own client
 * goes behind them. An observer's INFORMs and its held commits at UPTODATE go the same way
 * (`ObserverZooKeeperServer.commitRequest`: the log writer, then `commitProcessor.commit`).
 *
 * The queue is volatile: a crash loses it. When a role ends, `CommitProcessor.halt` stops the
 * thread with its queue unprocessed ({@link fenceCommitProcessor}); the database is then
 * fast-forwarded from the txn log, which applies every logged txn, committed or not.
 */
import { note, type StepContext } from './context.ts';
import { applyCommitted } from './db.ts';
import { Fifo } from './fifo.ts';
import { reply, replyForApplied } from './serving.ts';
import type { TxnOrigin } from './datatree.ts';
import { sessionTxnCommitted } from './heartbeat.ts';
import { ownLeader } from './cow.ts';
import type { CommitItem, CommitProcessorState, LogEntry, ServerState } from './types.ts';
import { formatZxid } from './zxid.ts';

type S = ServerState;

/** A CommitProcessor with nothing queued. */
export const IDLE_COMMIT_PROCESSOR: CommitProcessorState = { queue: Fifo.empty<CommitItem>(), woken: false };

function enqueue(s: S, ctx: StepContext, item: CommitItem): void {
  const c = s.commitProcessor;
  s.commitProcessor = { queue: c.queue.push(item), woken: true };
  if (!c.woken) ctx.effects.push({ kind: 'wake', stage: 'commitProcessor' });
}

/** CommitProcessor.commit: a committed txn, to be applied by the FinalRequestProcessor. */
export function enqueueCommit(s: S, ctx: StepContext, entry: LogEntry): void {
  enqueue(s, ctx, { entry, origin: null, role: s.role });
}

/** A `sync` the leader answered: the reply leaves after every txn committed before it. */
export function enqueueSyncReply(s: S, ctx: StepContext, origin: TxnOrigin): void {
  enqueue(s, ctx, { entry: null, origin, role: s.role });
}

/** The CommitProcessor's step: everything queued goes through the FinalRequestProcessor, in order. */
export function runCommitProcessor(s: S, ctx: StepContext): void {
  const c = s.commitProcessor;
  const queue = c.queue;
  if (c.woken || queue.length > 0) s.commitProcessor = IDLE_COMMIT_PROCESSOR;
  for (let i = 0; i < queue.length; i++) {
    const item = queue.at(i) as CommitItem;
    // A role that ended halted the processor; what it held was dropped then (fenceCommitProcessor).
    if (item.role !== s.role) throw new Error(`s${s.sid}: commit processor holds an item of role ${item.role} in role ${s.role}`);
    if (item.entry === null) {
      const o = item.origin as TxnOrigin;
      reply(ctx, { client: o.client, cxid: o.cxid, ok: true, zxid: s.db.lastProcessedZxid });
      continue;
    }
    const e = item.entry;
    if (s.leader !== null) appliedOnLeader(s, ctx, e);
    // No path of the protocol queues a commit at or below lastProcessedZxid; a bug that does (the
    // commit-order bug class of test/mutation/classes.ts) is passed over here, so the properties
    // judge it at the learners (TotalOrder) instead of the leader's step failing. ZooKeeper's
    // DataTree.processTxn would apply it again; zabsim's txns are not idempotent.
    if (e.zxid <= s.db.lastProcessedZxid) {
      note(ctx, `commit processor: ${formatZxid(e.zxid)} already applied`);
      continue;
    }
    const { db, result } = applyCommitted(s.db, e);
    s.db = db;
    replyForApplied(s, ctx, e, result);
  }
}

/**
 * The leader's ToBeAppliedRequestProcessor around FinalRequestProcessor: the session tracker
 * learns the txn (`processTxnForSessionEvents`), and the proposal leaves the head of toBeApplied.
 */
function appliedOnLeader(s: S, ctx: StepContext, e: LogEntry): void {
  const l = ownLeader(ctx, s);
  const head = l.toBeApplied.first();
  // The leader commits in zxid order and its CommitProcessor applies in queue order; a role
  // change empties both (the leader state goes, the queue is halted).
  if (head === undefined || head.zxid !== e.zxid) throw new Error(`s${s.sid}: leader applies ${formatZxid(e.zxid)} but toBeApplied starts at ${head === undefined ? 'nothing' : formatZxid(head.zxid)}`);
  l.toBeApplied = l.toBeApplied.rest();
  sessionTxnCommitted(s, ctx, e.txn);
}

/**
 * The role ends: CommitProcessor.halt drops what is queued (its thread stops); the fast-forward
 * from the log that follows applies the logged txns among them.
 */
export function fenceCommitProcessor(s: S, ctx: StepContext): void {
  const n = s.commitProcessor.queue.length;
  if (n === 0) return;
  note(ctx, `commit processor halted: ${n} queued requests dropped`);
  s.commitProcessor = { queue: Fifo.empty(), woken: s.commitProcessor.woken };
}
