/**
 * Failure detection (zab-protocol.md §7): the leader's ping loop with its tick counter and synced
 * quorum check, the per-learner deadline and read timeout on the leader, and the learner's read
 * timeout. PING carries lastProposed from the leader; the learner echoes it.
 */
import type { Draft } from 'immer';
import { isQuorum, type Sid } from './config.ts';
import { send, setTimer, type StepContext } from './context.ts';
import type { Ping, ServerState } from './types.ts';

type S = Draft<ServerState>;

export const TIMER_PING = 'leader.ping';
export const TIMER_LEARNER_READ = 'learner.readTimeout';
const HANDLER_READ_PREFIX = 'handler.readTimeout.';

/** The LearnerHandler socket timeout of learner `sid`, as a timer name. */
export function handlerReadTimer(sid: Sid): string {
  return HANDLER_READ_PREFIX + sid;
}

/** The learner sid of a handler read-timeout timer name, or null for any other timer. */
export function handlerOfTimer(timer: string): Sid | null {
  return timer.startsWith(HANDLER_READ_PREFIX) ? Number(timer.slice(HANDLER_READ_PREFIX.length)) : null;
}

/** Leader.lead's loop starts: wake every tickTime/2; tickSkip starts true. */
export function startPingLoop(s: S, ctx: StepContext): void {
  setTimer(ctx, TIMER_PING, ctx.cfg.params.tickTimeMs / 2);
}

/**
 * One wake-up of the leader's loop. Every second wake-up advances `tick` and checks that the
 * leader plus its synced voters still form a quorum; every wake-up pings all learners.
 * Tells the caller to abdicate when the leader must give up ("Not sufficient followers synced").
 */
export function onPingTimer(s: S, ctx: StepContext): { abdicate: false } | { abdicate: true; reason: string } {
  const leader = s.leader;
  if (leader === null) return { abdicate: false };
  leader.wakeups++;
  if (leader.wakeups % 2 === 0) {
    leader.tick++;
    const synced: Sid[] = [s.sid];
    for (const key in leader.learners) {
      const h = leader.learners[key];
      if (h !== undefined && !h.observer && leader.tick <= h.deadlineTick) synced.push(h.sid);
    }
    if (!isQuorum(ctx.cfg, synced.length)) {
      return { abdicate: true, reason: `Not sufficient followers synced, only synced with sids: [ ${synced.join(',')} ]` };
    }
  }
  const ping: Ping = { type: 'PING', zxid: s.lastLoggedZxid };
  for (const key in leader.learners) {
    const h = leader.learners[key];
    if (h !== undefined) send(ctx, h.sid, ping);
  }
  setTimer(ctx, TIMER_PING, ctx.cfg.params.tickTimeMs / 2);
  return { abdicate: false };
}

/** Any packet from a learner moves its deadline to tick + syncLimit and re-arms its read timeout. */
export function heardFromLearner(s: S, ctx: StepContext, from: Sid): boolean {
  const leader = s.leader;
  const h = leader?.learners[from];
  if (leader === null || leader === undefined || h === undefined) return false;
  const p = ctx.cfg.params;
  h.deadlineTick = leader.tick + p.syncLimitTicks;
  setTimer(ctx, handlerReadTimer(from), p.initLimitTicks * p.tickTimeMs);
  return true;
}

/** Any packet from the leader re-arms the learner's read timeout; a PING is echoed. */
export function heardFromLeader(s: S, ctx: StepContext, msg: Ping): void {
  const l = s.learner;
  if (l === null) return;
  l.connected = true;
  const p = ctx.cfg.params;
  setTimer(ctx, TIMER_LEARNER_READ, p.initLimitTicks * p.tickTimeMs);
  send(ctx, l.leader, { type: 'PING', zxid: msg.zxid });
}
