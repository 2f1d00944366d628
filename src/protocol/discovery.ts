/**
 * Discovery (zab-protocol.md §4): FOLLOWERINFO/OBSERVERINFO → LEADERINFO → ACKEPOCH.
 *
 * Learner: connect (a refused connection is retried up to 5 times, 1 s apart) and send
 * FOLLOWERINFO(acceptedEpoch << 32); on LEADERINFO(e): e > acceptedEpoch → persist acceptedEpoch,
 * then (after the fsync) ACKEPOCH(lastLoggedZxid, currentEpoch); e = acceptedEpoch → ACKEPOCH
 * with -1; e < acceptedEpoch → LOOKING.
 *
 * Leader: getEpochToPropose (newEpoch = 1 + the greatest acceptedEpoch of everyone who connected
 * before the decision, observers included; decided when the connected voters, leader included,
 * form a quorum; then acceptedEpoch is persisted and LEADERINFO goes out), then waitForEpochAck
 * (a follower newer than the leader is rejected; a quorum of counted ACKEPOCHs, leader included,
 * finishes it; currentEpoch is persisted and SYNCHRONIZATION starts). Each wait gives up after
 * initLimit·tickTime.
 */
import { isQuorum, isVoter, type Sid } from './config.ts';
import { cancelTimer, disconnect, note, send, setTimer, type StepContext } from './context.ts';
import { own, ownHandler, ownLeader, ownLearner } from './cow.ts';
import { Fifo } from './fifo.ts';
import { persist, snapshotNow } from './persist.ts';
import { handlerReadTimer, TIMER_LEARNER_READ } from './heartbeat.ts';
import type { AckEpoch, LeaderInfo, LeaderState, LearnerHandler, LearnerInfo, ServerState } from './types.ts';
import { epochOf, formatZxid, zxid } from './zxid.ts';

type S = ServerState;

export const TIMER_EPOCH_WAIT = 'leader.epochWait';
export const TIMER_CONNECT_RETRY = 'learner.connectRetry';

/** Learner.connectToLeader tries this many times, 1 s apart (§9 connectToLearnerMasterLimit). */
export const CONNECT_TRIES = 5;
export const CONNECT_RETRY_MS = 1000;

function initLimitMs(ctx: StepContext): number {
  return ctx.cfg.params.initLimitTicks * ctx.cfg.params.tickTimeMs;
}

// ---------------------------------------------------------------------------------------------
// Leader

/**
 * Leader.lead up to the epoch decision: DISCOVERY, tick 0, snapshot (loadData), leaderStateSummary,
 * then the leader's own getEpochToPropose.
 */
export function enterLeading(s: S, ctx: StepContext): void {
  s.state = 'LEADING';
  s.zabState = 'DISCOVERY';
  s.learner = null;
  s.role++;
  snapshotNow(s, ctx);
  s.leader = {
    tick: 0,
    wakeups: 0,
    epoch: -1,
    epochDecided: false,
    epochDurable: false,
    connecting: [],
    summaryEpoch: s.currentEpoch,
    summaryZxid: s.db.lastProcessedZxid,
    electing: [],
    electionFinished: false,
    newLeaderAcks: [],
    established: false,
    lastProposed: 0,
    lastCommitted: 0,
    outstanding: Fifo.empty(),
    toBeApplied: Fifo.empty(),
    pendingSyncs: Fifo.empty(),
    learners: {},
    sessionExpiry: {},
  };
  setTimer(ctx, TIMER_EPOCH_WAIT, initLimitMs(ctx));
  getEpochToPropose(s, ctx, s.sid, s.acceptedEpoch);
}

