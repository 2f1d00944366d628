/**
 * Failure detection (zab-protocol.md §7).
 *
 * Leader: once established, wake every tickTime/2; every second wake-up advance `tick` and give up
 * when the leader plus its synced voter handlers are not a quorum; every wake-up, drop a learner
 * whose oldest unacked PROPOSAL is older than syncLimit·tickTime (SyncLimitCheck), then PING all
 * learners with lastProposed; expire sessions whose clients went quiet. A learner handler whose
 * socket reads nothing for initLimit·tickTime (syncLimit·tickTime after the NEWLEADER ACK) is
 * dropped. Any packet from a learner moves its deadline to tick + syncLimit.
 *
 * Learner: any packet from the leader re-arms the read timeout (initLimit·tickTime before
 * NEWLEADER, syncLimit·tickTime after); a PING is echoed with the sessions it saw.
 */
import { isQuorum, type Sid } from './config.ts';
import { send, setTimer, type StepContext } from './context.ts';
import { sendToLearner } from './learnerhandler.ts';
import { own, ownHandler, ownLeader, ownLearner } from './cow.ts';
import type { Txn } from './datatree.ts';
import type { LearnerHandler, Ping, ServerState, SyncLimitCheck } from './types.ts';
import type { Zxid } from './zxid.ts';

type S = ServerState;

export const TIMER_PING = 'leader.ping';
export const TIMER_LEARNER_READ = 'learner.readTimeout';
const HANDLER_READ_PREFIX = 'handler.readTimeout.';

/**
 * Each learner's timer name, built once: the kernel keys its timers by name, and a string built
 * per call is hashed again at every lookup (2 % of the broadcast workload's CPU profile).
 */
const handlerReadNames: string[] = [];

/** The LearnerHandler socket timeout of learner `sid`, as a timer name. */
export function handlerReadTimer(sid: Sid): string {
  return (handlerReadNames[sid] ??= HANDLER_READ_PREFIX + sid);
}

/** The learner sid of a handler read-timeout timer name, or null for any other timer. */
export function handlerOfTimer(timer: string): Sid | null {
  return timer.startsWith(HANDLER_READ_PREFIX) ? Number(timer.slice(HANDLER_READ_PREFIX.length)) : null;
}

function halfTick(ctx: StepContext): number {
  // Java's int division: tickTime / 2.
  return Math.floor(ctx.cfg.params.tickTimeMs / 2);
}

/** The leader clock in ms: wake-ups since establishment times tickTime/2. */
export function leaderClock(s: S, ctx: StepContext): number {
  return (s.leader?.wakeups ?? 0) * halfTick(ctx);
}

/** Leader.lead's loop starts (after establishment): first wake-up in tickTime/2. */
export function startPingLoop(ctx: StepContext): void {
  setTimer(ctx, TIMER_PING, halfTick(ctx));
}

export type PingOutcome = { abdicate: false; drop: Sid[]; expired: number[] } | { abdicate: true; reason: string };

/**
 * One wake-up of the leader's loop. The first wake-up is a tickSkip one (no tick, no check);
 * after that every other wake-up advances `tick` and checks the synced quorum.
 */
export function onPingTimer(s: S, ctx: StepContext): PingOutcome {
  if (s.leader === null) return { abdicate: false, drop: [], expired: [] };
  const l = ownLeader(ctx, s);
  l.wakeups++;
  if (l.wakeups % 2 === 0) {
    l.tick++;
    const synced: Sid[] = [s.sid];
    for (const key in l.learners) {
      const h = l.learners[key];
      if (h !== undefined && !h.observer && l.tick <= h.deadlineTick) synced.push(h.sid);
    }
    if (!isQuorum(ctx.cfg, synced.length)) {
      return { abdicate: true, reason: `Not sufficient followers synced, only synced with sids: [ ${synced.join(',')} ]` };
    }
  }
  const now = leaderClock(s, ctx);
  const limit = ctx.cfg.params.syncLimitTicks * ctx.cfg.params.tickTimeMs;
  const drop: Sid[] = [];
  const ping: Ping = { type: 'PING', zxid: l.lastProposed };
  for (const key in l.learners) {
    const h = l.learners[key];
    // LearnerHandler.ping: nothing before the sync stream is on the wire ("otherwise the
    // learner will crash"), then SyncLimitCheck, then the PING.
    if (h === undefined || h.stage === 'epoch' || h.stage === 'ackepoch' || h.stage === 'epoch-quorum') continue;
    // §7 SyncLimitCheck drops a learner whose oldest unacked PROPOSAL is at least
    // syncLimit·tickTime old at this ping. The ping clock counts whole wake-ups, so a proposal
    // sent between wake-ups W and W+1 is stamped with W's time: its real age here is up to one
    // wake-up less than `now - currentTime`. Requiring strictly more than the limit drops it at
    // the first ping at which its real age has reached syncLimit·tickTime, never earlier (with
    // `>=` it was dropped up to tickTime/2 early, e.g. at 9.4 s of a 10 s limit).
    if (h.syncCheck.currentTime !== 0 && now - h.syncCheck.currentTime > limit) drop.push(h.sid);
    else sendToLearner(ctx, s, h, ping);
  }
  const expired: number[] = [];
  for (const key in l.sessionExpiry) {
    const at = l.sessionExpiry[key];
    if (at !== undefined && at <= now) expired.push(Number(key));
  }
  setTimer(ctx, TIMER_PING, halfTick(ctx));
  return { abdicate: false, drop, expired };
}

