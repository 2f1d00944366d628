/**
 * A server: `step(cfg, state, input) -> { state, effects }`. This file dispatches each input to
 * the phase that owns it (election.ts, discovery.ts, sync.ts, broadcast.ts, heartbeat.ts,
 * serving.ts) and owns the transitions between roles. It is pure: no I/O, clock or randomness;
 * each step writes its own copy of what it changes (cow.ts), and the input state is never mutated.
 */
import { isVoter, type ClusterConfig, type Sid } from './config.ts';
import { cancelTimer, disconnect, note, send, setTimer, type StepContext } from './context.ts';
import { beginServerStep, endServerStep, own, ownFle, ownLeader, ownLearner } from './cow.ts';
import { EMPTY_DB, EMPTY_SNAPSHOT, fastForward, loadDatabase, restoreOutcome, setLastProcessed, validSnapshotIndex, withFreshSnapshot } from './db.ts';
import { processAck, onCommit, onInform, onProposal, processSync, propose } from './broadcast.ts';
import {
  dropLearner,
  enterLeading,
  enterLearning,
  onAckEpoch,
  onConnectRetry,
  onLeaderAcceptedEpochDurable,
  onLeaderInfo,
  onLearnerDisconnected,
  onLearnerInfo,
  sendAckEpoch,
  TIMER_CONNECT_RETRY,
  TIMER_EPOCH_WAIT,
} from './discovery.ts';
import { lookForLeader, onFinalizeTimeout, onNotification, onPollTimeout, TIMER_FINALIZE, TIMER_POLL, type Decision } from './election.ts';
import {
  echoPing,
  handlerOfTimer,
  handlerReadTimer,
  heardFromLeader,
  heardFromLearner,
  onPingTimer,
  TIMER_LEARNER_READ,
  TIMER_PING,
  touchSessions,
} from './heartbeat.ts';
import { onClientRequest } from './serving.ts';
import { drainLogWriter, IDLE_LOG_WRITER, runLogWriter } from './logwriter.ts';
import { enqueueSyncReply, fenceCommitProcessor, IDLE_COMMIT_PROCESSOR, runCommitProcessor } from './commitproc.ts';
import { runLearnerHandler } from './learnerhandler.ts';
import { onPurgeTimer, persist, snapshotThreadStep, startPurge, takePendingWrite, TIMER_PURGE } from './persist.ts';
import type { ProbeSink } from './probes.ts';
import { onLeaderCurrentEpochDurable, onSyncingLearnerPacket, onSyncPacket, resumeNewLeader, startSync, TIMER_NEWLEADER_WAIT } from './sync.ts';
import type { DurableImage, Effect, Input, LearnerHandler, Message, NewLeaderMarker, PersistOp, ServerState } from './types.ts';
import { epochOf, formatZxid } from './zxid.ts';

type S = ServerState;

export const TIMER_OBSERVER_DELAY = 'observer.electionDelay';

export interface StepResult {
  readonly state: ServerState;
  readonly effects: readonly Effect[];
}

/** The state of a server that has not started (or has crashed): nothing but its id. */
export function blankState(sid: Sid): ServerState {
  return {
    sid,
    up: false,
    state: 'LOOKING',
    zabState: 'ELECTION',
    acceptedEpoch: 0,
    currentEpoch: 0,
    currentVote: { leader: sid, zxid: 0, electionEpoch: -1, peerEpoch: 0 },
    fle: {
      logicalclock: 0,
      proposedLeader: sid,
      proposedZxid: 0,
      proposedEpoch: 0,
      recvset: {},
      outofelection: {},
      notTimeoutMs: 0,
      finalizing: false,
      running: false,
      queued: [],
    },
    db: EMPTY_DB,
    leader: null,
    learner: null,
    role: 0,
    nextToken: 1,
    durableToken: 0,
    flushing: false,
    writes: [],
    snapshotsTaken: 0,
    snapThread: null,
    logWriter: IDLE_LOG_WRITER,
    commitProcessor: IDLE_COMMIT_PROCESSOR,
  };
}

/** The leader a server follows or observes, itself when it leads, or null (LOOKING, or not yet connected). */
export function leaderOf(s: ServerState): Sid | null {
  return s.state === 'LEADING' ? s.sid : (s.learner?.leader ?? null);
}