/** Leader.getEpochToPropose for one caller (§4.3). */
function getEpochToPropose(s: S, ctx: StepContext, sid: Sid, lastAcceptedEpoch: number): void {
  if (s.leader === null || s.leader.epochDecided) return;
  const l = ownLeader(ctx, s);
  if (ctx.cfg.flaws.epoch_from_last_logged_zxid) {
    // ZOOKEEPER-335 (B1), 3.3's Leader.lead: epoch = (getLastLoggedZxid() >> 32) + 1, the
    // leader's own log alone; no acceptedEpoch of anyone takes part.
    l.epoch = epochOf(s.db.log.lastZxid(s.db.lastProcessedZxid)) + 1;
  } else if (lastAcceptedEpoch >= l.epoch) l.epoch = lastAcceptedEpoch + 1;
  if (isVoter(ctx.cfg, sid) && !l.connecting.includes(sid)) l.connecting = [...l.connecting, sid];
  if (l.connecting.includes(s.sid) && isQuorum(ctx.cfg, l.connecting.length)) {
    l.epochDecided = true;
    // Under the ZOOKEEPER-335 flaw the epoch may be below the file's; the file never goes down.
    s.acceptedEpoch = Math.max(s.acceptedEpoch, l.epoch);
    note(ctx, `epoch ${l.epoch} decided with [${l.connecting.join(',')}]; writing acceptedEpoch`);
    persist(s, ctx, { op: 'writeEpoch', file: 'acceptedEpoch', value: s.acceptedEpoch }, { kind: 'leaderAcceptedEpoch', role: s.role });
  }
}

/** acceptedEpoch is durable: every waiting handler sends LEADERINFO; the leader acks its own epoch. */
export function onLeaderAcceptedEpochDurable(s: S, ctx: StepContext): void {
  if (s.leader === null) return;
  const l = ownLeader(ctx, s);
  l.epochDurable = true;
  // waitForEpochAck has its own initLimit·tickTime wait.
  setTimer(ctx, TIMER_EPOCH_WAIT, initLimitMs(ctx));
  for (const key in l.learners) {
    const h = l.learners[key];
    if (h !== undefined && h.stage === 'epoch') sendLeaderInfo(s, ctx, h.sid);
  }
  waitForEpochAck(s, ctx, s.sid, l.summaryEpoch, l.summaryZxid);
}

function sendLeaderInfo(s: S, ctx: StepContext, sid: Sid): void {
  const l = s.leader;
  if (l === null) return;
  ownHandler(ctx, s, sid).stage = 'ackepoch';
  send(ctx, sid, { type: 'LEADERINFO', zxid: zxid(l.epoch, 0) });
}

/** FOLLOWERINFO/OBSERVERINFO arriving anywhere. Only a leader listens on the quorum port. */
export function onLearnerInfo(s: S, ctx: StepContext, from: Sid, msg: LearnerInfo): void {
  if (s.state !== 'LEADING' || s.leader === null) {
    note(ctx, `refused ${msg.type} from s${from}: not leading`);
    disconnect(ctx, from);
    return;
  }
  const l = ownLeader(ctx, s);
  const p = ctx.cfg.params;
  const observer = msg.type === 'OBSERVERINFO' || !isVoter(ctx.cfg, from);
  const h: LearnerHandler = {
    sid: from,
    observer,
    stage: 'epoch',
    acceptedEpoch: epochOf(msg.zxid),
    peerLastZxid: 0,
    // A new handler may miss initLimit + syncLimit ticks before it counts as not synced (§7).
    deadlineTick: l.tick + p.initLimitTicks + p.syncLimitTicks,
    forwarding: false,
    syncCheck: { started: false, currentZxid: 0, currentTime: 0, nextZxid: 0, nextTime: 0 },
    snapSync: null,
  };
  own(ctx, l, 'learners')[from] = h;
  // §2.2 SYNC / §6: a pending `sync` is answered on the connection it came in on
  // (LearnerSyncRequest.fh, Leader.sendSync). This learner's earlier connection is gone, so its
  // pending syncs die with it; answering them on the new connection would reach a learner that is
  // still in Discovery/Sync and expects DIFF, SNAP or TRUNC first.
  if (l.pendingSyncs.items.some((x) => x.origin.server === from)) l.pendingSyncs = l.pendingSyncs.filter((x) => x.origin.server !== from);
  setTimer(ctx, handlerReadTimer(from), initLimitMs(ctx));
  getEpochToPropose(s, ctx, from, h.acceptedEpoch);
  const hd = l.learners[from];
  if (hd !== undefined && l.epochDurable) sendLeaderInfo(s, ctx, from);
}

