/**
 * Fast Leader Election exactly as FastLeaderElection.lookForLeader and its WorkerReceiver do it
 * (zab-protocol.md §3). ZooKeeper runs a receiver thread that answers or enqueues notifications
 * and a main loop that polls the queue; here a notification is handled in one step by the
 * receiver rules and then, if it was enqueued, by the main-loop rules. The blocking polls become
 * two timers: `fle.poll` (notTimeout) and `fle.finalize` (finalizeWait).
 *
 * The handlers never change the peer's role themselves: when the election ends they return a
 * {@link Decision} and peer.ts enters the role, so later phases plug in there.
 */
import { isVoter, type ClusterConfig, type Sid } from './config.ts';
import { cancelTimer, note, send, setTimer, type StepContext } from './context.ts';
import type { Notification, PeerStateName, ServerState, StoredVote, Vote } from './types.ts';
import { own, ownFle } from './cow.ts';
import { hasQuorumFor, totalOrderPredicate, withVote } from './vote.ts';
import { formatLong, MIN_VALUE, ZXID_NONE } from './zxid.ts';

export const TIMER_POLL = 'fle.poll';
export const TIMER_FINALIZE = 'fle.finalize';

/** Notification format version sent by ZooKeeper 3.9. */
export const NOTIFICATION_VERSION = 2;

/** The outcome of an election round: the role to enter and the vote that decided it. */
export interface Decision {
  readonly role: 'LEADING' | 'FOLLOWING' | 'OBSERVING';
  readonly vote: Vote;
}

type S = ServerState;

/** getInitId / getInitLastLoggedZxid / getPeerEpoch: an observer uses Long.MIN_VALUE (§3.1). */
export function initialVote(cfg: ClusterConfig, s: Pick<ServerState, 'sid' | 'db' | 'currentEpoch'>): {
  leader: Sid;
  zxid: number;
  peerEpoch: number;
} {
  if (!isVoter(cfg, s.sid)) return { leader: MIN_VALUE, zxid: MIN_VALUE, peerEpoch: MIN_VALUE };
  // getLastLoggedZxid: the tree's lastProcessedZxid after the role's fast-forward (§1.1).
  return { leader: s.sid, zxid: s.db.lastProcessedZxid, peerEpoch: s.currentEpoch };
}

function notification(state: PeerStateName, v: { leader: Sid; zxid: number; peerEpoch: number }, round: number): Notification {
  return {
    type: 'NOTIFICATION',
    state,
    leader: v.leader,
    zxid: v.zxid,
    electionEpoch: round,
    peerEpoch: v.peerEpoch,
    version: NOTIFICATION_VERSION,
  };
}

function proposal(s: S): { leader: Sid; zxid: number; peerEpoch: number } {
  return { leader: s.fle.proposedLeader, zxid: s.fle.proposedZxid, peerEpoch: s.fle.proposedEpoch };
}

function updateProposal(s: S, ctx: StepContext, leader: Sid, zxid: number, peerEpoch: number): void {
  const fle = ownFle(ctx, s);
  fle.proposedLeader = leader;
  fle.proposedZxid = zxid;
  fle.proposedEpoch = peerEpoch;
}

/** sendNotifications: my proposal to every voter; a voter includes itself (looped back). */
function sendNotifications(s: S, ctx: StepContext): void {
  const n = notification(s.state, proposal(s), s.fle.logicalclock);
  for (const v of ctx.cfg.voters) send(ctx, v, n);
}

/**
 * Starts a round (§3.1): logicalclock+1, fresh recvset/outofelection, notTimeout = 200 ms, my
 * initial vote, sent to all voters. Any notifications queued before the round started (an
 * observer's pre-election delay) are then processed in arrival order.
 */
export function lookForLeader(s: S, ctx: StepContext): Decision | null {
  const fle = ownFle(ctx, s);
  fle.logicalclock++;
  fle.recvset = {};
  fle.outofelection = {};
  fle.notTimeoutMs = ctx.cfg.params.minNotificationIntervalMs;
  fle.finalizing = false;
  fle.running = true;
  const init = initialVote(ctx.cfg, s);
  updateProposal(s, ctx, init.leader, init.zxid, init.peerEpoch);
  sendNotifications(s, ctx);
  setTimer(ctx, TIMER_POLL, fle.notTimeoutMs);
  const queued = fle.queued;
  fle.queued = [];
  for (const q of queued) {
    const d = mainLoop(s, ctx, q.from, q.n);
    if (d !== null) return d;
  }
  return null;
}