/** The pure transition function of one server; `probe` receives the coverage probes it passes (null: off). */
export function step(cfg: ClusterConfig, state: ServerState, input: Input, probe: ProbeSink | null = null): StepResult {
  const effects: Effect[] = [];
  return { state: stepWith({ cfg, sid: state.sid, effects, probe, owned: [] }, state, input), effects };
}

/**
 * {@link step} with the caller's context, whose `effects` and `owned` must be empty (and `sid`
 * the state's): returns the next state and leaves the effects in `ctx.effects`. The kernel
 * steps through this with contexts it reuses, so a step allocates neither its context, nor its
 * lists, nor a result.
 */
export function stepWith(ctx: StepContext, state: ServerState, input: Input): ServerState {
  // The handlers write this step's copy of the state, copying what they write (cow.ts); Db,
  // TxnLog, Fifo and DataTree values are immutable classes, replaced rather than written.
  const d = beginServerStep(state);
  dispatch(d, ctx, input);
  if (d.snapThread !== null) snapshotThreadStep(d, ctx);
  return endServerStep(d, state);
}

function dispatch(s: S, ctx: StepContext, input: Input): void {
  if (input.kind === 'start') {
    start(s, ctx, input.durable);
    return;
  }
  if (!s.up) {
    // A halted process handles nothing; the kernel should not have delivered this.
    throw new Error(`s${s.sid} received ${input.kind} while not up`);
  }
  switch (input.kind) {
    case 'message':
      onMessage(s, ctx, input.from, input.msg);
      return;
    case 'timer':
      onTimer(s, ctx, input.timer);
      return;
    case 'disconnected':
      onDisconnected(s, ctx, input.peer);
      return;
    case 'fsyncDone':
      onFsyncDone(s, ctx, input.token);
      return;
    case 'writeFailed':
      onWriteFailed(s, ctx, input.token, input.write, input.durable);
      return;
    case 'clientRequest': {
      const reason = onClientRequest(s, ctx, input.request);
      if (reason !== null) goLooking(s, ctx, reason);
      return;
    }
    case 'roleFailed':
      // QuorumPeer.run: whatever the role's thread threw, the peer shuts the role down and elects again.
      if (s.state === 'LOOKING') note(ctx, `ignored the failure (${input.reason}): already LOOKING, no role to end`);
      else goLooking(s, ctx, input.reason);
      return;
    case 'stage':
      if (input.stage === 'logWriter') runLogWriter(s, ctx);
      else if (input.stage === 'commitProcessor') runCommitProcessor(s, ctx);
      else if (input.stage !== 'protocol') runLearnerHandler(s, ctx, Number(input.stage.slice(8)));
      else if (s.learner?.blocked?.on === 'yield') unblock(s, ctx, s.learner.blocked.token);
      return;
  }
}

function halt(s: S, ctx: StepContext, reason: string): void {
  ctx.effects.push({ kind: 'halt', reason });
  s.up = false;
}

// ---------------------------------------------------------------------------------------------
// Start: QuorumPeer.loadDataBase then startLeaderElection (§1.1)

/** QuorumPeer.loadDataBase's epoch writes: a failure of one stops the process (see onWriteFailed). */
function persistEpoch(s: S, ctx: StepContext, file: 'acceptedEpoch' | 'currentEpoch', value: number): void {
  persist(s, ctx, { op: 'writeEpoch', file, value }, { kind: 'startup', role: s.role });
}

/** FileSnap.deserialize's "problem reading snap file" for each newer snapshot that fails its CRC. */
function noteSkippedSnapshots(ctx: StepContext, durable: DurableImage): void {
  const k = validSnapshotIndex(durable.snapshots);
  if (k === null || k < 0) return;
  for (let i = durable.snapshots.length - 1; i > k; i--) {
    note(ctx, `problem reading snap file snapshot.${formatZxid((durable.snapshots[i] as { zxid: number }).zxid)}: CRC check failed; trying the one before`);
  }
}

