/**
 * Synchronization (zab-protocol.md §5).
 *
 * Leader, per learner: the syncFollower decision (syncplan.ts) sent as DIFF/TRUNC plus
 * PROPOSAL+COMMIT pairs, or SNAP with the whole tree taken at that instant; startForwarding
 * (outstanding proposals to voters, then the handler joins the broadcast set); NEWLEADER. The
 * first packet back must be the NEWLEADER ACK; once a quorum (the leader included, after its
 * currentEpoch write) has ACKed, the leader is established and every synced handler gets UPTODATE.
 *
 * Learner (Learner.syncWithLeader, 3.9.3+): the first packet must be DIFF, SNAP or TRUNC; before
 * NEWLEADER, proposals are buffered and COMMITs applied at once (SNAP/TRUNC) or held (DIFF); at
 * NEWLEADER: snapshot (SNAP/TRUNC) · log and apply the txns committed before NEWLEADER, fsync ·
 * write currentEpoch · ACK. At UPTODATE: ACK, serve, log the remaining proposals (each ACKed after
 * its fsync) and apply the held COMMITs.
 *
 * The NEWLEADER write order is a list of steps so that a flaw switch can reorder it
 * (ZOOKEEPER-3911, ZOOKEEPER-4643) with a local change.
 */
import { isQuorum, isVoter, type Sid } from './config.ts';
import { cancelTimer, note, send, setTimer, type StepContext } from './context.ts';
import { applyCommitted, loadSnapshot, logOnDisk, logTxn, reapplyOver, setLastProcessed, truncateAndReload, truncateOutcome, type Db } from './db.ts';
import { handlerReadTimer, startPingLoop, TIMER_LEARNER_READ, updateProposalCheck } from './heartbeat.ts';
import { enqueueLog } from './logwriter.ts';
import { persist, setPendingWrite, snapshotNow } from './persist.ts';
import { PROBE, type ProbeSink } from './probes.ts';
import { syncFollower, type SyncPlan } from './syncplan.ts';
import { Fifo } from './fifo.ts';
import type { Ack, LeaderState, LearnerHandler, LearnerSync, LogEntry, Message, NewLeader, QueuedTxn, ServerState, SyncOpPacket } from './types.ts';
import { counterOf, epochOf, formatZxid, zxid, type Zxid } from './zxid.ts';
import { enqueueCommit } from './commitproc.ts';
import { sendToLearner, startSnapSync } from './learnerhandler.ts';
import { own, ownHandler, ownLeader, ownLearner } from './cow.ts';

type S = ServerState;

export const TIMER_NEWLEADER_WAIT = 'leader.newLeaderWait';

// ---------------------------------------------------------------------------------------------
// Leader

/** The leader's currentEpoch write is durable: it may count its own NEWLEADER ack. */
export function onLeaderCurrentEpochDurable(s: S, ctx: StepContext): void {
  const l = s.leader;
  if (l === null) return;
  const p = ctx.cfg.params;
  setTimer(ctx, TIMER_NEWLEADER_WAIT, p.initLimitTicks * p.tickTimeMs);
  waitForNewLeaderAck(s, ctx, s.sid, zxid(l.epoch, 0));
}

/** syncFollower + startForwarding + NEWLEADER for one handler (LearnerHandler.run). */
export function startSync(s: S, ctx: StepContext, h: LearnerHandler): void {
  const l = s.leader;
  if (l === null) return;
  const p = ctx.cfg.params;
  const zkPlan = syncFollower(s.db, h.peerLastZxid, { commitLogCount: p.commitLogCount, snapshotSizeFactor: p.snapshotSizeFactor, diffWithoutDivergenceCheck: ctx.cfg.flaws.sync_diff_without_divergence_check });
  const plan = ctx.cfg.flaws.sync_trunc_cuts_to_be_applied ? zkPlan : sparingToBeApplied(zkPlan, l, h.peerLastZxid);
  note(ctx, `sync s${h.sid}: ${plan.reason}`);
  ownHandler(ctx, s, h.sid).stage = 'sync';
  if (plan.needSnap) {
    // The handler's thread serialises the snapshot and queues NEWLEADER in steps of its own
    // (learnerhandler.ts); until then what startForwarding sends waits in its queue.
    startSnapSync(ctx, s, h.sid);
    // The plan's currentZxid is the leader's lastProcessedZxid (syncplan.ts), not the learner's
    // zxid: they differ only for a counter-0 peer zxid past it (flaw B16's carried <e+1,0>).
    const forwarded = startForwarding(s, ctx, h.sid, plan.currentZxid);
    if (ctx.probe !== null) probeSyncPlan(ctx.probe, plan, forwarded);
    return;
  }
  for (const op of plan.ops) {
    if (op.type === 'PROPOSAL') send(ctx, h.sid, { type: 'PROPOSAL', zxid: op.entry.zxid, txn: op.entry.txn });
    else send(ctx, h.sid, { type: op.type, zxid: op.zxid });
  }
  const forwarded = startForwarding(s, ctx, h.sid, plan.currentZxid);
  if (ctx.probe !== null) probeSyncPlan(ctx.probe, plan, forwarded);
  send(ctx, h.sid, { type: 'NEWLEADER', zxid: zxid(l.epoch, 0) });
}