/** A SyncLimitCheck value, as a literal of one shape (updated at every PROPOSAL and ACK: no spread). */
function syncCheck(started: boolean, currentZxid: Zxid, currentTime: number, nextZxid: Zxid, nextTime: number): SyncLimitCheck {
  return { started, currentZxid, currentTime, nextZxid, nextTime };
}

/** SyncLimitCheck.updateProposal: a PROPOSAL was sent to this learner (once started). */
export function updateProposalCheck(s: S, ctx: StepContext, h: LearnerHandler, z: Zxid): void {
  const c = h.syncCheck;
  if (!c.started) return;
  // The clock starts at 0; a time of 0 means "none", so use at least 1.
  const now = Math.max(1, leaderClock(s, ctx));
  const w = ownHandler(ctx, s, h.sid);
  if (c.currentTime === 0) w.syncCheck = syncCheck(c.started, z, now, c.nextZxid, c.nextTime);
  else w.syncCheck = syncCheck(c.started, c.currentZxid, c.currentTime, z, now);
}

/** SyncLimitCheck.updateAck. */
export function updateAckCheck(s: S, ctx: StepContext, h: LearnerHandler, z: Zxid): void {
  const c = h.syncCheck;
  if (c.currentZxid === z) ownHandler(ctx, s, h.sid).syncCheck = syncCheck(c.started, c.nextZxid, c.nextTime, 0, 0);
  else if (c.nextZxid === z) ownHandler(ctx, s, h.sid).syncCheck = syncCheck(c.started, c.currentZxid, c.currentTime, 0, 0);
}

/** Any packet from a learner: deadline tick + syncLimit, and its socket read timeout re-armed. */
export function heardFromLearner(s: S, ctx: StepContext, h: LearnerHandler): void {
  const l = s.leader;
  if (l === null) return;
  const p = ctx.cfg.params;
  const deadline = l.tick + p.syncLimitTicks;
  if (h.deadlineTick !== deadline) ownHandler(ctx, s, h.sid).deadlineTick = deadline;
  const afterAck = h.stage === 'synced' || h.stage === 'broadcast';
  setTimer(ctx, handlerReadTimer(h.sid), (afterAck ? p.syncLimitTicks : p.initLimitTicks) * p.tickTimeMs);
}

/** Any packet from the leader re-arms the learner's read timeout. */
export function heardFromLeader(s: S, ctx: StepContext): void {
  const l = s.learner;
  if (l === null) return;
  if (!l.connected) ownLearner(ctx, s).connected = true;
  const p = ctx.cfg.params;
  setTimer(ctx, TIMER_LEARNER_READ, (l.sync.newLeaderSeen ? p.syncLimitTicks : p.initLimitTicks) * p.tickTimeMs);
}

/** Learner.ping: echo the PING with the sessions touched since the last one. */
export function echoPing(s: S, ctx: StepContext, msg: Ping): void {
  const l = s.learner;
  if (l === null) return;
  const sessions = l.touched;
  if (sessions.length > 0) ownLearner(ctx, s).touched = [];
  send(ctx, l.leader, sessions.length > 0 ? { type: 'PING', zxid: msg.zxid, sessions } : { type: 'PING', zxid: msg.zxid });
}

/** Session touches reported by a learner's PING refresh their expiry on the leader. */
export function touchSessions(s: S, ctx: StepContext, sessions: readonly number[]): void {
  for (const id of sessions) touchSession(s, ctx, id);
}

/**
 * SessionTrackerImpl.touchSession on the leader: a session of its database expires leader clock +
 * timeout from now. The table is written only when that changes: the leader clock moves in half
 * ticks, so most touches find the deadline already set (and a copy of the whole table per client
 * request was about 1.5 % of the broadcast workload). A session the database does not hold is
 * not tracked.
 */
export function touchSession(s: S, ctx: StepContext, session: number): void {
  const l = s.leader;
  if (l === null) return;
  const timeout = s.db.tree.session(session)?.timeoutMs;
  if (timeout === undefined) return;
  const at = leaderClock(s, ctx) + timeout;
  if (l.sessionExpiry[session] !== at) own(ctx, ownLeader(ctx, s), 'sessionExpiry')[session] = at;
}

/**
 * ZooKeeperServer.processTxnForSessionEvents, on the leader's session tracker: a committed
 * createSession is tracked with its timeout (SessionTrackerImpl.commitSession, after
 * trackSession at prep time), and a committed closeSession leaves the tracker
 * (SessionTrackerImpl.removeSession), so that a session its client closed is never expired, and
 * closed again, one timeout later.
 */
export function sessionTxnCommitted(s: S, ctx: StepContext, txn: Txn): void {
  const l = s.leader;
  if (l === null) return;
  if (txn.type === 'closeSession') {
    if (l.sessionExpiry[txn.session] !== undefined) delete own(ctx, ownLeader(ctx, s), 'sessionExpiry')[txn.session];
  } else if (txn.type === 'createSession' && l.sessionExpiry[txn.session] === undefined) {
    own(ctx, ownLeader(ctx, s), 'sessionExpiry')[txn.session] = leaderClock(s, ctx) + txn.timeoutMs;
  }
}