/**
 * WorkerReceiver (§3.2) followed, for an enqueued notification, by the main loop (§3.3).
 * Returns a decision when this notification ends the election.
 */
export function onNotification(s: S, ctx: StepContext, from: Sid, n: Notification): Decision | null {
  const { cfg } = ctx;
  if (!isVoter(cfg, from)) {
    // Sender is not a voter (an observer): answer with my current vote, never enqueue.
    send(ctx, from, notification(s.state, s.currentVote, s.fle.logicalclock));
    return null;
  }
  if (s.state === 'LOOKING') {
    if (n.state === 'LOOKING' && n.electionEpoch < s.fle.logicalclock) {
      send(ctx, from, notification('LOOKING', proposal(s), s.fle.logicalclock));
    }
    if (!s.fle.running) {
      own(ctx, ownFle(ctx, s), 'queued').push({ from, n });
      return null;
    }
    return mainLoop(s, ctx, from, n);
  }
  if (n.state === 'LOOKING') {
    // FOLLOWING/LEADING/OBSERVING answer a LOOKING peer with the vote that decided their role,
    // carrying that vote's own round (ZOOKEEPER-1732).
    send(ctx, from, notification(s.state, s.currentVote, s.currentVote.electionEpoch));
  }
  return null;
}

/** One iteration of lookForLeader's loop for a polled notification. */
function mainLoop(s: S, ctx: StepContext, from: Sid, n: Notification): Decision | null {
  const { cfg } = ctx;
  const fle = s.fle;
  if (fle.finalizing) {
    // Polled during finalizeWait: a better vote is re-queued and the loop continues; anything
    // else is discarded and the 200 ms wait starts again (§3.3 step 6).
    if (totalOrderPredicate(cfg, n.leader, n.zxid, n.peerEpoch, fle.proposedLeader, fle.proposedZxid, fle.proposedEpoch)) {
      ownFle(ctx, s).finalizing = false;
      cancelTimer(ctx, TIMER_FINALIZE);
    } else {
      note(ctx, `finalize: discarded notification from s${from} (not better than my vote)`);
      setTimer(ctx, TIMER_FINALIZE, cfg.params.finalizeWaitMs);
      return null;
    }
  }
  let decision: Decision | null = null;
  if (!isVoter(cfg, from) || !isVoter(cfg, n.leader)) {
    note(ctx, `ignored notification from s${from}: sender or proposed leader ${formatLong(n.leader)} is not a voter`);
  } else if (n.state === 'LOOKING') {
    handleLooking(s, ctx, from, n);
  } else if (n.state === 'FOLLOWING' || n.state === 'LEADING') {
    decision = handleElected(s, ctx, from, n);
  } else {
    note(ctx, `ignored OBSERVING notification from s${from}`);
  }
  if (decision === null && !s.fle.finalizing) setTimer(ctx, TIMER_POLL, s.fle.notTimeoutMs);
  return decision;
}

/** §3.3, n.state = LOOKING: rules 1–6. */
function handleLooking(s: S, ctx: StepContext, from: Sid, n: Notification): void {
  const { cfg } = ctx;
  const init = initialVote(cfg, s);
  if (init.zxid === ZXID_NONE) {
    note(ctx, 'ignored notification: my zxid is -1 (ZOOKEEPER-261)');
    return;
  }
  if (n.zxid === ZXID_NONE) {
    note(ctx, `ignored notification from s${from}: its zxid is -1 (ZOOKEEPER-261)`);
    return;
  }
  if (n.electionEpoch < s.fle.logicalclock) {
    note(ctx, `dropped notification from s${from}: round ${n.electionEpoch} < logicalclock ${s.fle.logicalclock}`);
    return;
  }
  const fle = ownFle(ctx, s);
  if (n.electionEpoch > fle.logicalclock) {
    fle.logicalclock = n.electionEpoch;
    fle.recvset = {};
    if (totalOrderPredicate(cfg, n.leader, n.zxid, n.peerEpoch, init.leader, init.zxid, init.peerEpoch)) {
      updateProposal(s, ctx, n.leader, n.zxid, n.peerEpoch);
    } else {
      updateProposal(s, ctx, init.leader, init.zxid, init.peerEpoch);
    }
    sendNotifications(s, ctx);
  } else if (totalOrderPredicate(cfg, n.leader, n.zxid, n.peerEpoch, fle.proposedLeader, fle.proposedZxid, fle.proposedEpoch)) {
    updateProposal(s, ctx, n.leader, n.zxid, n.peerEpoch);
    sendNotifications(s, ctx);
  }
  fle.recvset = withVote(fle.recvset, from, stored(n, 'LOOKING', 0));
  const mine: StoredVote = {
    leader: fle.proposedLeader,
    zxid: fle.proposedZxid,
    electionEpoch: fle.logicalclock,
    peerEpoch: fle.proposedEpoch,
    state: 'LOOKING',
    version: NOTIFICATION_VERSION,
  };
  if (hasQuorumFor(cfg, fle.recvset, mine)) {
    fle.finalizing = true;
    cancelTimer(ctx, TIMER_POLL);
    setTimer(ctx, TIMER_FINALIZE, cfg.params.finalizeWaitMs);
  }
}