function start(s: S, ctx: StepContext, durable: DurableImage): void {
  if (s.up) throw new Error(`s${s.sid} started twice`);
  if (durable.damagedTail === 'corrupt') {
    // FileTxnIterator.next throws IOException("CRC check failed") on a record whose checksum does
    // not match; FileTxnSnapLog.restore passes it up, and QuorumPeer.loadDataBase turns it into
    // "Unable to run quorum server": the process exits, and exits again at every start until an
    // operator removes the record.
    halt(s, ctx, `Unable to load database on disk: CRC check failed on the txn log record after ${formatZxid(durable.log[durable.log.length - 1]?.zxid ?? 0)}`);
    return;
  }
  if (durable.damagedTail === 'torn') {
    // Util.readTxnBytes returns null on a record cut short ("Last transaction was partial."), which
    // FileTxnIterator.next treats as the end of that file: the server starts with the prefix.
    note(ctx, `Last transaction was partial: the txn log ends at ${formatZxid(durable.log[durable.log.length - 1]?.zxid ?? 0)}`);
  }
  // FileTxnSnapLog.restore (docs/protocol.md §1.1 and "Snapshots").
  const outcome = restoreOutcome(durable, ctx.cfg.params.snapshotTrustEmpty === 1);
  if (outcome.kind === 'refuse') {
    halt(s, ctx, `Unable to load database on disk: ${outcome.reason}`);
    return;
  }
  noteSkippedSnapshots(ctx, durable);
  s.db = loadDatabase(durable);
  if (outcome.kind === 'fresh') {
    // An empty snapshot.0, written without an fsync (save(dt, sessions, false)).
    s.db = withFreshSnapshot(s.db);
    note(ctx, 'fresh data directory: writing an empty snapshot.0');
    persist(s, ctx, { op: 'snapshot', snapshot: EMPTY_SNAPSHOT, noFsync: true }, { kind: 'startup', role: s.role });
  } else if (durable.snapshots.length === 0) {
    note(ctx, 'No snapshot found, but there are log entries. This should only be allowed during upgrading. (zookeeper.snapshot.trust.empty)');
  }
  const last = s.db.lastProcessedZxid;
  const epochOfZxid = epochOf(last);
  let currentEpoch = durable.currentEpoch;
  if (currentEpoch === null) {
    currentEpoch = epochOfZxid;
    note(ctx, `currentEpoch not found, using ${currentEpoch} (epoch of the last zxid)`);
    persistEpoch(s, ctx, 'currentEpoch', currentEpoch);
  }
  if (epochOfZxid > currentEpoch) {
    if (durable.currentEpochTmp !== null) {
      // QuorumPeer.loadDataBase (3.9): the crash came between the tmp file and its rename.
      note(ctx, `currentEpoch.tmp found: setting currentEpoch to ${durable.currentEpochTmp}`);
      currentEpoch = durable.currentEpochTmp;
      persistEpoch(s, ctx, 'currentEpoch', currentEpoch);
    } else if (durable.updatingEpoch) {
      // 3.4.6's fix for ZOOKEEPER-1653 (zab-bugs.md B4): the marker says the server stopped
      // between its NEWLEADER writes and its currentEpoch write, so the last zxid's epoch was
      // accepted; take it, then delete the marker.
      note(ctx, `updatingEpoch found: setting currentEpoch to ${epochOfZxid}, the epoch of the last zxid`);
      currentEpoch = epochOfZxid;
      persistEpoch(s, ctx, 'currentEpoch', currentEpoch);
      persist(s, ctx, { op: 'updatingEpoch', exists: false }, { kind: 'startup', role: s.role });
    } else {
      halt(s, ctx, `The current epoch, ${currentEpoch}, is older than the last zxid, ${formatZxid(last)}`);
      return;
    }
  }
  let acceptedEpoch = durable.acceptedEpoch;
  if (acceptedEpoch === null) {
    acceptedEpoch = epochOfZxid;
    note(ctx, `acceptedEpoch not found, using ${acceptedEpoch} (epoch of the last zxid)`);
    persistEpoch(s, ctx, 'acceptedEpoch', acceptedEpoch);
  }
  if (acceptedEpoch < currentEpoch) {
    halt(s, ctx, `The accepted epoch, ${acceptedEpoch} is less than the current epoch, ${currentEpoch}`);
    return;
  }
  s.up = true;
  s.acceptedEpoch = acceptedEpoch;
  s.currentEpoch = currentEpoch;
  s.currentVote = { leader: s.sid, zxid: last, electionEpoch: -1, peerEpoch: currentEpoch };
  ownFle(ctx, s).logicalclock = 0;
  s.state = 'LOOKING';
  s.zabState = 'ELECTION';
  startPurge(s, ctx);
  enterRole(s, ctx, lookForLeader(s, ctx));
}