/** ACKEPOCH at the leader: LearnerHandler reads it right after LEADERINFO. */
export function onAckEpoch(s: S, ctx: StepContext, from: Sid, msg: AckEpoch, startSync: (h: LearnerHandler) => void): void {
  const l = s.leader;
  const h = l?.learners[from];
  if (l === null || h === undefined || h.stage !== 'ackepoch') {
    note(ctx, `ignored ACKEPOCH from s${from}: no handler waiting for it`);
    return;
  }
  const hw = ownHandler(ctx, s, from);
  hw.peerLastZxid = msg.zxid;
  if (!l.electionFinished) {
    // StateSummary.isMoreRecentThan: the follower must not be newer than the leader.
    // 3.3 had no StateSummary: under the ZOOKEEPER-335 flaw no follower is refused as newer.
    if (!ctx.cfg.flaws.epoch_from_last_logged_zxid && msg.currentEpoch !== -1 && (msg.currentEpoch > l.summaryEpoch || (msg.currentEpoch === l.summaryEpoch && msg.zxid > l.summaryZxid))) {
      note(ctx, `Follower is ahead of the leader: s${from} has (${msg.currentEpoch}, ${formatZxid(msg.zxid)}), leader (${l.summaryEpoch}, ${formatZxid(l.summaryZxid)}); dropping it`);
      dropLearner(s, ctx, from);
      return;
    }
    hw.stage = 'epoch-quorum';
    waitForEpochAck(s, ctx, from, msg.currentEpoch, msg.zxid);
    const cur = s.leader as LeaderState;
    if (!cur.electionFinished) return;
    // The ACK that finished the wait released every handler, this one included.
    for (const key in cur.learners) {
      const w = cur.learners[key];
      if (w !== undefined && w.stage === 'epoch-quorum') startSync(w);
    }
    return;
  }
  startSync(hw);
}

/** Leader.waitForEpochAck for one caller (§4.5). */
function waitForEpochAck(s: S, ctx: StepContext, sid: Sid, currentEpoch: number, lastZxid: number): void {
  if (s.leader === null || s.leader.electionFinished) return;
  const l = ownLeader(ctx, s);
  if (currentEpoch !== -1 && lastZxid !== -1 && isVoter(ctx.cfg, sid) && !l.electing.includes(sid)) l.electing = [...l.electing, sid];
  if (l.electing.includes(s.sid) && isQuorum(ctx.cfg, l.electing.length)) {
    l.electionFinished = true;
    cancelTimer(ctx, TIMER_EPOCH_WAIT);
    s.currentEpoch = l.epoch;
    s.zabState = 'SYNCHRONIZATION';
    note(ctx, `epoch ${l.epoch} acked by [${l.electing.join(',')}]; writing currentEpoch`);
    persist(s, ctx, { op: 'writeEpoch', file: 'currentEpoch', value: l.epoch }, { kind: 'leaderCurrentEpoch', role: s.role });
  }
}

/** The leader drops one learner: its handler goes and its connection is closed. */
export function dropLearner(s: S, ctx: StepContext, sid: Sid): void {
  if (s.leader === null || s.leader.learners[sid] === undefined) return;
  delete own(ctx, ownLeader(ctx, s), 'learners')[sid];
  cancelTimer(ctx, handlerReadTimer(sid));
  disconnect(ctx, sid);
}

// ---------------------------------------------------------------------------------------------
// Learner

/** Learner.registerWithLeader begins: connect and send FOLLOWERINFO/OBSERVERINFO. */
export function enterLearning(s: S, ctx: StepContext, role: 'FOLLOWING' | 'OBSERVING', leader: Sid): void {
  s.state = role;
  s.zabState = 'DISCOVERY';
  s.leader = null;
  s.role++;
  s.learner = {
    leader,
    connected: false,
    connectTries: 0,
    phase: 'discovery',
    newEpoch: -1,
    blocked: null,
    resume: null,
    inbox: Fifo.empty(),
    sync: { mode: null, newLeaderSeen: false, newEpoch: -1, packetsNotLogged: Fifo.empty(), packetsCommitted: [], preSnapDb: null, diffZxid: null, replayed: [], marker: null },
    pendingTxns: Fifo.empty(),
    touched: [],
  };
  connect(s, ctx);
}