/**
 * zabsim's fix of a 3.9 race (docs/protocol.md, "Divergences from 3.9 that exploration forced";
 * flaw `sync_trunc_cuts_to_be_applied` restores 3.9): syncFollower's rule 2 TRUNCs a learner to
 * maxCommittedLog, the last txn the leader has *applied*; txns it committed and has not yet
 * applied (toBeApplied) lie above it, so a learner that logged them has them cut and re-sent by
 * startForwarding, and is not durable for them until its NEWLEADER writes. A learner whose last
 * zxid is of the leader's own epoch and within toBeApplied is instead in sync (an empty DIFF at
 * its zxid); one beyond it is cut to the last committed txn, not below.
 */
export function sparingToBeApplied(plan: SyncPlan, l: LeaderState, peer: Zxid): SyncPlan {
  const last = l.toBeApplied.last();
  const op = plan.ops[0];
  if (last === undefined || plan.needSnap || op?.type !== 'TRUNC' || plan.currentZxid >= last.zxid || peer <= plan.currentZxid || epochOf(peer) !== l.epoch) return plan;
  const cut = `committed up to ${formatZxid(last.zxid)}, not yet applied (toBeApplied)`;
  if (peer <= last.zxid) return { ...plan, ops: [{ type: 'DIFF', zxid: peer }], currentZxid: peer, reason: `${plan.reason}, but ${formatZxid(peer)} is ${cut}: DIFF instead` };
  return { ...plan, ops: [{ type: 'TRUNC', zxid: last.zxid }], currentZxid: last.zxid, reason: `${plan.reason}, but ${cut}: TRUNC to ${formatZxid(last.zxid)} instead` };
}

/** The rule that chose the sync, and the mode the learner sees: its proposals are the plan's and the outstanding ones forwarded. */
function probeSyncPlan(probe: ProbeSink, plan: SyncPlan, forwarded: number): void {
  probe(plan.probe);
  const proposals = plan.ops.length > 1 || forwarded > 0;
  if (plan.needSnap) probe(PROBE['sync.mode.snap']);
  else if (plan.ops[0]?.type === 'TRUNC') probe(proposals ? PROBE['sync.mode.trunc+diff'] : PROBE['sync.mode.trunc']);
  else probe(proposals ? PROBE['sync.mode.diff'] : PROBE['sync.mode.empty-diff']);
}

/** Leader.startForwarding: outstanding proposals to a voter, then live broadcasts (§5.1). Returns how many proposals it sent. */
function startForwarding(s: S, ctx: StepContext, sid: Sid, lastSeenZxid: Zxid): number {
  if (s.leader === null) return 0;
  const l = ownLeader(ctx, s);
  const h = ownHandler(ctx, s, sid);
  let sent = 0;
  // Committed, not yet applied by the leader's CommitProcessor: beyond the sync (which is built
  // from the applied database), so each goes as PROPOSAL and COMMIT, to observers too.
  const tba = l.toBeApplied.items;
  for (let i = 0; i < tba.length; i++) {
    const p = tba[i] as (typeof tba)[number];
    if (p.zxid <= lastSeenZxid) continue;
    sendToLearner(ctx, s, h, { type: 'PROPOSAL', zxid: p.zxid, txn: p.txn });
    sendToLearner(ctx, s, h, { type: 'COMMIT', zxid: p.zxid });
    sent++;
  }
  if (!h.observer) {
    const items = l.outstanding.items;
    for (let i = 0; i < items.length; i++) {
      const prop = items[i] as (typeof items)[number];
      if (prop.zxid <= lastSeenZxid) continue;
      sendToLearner(ctx, s, h, { type: 'PROPOSAL', zxid: prop.zxid, txn: prop.txn });
      sent++;
      updateProposalCheck(s, ctx, h, prop.zxid);
      // The learner will log this proposal anew (its sync ends at lastSeenZxid: a TRUNC may just
      // have cut it from its log), so an ACK it sent for it before no longer says it is durable
      // there; it ACKs again after its fsync. ZooKeeper 3.9 keeps the old ACK (flaw switch).
      if (prop.acks.includes(h.sid)) ctx.probe?.(PROBE['window.resync-drops-ack']);
      if (prop.acks.includes(h.sid) && !ctx.cfg.flaws.leader_keeps_acks_across_resync) {
        note(ctx, `s${h.sid} is re-sent ${formatZxid(prop.zxid)}: its earlier ACK no longer counts`);
        l.outstanding = l.outstanding.with(i, { ...prop, acks: prop.acks.filter((x) => x !== h.sid) });
      }
    }
  }
  h.forwarding = true;
  return sent;
}

/** The first packet from a syncing learner: it must be an ACK (of NEWLEADER). */
export function onSyncingLearnerPacket(s: S, ctx: StepContext, h: LearnerHandler, msg: Message, drop: (sid: Sid) => void): void {
  if (msg.type === 'ACK' && counterOf(msg.zxid) !== 0) ctx.probe?.(PROBE['window.ack-from-syncing-learner']);
  if (msg.type !== 'ACK') {
    note(ctx, `Next packet was supposed to be an ACK, but received ${msg.type} from s${h.sid}; dropping it`);
    drop(h.sid);
    return;
  }
  waitForNewLeaderAck(s, ctx, h.sid, msg.zxid);
  // Whatever the ACK counted for, the handler now expects syncLimit and waits for startup.
  const w = ownHandler(ctx, s, h.sid);
  w.stage = 'synced';
  w.syncCheck = { ...w.syncCheck, started: true };
  const p = ctx.cfg.params;
  setTimer(ctx, handlerReadTimer(h.sid), p.syncLimitTicks * p.tickTimeMs);
  const l = s.leader;
  if (l !== null && l.established && w.stage === 'synced') sendUpToDate(ctx, s, h.sid);
}

