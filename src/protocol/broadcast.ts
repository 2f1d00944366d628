/**
 * Broadcast (zab-protocol.md §6).
 *
 * Leader: propose (zxid = (epoch, counter + 1); at the counter limit the leader gives up and a new
 * election starts), PROPOSAL to every forwarding follower, log, its own ACK after its fsync;
 * processAck; commit the longest prefix of outstanding proposals with a quorum of voter ACKs,
 * COMMIT to followers and INFORM to observers, apply, answer pending `sync`s.
 *
 * Follower: PROPOSAL → log, ACK after the fsync; COMMIT must name the oldest pending txn (else
 * the process exits). Observer: INFORM → log and apply, no ACK.
 */
import { isQuorum, isVoter, type Sid } from './config.ts';
import { note, send, type StepContext } from './context.ts';
import type { Txn, TxnOrigin } from './datatree.ts';
import { applyCommitted, logTxn } from './db.ts';
import { sessionTxnCommitted, updateAckCheck, updateProposalCheck } from './heartbeat.ts';
import { maybeSnapshot, persist } from './persist.ts';
import { replyForApplied, reply } from './serving.ts';
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
  if (counter >= ctx.cfg.params.zxidCounterLimit) {
    return `zxid lower 32 bits have rolled over (counter ${counter}), forcing re-election, and therefore new epoch start`;
  }
  const z = zxid(epochOf(l.lastProposed), counter);
  l.lastProposed = z;
  l.outstanding = l.outstanding.push({ zxid: z, txn, acks: [] });
  const packet: TxnPacket = { type: 'PROPOSAL', zxid: z, txn };
  for (const key in l.learners) {
    const h = l.learners[key];
    if (h !== undefined && h.forwarding && !h.observer) {
      send(ctx, h.sid, packet);
      updateProposalCheck(s, ctx, h, z);
    }
  }
  const entry = { zxid: z, txn };
  s.db = logTxn(s.db, entry);
  persist(s, ctx, { op: 'appendLog', entry }, { kind: 'leaderAck', role: s.role, zxid: z });
  maybeSnapshot(s, ctx);
  return null;
}

/** Leader.processAck (§6): ignore new-epoch zxids, committed or unknown proposals; then commit. */
export function processAck(s: S, ctx: StepContext, sid: Sid, z: Zxid): void {
  const l = s.leader;
  if (l === null) return;
  const h = l.learners[sid];
  if (h !== undefined) updateAckCheck(h, z);
  if (counterOf(z) === 0) return;
  if (z <= l.lastCommitted) return;
  const i = l.outstanding.items.findIndex((p) => p.zxid === z);
  if (i < 0) {
    note(ctx, `ACK ${formatZxid(z)} from s${sid} for an unknown proposal`);
    return;
  }
  const p = l.outstanding.items[i] as Proposal;
  if (isVoter(ctx.cfg, sid) && !p.acks.includes(sid)) l.outstanding = l.outstanding.with(i, { ...p, acks: [...p.acks, sid] });
  tryToCommit(s, ctx);
}

/** Commits the longest prefix of outstanding proposals that has a quorum (tryToCommit). */
function tryToCommit(s: S, ctx: StepContext): void {
  const l = s.leader;
  if (l === null) return;
  let n = 0;
  const items = l.outstanding.items;
  while (n < items.length && isQuorum(ctx.cfg, (items[n] as Proposal).acks.length)) n++;
  if (n === 0) return;
  const done = items.slice(0, n);
  l.outstanding = l.outstanding.drop(n);
  for (const p of done) commit(s, ctx, p);
}

function commit(s: S, ctx: StepContext, p: Proposal): void {
  const l = s.leader;
  if (l === null) return;
  l.lastCommitted = p.zxid;
  for (const key in l.learners) {
    const h = l.learners[key];
    if (h === undefined || !h.forwarding) continue;
    if (h.observer) send(ctx, h.sid, { type: 'INFORM', zxid: p.zxid, txn: p.txn });
    else send(ctx, h.sid, { type: 'COMMIT', zxid: p.zxid });
  }
  const entry = { zxid: p.zxid, txn: p.txn };
  const { db, result } = applyCommitted(s.db, entry);
  s.db = db;
  sessionTxnCommitted(s, ctx, p.txn);
  replyForApplied(s, ctx, entry, result);
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
  else l.pendingSyncs = l.pendingSyncs.push({ waitFor: l.lastProposed, origin });
}

function answerSync(s: S, ctx: StepContext, origin: TxnOrigin): void {
  if (origin.server === s.sid) reply(ctx, { client: origin.client, cxid: origin.cxid, ok: true, zxid: s.db.lastProcessedZxid });
  else if (s.leader?.learners[origin.server] !== undefined) send(ctx, origin.server, { type: 'SYNC', origin });
}

// ---------------------------------------------------------------------------------------------
// Learner

/** PROPOSAL at a follower in broadcast: log it, ACK after the fsync. */
export function onProposal(s: S, ctx: StepContext, msg: TxnPacket): void {
  const l = s.learner;
  if (l === null) return;
  const last = s.db.log.lastZxid(s.db.lastProcessedZxid);
  if (msg.zxid <= last) {
    note(ctx, `ignored duplicate PROPOSAL ${formatZxid(msg.zxid)}`);
    return;
  }
  const entry = { zxid: msg.zxid, txn: msg.txn };
  s.db = logTxn(s.db, entry);
  l.pendingTxns = l.pendingTxns.push(entry);
  persist(s, ctx, { op: 'appendLog', entry }, { kind: 'ack', role: s.role, zxid: msg.zxid });
  maybeSnapshot(s, ctx);
}

/** COMMIT at a follower in broadcast. Returns a halt reason (an unmatched commit), or null. */
export function onCommit(s: S, ctx: StepContext, z: Zxid): string | null {
  return commitPending(s, ctx, z);
}

/** INFORM at an observer: log and apply (no ACK). */
export function onInform(s: S, ctx: StepContext, msg: TxnPacket): void {
  if (msg.zxid <= s.db.lastProcessedZxid || msg.zxid <= s.db.log.lastZxid(0)) {
    note(ctx, `ignored INFORM ${formatZxid(msg.zxid)}: already applied`);
    return;
  }
  const entry = { zxid: msg.zxid, txn: msg.txn };
  s.db = logTxn(s.db, entry);
  persist(s, ctx, { op: 'appendLog', entry });
  const { db, result } = applyCommitted(s.db, entry);
  s.db = db;
  replyForApplied(s, ctx, entry, result);
  maybeSnapshot(s, ctx);
}
