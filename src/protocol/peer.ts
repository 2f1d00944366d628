/**
 * A server: `step(cfg, state, input) -> { state, effects }`. This file dispatches each input to
 * the phase that owns it (election.ts, discovery.ts, heartbeat.ts) and owns the transitions
 * between roles. It is pure: no I/O, clock or randomness; one immer `produce` per step, and the
 * input state is never mutated.
 */
import { produce, type Draft } from 'immer';
import { isVoter, type ClusterConfig, type Sid } from './config.ts';
import { cancelTimer, disconnect, note, setTimer, type StepContext } from './context.ts';
import {
  enterLeading,
  enterLearning,
  onConnectRetry,
  onLearnerDisconnected,
  onLearnerInfo,
  TIMER_CONNECT_RETRY,
  TIMER_CONNECT_WAIT,
} from './discovery.ts';
import {
  lookForLeader,
  onFinalizeTimeout,
  onNotification,
  onPollTimeout,
  TIMER_FINALIZE,
  TIMER_POLL,
  type Decision,
} from './election.ts';
import { handlerOfTimer, handlerReadTimer, heardFromLeader, heardFromLearner, onPingTimer, TIMER_LEARNER_READ, TIMER_PING } from './heartbeat.ts';
import type { ClientRequest, DurableImage, Effect, Input, Message, ServerState } from './types.ts';
import { epochOf, formatZxid, ZXID_NONE, type Zxid } from './zxid.ts';

type S = Draft<ServerState>;

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
    lastLoggedZxid: 0,
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
    leader: null,
    learner: null,
    nextToken: 1,
  };
}

/** The pure transition function of one server. */
export function step(cfg: ClusterConfig, state: ServerState, input: Input): StepResult {
  const effects: Effect[] = [];
  const ctx: StepContext = { cfg, sid: state.sid, effects };
  const next = produce(state, (d) => {
    dispatch(d, ctx, input);
  });
  return { state: next, effects };
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
      // Nothing waits on a write yet: election and heartbeats write nothing durable.
      return;
    case 'clientRequest':
      onClientRequest(s, ctx, input.request);
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Start: QuorumPeer.loadDataBase then startLeaderElection (§1.1)

function lastZxidOf(durable: DurableImage): Zxid {
  const last = durable.log[durable.log.length - 1];
  const snap = durable.snapshot?.zxid ?? 0;
  return last === undefined ? snap : Math.max(snap, last.zxid);
}

function persistEpoch(s: S, ctx: StepContext, file: 'acceptedEpoch' | 'currentEpoch', value: number): void {
  ctx.effects.push({ kind: 'persist', token: s.nextToken++, write: { op: 'writeEpoch', file, value } });
}

function start(s: S, ctx: StepContext, durable: DurableImage): void {
  if (s.up) throw new Error(`s${s.sid} started twice`);
  const last = lastZxidOf(durable);
  const epochOfZxid = epochOf(last);
  let currentEpoch = durable.currentEpoch;
  if (currentEpoch === null) {
    currentEpoch = epochOfZxid;
    note(ctx, `currentEpoch not found, using ${currentEpoch} (epoch of the last zxid)`);
    persistEpoch(s, ctx, 'currentEpoch', currentEpoch);
  }
  if (epochOfZxid > currentEpoch) {
    if (durable.currentEpochTmp !== null) {
      note(ctx, `currentEpoch.tmp found: setting currentEpoch to ${durable.currentEpochTmp}`);
      currentEpoch = durable.currentEpochTmp;
      persistEpoch(s, ctx, 'currentEpoch', currentEpoch);
    } else {
      ctx.effects.push({
        kind: 'halt',
        reason: `The current epoch, ${currentEpoch}, is older than the last zxid, ${formatZxid(last)}`,
      });
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
    ctx.effects.push({
      kind: 'halt',
      reason: `The accepted epoch, ${acceptedEpoch} is less than the current epoch, ${currentEpoch}`,
    });
    return;
  }
  s.up = true;
  s.acceptedEpoch = acceptedEpoch;
  s.currentEpoch = currentEpoch;
  s.lastLoggedZxid = last;
  s.currentVote = { leader: s.sid, zxid: last, electionEpoch: -1, peerEpoch: currentEpoch };
  s.fle.logicalclock = 0;
  s.state = 'LOOKING';
  s.zabState = 'ELECTION';
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
 * role state and start a new FLE round. An observer first waits a random [0, 200) ms (§3.4).
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
    cancelTimer(ctx, TIMER_CONNECT_WAIT);
  }
  if (s.learner !== null) {
    disconnect(ctx, s.learner.leader);
    cancelTimer(ctx, TIMER_LEARNER_READ);
    cancelTimer(ctx, TIMER_CONNECT_RETRY);
  }
  s.leader = null;
  s.learner = null;
  s.state = 'LOOKING';
  s.zabState = 'ELECTION';
  if (!isVoter(ctx.cfg, s.sid)) {
    s.fle.running = false;
    setTimer(ctx, TIMER_OBSERVER_DELAY, 0, ctx.cfg.params.observerElectionDelayMs);
    return;
  }
  enterRole(s, ctx, lookForLeader(s, ctx));
}

// ---------------------------------------------------------------------------------------------
// Inputs

function onMessage(s: S, ctx: StepContext, from: Sid, msg: Message): void {
  switch (msg.type) {
    case 'NOTIFICATION':
      enterRole(s, ctx, onNotification(s, ctx, from, msg));
      return;
    case 'FOLLOWERINFO':
    case 'OBSERVERINFO':
      onLearnerInfo(s, ctx, from, msg);
      return;
    case 'PING':
      if (s.state === 'LEADING') {
        if (!heardFromLearner(s, ctx, from)) note(ctx, `ignored PING from s${from}: no learner handler`);
      } else if (s.learner !== null && s.learner.leader === from) {
        heardFromLeader(s, ctx, msg);
      } else {
        note(ctx, `ignored PING from s${from}: not my leader`);
      }
      return;
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
    case TIMER_CONNECT_WAIT:
      if (s.leader !== null && !s.leader.quorumFormed) goLooking(s, ctx, 'Timeout while waiting for a quorum of learners to connect');
      return;
    case TIMER_CONNECT_RETRY:
      onConnectRetry(s, ctx);
      return;
    case TIMER_PING: {
      const r = onPingTimer(s, ctx);
      if (r.abdicate) goLooking(s, ctx, r.reason);
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
      delete s.leader.learners[handler];
      disconnect(ctx, handler);
    }
    return;
  }
  throw new Error(`s${s.sid}: unknown timer ${timer}`);
}

function onDisconnected(s: S, ctx: StepContext, peer: Sid): void {
  if (s.leader !== null && s.leader.learners[peer] !== undefined) {
    note(ctx, `learner handler for s${peer}: connection closed`);
    delete s.leader.learners[peer];
    cancelTimer(ctx, handlerReadTimer(peer));
    return;
  }
  if (s.learner !== null && s.learner.leader === peer) {
    if (onLearnerDisconnected(s, ctx) === 'lost') goLooking(s, ctx, `connection to leader s${peer} closed`);
  }
}

/** Until broadcast exists no server is serving: ZooKeeper closes the client's connection. */
function onClientRequest(s: S, ctx: StepContext, req: ClientRequest): void {
  ctx.effects.push({
    kind: 'reply',
    reply: { client: req.client, cxid: req.cxid, ok: false, error: 'CONNECTIONLOSS', zxid: s.lastLoggedZxid === ZXID_NONE ? 0 : s.lastLoggedZxid },
  });
}