/** Leader.waitForNewLeaderAck for one ACK (§5.3). */
function waitForNewLeaderAck(s: S, ctx: StepContext, sid: Sid, ackZxid: Zxid): void {
  const l = s.leader;
  if (l === null || l.established) return;
  const expected = zxid(l.epoch, 0);
  if (ackZxid !== expected) {
    note(ctx, `NEWLEADER ACK from s${sid} is from a different epoch - current ${formatZxid(expected)} received ${formatZxid(ackZxid)}`);
    return;
  }
  if (isVoter(ctx.cfg, sid) && !l.newLeaderAcks.includes(sid)) ownLeader(ctx, s).newLeaderAcks = [...l.newLeaderAcks, sid];
  const acks = (s.leader as LeaderState).newLeaderAcks;
  if (acks.includes(s.sid) && isQuorum(ctx.cfg, acks.length)) establish(s, ctx);
}

/**
 * Leader.startZkServer: lastCommitted := (e,0), lastProcessedZxid := (e,0), updateElectionVote,
 * BROADCAST; the ping loop starts; every handler whose NEWLEADER ACK arrived gets UPTODATE.
 */
function establish(s: S, ctx: StepContext): void {
  if (s.leader === null) return;
  const l = ownLeader(ctx, s);
  const e0 = zxid(l.epoch, 0);
  l.established = true;
  l.lastCommitted = e0;
  l.lastProposed = e0;
  cancelTimer(ctx, TIMER_NEWLEADER_WAIT);
  note(ctx, `established epoch ${l.epoch} with NEWLEADER acks from [${l.newLeaderAcks.join(',')}]`);
  s.db = setLastProcessed(s.db, e0);
  s.currentVote = { ...s.currentVote, peerEpoch: l.epoch };
  s.zabState = 'BROADCAST';
  startPingLoop(ctx);
  // The leader's session tracker starts with every session of its database, each with its full
  // timeout (LeaderZooKeeperServer.createSessionTracker).
  for (const key in s.db.tree.sessions) {
    const info = s.db.tree.sessions[key];
    if (info !== undefined) own(ctx, l, 'sessionExpiry')[Number(key)] = info.timeoutMs;
  }
  for (const key in l.learners) {
    const h = l.learners[key];
    if (h !== undefined && h.stage === 'synced') sendUpToDate(ctx, s, h.sid);
  }
}

function sendUpToDate(ctx: StepContext, s: S, sid: Sid): void {
  ownHandler(ctx, s, sid).stage = 'broadcast';
  send(ctx, sid, { type: 'UPTODATE' });
}

// ---------------------------------------------------------------------------------------------
// Learner

/** This step's writable LearnerSync. */
function ownSync(ctx: StepContext, s: S): LearnerSync {
  return own(ctx, ownLearner(ctx, s), 'sync');
}

/**
 * What a sync packet did to the role: nothing (null), the process exits (`halt`: ZooKeeper calls
 * System.exit for a bad first packet), or the role's thread threw (`fail`: Follower.followLeader
 * catches it, the follower leaves its leader and elects again).
 */
export type SyncOutcome = { halt: string } | { fail: string } | null;

/**
 * A packet from the leader while syncing (after ACKEPOCH, before UPTODATE). Returns a reason to
 * abandon the role (which ZooKeeper does by exiting the process for a bad first packet: a halt).
 */