// ---------------------------------------------------------------------------------------------
// Roles

function enterRole(s: S, ctx: StepContext, decision: Decision | null): void {
  if (decision === null) return;
  if (decision.role === 'LEADING') enterLeading(s, ctx);
  else enterLearning(s, ctx, decision.role, decision.vote.leader);
}

/**
 * A role ended (or a start-up election must run again): close every quorum connection, drop
 * role state, fast-forward the database from the log (ZOOKEEPER-2845; an interrupted SNAP sync
 * first goes back to the database it replaced, ZOOKEEPER-3642) and start a new FLE round. An
 * observer first waits a random [0, 200) ms (§3.4).
 */
export function goLooking(s: S, ctx: StepContext, reason: string): void {
  note(ctx, `going LOOKING: ${reason}`);
  if (s.leader !== null) {
    for (const key in s.leader.learners) {
      const sid = Number(key);
      cancelTimer(ctx, handlerReadTimer(sid));
      disconnect(ctx, sid);
    }
    cancelTimer(ctx, TIMER_PING);
    cancelTimer(ctx, TIMER_EPOCH_WAIT);
    cancelTimer(ctx, TIMER_NEWLEADER_WAIT);
  }
  if (s.learner !== null) {
    disconnect(ctx, s.learner.leader);
    cancelTimer(ctx, TIMER_LEARNER_READ);
    cancelTimer(ctx, TIMER_CONNECT_RETRY);
    const pre = s.learner.sync.preSnapDb;
    // ZOOKEEPER-3642's fix: a SNAP sync that did not reach NEWLEADER leaves nothing in memory.
    if (pre !== null) {
      if (ctx.cfg.flaws.learner_retains_partial_snap_on_abort) note(ctx, `kept the SNAP loaded in memory at ${formatZxid(s.db.lastProcessedZxid)}, though it is not on disk`);
      else s.db = pre;
    }
  }
  // ZooKeeper 3.9.3 shuts the log writer down (writing what it holds) before fastForwardDataBase;
  // ZOOKEEPER-4712 is the bug where it kept running and wrote after the fast-forward.
  if (ctx.cfg.flaws.shutdown_leaves_log_writer_running) {
    if (s.logWriter.queue.length > 0) note(ctx, `log writer left running with ${s.logWriter.queue.length} queued txns`);
  } else {
    drainLogWriter(s, ctx);
  }
  fenceCommitProcessor(s, ctx);
  // ZOOKEEPER-2845 (B6), 3.4.10-3.4.11 and 3.5.3: the retained database is not fast-forwarded,
  // so the vote and ACKEPOCH carry the last applied zxid, below any logged, uncommitted txn.
  if (!ctx.cfg.flaws.election_advertises_in_memory_zxid) s.db = fastForward(s.db);
  const diffZxid = s.learner?.phase === 'sync' ? s.learner.sync.diffZxid : null;
  if (diffZxid !== null && diffZxid > s.db.lastProcessedZxid && ctx.cfg.flaws.learner_sets_lastzxid_on_diff_header) {
    // ZOOKEEPER-2355: lastProcessedZxid was set from the DIFF header before the txns after it
    // were read; the sync broke off, and the server claims the header's zxid without its txns.
    note(ctx, `DIFF sync cut short: lastProcessedZxid stays at the DIFF header ${formatZxid(diffZxid)}`);
    s.db = setLastProcessed(s.db, diffZxid);
  }
  s.leader = null;
  s.learner = null;
  s.writes = [];
  s.role++;
  s.state = 'LOOKING';
  s.zabState = 'ELECTION';
  if (s.durableToken < s.nextToken - 1) {
    // ZooKeeperServer.shutdown flushes the log writer (SyncRequestProcessor) before the peer
    // looks for a leader, so the zxid it votes with is durable (I8; ZOOKEEPER-4712 is the bug
    // where it was not).
    ownFle(ctx, s).running = false;
    s.flushing = true;
    note(ctx, `flushing ${s.nextToken - 1 - s.durableToken} pending writes before looking for a leader`);
    return;
  }
  startLooking(s, ctx);
}