function connect(s: S, ctx: StepContext): void {
  if (s.learner === null) return;
  const l = ownLearner(ctx, s);
  l.connectTries++;
  const info: LearnerInfo = {
    type: s.state === 'OBSERVING' ? 'OBSERVERINFO' : 'FOLLOWERINFO',
    zxid: zxid(s.acceptedEpoch, 0),
  };
  send(ctx, l.leader, info);
  setTimer(ctx, TIMER_LEARNER_READ, initLimitMs(ctx));
}

/** LEADERINFO at the learner (§4.4). Returns a reason to go LOOKING, or null. */
export function onLeaderInfo(s: S, ctx: StepContext, msg: LeaderInfo): string | null {
  if (s.learner === null || s.learner.phase !== 'discovery') return null;
  const l = ownLearner(ctx, s);
  const newEpoch = epochOf(msg.zxid);
  l.newEpoch = newEpoch;
  if (ctx.cfg.flaws.epoch_from_last_logged_zxid) {
    // ZOOKEEPER-335 (B1), 3.3's Follower.followLeader: only an epoch below that of the learner's
    // last logged zxid is refused; there is no accepted epoch to compare with or to write.
    const logEpoch = epochOf(s.db.log.lastZxid(s.db.lastProcessedZxid));
    if (newEpoch < logEpoch) return `Leader epoch ${newEpoch} is less than our epoch ${logEpoch}`;
    // zabsim still keeps the epoch files consistent (acceptedEpoch only grows, currentEpoch is
    // written at NEWLEADER), so start-up and EpochFileSanity read sane files; nothing decides by them.
    if (newEpoch <= s.acceptedEpoch) {
      sendAckEpoch(s, ctx, s.currentEpoch);
      return null;
    }
  }
  if (newEpoch > s.acceptedEpoch) {
    const token = persist(s, ctx, { op: 'writeEpoch', file: 'acceptedEpoch', value: newEpoch }, { kind: 'block', role: s.role });
    // The ACKEPOCH reports the currentEpoch from before this write.
    l.blocked = { on: 'ackepoch', token };
    s.acceptedEpoch = newEpoch;
    return null;
  }
  if (newEpoch === s.acceptedEpoch) {
    sendAckEpoch(s, ctx, -1);
    return null;
  }
  return `Leaders epoch, ${newEpoch} is less than accepted epoch, ${s.acceptedEpoch}`;
}

/** ACKEPOCH(lastLoggedZxid, currentEpoch or -1); the learner then waits for the sync stream. */
export function sendAckEpoch(s: S, ctx: StepContext, currentEpoch: number): void {
  if (s.learner === null) return;
  const l = ownLearner(ctx, s);
  send(ctx, l.leader, { type: 'ACKEPOCH', zxid: s.db.lastProcessedZxid, currentEpoch });
  l.phase = 'sync';
  // Follower.followLeader / Observer.observeLeader: SYNCHRONIZATION once registered.
  s.zabState = 'SYNCHRONIZATION';
}

/** The learner's connection failed. Before the leader answered, retry; afterwards, give up. */
export function onLearnerDisconnected(s: S, ctx: StepContext): 'retry' | 'lost' {
  const l = s.learner;
  if (l === null) return 'lost';
  if (!l.connected && l.connectTries < CONNECT_TRIES) {
    note(ctx, `connection to leader s${l.leader} refused or reset; attempt ${l.connectTries + 1} of ${CONNECT_TRIES} in ${CONNECT_RETRY_MS} ms`);
    setTimer(ctx, TIMER_CONNECT_RETRY, CONNECT_RETRY_MS);
    return 'retry';
  }
  return 'lost';
}

export function onConnectRetry(s: S, ctx: StepContext): void {
  if (s.learner !== null && !s.learner.connected) connect(s, ctx);
}
