/**
 * The step's copy-on-write (docs/architecture.md, "One step, copied on write"). A step starts from
 * a shallow copy of the server's state and copies a nested object the first time it writes it:
 * `own(ctx, parent, key)` returns `parent[key]` if this step made it, else replaces it in `parent`
 * by a shallow copy that the step may then write. The input state is never written, and every
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
import type { LeaderState, LearnerHandler, LearnerState, ServerState } from './types.ts';

/** Returns `parent[key]` writable for this step: the step's own copy of it (null and undefined as they are). */
export function own<T extends object, K extends keyof T>(ctx: StepContext, parent: T, key: K): T[K] {
  const v: unknown = parent[key];
  if (v === null || typeof v !== 'object') return v as T[K];
  const owned = ctx.owned;
  for (let i = owned.length - 1; i >= 0; i--) if (owned[i] === v) return v as T[K];
  const copy = Array.isArray(v) ? v.slice() : { ...v };
  owned.push(copy);
  parent[key] = copy as T[K];
  return copy as T[K];
}

let freezing = false;

/**
 * Runs `write` on this step's copy of `state` and returns that copy, or `state` itself when the
 * step changed nothing (as immer's `produce` did): the step's whole copy-on-write (peer.ts `step`,
 * and tests that call one handler).
 */
export function writeStep<T extends object>(ctx: StepContext, state: T, write: (d: T) => void): T {
  if (freezing) deepFreeze(state);
  const root = { ...state };
  ctx.owned.push(root);
  write(root);
  if (sameFields(root, state)) return state;
  if (freezing) deepFreeze(root);
  return root;
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
  const l = own(ctx, s, 'leader');
  if (l === null) throw new Error(`s${s.sid}: a leader's write on a server that is not leading`);
  return l;
}

/** This step's writable LearnerState (the server must be following or observing). */
export function ownLearner(ctx: StepContext, s: ServerState): LearnerState {
  const l = own(ctx, s, 'learner');
  if (l === null) throw new Error(`s${s.sid}: a learner's write on a server that is not a learner`);
  return l;
}

/** This step's writable handler of learner `sid` (the leader and its handler record owned on the way). */
export function ownHandler(ctx: StepContext, s: ServerState, sid: Sid): LearnerHandler {
  const h = own(ctx, own(ctx, ownLeader(ctx, s), 'learners'), sid);
  if (h === undefined) throw new Error(`s${s.sid}: a write on the handler of s${sid}, which has none`);
  return h;
}
