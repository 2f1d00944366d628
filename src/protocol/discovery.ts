/**
 * The start of Discovery (zab-protocol.md §4): a learner opens its connection to the leader with
 * FOLLOWERINFO/OBSERVERINFO (retrying a refused connection up to 5 times, 1 s apart), and the
 * leader accepts learner connections and waits, at most initLimit·tickTime, until the voters
 * connected to it (itself included) form a quorum, the first condition of getEpochToPropose.
 *
 * LEADERINFO/ACKEPOCH and the epoch choice are the next issue's; until then a leader whose quorum
 * connected goes straight to the ping loop of heartbeat.ts, and its learners follow it.
 */
import type { Draft } from 'immer';
import { isQuorum, isVoter, type Sid } from './config.ts';
import { cancelTimer, disconnect, note, send, setTimer, type StepContext } from './context.ts';
import { startPingLoop, TIMER_LEARNER_READ, handlerReadTimer } from './heartbeat.ts';
import type { LearnerInfo, ServerState } from './types.ts';
import { zxid } from './zxid.ts';

type S = Draft<ServerState>;

export const TIMER_CONNECT_WAIT = 'leader.connectWait';
export const TIMER_CONNECT_RETRY = 'learner.connectRetry';

/** Learner.connectToLeader tries this many times, 1 s apart (§9 connectToLearnerMasterLimit). */
export const CONNECT_TRIES = 5;
export const CONNECT_RETRY_MS = 1000;

/** Leader.lead, up to getEpochToPropose: DISCOVERY, tick 0, accept learners, wait for a quorum. */
export function enterLeading(s: S, ctx: StepContext): void {
  s.state = 'LEADING';
  s.zabState = 'DISCOVERY';
  s.learner = null;
  s.leader = { tick: 0, wakeups: 0, quorumFormed: false, learners: {} };
  const p = ctx.cfg.params;
  if (isQuorum(ctx.cfg, 1)) {
    // A single-voter ensemble: the leader alone is a quorum.
    formQuorum(s, ctx);
  } else {
    setTimer(ctx, TIMER_CONNECT_WAIT, p.initLimitTicks * p.tickTimeMs);
  }
}

/** Learner.registerWithLeader: connect and send FOLLOWERINFO/OBSERVERINFO(acceptedEpoch << 32). */
export function enterLearning(s: S, ctx: StepContext, role: 'FOLLOWING' | 'OBSERVING', leader: Sid): void {
  s.state = role;
  s.zabState = 'DISCOVERY';
  s.leader = null;
  s.learner = { leader, connected: false, connectTries: 0 };
  connect(s, ctx);
}

function connect(s: S, ctx: StepContext): void {
  const l = s.learner;
  if (l === null) return;
  l.connectTries++;
  const info: LearnerInfo = {
    type: s.state === 'OBSERVING' ? 'OBSERVERINFO' : 'FOLLOWERINFO',
    zxid: zxid(s.acceptedEpoch, 0),
  };
  send(ctx, l.leader, info);
  const p = ctx.cfg.params;
  setTimer(ctx, TIMER_LEARNER_READ, p.initLimitTicks * p.tickTimeMs);
}

/** FOLLOWERINFO/OBSERVERINFO arriving anywhere. Only a leader listens on the quorum port. */
export function onLearnerInfo(s: S, ctx: StepContext, from: Sid, msg: LearnerInfo): void {
  const leader = s.leader;
  if (s.state !== 'LEADING' || leader === null) {
    note(ctx, `refused ${msg.type} from s${from}: not leading`);
    disconnect(ctx, from);
    return;
  }
  const p = ctx.cfg.params;
  const observer = msg.type === 'OBSERVERINFO' || !isVoter(ctx.cfg, from);
  leader.learners[from] = {
    sid: from,
    observer,
    // A new handler may miss initLimit + syncLimit ticks before it counts as not synced (§7).
    deadlineTick: leader.tick + p.initLimitTicks + p.syncLimitTicks,
  };
  setTimer(ctx, handlerReadTimer(from), p.initLimitTicks * p.tickTimeMs);
  if (!leader.quorumFormed && isQuorum(ctx.cfg, connectedVoters(s))) formQuorum(s, ctx);
}

function connectedVoters(s: S): number {
  let n = 1; // the leader itself
  const learners = s.leader?.learners ?? {};
  for (const key in learners) if (learners[key]?.observer === false) n++;
  return n;
}

function formQuorum(s: S, ctx: StepContext): void {
  const leader = s.leader;
  if (leader === null) return;
  leader.quorumFormed = true;
  cancelTimer(ctx, TIMER_CONNECT_WAIT);
  startPingLoop(s, ctx);
}

/** The learner's connection failed. Before the leader answered, retry; afterwards, give up. */
export function onLearnerDisconnected(s: S, ctx: StepContext): 'retry' | 'lost' {
  const l = s.learner;
  if (l === null) return 'lost';
  if (!l.connected && l.connectTries < CONNECT_TRIES) {
    note(ctx, `connection to leader s${l.leader} refused or reset; retry ${l.connectTries + 1} of ${CONNECT_TRIES} in ${CONNECT_RETRY_MS} ms`);
    setTimer(ctx, TIMER_CONNECT_RETRY, CONNECT_RETRY_MS);
    return 'retry';
  }
  return 'lost';
}

export function onConnectRetry(s: S, ctx: StepContext): void {
  if (s.learner !== null && !s.learner.connected) connect(s, ctx);
}