export function onSyncPacket(s: S, ctx: StepContext, msg: Message): SyncOutcome {
  if (s.learner === null) return null;
  const sync = ownSync(ctx, s);
  if (sync.mode === null) {
    switch (msg.type) {
      case 'DIFF':
        ctx.probe?.(PROBE['learner.diff']);
        sync.mode = 'DIFF';
        sync.diffZxid = msg.zxid;
        return null;
      case 'SNAP':
        ctx.probe?.(PROBE['learner.snap']);
        sync.mode = 'SNAP';
        sync.preSnapDb = s.db;
        s.db = loadSnapshot(s.db, { zxid: msg.zxid, data: msg.tree, lastTxn: msg.lastTxn ?? msg.zxid });
        note(ctx, `loaded SNAP ${formatZxid(msg.zxid)} in memory`);
        return null;
      case 'TRUNC':
        ctx.probe?.(PROBE['learner.trunc']);
        sync.mode = 'TRUNC';
        return truncate(s, ctx, msg);
      case 'PING':
        return null;
      default:
        ctx.probe?.(PROBE['learner.bad-first']);
        return { halt: `Learner expected DIFF, SNAP or TRUNC first, got ${msg.type}` };
    }
  }
  switch (msg.type) {
    case 'PROPOSAL':
      ctx.probe?.(PROBE['learner.proposal']);
      sync.packetsNotLogged = sync.packetsNotLogged.push({ zxid: msg.zxid, txn: msg.txn });
      return null;
    case 'INFORM':
      ctx.probe?.(PROBE['learner.inform']);
      if (!sync.newLeaderSeen && sync.mode !== 'DIFF') applyNow(s, ctx, { zxid: msg.zxid, txn: msg.txn });
      else {
        sync.packetsNotLogged = sync.packetsNotLogged.push({ zxid: msg.zxid, txn: msg.txn });
        own(ctx, sync, 'packetsCommitted').push(msg.zxid);
      }
      return null;
    case 'COMMIT':
      if (sync.newLeaderSeen) ctx.probe?.(PROBE['window.commit-between-newleader-uptodate']);
      if (!sync.newLeaderSeen && sync.mode !== 'DIFF') {
        ctx.probe?.(PROBE['learner.commit-applied']);
        const head = sync.packetsNotLogged.first();
        if (head === undefined || head.zxid !== msg.zxid) {
          note(ctx, `Committing ${formatZxid(msg.zxid)}, but next proposal is ${head === undefined ? 'none' : formatZxid(head.zxid)}`);
        } else {
          sync.packetsNotLogged = sync.packetsNotLogged.rest();
          applyNow(s, ctx, head);
        }
      } else {
        ctx.probe?.(PROBE['learner.commit-held']);
        // ZOOKEEPER-4394 (B13): up to 3.9.2 the COMMIT case first reads
        // `packetsNotCommitted.peekFirst().hdr`, and NEWLEADER emptied that list.
        if (sync.newLeaderSeen && sync.packetsNotLogged.length === 0 && ctx.cfg.flaws.follower_newleader_clears_pending && s.state === 'FOLLOWING') {
          return { fail: `NullPointerException: COMMIT ${formatZxid(msg.zxid)} after NEWLEADER, and no proposal is buffered (Learner.syncWithLeader)` };
        }
        own(ctx, sync, 'packetsCommitted').push(msg.zxid);
      }
      return null;
    case 'NEWLEADER':
      onNewLeader(s, ctx, msg);
      return null;
    case 'UPTODATE': {
      ctx.probe?.(PROBE['learner.uptodate']);
      const reason = onUpToDate(s, ctx);
      return reason === null ? null : { halt: reason };
    }
    case 'PING':
      return null;
    default:
      note(ctx, `ignored ${msg.type} during sync`);
      return null;
  }
}

/**
 * TRUNC: the log is cut on disk at once and the database reloaded (§1.1, §5.2). A learner with no
 * txn log file (its history is a snapshot alone, as after a SNAP sync with no txn since) cannot
 * truncate: FileTxnLog.truncate throws "No log files found to truncate!", FileTxnSnapLog.truncateLog
 * returns false, and Learner.syncWithLeader logs "Not able to truncate the log" and exits.
 */
function truncate(s: S, ctx: StepContext, msg: SyncOpPacket): { halt: string } | null {
  if (s.learner === null) return null;
  if (logOnDisk(s.db).length === 0) return { halt: `Not able to truncate the log to ${formatZxid(msg.zxid)}: No log files found to truncate!` };
  const keep = ctx.cfg.flaws.trunc_reload_newest_snapshot;
  const asFile = ctx.cfg.flaws.trunc_keeps_first_txn_above_target;
  const outcome = truncateOutcome(s.db, msg.zxid, keep, asFile, ctx.cfg.params.snapshotTrustEmpty === 1);
  if (outcome.kind === 'refuse') {
    // ZKDatabase.truncateLog: the log is cut, then loadDataBase throws. The IOException ends the
    // role with the database cleared; every election after it calls QuorumPeer.loadDataBase,
    // which throws again ("Unable to load database on disk"), so the server never votes again
    // (docs/protocol.md, "Differences": zabsim halts it, before writing the cut).
    note(ctx, `TRUNC to ${formatZxid(msg.zxid)}: the reload finds nothing to load (${outcome.reason})`);
    return { halt: `Unable to load database on disk: ${outcome.reason}` };
  }
  const write = { op: 'truncateLog' as const, zxid: msg.zxid, ...(keep ? { keepNewerSnapshots: true } : {}), ...(asFile ? { keepFirstAbove: true } : {}) };
  const token = persist(s, ctx, write, { kind: 'block', role: s.role });
  ownLearner(ctx, s).blocked = { on: 'trunc', token };
  const reloaded = truncateAndReload(s.db, msg.zxid, keep, asFile);
  note(ctx, `TRUNC to ${formatZxid(msg.zxid)}: log cut, database reloaded at ${formatZxid(reloaded.lastProcessedZxid)}`);
  // Learner.syncWithLeader: setlastProcessedZxid(TRUNC zxid) right after truncateLog.
  s.db = setLastProcessed(reloaded, msg.zxid);
  return null;
}

/**
 * zk.processTxn during sync: apply in memory (the NEWLEADER snapshot will hold it). A txn the tree
 * already reflects is skipped, which is what DataTree.processTxn's re-application amounts to once
 * the replay reaches the snapshot's last txn (D14). After a SNAP, such txns are kept in
 * `replayed` until the replay reaches it: a NEWLEADER read before that (ZOOKEEPER-3104) finds the
 * tree rewound by them (`snapshotWithReplay`).
 */
