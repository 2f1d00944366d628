/**
 * Durable writes from the protocol's side: each is a persist effect with a token, and the token
 * remembers what its fsync means (send an ACK, unblock the learner, count the leader's own
 * ACK...). The role counter in each entry makes a write from an ended role harmless: its fsync
 * still happens, but nothing follows from it.
 */
import { note, setTimer, type StepContext } from './context.ts';
import { finishSnapshotThread, purgeDb, SnapshotThread, startSnapshotThread, takeSnapshot } from './db.ts';
import { formatZxid } from './zxid.ts';
import type { PendingEntry, PendingWrite, PersistOp, ServerState } from './types.ts';

type S = ServerState;

/** Emits a persist effect; `then` says what its fsync means. Returns the token. */
export function persist(s: S, ctx: StepContext, write: PersistOp, then: PendingWrite | null = null): number {
  const token = s.nextToken++;
  ctx.effects.push({ kind: 'persist', token, write });
  if (then !== null) setPendingWrite(s, token, then);
  return token;
}

/** What the fsync of `token` means to the protocol, if anything. */
export function pendingWrite(s: S, token: number): PendingWrite | undefined {
  const ws = s.writes;
  for (let i = 0; i < ws.length; i++) if ((ws[i] as PendingEntry).token === token) return (ws[i] as PendingEntry).write;
  return undefined;
}

/**
 * Sets what the fsync of `token` means. A token has one meaning: `persist` sets it with a fresh
 * token, and the NEWLEADER steps (sync.ts) on the token of a write made without one; a second
 * is a bug of zabsim's.
 */
export function setPendingWrite(s: S, token: number, write: PendingWrite): void {
  if (pendingWrite(s, token) !== undefined) throw new Error(`s${s.sid}: the fsync of write ${token} already has a meaning (${pendingWrite(s, token)?.kind}), not ${write.kind}`);
  s.writes = [...s.writes, { token, write }];
}

/** Forgets `token`'s pending write and returns it (its fsync was reported, or failed). */
export function takePendingWrite(s: S, token: number): PendingWrite | undefined {
  const w = pendingWrite(s, token);
  if (w !== undefined) s.writes = s.writes.filter((e) => e.token !== token);
  return w;
}

/**
 * SyncRequestProcessor's snapshot policy: after a count of logged txns in
 * [snapCount/2 + 1, snapCount], roll the log and start the "Snapshot Thread". ZooKeeper draws the
 * count at random; here it is a fixed function of the server id and how many snapshots it took,
 * so servers do not all snapshot at the same txn and the protocol stays free of randomness.
 *
 * The snapshot is fuzzy, as ZooKeeper's: FileTxnSnapLog.save names it after lastProcessedZxid
 * when the thread starts, and the thread serialises the tree while txns go on being applied. Here
 * the thread captures the tree at the end of the server's next step (whatever it handles: a
 * COMMIT the CommitProcessor applies, a message, a timer), so every txn applied until then is in
 * the file; only then is the file written (the disk completes it after the log appends before
 * it). One thread at a time: "Too busy to snap, skipping" (snapThreadMutex).
 */
export function maybeSnapshot(s: S, ctx: StepContext): void {
  const half = Math.max(1, Math.floor(ctx.cfg.params.snapCount / 2));
  const threshold = half + 1 + ((s.sid * 31 + s.snapshotsTaken * 17) % half);
  if (s.db.sinceSnapshot < threshold) return;
  const { db, thread } = startSnapshotThread(s.db);
  s.db = db;
  if (s.snapThread !== null) {
    note(ctx, 'Too busy to snap, skipping');
    return;
  }
  s.snapThread = thread;
  s.snapshotsTaken++;
}

/**
 * The snapshot thread at the end of a step (peer.ts:step): armed at the end of the step that
 * started it, it completes at the end of the next one, and its file is written then. A server
 * that stopped (halt) loses it, as a crash does: ZooKeeper's half-written file fails
 * Util.isValidSnapshot and is never loaded.
 */
export function snapshotThreadStep(s: S, ctx: StepContext): void {
  const t = s.snapThread;
  if (t === null) return;
  if (!s.up) {
    s.snapThread = null;
    return;
  }
  if (!t.armed) {
    s.snapThread = new SnapshotThread(t.label, t.tree, t.lastTxn, t.generation, true);
    return;
  }
  s.snapThread = null;
  const done = finishSnapshotThread(s.db, t);
  if (done === null) {
    note(ctx, `snapshot.${formatZxid(t.label)} abandoned: the database was reloaded while it was being written`);
    return;
  }
  s.db = done.db;
  persist(s, ctx, { op: 'snapshot', snapshot: done.snapshot });
}

/** Takes a snapshot of the current tree at once and writes it (ZooKeeperServer.takeSnapshot(syncSnap)). */
export function snapshotNow(s: S, ctx: StepContext, then: PendingWrite | null = null): number {
  const { db, snapshot } = takeSnapshot(s.db);
  s.db = db;
  s.snapshotsTaken++;
  return persist(s, ctx, { op: 'snapshot', snapshot }, then);
}

/** DatadirCleanupManager's timer: PurgeTask runs every autopurge.purgeInterval. */
export const TIMER_PURGE = 'autopurge';

/**
 * DatadirCleanupManager.start: with a purge interval (0 leaves autopurge off, as in ZooKeeper),
 * `timer.scheduleAtFixedRate(task, 0, purgeInterval)`: the first PurgeTask runs at once, at
 * start-up, and then every interval. It runs in every role, as ZooKeeper's cleanup thread does.
 * zabsim runs the first one in the start step, once the database is loaded and the epoch files
 * checked, before the election starts (docs/protocol.md §9, "Autopurge").
 */
export function startPurge(s: S, ctx: StepContext): void {
  if (ctx.cfg.params.purgeIntervalMs > 0) onPurgeTimer(s, ctx);
}

/** Schedules the next PurgeTask, one purge interval away (none with autopurge off). */
export function schedulePurge(ctx: StepContext): void {
  const every = ctx.cfg.params.purgeIntervalMs;
  if (every > 0) setTimer(ctx, TIMER_PURGE, every);
}

/**
 * PurgeTask: PurgeTxnLog.purge with autopurge.snapRetainCount. The server's view of its files
 * drops what the purge deletes, the disk is told to delete the same files (a write that needs
 * no fsync), and the committedLog is trimmed to commitLogCount; then the next run is scheduled.
 */
export function onPurgeTimer(s: S, ctx: StepContext): void {
  const p = ctx.cfg.params;
  const { db, plan } = purgeDb(s.db, p.snapRetainCount, p.commitLogCount);
  s.db = db;
  if (plan !== null) persist(s, ctx, { op: 'purge', snapRetainCount: p.snapRetainCount, logFrom: plan.logFrom });
  schedulePurge(ctx);
}
