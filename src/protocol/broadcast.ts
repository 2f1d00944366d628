/**
 * Broadcast (zab-protocol.md §6).
 *
 * Leader, as ZooKeeper's request processors (docs/protocol.md, "Threads and queues"): the
 * ProposalRequestProcessor assigns the zxid (propose: zxid = (epoch, counter + 1); at the counter
 * limit the leader gives up and a new election starts), sends PROPOSAL to every forwarding
 * follower and hands the txn to the leader's own SyncRequestProcessor (logwriter.ts), whose
 * AckRequestProcessor counts the leader's ACK after the group flush; processAck; tryToCommit
 * commits the longest prefix of outstanding proposals with a quorum of voter ACKs: COMMIT to
 * followers, INFORM to observers, the proposal onto toBeApplied and the txn to the leader's
 * CommitProcessor (commitproc.ts), which applies it later; pending `sync`s are answered.
 *
 * Follower: PROPOSAL → log, ACK after the fsync; COMMIT must name the oldest pending txn (else
 * the process exits). Observer: INFORM → log and apply, no ACK.
 */
import { isQuorum, isVoter, serverCount, type Sid } from './config.ts';
import { note, send, type StepContext } from './context.ts';
import { ownLeader, ownLearner } from './cow.ts';
import { sendToLearner } from './learnerhandler.ts';
import type { Txn, TxnOrigin } from './datatree.ts';
import { enqueueCommit, enqueueSyncReply } from './commitproc.ts';
import { updateAckCheck, updateProposalCheck } from './heartbeat.ts';
import { enqueueLog, lastQueuedZxid } from './logwriter.ts';
import { commitPending } from './sync.ts';
import type { Proposal, ServerState, TxnPacket } from './types.ts';
import { counterOf, epochOf, formatZxid, zxid, type Zxid } from './zxid.ts';

type S = ServerState;

/**
 * Leader.propose. Returns a reason to give up leadership (counter exhaustion), or null.
 */
export function propose(s: S, ctx: StepContext, txn: Txn): string | null {
  const l = s.leader;
  if (l === null || !l.established) {
    note(ctx, `dropped a write: not an established leader`);
    return null;
  }
  const counter = counterOf(l.lastProposed) + 1;
  const limit = ctx.cfg.params.zxidCounterLimit;
  let z: Zxid;
  if (!ctx.cfg.flaws.zxid_counter_overflow_carries_into_epoch) {
    if (counter >= limit) return `zxid lower 32 bits have rolled over (counter ${counter}), forcing re-election, and therefore new epoch start`;
    z = zxid(epochOf(l.lastProposed), counter);
  } else {
    // ZOOKEEPER-1277 (B16), before 3.3.5 / 3.4.4: hzxid.incrementAndGet() with no guard. The
    // counter takes its last value (all ones, here the limit) too, and the next increment
    // carries into the epoch half: (e+1, 0), an epoch no leader established.
    z = counter > limit ? zxid(epochOf(l.lastProposed) + 1, 0) : zxid(epochOf(l.lastProposed), counter);
  }
  if (z <= lastQueuedZxid(s, s.db.log.lastZxid(-1))) {
    // Only a carried zxid can meet its own log again (a later leader of the carried epoch).
    // ZooKeeper's FileTxnLog would warn and append a second txn under the zxid; zabsim's log
    // holds one txn per zxid, so the server stops here, as loudly as a halt.
    return `zxid ${formatZxid(z)} is already in my log (the counter carried into the epoch earlier): a repeated zxid`;
  }
  const w = ownLeader(ctx, s);
  w.lastProposed = z;
  w.outstanding = w.outstanding.push({ zxid: z, txn, acks: [] });
  const packet: TxnPacket = { type: 'PROPOSAL', zxid: z, txn };
  for (let sid = 1, last = serverCount(ctx.cfg); sid <= last; sid++) {
    const h = w.learners[sid];
    if (h !== undefined && h.forwarding && !h.observer) {
      sendToLearner(ctx, s, h, packet);
      updateProposalCheck(s, ctx, h, z);
    }
  }
  // ProposalRequestProcessor: syncProcessor.processRequest. The leader's SyncRequestProcessor
  // appends and flushes it in a step of its own; its AckRequestProcessor then counts the
  // leader's own ACK (logwriter.ts).
  enqueueLog(s, ctx, { zxid: z, txn }, true);
  return null;
}

/** Leader.processAck (§6): ignore new-epoch zxids, committed or unknown proposals; then commit. */
export function processAck(s: S, ctx: StepContext, sid: Sid, z: Zxid): void {
  const l = s.leader;
  if (l === null) return;
  const h = l.learners[sid];
  if (h !== undefined) updateAckCheck(s, ctx, h, z);
  if (counterOf(z) === 0) return;
  if (z <= l.lastCommitted) return;
  const i = l.outstanding.findIndex((p) => p.zxid === z);
  if (i < 0) {
    note(ctx, `ACK ${formatZxid(z)} from s${sid} for an unknown proposal`);
    return;
  }
  const p = l.outstanding.at(i) as Proposal;
  if (isVoter(ctx.cfg, sid) && !p.acks.includes(sid)) {
    const w = ownLeader(ctx, s);
    w.outstanding = w.outstanding.with(i, { zxid: p.zxid, txn: p.txn, acks: [...p.acks, sid] });
  }
  tryToCommit(s, ctx);
}