function applyNow(s: S, ctx: StepContext, e: LogEntry): void {
  const sync = s.learner?.sync;
  // After a SNAP, a txn at or below the tree's last one is applied again over a tree that has it.
  if (sync !== undefined && sync.mode === 'SNAP' && e.zxid <= s.db.lastTxn) {
    if (e.zxid === s.db.lastTxn) ownSync(ctx, s).replayed = [];
    else own(ctx, ownSync(ctx, s), 'replayed').push(e);
  }
  if (e.zxid <= s.db.lastProcessedZxid) {
    note(ctx, `skipped ${formatZxid(e.zxid)}: already applied`);
    return;
  }
  // Above the SNAP's label but in its content (a fuzzy SNAP): lastProcessedZxid moves on, the tree
  // stays (applyCommitted).
  if (e.zxid <= s.db.lastTxn) note(ctx, `${formatZxid(e.zxid)} is in the SNAP's content already (a fuzzy SNAP, up to ${formatZxid(s.db.lastTxn)}): lastProcessedZxid moves on, the tree stays`);
  s.db = applySynced(s, ctx, e);
}

/**
 * NEWLEADER after a SNAP whose replay had not reached its last txn: ZooKeeper has applied those
 * committed txns again over the newer tree (DataTree.processTxn), so that is the tree it holds and
 * writes in its snapshot, under the SNAP's label (ZOOKEEPER-3104, zab-bugs.md B7).
 */
function snapshotWithReplay(s: S, ctx: StepContext): void {
  const sync = s.learner?.sync;
  if (sync === undefined || sync.mode !== 'SNAP' || sync.replayed.length === 0) return;
  const zxids = sync.replayed.map((e) => formatZxid(e.zxid)).join(' ');
  note(ctx, `NEWLEADER before the replay over the SNAP reached ${formatZxid(s.db.lastTxn)}: ${zxids} applied again over its tree`);
  s.db = reapplyOver(s.db, sync.replayed);
  ownSync(ctx, s).replayed = [];
}

/**
 * zk.processTxn of a txn the sync committed. 3.9.4 adds it to committedLog as any apply does;
 * 3.9.3's `processTxn(hdr, txn)` did not (ZOOKEEPER-4925, B15), leaving a hole a DIFF built from
 * committedLog later skips.
 */
function applySynced(s: S, ctx: StepContext, e: LogEntry): Db {
  return applyCommitted(s.db, e, !ctx.cfg.flaws.learner_sync_skips_committedlog_append).db;
}

/** The steps of the learner's NEWLEADER handling, in the order ZooKeeper 3.9.3+ runs them (§1.3). */
type NewLeaderStep = 'marker' | 'snapshot' | 'log-committed' | 'queue-committed' | 'log-all' | 'await-log' | 'epoch' | 'await-epoch' | 'unmark' | 'start-processors' | 'yield' | 'ack';

/*
 * The default wraps 3.9.3's order in 3.4.6's `updatingEpoch` marker (Learner.syncWithLeader at
 * b713620dd): created before the first write, deleted once currentEpoch is durable. A crash in
 * between leaves the marker, and start-up may then raise currentEpoch to the last zxid's epoch
 * instead of refusing to start (ZOOKEEPER-1653/2354, zab-bugs.md B4). The disk completes writes
 * in order, so the marker is durable before anything written after it; neither end is awaited,
 * as in ZooKeeper, which creates and deletes the file without an fsync.
 */
const NEWLEADER_STEPS: readonly NewLeaderStep[] = ['marker', 'snapshot', 'log-committed', 'await-log', 'epoch', 'await-epoch', 'unmark', 'ack'];
const NEWLEADER_STEPS_NO_MARKER: readonly NewLeaderStep[] = ['snapshot', 'log-committed', 'await-log', 'epoch', 'await-epoch', 'ack'];
/** ZOOKEEPER-3911: the txns go to the log (asynchronously) and the ACK leaves at once. */
const NEWLEADER_STEPS_3911: readonly NewLeaderStep[] = ['snapshot', 'epoch', 'await-epoch', 'ack', 'log-committed'];
/** ZOOKEEPER-4643: currentEpoch is written before the synced txns are durable. */
const NEWLEADER_STEPS_4643: readonly NewLeaderStep[] = ['snapshot', 'epoch', 'await-epoch', 'log-committed', 'await-log', 'ack'];

/**
 * ZOOKEEPER-4646: the committed txns go to the log writer's queue (not awaited), then currentEpoch
 * is written and the ACK leaves once it is durable: the writer may not even have run yet.
 */
const NEWLEADER_STEPS_4646: readonly NewLeaderStep[] = ['marker', 'snapshot', 'queue-committed', 'epoch', 'await-epoch', 'unmark', 'ack'];

/**
 * ZOOKEEPER-4685 (3.8.0-3.8.4, 3.9.0-3.9.1): currentEpoch, then `zk.startupWithoutServing()` and
 * `fzk.logRequest` for every buffered proposal, committed or not: the log writer ACKs each after
 * its flush. Between that and `writePacket(ACK NEWLEADER)` the protocol thread may lose the CPU
 * (`yield`: a finer grain than the stage, because the bug is the order of two writes to one
 * socket by two threads), so the writer's ACK can reach the leader first.
 */