/** The election starts (after an observer's random delay). */
function startLooking(s: S, ctx: StepContext): void {
  if (!isVoter(ctx.cfg, s.sid)) {
    ownFle(ctx, s).running = false;
    setTimer(ctx, TIMER_OBSERVER_DELAY, 0, ctx.cfg.params.observerElectionDelayMs);
    return;
  }
  enterRole(s, ctx, lookForLeader(s, ctx));
}

// ---------------------------------------------------------------------------------------------
// Messages

function onMessage(s: S, ctx: StepContext, from: Sid, msg: Message): void {
  switch (msg.type) {
    case 'NOTIFICATION':
      enterRole(s, ctx, onNotification(s, ctx, from, msg));
      return;
    case 'FOLLOWERINFO':
    case 'OBSERVERINFO':
      onLearnerInfo(s, ctx, from, msg);
      return;
    case 'ACKEPOCH':
    case 'ACK':
    case 'REQUEST':
      onLearnerPacket(s, ctx, from, msg);
      return;
    case 'PING':
      if (s.state === 'LEADING') onLearnerPacket(s, ctx, from, msg);
      else onLeaderPacket(s, ctx, from, msg);
      return;
    default:
      onLeaderPacket(s, ctx, from, msg);
  }
}

/** A packet from a learner at the leader, routed by its handler's stage. */
function onLearnerPacket(s: S, ctx: StepContext, from: Sid, msg: Message): void {
  const l = s.leader;
  const h = l?.learners[from];
  if (l === null || l === undefined || h === undefined) {
    note(ctx, `ignored ${msg.type} from s${from}: no learner handler`);
    return;
  }
  heardFromLearner(s, ctx, h);
  switch (h.stage) {
    case 'ackepoch':
      if (msg.type === 'ACKEPOCH') onAckEpoch(s, ctx, from, msg, (w) => startSync(s, ctx, w));
      else note(ctx, `ignored ${msg.type} from s${from}: waiting for ACKEPOCH`);
      return;
    case 'sync':
      onSyncingLearnerPacket(s, ctx, h, msg, (sid) => dropLearner(s, ctx, sid));
      return;
    case 'epoch':
    case 'epoch-quorum':
      note(ctx, `ignored ${msg.type} from s${from}: its handler is waiting for the epoch`);
      return;
    case 'synced':
    case 'broadcast':
      onBroadcastLearnerPacket(s, ctx, h, msg);
      return;
  }
}

function onBroadcastLearnerPacket(s: S, ctx: StepContext, h: LearnerHandler, msg: Message): void {
  switch (msg.type) {
    case 'ACK':
      processAck(s, ctx, h.sid, msg.zxid);
      return;
    case 'PING':
      if (msg.sessions !== undefined) touchSessions(s, ctx, msg.sessions);
      return;
    case 'REQUEST': {
      if (msg.request.kind === 'sync') {
        processSync(s, ctx, msg.request.origin);
        return;
      }
      const reason = propose(s, ctx, msg.request.txn);
      if (reason !== null) goLooking(s, ctx, reason);
      return;
    }
    default:
      note(ctx, `ignored ${msg.type} from learner s${h.sid}`);
  }
}

/** A packet from the leader at a learner. While blocked on a write, it waits in the inbox. */
function onLeaderPacket(s: S, ctx: StepContext, from: Sid, msg: Message): void {
  const l = s.learner;
  if (l === null || l.leader !== from) {
    note(ctx, `ignored ${msg.type} from s${from}: not my leader`);
    return;
  }
  heardFromLeader(s, ctx);
  if (l.blocked !== null) {
    const w = ownLearner(ctx, s);
    w.inbox = w.inbox.push(msg);
    return;
  }
  processLeaderPacket(s, ctx, msg);
}