/** §3.3, n.state = FOLLOWING or LEADING: same-round recvset, then the outofelection path. */
function handleElected(s: S, ctx: StepContext, from: Sid, n: Notification): Decision | null {
  const { cfg } = ctx;
  const fle = ownFle(ctx, s);
  const theirs = stored(n, n.state, n.version);
  const vote: Vote = { leader: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch };
  if (n.electionEpoch === fle.logicalclock) {
    // Stored as version 0, so these entries match on the leader id only (a ZooKeeper quirk).
    const recvset = withVote(fle.recvset, from, stored(n, n.state, 0));
    fle.recvset = recvset;
    if (hasQuorumFor(cfg, recvset, theirs) && checkLeader(s, recvset, n.leader, n.electionEpoch)) {
      return decide(s, ctx, vote);
    }
  }
  const outofelection = withVote(fle.outofelection, from, theirs);
  fle.outofelection = outofelection;
  if (hasQuorumFor(cfg, outofelection, theirs) && checkLeader(s, outofelection, n.leader, n.electionEpoch)) {
    fle.logicalclock = n.electionEpoch;
    return decide(s, ctx, vote);
  }
  return null;
}

/** checkLeader: someone else must have told me LEADING itself; my own leadership needs my round. */
function checkLeader(s: S, votes: Readonly<Record<Sid, StoredVote>>, leader: Sid, electionEpoch: number): boolean {
  if (leader !== s.sid) return votes[leader]?.state === 'LEADING';
  return s.fle.logicalclock === electionEpoch;
}

function stored(n: Notification, state: PeerStateName, version: number): StoredVote {
  return { leader: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch, state, version };
}

/** Poll timeout (§3.3): re-send my vote and double notTimeout up to maxNotificationInterval. */
export function onPollTimeout(s: S, ctx: StepContext): void {
  if (s.state !== 'LOOKING' || !s.fle.running || s.fle.finalizing) return;
  const fle = ownFle(ctx, s);
  sendNotifications(s, ctx);
  fle.notTimeoutMs = Math.min(fle.notTimeoutMs * 2, ctx.cfg.params.maxNotificationIntervalMs);
  setTimer(ctx, TIMER_POLL, fle.notTimeoutMs);
}

/** finalizeWait passed with nothing better: the proposal wins (§3.3 step 6). */
export function onFinalizeTimeout(s: S, ctx: StepContext): Decision | null {
  const fle = s.fle;
  if (s.state !== 'LOOKING' || !fle.running || !fle.finalizing) return null;
  return decide(s, ctx, {
    leader: fle.proposedLeader,
    zxid: fle.proposedZxid,
    electionEpoch: fle.logicalclock,
    peerEpoch: fle.proposedEpoch,
  });
}

/** setPeerState + leaveInstance: the round is over; peer.ts enters the role. */
function decide(s: S, ctx: StepContext, vote: Vote): Decision {
  const fle = ownFle(ctx, s);
  fle.running = false;
  fle.finalizing = false;
  fle.queued = [];
  cancelTimer(ctx, TIMER_POLL);
  cancelTimer(ctx, TIMER_FINALIZE);
  s.currentVote = vote;
  const role = vote.leader === s.sid ? 'LEADING' : isVoter(ctx.cfg, s.sid) ? 'FOLLOWING' : 'OBSERVING';
  return { role, vote };
}