const NEWLEADER_STEPS_4685: readonly NewLeaderStep[] = ['marker', 'snapshot', 'epoch', 'await-epoch', 'unmark', 'start-processors', 'yield', 'ack'];

/**
 * ZOOKEEPER-4394's NEWLEADER (3.8.5-3.8.6, 3.9.2): `fzk.appendRequest` for every buffered
 * proposal, committed or not (each joins pendingTxns), one flush, `packetsNotCommitted.clear()`,
 * then currentEpoch and the ACK. The held COMMITs are committed at UPTODATE.
 */
const NEWLEADER_STEPS_4394: readonly NewLeaderStep[] = ['marker', 'snapshot', 'log-all', 'await-log', 'epoch', 'await-epoch', 'unmark', 'ack'];
const NEWLEADER_STEPS_4394_NO_MARKER: readonly NewLeaderStep[] = ['snapshot', 'log-all', 'await-log', 'epoch', 'await-epoch', 'ack'];

function newLeaderSteps(ctx: StepContext): readonly NewLeaderStep[] {
  const f = ctx.cfg.flaws;
  if (f.follower_starts_processors_before_newleader_ack) return NEWLEADER_STEPS_4685;
  if (f.follower_newleader_persist_async) return NEWLEADER_STEPS_4646;
  if (f.follower_ack_newleader_before_persist) return NEWLEADER_STEPS_3911;
  if (f.follower_epoch_before_log_durable) return NEWLEADER_STEPS_4643;
  if (f.follower_newleader_clears_pending) return f.newleader_no_epoch_marker ? NEWLEADER_STEPS_4394_NO_MARKER : NEWLEADER_STEPS_4394;
  return f.newleader_no_epoch_marker ? NEWLEADER_STEPS_NO_MARKER : NEWLEADER_STEPS;
}

/** NEWLEADER at the learner (§1.3, §5.2). */
function onNewLeader(s: S, ctx: StepContext, msg: NewLeader): void {
  if (s.learner === null) return;
  ctx.probe?.(PROBE['learner.newleader']);
  const sync = ownSync(ctx, s);
  sync.newLeaderSeen = true;
  sync.newEpoch = epochOf(msg.zxid);
  // The socket timeout becomes syncLimit·tickTime.
  const p = ctx.cfg.params;
  setTimer(ctx, TIMER_LEARNER_READ, p.syncLimitTicks * p.tickTimeMs);
  runNewLeaderSteps(s, ctx, newLeaderSteps(ctx), 0, null);
}

/** The NEWLEADER ACK leaves: is anything of the learner's log still on its way to the disk? */
function probeNewLeaderAck(s: S, probe: ProbeSink): void {
  probe(PROBE['learner.newleader-ack']);
  let pending = s.logWriter.queue.length > 0;
  // This role's ACKed log writes. An ended role's are durable before the next election; a writer
  // left running past its role (ZOOKEEPER-4712) writes for the role that queued, whose ACK
  // onFsyncDone drops.
  for (const { write: w } of s.writes) if (w.kind === 'ack' && w.role === s.role) pending = true;
  if (pending) probe(PROBE['window.newleader-ack-log-pending']);
}

/** Runs the NEWLEADER steps from `i`; an await step blocks until its token's fsync. */
function runNewLeaderSteps(s: S, ctx: StepContext, steps: readonly NewLeaderStep[], i: number, lastToken: number | null): void {
  if (s.learner === null) return;
  const l = ownLearner(ctx, s);
  let last = lastToken;
  for (let k = i; k < steps.length; k++) {
    switch (steps[k]) {
      case 'marker': {
        // File.createNewFile runs before anything else of NEWLEADER and throws if it fails:
        // keep what memory holds now, for onWriteFailed to put back (docs/protocol.md, Storage
        // faults, "Failing updatingEpoch marker").
        const before = { db: s.db, preSnapDb: l.sync.preSnapDb, currentEpoch: s.currentEpoch, logQueue: s.logWriter.queue };
        ownSync(ctx, s).marker = { token: persist(s, ctx, { op: 'updatingEpoch', exists: true }), ...before };
        break;
      }
      case 'unmark':
        persist(s, ctx, { op: 'updatingEpoch', exists: false });
        break;
      case 'snapshot':
        if (l.sync.mode === 'SNAP' || l.sync.mode === 'TRUNC') {
          snapshotWithReplay(s, ctx);
          last = snapshotNow(s, ctx);
          ownSync(ctx, s).preSnapDb = null;
        }
        break;
      case 'log-committed':
        last = logCommittedBeforeNewLeader(s, ctx, false) ?? last;
        break;
      case 'queue-committed':
        logCommittedBeforeNewLeader(s, ctx, true);
        break;
      case 'log-all':
        last = appendAllBuffered(s, ctx) ?? last;
        break;
      case 'start-processors':
        logRequestAll(s, ctx);
        break;
      case 'yield':
        if (s.state === 'FOLLOWING') {
          l.blocked = { on: 'yield', token: -1 };
          l.resume = k + 1;
          ctx.effects.push({ kind: 'wake', stage: 'protocol' });
          return;
        }
        break;
      case 'epoch':
        s.currentEpoch = l.sync.newEpoch;
        last = persist(s, ctx, { op: 'writeEpoch', file: 'currentEpoch', value: l.sync.newEpoch });
        break;
      case 'await-log':
      case 'await-epoch':
        if (last !== null) {
          // For SNAP the snapshot must be durable too; for TRUNC ZooKeeper does not fsync it,
          // but the disk completes writes in order, so waiting for the last write covers it.
          setPendingWrite(s, last, { kind: 'block', role: s.role });
          l.blocked = { on: steps[k] === 'await-log' ? 'newleader-log' : 'newleader-epoch', token: last };
          ctx.probe?.(steps[k] === 'await-log' ? PROBE['learner.await-log'] : PROBE['learner.await-epoch']);
          l.resume = k + 1;
          return;
        }
        break;
      case 'ack':
        if (ctx.probe !== null) probeNewLeaderAck(s, ctx.probe);
        send(ctx, l.leader, { type: 'ACK', zxid: zxid(l.sync.newEpoch, 0) });
        break;
    }
  }
  l.resume = null;
}