function processLeaderPacket(s: S, ctx: StepContext, msg: Message): void {
  const l = s.learner;
  if (l === null) return;
  switch (l.phase) {
    case 'discovery': {
      if (msg.type !== 'LEADERINFO') {
        goLooking(s, ctx, `expected LEADERINFO from leader s${l.leader}, got ${msg.type}`);
        return;
      }
      const reason = onLeaderInfo(s, ctx, msg);
      if (reason !== null) goLooking(s, ctx, reason);
      return;
    }
    case 'sync': {
      const r = onSyncPacket(s, ctx, msg);
      if (r === null) return;
      if ('halt' in r) halt(s, ctx, r.halt);
      else goLooking(s, ctx, r.fail);
      return;
    }
    case 'broadcast':
      onBroadcastPacket(s, ctx, msg);
      return;
  }
}

function onBroadcastPacket(s: S, ctx: StepContext, msg: Message): void {
  const l = s.learner;
  if (l === null) return;
  switch (msg.type) {
    case 'PROPOSAL':
      if (s.state === 'FOLLOWING') onProposal(s, ctx, msg);
      else note(ctx, 'ignored PROPOSAL: observers get INFORM');
      return;
    case 'COMMIT': {
      const reason = onCommit(s, ctx, msg.zxid);
      if (reason !== null) halt(s, ctx, reason);
      return;
    }
    case 'INFORM':
      // The leader sends INFORM only to observers (§6).
      if (s.state === 'OBSERVING') onInform(s, ctx, msg);
      else note(ctx, 'ignored INFORM: followers get PROPOSAL and COMMIT');
      return;
    case 'PING':
      echoPing(s, ctx, msg);
      return;
    case 'SYNC':
      // FollowerZooKeeperServer.sync: through the CommitProcessor, after what was committed before.
      if (msg.origin.server === s.sid) enqueueSyncReply(s, ctx, msg.origin);
      return;
    default:
      note(ctx, `ignored ${msg.type} from the leader in broadcast`);
  }
}

// ---------------------------------------------------------------------------------------------
// Writes, timers, connections

/** A write is finished (durable, or failed): a flush before looking may be complete. */
function finishedWrite(s: S, ctx: StepContext, token: number): void {
  if (token > s.durableToken) s.durableToken = token;
  if (s.flushing && s.durableToken >= s.nextToken - 1) {
    s.flushing = false;
    if (s.state === 'LOOKING') startLooking(s, ctx);
  }
}

function onFsyncDone(s: S, ctx: StepContext, token: number): void {
  finishedWrite(s, ctx, token);
  const w = takePendingWrite(s, token);
  if (w === undefined) return;
  if (w.role !== s.role) return;
  switch (w.kind) {
    case 'block':
      unblock(s, ctx, token);
      return;
    case 'ack':
      if (s.learner !== null && s.state === 'FOLLOWING') send(ctx, s.learner.leader, { type: 'ACK', zxid: w.zxid });
      return;
    case 'leaderAck':
      processAck(s, ctx, s.sid, w.zxid);
      return;
    case 'leaderAcceptedEpoch':
      onLeaderAcceptedEpochDurable(s, ctx);
      return;
    case 'leaderCurrentEpoch':
      onLeaderCurrentEpochDurable(s, ctx);
      return;
    case 'startup':
      return;
  }
}

/**
 * A write failed: an injected storage fault (an I/O error at its fsync, or a full disk). What
 * ZooKeeper 3.9.3 does depends on the write (docs/protocol.md, "Storage faults"):
 * - a TRUNC's truncate: Learner.syncWithLeader logs "Not able to truncate the log" and calls
 *   ServiceUtils.requestSystemExit (ZOOKEEPER-3701, zab-bugs.md S20): the process exits;
 * - a snapshot: ZooKeeperServer.takeSnapshot(syncSnap, isSevere = true) logs "Severe
 *   unrecoverable error, exiting" and exits;
 * - an epoch file (QuorumPeer.writeLongToFile through AtomicFileWritingIdiom, which deletes its
 *   tmp file and rethrows): setAcceptedEpoch / setCurrentEpoch set the field only after the file
 *   is written, so memory keeps the durable value; the IOException ends the role (followLeader's
 *   and QuorumPeer.run's catch) and the peer goes LOOKING. At start-up (loadDataBase) it stops the
 *   process ("Unable to load database on disk");
 * - a txn log append: the process exits. This is zabsim's choice, not 3.9's: there the dead
 *   SyncRequestProcessor sets the server's state to ERROR (ZooKeeperCriticalThread, ZOOKEEPER-2247)
 *   and the role ends at its next isRunning check, with the txn applied in memory if a quorum
 *   acked it elsewhere but missing from this server's log.
 */
