/**
 * The step's copy-on-write (docs/architecture.md, "Immutability: one step, copied on write"). A
 * step starts from a shallow copy of the server's state and copies a nested object the first time
 * it writes it: `own(ctx, parent, key)` returns `parent[key]` if this step made it, else replaces
 * it in `parent` by a shallow copy that the step may then write. The input state is never written, and every
 * object a step did not write is shared with the state before it (structural sharing). `parent`
 * must itself be owned (the state's root always is).
 *
 * This replaced one immer `produce` per step, which measured at about half of zabsim's time on the
 * broadcast workload (docs/scaling.md, "One core"): immer's proxies pay on every read of a nested
 * object, this only on a write, once per object and step. What immer gave for free is kept two
 * ways. The handlers that write name what they write (`own`), and a step whose code forgets one
 * fails loudly in the tests: with `setStateFreezing(true)` (test/setup.ts) every state a step
 * returns is deep-frozen, as immer's auto-freeze did, so a write to an object the step did not own
 * throws at once.
 */
import type { Sid } from './config.ts';
import type { StepContext } from './context.ts';
import type { ElectionState, LeaderState, LearnerHandler, LearnerState, ServerState } from './types.ts';

/**
 * Returns `parent[key]` writable for this step: the step's own copy of it (null and undefined as
 * they are). For plain objects and arrays only: a class value (Db, Fifo, TxnLog, DataTree) is
 * immutable and replaced whole, never owned (a spread would lose its class).
 */
export function own<T extends object, K extends keyof T>(ctx: StepContext, parent: T, key: K): T[K] {
  const v: unknown = parent[key];
  if (v === null || typeof v !== 'object') return v as T[K];
  const c = claim(ctx, v, shallowCopy);
  parent[key] = c as T[K];
  return c as T[K];
}

function shallowCopy(v: object): object {
  return Array.isArray(v) ? v.slice() : { ...v };
}

/** `v` if this step owns it, else `copy(v)`, now owned; the caller puts the result where `v` was. */
function claim<T extends object>(ctx: StepContext, v: T, copy: (v: T) => T): T {
  const owned = ctx.owned;
  for (let i = owned.length - 1; i >= 0; i--) if (owned[i] === v) return v;
  const c = copy(v);
  owned.push(c);
  return c;
}

let freezing = false;

/**
 * Runs `write` on this step's copy of `state` and returns that copy, or `state` itself when the
 * step changed nothing (as immer's `produce` did): a step's whole copy-on-write, for tests that
 * call one handler (peer.ts `step` uses {@link beginServerStep} and {@link endServerStep}).
 */
export function writeStep<T extends object>(ctx: StepContext, state: T, write: (d: T) => void, copy: (v: T) => T = spread, same: (a: T, b: T) => boolean = sameFields): T {
  if (freezing) deepFreeze(state);
  const root = copy(state);
  ctx.owned.push(root);
  write(root);
  if (same(root, state)) return state;
  if (freezing) deepFreeze(root);
  return root;
}

/**
 * {@link writeStep} for the server's state, in two halves around the handlers' writes: the step
 * of peer.ts calls these rather than passing a closure per step. `beginServerStep` returns the
 * step's root, which is the step's by construction: no handler owns the root through `own` (it is
 * every `own`'s first parent, never a value claimed), so it is not listed in `ctx.owned`.
 * `endServerStep` returns the root, or `state` when the step changed nothing.
 */
export function beginServerStep(state: ServerState): ServerState {
  if (freezing) deepFreeze(state);
  return copyServerState(state);
}

export function endServerStep(root: ServerState, state: ServerState): ServerState {
  if (sameServerState(root, state)) return state;
  if (freezing) deepFreeze(root);
  return root;
}

function spread<T extends object>(v: T): T {
  return { ...v };
}

/** Whether `a` and `b`, the step's root and the state it copied, hold the same values. */
function sameFields<T extends object>(a: T, b: T): boolean {
  for (const k in a) if (a[k] !== b[k]) return false;
  return true;
}

/** Deep-freeze every state a step takes and returns (tests: any write the step did not own throws). Off by default. */
export function setStateFreezing(on: boolean): void {
  freezing = on;
}

export function stateFreezing(): boolean {
  return freezing;
}

/**
 * Freezes `value` and every plain object and array reachable from it that is not frozen yet. Class
 * instances (Db, TxnLog, DataTree, Fifo) are immutable by construction and left alone, as immer
 * left them; a frozen object's subtree was frozen before.
 */
export function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) return;
  Object.freeze(value);
  for (const k in value) deepFreeze((value as Record<string, unknown>)[k]);
}

/** This step's writable LeaderState (the server must be leading). */
export function ownLeader(ctx: StepContext, s: ServerState): LeaderState {
  const l = s.leader;
  if (l === null) throw new Error(`s${s.sid}: a leader's write on a server that is not leading`);
  const c = claim(ctx, l, copyLeader);
  s.leader = c;
  return c;
}

/** This step's writable LearnerState (the server must be following or observing). */
export function ownLearner(ctx: StepContext, s: ServerState): LearnerState {
  const l = s.learner;
  if (l === null) throw new Error(`s${s.sid}: a learner's write on a server that is not a learner`);
  const c = claim(ctx, l, copyLearner);
  s.learner = c;
  return c;
}