/** The learner's blocking write finished: resume where the NEWLEADER steps stopped. */
export function resumeNewLeader(s: S, ctx: StepContext): void {
  const l = s.learner;
  if (l === null || l.resume === null) return;
  runNewLeaderSteps(s, ctx, newLeaderSteps(ctx), l.resume, null);
}

/**
 * Append to the log, and apply, every proposal whose COMMIT is held (§1.3: in DIFF mode, those
 * that arrived before NEWLEADER). Returns the last write's token, or null when there was nothing
 * to log.
 */
function logCommittedBeforeNewLeader(s: S, ctx: StepContext, queued: boolean): number | null {
  const l = s.learner;
  // §1.3 is the follower's NEWLEADER handling (Learner.syncWithLeader only does this for a
  // FollowerZooKeeperServer). An observer keeps these txns in packetsNotLogged/packetsCommitted
  // and logs and applies them at UPTODATE (§5.2), i.e. only once the leader is established.
  // ZooKeeper 3.9.3+ checks only that packetsCommitted is not empty, not the sync mode: a SNAP or
  // TRUNC sync applies its COMMITs before NEWLEADER at once, so only a second NEWLEADER (the
  // channel duplicated it) finds any held there, and logs and applies them as a DIFF sync does.
  if (l === null || s.state !== 'FOLLOWING') return null;
  const sync = ownSync(ctx, s);
  let last: number | null = null;
  const committed = sync.packetsCommitted;
  sync.packetsCommitted = [];
  for (const z of committed) {
    const head = sync.packetsNotLogged.first();
    if (head === undefined || head.zxid !== z) {
      note(ctx, `Committing ${formatZxid(z)}, but next proposal is ${head === undefined ? 'none' : formatZxid(head.zxid)}`);
      continue;
    }
    sync.packetsNotLogged = sync.packetsNotLogged.rest();
    if (head.zxid <= s.db.lastProcessedZxid) continue;
    if (head.zxid <= s.db.log.lastZxid(-1)) {
      // Logged, not applied: only a database kept without fast-forward (the ZOOKEEPER-2845 flaw)
      // lags its own log. Apply it; the log holds it already.
      s.db = applySynced(s, ctx, head);
      continue;
    }
    // ZKDatabase.append directly, not through SyncRequestProcessor: it counts toward the next
    // snapshot but never triggers one here.
    if (queued) {
      // ZOOKEEPER-4646: fzk.logRequest hands it to SyncRequestProcessor; nothing waits for it.
      // startupWithoutServing has built SyncRequestProcessor -> SendAckRequestProcessor, so the
      // flush ACKs it as it ACKs a broadcast PROPOSAL; the leader's processAck ignores the ACK
      // (at or below lastCommitted, or nothing outstanding yet).
      enqueueLog(s, ctx, head, true);
    } else {
      s.db = logTxn(s.db, head);
      last = persist(s, ctx, { op: 'appendLog', entry: head });
    }
    s.db = applySynced(s, ctx, head);
  }
  return last;
}

/**
 * D14: a buffered proposal at or below lastProcessedZxid is applied already (the channel
 * duplicated it). ZooKeeper would log it and apply it again (DataTree.processTxn); zabsim's txns
 * are not idempotent, so it is passed over, and the held COMMITs naming it go with it. Returns
 * whether `entry` was passed over.
 */
function passOverApplied(s: S, ctx: StepContext, entry: LogEntry): boolean {
  if (entry.zxid > s.db.lastProcessedZxid) return false;
  const sync = ownSync(ctx, s);
  sync.packetsCommitted = sync.packetsCommitted.filter((z) => z !== entry.zxid);
  return true;
}

/**
 * Whether the log, or this role's log-writer queue, holds `z` already: a txn logged in an earlier
 * role and never applied (ZOOKEEPER-2845's database lags its log), or the first copy of a
 * duplicated PROPOSAL. ZooKeeper's FileTxnLog.append would only warn and append it again; zabsim's
 * log holds one txn per zxid. A txn that only an ended role's writer holds (ZOOKEEPER-4712) is not
 * counted: that writer skips what the database has applied meanwhile, so this role logs it itself.
 */