function onWriteFailed(s: S, ctx: StepContext, token: number, write: PersistOp, durable: DurableImage): void {
  const w = takePendingWrite(s, token);
  switch (write.op) {
    case 'truncateLog':
      halt(s, ctx, `Not able to truncate the log to ${formatZxid(write.zxid)}`);
      return;
    case 'snapshot':
      // The empty snapshot.0 of a fresh directory is written inside FileTxnSnapLog.restore: its
      // IOException is QuorumPeer.loadDataBase's "Unable to load database on disk".
      if (w?.kind === 'startup') halt(s, ctx, `Unable to load database on disk: writing snapshot.0 failed`);
      else halt(s, ctx, `Severe unrecoverable error, exiting: the snapshot at ${formatZxid(write.snapshot.zxid)} could not be written`);
      return;
    case 'appendLog':
      halt(s, ctx, `the txn log append of ${formatZxid(write.entry.zxid)} failed: exiting`);
      return;
    case 'writeEpoch':
    case 'updatingEpoch': {
      const what = write.op === 'writeEpoch' ? `${write.file} := ${write.value}` : 'the updatingEpoch marker';
      if (w?.kind === 'startup') {
        halt(s, ctx, `Unable to load database on disk: writing ${what} failed`);
        return;
      }
      const marker = s.learner?.sync.marker;
      if (write.op === 'updatingEpoch' && write.exists && marker !== undefined && marker !== null && marker.token === token) {
        undoAfterMarker(s, ctx, marker);
      } else if (write.op === 'writeEpoch') {
        const kept = durable[write.file];
        if (kept !== null) {
          if (write.file === 'acceptedEpoch') s.acceptedEpoch = kept;
          else s.currentEpoch = kept;
        }
      }
      finishedWrite(s, ctx, token);
      if (s.leader !== null || s.learner !== null) goLooking(s, ctx, `writing ${what} failed (IOException)`);
      else note(ctx, `writing ${what} failed; no role to end`);
      return;
    }
  }
}

/**
 * The updatingEpoch marker of NEWLEADER could not be created (docs/protocol.md, Storage faults,
 * "Failing updatingEpoch marker"). In ZooKeeper 3.4.6 `File.createNewFile` is synchronous and its
 * IOException leaves syncWithLeader before the snapshot, the log appends, setCurrentEpoch and the
 * ACK: none of them is ever issued. zabsim issued them behind the marker without waiting (the disk
 * completes writes in order, so none of them is durable yet): the disk drops them, and memory goes
 * back to what it held at the marker (for a SNAP, the database before it: ZOOKEEPER-3642's rule).
 * Writes issued before the marker stay, and a purge (DatadirCleanupManager's thread) still runs.
 */
function undoAfterMarker(s: S, ctx: StepContext, marker: NewLeaderMarker): void {
  const dropped = s.nextToken - 1 - marker.token;
  if (dropped > 0) {
    note(ctx, `Failed to create updatingEpoch: dropping the ${dropped} writes queued behind it, which ZooKeeper never issues`);
    ctx.effects.push({ kind: 'dropWrites', afterToken: marker.token });
  }
  s.db = marker.db;
  s.currentEpoch = marker.currentEpoch;
  s.logWriter = { queue: marker.logQueue, woken: s.logWriter.woken };
  const sync = own(ctx, ownLearner(ctx, s), 'sync');
  sync.preSnapDb = marker.preSnapDb;
  sync.marker = null;
  // Every token after the marker is dropped or a purge, which the role's shutdown does not wait for.
  s.durableToken = s.nextToken - 1;
}