/** Commits the longest prefix of outstanding proposals that has a quorum (tryToCommit). */
function tryToCommit(s: S, ctx: StepContext): void {
  if (s.leader === null) return;
  let n = 0;
  const outstanding = s.leader.outstanding;
  while (n < outstanding.length && isQuorum(ctx.cfg, (outstanding.at(n) as Proposal).acks.length)) n++;
  if (n === 0) return;
  const l = ownLeader(ctx, s);
  l.outstanding = outstanding.drop(n);
  for (let i = 0; i < n; i++) commit(s, ctx, outstanding.at(i) as Proposal);
}

/**
 * The tail of Leader.tryToCommit for one proposal: COMMIT and INFORM, then toBeApplied and
 * `zk.commitProcessor.commit`: the leader applies it in its CommitProcessor's step, not here.
 */
function commit(s: S, ctx: StepContext, p: Proposal): void {
  if (s.leader === null) return;
  const l = ownLeader(ctx, s);
  l.lastCommitted = p.zxid;
  for (let sid = 1, last = serverCount(ctx.cfg); sid <= last; sid++) {
    const h = l.learners[sid];
    if (h === undefined || !h.forwarding) continue;
    if (h.observer) sendToLearner(ctx, s, h, { type: 'INFORM', zxid: p.zxid, txn: p.txn });
    else sendToLearner(ctx, s, h, { type: 'COMMIT', zxid: p.zxid });
  }
  l.toBeApplied = l.toBeApplied.push(p);
  enqueueCommit(s, ctx, { zxid: p.zxid, txn: p.txn });
  const first = l.pendingSyncs.first();
  if (first !== undefined && first.waitFor <= p.zxid) {
    const ready = l.pendingSyncs.items.filter((x) => x.waitFor <= p.zxid);
    l.pendingSyncs = l.pendingSyncs.filter((x) => x.waitFor > p.zxid);
    for (const x of ready) answerSync(s, ctx, x.origin);
  }
}

/** Leader.processSync: answer now if nothing is outstanding, else once lastProposed commits. */
export function processSync(s: S, ctx: StepContext, origin: TxnOrigin): void {
  const l = s.leader;
  if (l === null) return;
  if (l.outstanding.length === 0) answerSync(s, ctx, origin);
  else ownLeader(ctx, s).pendingSyncs = l.pendingSyncs.push({ waitFor: l.lastProposed, origin });
}

/**
 * Leader.sendSync to a learner; a `sync` of the leader's own client goes through its
 * CommitProcessor, so it is answered after every txn committed before it is applied.
 */
function answerSync(s: S, ctx: StepContext, origin: TxnOrigin): void {
  if (origin.server === s.sid) enqueueSyncReply(s, ctx, origin);
  else if (s.leader?.learners[origin.server] !== undefined) send(ctx, origin.server, { type: 'SYNC', origin });
}

// ---------------------------------------------------------------------------------------------
// Learner

/** PROPOSAL at a follower in broadcast: hand it to the log writer, which ACKs after the fsync. */
export function onProposal(s: S, ctx: StepContext, msg: TxnPacket): void {
  if (s.learner === null) return;
  const last = lastQueuedZxid(s, s.db.log.lastZxid(s.db.lastProcessedZxid));
  if (msg.zxid <= last) {
    note(ctx, `ignored duplicate PROPOSAL ${formatZxid(msg.zxid)}`);
    return;
  }
  const entry = { zxid: msg.zxid, txn: msg.txn };
  // FollowerZooKeeperServer.logRequest: pendingTxns, then the log writer's queue; it ACKs after
  // its flush.
  const l = ownLearner(ctx, s);
  l.pendingTxns = l.pendingTxns.push(entry);
  enqueueLog(s, ctx, entry, true);
}

/** COMMIT at a follower in broadcast. Returns a halt reason (an unmatched commit), or null. */
export function onCommit(s: S, ctx: StepContext, z: Zxid): string | null {
  return commitPending(s, ctx, z);
}

/**
 * INFORM at an observer: ObserverZooKeeperServer.commitRequest hands the txn to its
 * SyncRequestProcessor (the log writer: logged, no ACK) and to its CommitProcessor (applied
 * later). An INFORM at or below what it applied, logged or queued is ignored.
 */
export function onInform(s: S, ctx: StepContext, msg: TxnPacket): void {
  if (msg.zxid <= s.db.lastProcessedZxid || msg.zxid <= lastQueuedZxid(s, s.db.log.lastZxid(0))) {
    note(ctx, `ignored INFORM ${formatZxid(msg.zxid)}: already applied`);
    return;
  }
  const entry = { zxid: msg.zxid, txn: msg.txn };
  enqueueLog(s, ctx, entry, false);
  enqueueCommit(s, ctx, entry);
}