function logHolds(s: S, z: Zxid): boolean {
  if (z <= s.db.log.lastZxid(0)) return true;
  // The newest write of this role still queued.
  const queue = s.logWriter.queue;
  for (let i = queue.length - 1; i >= 0; i--) {
    const q = queue.at(i) as QueuedTxn;
    if (q.role === s.role) return z <= q.entry.zxid;
  }
  return false;
}

/**
 * ZOOKEEPER-4394's NEWLEADER (3.8.5's loop): every buffered proposal is appended to the log at
 * once and joins pendingTxns; the buffer is cleared. One the log already holds joins pendingTxns
 * without a second append, so its COMMIT at UPTODATE applies it; an applied one is passed over
 * with its held COMMIT. Followers only. Returns the last write's token, or null.
 */
function appendAllBuffered(s: S, ctx: StepContext): number | null {
  if (s.learner === null || s.state !== 'FOLLOWING') return null;
  const l = ownLearner(ctx, s);
  const sync = ownSync(ctx, s);
  let last: number | null = null;
  for (const entry of sync.packetsNotLogged.items) {
    if (passOverApplied(s, ctx, entry)) continue;
    l.pendingTxns = l.pendingTxns.push(entry);
    if (logHolds(s, entry.zxid)) continue;
    s.db = logTxn(s.db, entry);
    last = persist(s, ctx, { op: 'appendLog', entry });
  }
  sync.packetsNotLogged = Fifo.empty();
  return last;
}

/**
 * ZOOKEEPER-4685's NEWLEADER: every buffered proposal, committed or not, goes to pendingTxns and
 * the log writer, which ACKs it after its flush; the held COMMITs are applied at UPTODATE. One the
 * log or the writer already holds joins pendingTxns only; an applied one is passed over with its
 * held COMMIT. Followers only (an observer keeps its buffers for UPTODATE).
 */
function logRequestAll(s: S, ctx: StepContext): void {
  if (s.learner === null || s.state !== 'FOLLOWING') return;
  const l = ownLearner(ctx, s);
  const sync = ownSync(ctx, s);
  for (const entry of sync.packetsNotLogged.items) {
    if (passOverApplied(s, ctx, entry)) continue;
    l.pendingTxns = l.pendingTxns.push(entry);
    if (!logHolds(s, entry.zxid)) enqueueLog(s, ctx, entry, true);
  }
  sync.packetsNotLogged = Fifo.empty();
}

/**
 * UPTODATE (§5.2): ACK, serve, log the remaining proposals, apply the held COMMITs. Returns a
 * halt reason when a held COMMIT does not match the oldest pending txn (as in broadcast).
 */
function onUpToDate(s: S, ctx: StepContext): string | null {
  if (s.learner === null) return null;
  const l = ownLearner(ctx, s);
  const sync = ownSync(ctx, s);
  // Learner.syncWithLeader ACKs UPTODATE with the epoch of LEADERINFO (its newLeaderZxid), not of
  // NEWLEADER: an UPTODATE that overtook NEWLEADER (a non-FIFO link) has no NEWLEADER epoch (-1).
  const e = l.newEpoch;
  send(ctx, l.leader, { type: 'ACK', zxid: zxid(e, 0) } satisfies Ack);
  l.phase = 'broadcast';
  s.zabState = 'BROADCAST';
  s.currentVote = { ...s.currentVote, peerEpoch: e };
  const observer = s.state === 'OBSERVING';
  for (const entry of sync.packetsNotLogged.items) {
    if (passOverApplied(s, ctx, entry)) continue;
    // Every other proposal joins pendingTxns, as fzk.logRequest does, so its held COMMIT applies
    // it; one the log or the writer already holds is not logged twice.
    l.pendingTxns = l.pendingTxns.push(entry);
    if (logHolds(s, entry.zxid)) continue;
    // Follower: fzk.logRequest, through the log writer, ACKed after its flush. Observer:
    // ozk.commitRequest, through the log writer (no ACK) and, below, the CommitProcessor.
    enqueueLog(s, ctx, entry, !observer);
  }
  sync.packetsNotLogged = Fifo.empty();
  const held = [...sync.packetsCommitted];
  sync.packetsCommitted = [];
  for (const z of held) {
    const reason = commitPending(s, ctx, z);
    if (reason !== null) return reason;
  }
  return null;
}

/**
 * FollowerZooKeeperServer.commit: the COMMIT must name the oldest pending txn, or the process
 * exits (UNMATCHED_TXN_COMMIT). With nothing pending it only warns ("Committing Z without seeing
 * txn") and ignores the COMMIT (audit D11). The txn goes to the CommitProcessor (commitproc.ts).
 * Returns a halt reason, or null.
 */
export function commitPending(s: S, ctx: StepContext, z: Zxid): string | null {
  const l = s.learner;
  if (l === null) return null;
  const head = l.pendingTxns.first();
  if (head === undefined) {
    note(ctx, `Committing ${formatZxid(z)} without seeing txn: ignored`);
    return null;
  }
  if (head.zxid !== z) {
    return `Committing zxid ${formatZxid(z)} but next pending txn ${formatZxid(head.zxid)}`;
  }
  ownLearner(ctx, s).pendingTxns = l.pendingTxns.rest();
  // commitProcessor.commit: the CommitProcessor thread applies it (commit is not apply), a
  // follower's and an observer's alike.
  enqueueCommit(s, ctx, head);
  return null;
}