/** This step's writable ElectionState. */
export function ownFle(ctx: StepContext, s: ServerState): ElectionState {
  const c = claim(ctx, s.fle, copyFle);
  s.fle = c;
  return c;
}

/** This step's writable handler of learner `sid` (the leader and its handler record owned on the way). */
export function ownHandler(ctx: StepContext, s: ServerState, sid: Sid): LearnerHandler {
  const l = ownLeader(ctx, s);
  const learners = claim(ctx, l.learners, copyLearners);
  l.learners = learners;
  const h = learners[sid];
  if (h === undefined) throw new Error(`s${s.sid}: a write on the handler of s${sid}, which has none`);
  const c = claim(ctx, h, copyHandler);
  learners[sid] = c;
  return c;
}

// The copies of the state's own types are written out field by field: an object literal of one
// shape is several times cheaper than a spread, whose site sees every type (docs/scaling.md,
// "One core"). The compiler checks that none is missed (every field is required);
// test/protocol/cow.test.ts checks that `sameServerState` compares every field.

/** The step's root (peer.ts `step`). */
export function copyServerState(s: ServerState): ServerState {
  return {
    sid: s.sid,
    up: s.up,
    state: s.state,
    zabState: s.zabState,
    acceptedEpoch: s.acceptedEpoch,
    currentEpoch: s.currentEpoch,
    currentVote: s.currentVote,
    fle: s.fle,
    db: s.db,
    leader: s.leader,
    learner: s.learner,
    role: s.role,
    nextToken: s.nextToken,
    durableToken: s.durableToken,
    flushing: s.flushing,
    writes: s.writes,
    snapshotsTaken: s.snapshotsTaken,
    snapThread: s.snapThread,
    logWriter: s.logWriter,
    commitProcessor: s.commitProcessor,
  };
}

/** Whether the step's root still holds the values of the state it copied (then the step changed nothing). */
export function sameServerState(a: ServerState, b: ServerState): boolean {
  return (
    a.sid === b.sid &&
    a.up === b.up &&
    a.state === b.state &&
    a.zabState === b.zabState &&
    a.acceptedEpoch === b.acceptedEpoch &&
    a.currentEpoch === b.currentEpoch &&
    a.currentVote === b.currentVote &&
    a.fle === b.fle &&
    a.db === b.db &&
    a.leader === b.leader &&
    a.learner === b.learner &&
    a.role === b.role &&
    a.nextToken === b.nextToken &&
    a.durableToken === b.durableToken &&
    a.flushing === b.flushing &&
    a.writes === b.writes &&
    a.snapshotsTaken === b.snapshotsTaken &&
    a.snapThread === b.snapThread &&
    a.logWriter === b.logWriter &&
    a.commitProcessor === b.commitProcessor
  );
}

/**
 * The leader's handler record, keyed by sid: a spread of its own (`own`'s shallow copy sees every
 * kind of object, and a spread at such a site takes V8's generic path, measured at about 2 % of the
 * broadcast workload for this record alone).
 */
function copyLearners(v: Record<Sid, LearnerHandler>): Record<Sid, LearnerHandler> {
  return { ...v };
}

function copyLeader(l: LeaderState): LeaderState {
  return {
    tick: l.tick,
    wakeups: l.wakeups,
    epoch: l.epoch,
    epochDecided: l.epochDecided,
    epochDurable: l.epochDurable,
    connecting: l.connecting,
    summaryEpoch: l.summaryEpoch,
    summaryZxid: l.summaryZxid,
    electing: l.electing,
    electionFinished: l.electionFinished,
    newLeaderAcks: l.newLeaderAcks,
    established: l.established,
    lastProposed: l.lastProposed,
    lastCommitted: l.lastCommitted,
    outstanding: l.outstanding,
    toBeApplied: l.toBeApplied,
    pendingSyncs: l.pendingSyncs,
    learners: l.learners,
    sessionExpiry: l.sessionExpiry,
  };
}

function copyLearner(l: LearnerState): LearnerState {
  return {
    leader: l.leader,
    connected: l.connected,
    connectTries: l.connectTries,
    phase: l.phase,
    newEpoch: l.newEpoch,
    blocked: l.blocked,
    resume: l.resume,
    inbox: l.inbox,
    sync: l.sync,
    pendingTxns: l.pendingTxns,
    touched: l.touched,
  };
}

function copyHandler(h: LearnerHandler): LearnerHandler {
  return {
    sid: h.sid,
    observer: h.observer,
    stage: h.stage,
    acceptedEpoch: h.acceptedEpoch,
    peerLastZxid: h.peerLastZxid,
    deadlineTick: h.deadlineTick,
    forwarding: h.forwarding,
    syncCheck: h.syncCheck,
    snapSync: h.snapSync,
  };
}

function copyFle(f: ElectionState): ElectionState {
  return {
    logicalclock: f.logicalclock,
    proposedLeader: f.proposedLeader,
    proposedZxid: f.proposedZxid,
    proposedEpoch: f.proposedEpoch,
    recvset: f.recvset,
    outofelection: f.outofelection,
    notTimeoutMs: f.notTimeoutMs,
    finalizing: f.finalizing,
    running: f.running,
    queued: f.queued,
  };
}