/** The learner's synchronous write is durable: carry on, then read what queued meanwhile. */
function unblock(s: S, ctx: StepContext, token: number): void {
  if (s.learner === null || s.learner.blocked === null || s.learner.blocked.token !== token) return;
  const on = s.learner.blocked.on;
  const l = ownLearner(ctx, s);
  l.blocked = null;
  if (on === 'ackepoch') sendAckEpoch(s, ctx, s.currentEpoch);
  else if (on === 'newleader-log' || on === 'newleader-epoch' || on === 'yield') resumeNewLeader(s, ctx);
  while (s.learner !== null && s.learner === l && l.blocked === null && l.inbox.length > 0 && s.up) {
    const msg = l.inbox.first() as Message;
    l.inbox = l.inbox.rest();
    processLeaderPacket(s, ctx, msg);
  }
}

function onTimer(s: S, ctx: StepContext, timer: string): void {
  switch (timer) {
    case TIMER_POLL:
      onPollTimeout(s, ctx);
      return;
    case TIMER_FINALIZE:
      enterRole(s, ctx, onFinalizeTimeout(s, ctx));
      return;
    case TIMER_OBSERVER_DELAY:
      if (s.state === 'LOOKING' && !s.fle.running) enterRole(s, ctx, lookForLeader(s, ctx));
      return;
    case TIMER_EPOCH_WAIT:
      if (s.leader !== null && !s.leader.electionFinished) {
        goLooking(s, ctx, s.leader.epochDecided ? 'Timeout while waiting for epoch to be acked by quorum' : 'Timeout while waiting for epoch from quorum');
      }
      return;
    case TIMER_NEWLEADER_WAIT:
      if (s.leader !== null && !s.leader.established) goLooking(s, ctx, 'Timeout while waiting for NEWLEADER to be acked by quorum');
      return;
    case TIMER_CONNECT_RETRY:
      onConnectRetry(s, ctx);
      return;
    case TIMER_PURGE:
      onPurgeTimer(s, ctx);
      return;
    case TIMER_PING: {
      const r = onPingTimer(s, ctx);
      if (r.abdicate) {
        goLooking(s, ctx, r.reason);
        return;
      }
      for (const sid of r.drop) {
        note(ctx, `learner s${sid}: oldest PROPOSAL unacked for syncLimit·tickTime, dropping it`);
        dropLearner(s, ctx, sid);
      }
      expireSessions(s, ctx, r.expired);
      return;
    }
    case TIMER_LEARNER_READ:
      if (s.learner !== null) goLooking(s, ctx, `read timeout: nothing from leader s${s.learner.leader}`);
      return;
  }
  const handler = handlerOfTimer(timer);
  if (handler !== null) {
    if (s.leader?.learners[handler] !== undefined) {
      note(ctx, `learner handler for s${handler}: read timeout, dropping it`);
      dropLearner(s, ctx, handler);
    }
    return;
  }
  throw new Error(`s${s.sid}: unknown timer ${timer}`);
}

/** SessionTracker: an expired session is closed by a closeSession txn the leader proposes. */
function expireSessions(s: S, ctx: StepContext, expired: readonly number[]): void {
  if (s.leader === null) return;
  for (const id of expired) {
    delete own(ctx, ownLeader(ctx, s), 'sessionExpiry')[id];
    note(ctx, `session ${id} expired`);
    const reason = propose(s, ctx, { type: 'closeSession', session: id });
    if (reason !== null) {
      goLooking(s, ctx, reason);
      return;
    }
  }
}

function onDisconnected(s: S, ctx: StepContext, peer: Sid): void {
  if (s.leader !== null && s.leader.learners[peer] !== undefined) {
    note(ctx, `learner handler for s${peer}: connection closed`);
    delete own(ctx, ownLeader(ctx, s), 'learners')[peer];
    cancelTimer(ctx, handlerReadTimer(peer));
    return;
  }
  if (s.learner !== null && s.learner.leader === peer) {
    if (onLearnerDisconnected(s, ctx) === 'lost') goLooking(s, ctx, `connection to leader s${peer} closed`);
  }
}
