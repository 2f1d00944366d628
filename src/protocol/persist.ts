/**
 * Durable writes from the protocol's side: each is a persist effect with a token, and the token
 * remembers what its fsync means (send an ACK, unblock the learner, count the leader's own
 * ACK...). The role counter in each entry makes a write from an ended role harmless: its fsync
 * still happens, but nothing follows from it.
 */
import type { StepContext } from './context.ts';
import { takeSnapshot } from './db.ts';
import type { PendingWrite, PersistOp, ServerState } from './types.ts';

type S = ServerState;

/** Emits a persist effect; `then` says what its fsync means. Returns the token. */
export function persist(s: S, ctx: StepContext, write: PersistOp, then: PendingWrite | null = null): number {
  const token = s.nextToken++;
  ctx.effects.push({ kind: 'persist', token, write });
  if (then !== null) s.writes[token] = then;
  return token;
}

/**
 * SyncRequestProcessor's snapshot policy: after a count of logged txns in
 * [snapCount/2 + 1, snapCount], snapshot the data tree. ZooKeeper draws the count at random; here
 * it is a fixed function of the server id and how many snapshots it took, so servers do not all
 * snapshot at the same txn and the protocol stays free of randomness.
 */
export function maybeSnapshot(s: S, ctx: StepContext): void {
  const half = Math.max(1, Math.floor(ctx.cfg.params.snapCount / 2));
  const threshold = half + 1 + ((s.sid * 31 + s.snapshotsTaken * 17) % half);
  if (s.db.sinceSnapshot < threshold) return;
  snapshotNow(s, ctx);
}

/** Takes a snapshot of the current tree and writes it (not awaited: a fuzzy snapshot). */
export function snapshotNow(s: S, ctx: StepContext, then: PendingWrite | null = null): number {
  const { db, snapshot } = takeSnapshot(s.db);
  s.db = db;
  s.snapshotsTaken++;
  return persist(s, ctx, { op: 'snapshot', snapshot }, then);
}
