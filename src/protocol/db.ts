/**
 * ZKDatabase: a server's in-memory database as pure functions over an immutable {@link Db}.
 *
 * - `tree` and `lastProcessedZxid`: the applied state (§1.1). A leader's lastProcessedZxid becomes
 *   (e,0) when it is established (Leader.startZkServer), a quirk other code relies on.
 * - `log`: the server's view of its txn log (page cache included: appends are visible at once,
 *   durable only when the kernel reports their fsync). After a SNAP sync it restarts empty,
 *   continuing from the snapshot.
 * - `committed`: the txns applied since the last load, in order; ZooKeeper's `committedLog` is
 *   its last `commitLogCount` entries (§1.2). A purge trims it to those (`committedBase` counts
 *   the ones trimmed), so it stays bounded however long the run.
 * - `snapshots`: the snapshot files this server holds, newest last (TRUNC reloads from the newest;
 *   `generation` counts how often the tree was replaced, which ends a snapshot thread's file).
 *
 * A Db is replaced wholesale, never mutated.
 */
import { stateFreezing } from './cow.ts';
import { applyTxn, EMPTY_TREE, type DataTree, type TxnResult } from './datatree.ts';
import { keptByTruncate, purgePlan, TxnLog, type PurgePlan } from './txnlog.ts';
import type { DurableImage, LogEntry, Snapshot } from './types.ts';
import type { Zxid } from './zxid.ts';

/**
 * A class, not a plain object: immutable (its fields are readonly, and frozen when the tests'
 * state freezing is on), replaced whole by every change, so a step's copy-on-write (cow.ts)
 * never copies it and the tests' state freezing never walks into it. Runs do not freeze it: an
 * Object.freeze per Db, several per txn, was 1 % of the broadcast workload's CPU profile.
 */
export class Db {
  constructor(
    readonly tree: DataTree,
    readonly lastProcessedZxid: Zxid,
    readonly log: TxnLog,
    readonly committed: TxnLog,
    readonly snapshots: readonly Snapshot[],
    /** Txns logged since this server last took a snapshot (SyncRequestProcessor's count). */
    readonly sinceSnapshot: number,
    /** The last txn the tree reflects (lastProcessedZxid may be a new-epoch (e,0) instead). */
    readonly lastTxn: Zxid,
    /**
     * Txn log entries on disk at load time that the newest snapshot already covered (ZooKeeper
     * keeps its txn log files). Not part of `log`: only a TRUNC that deletes that snapshot
     * replays them, from an older snapshot.
     */
    readonly olderLog: readonly LogEntry[] = EMPTY_ENTRIES,
    /** Applied txns trimmed from the front of `committed` since the last load (by purges). */
    readonly committedBase: number = 0,
    /** How many times the tree was replaced (a SNAP load, a TRUNC reload) since start. */
    readonly generation: number = 0,
  ) {
    if (stateFreezing()) Object.freeze(this);
  }

  /** What a serialised state shows of the database. */
  toJSON(): object {
    return { lastProcessedZxid: this.lastProcessedZxid, log: this.log, committed: this.committed.length, snapshots: this.snapshots.map((x) => x.zxid), digest: this.tree.digest };
  }
}

const EMPTY_ENTRIES: readonly LogEntry[] = Object.freeze([]);

interface DbFields {
  readonly tree: DataTree;
  readonly lastProcessedZxid: Zxid;
  readonly log: TxnLog;
  readonly committed: TxnLog;
  readonly snapshots: readonly Snapshot[];
  readonly sinceSnapshot: number;
  readonly lastTxn: Zxid;
  readonly olderLog?: readonly LogEntry[];
  readonly committedBase?: number;
  readonly generation?: number;
}

/** The last txn a snapshot reflects. */
export function snapshotLastTxn(s: Snapshot): Zxid {
  return s.lastTxn ?? s.zxid;
}

/** How many snapshots a server keeps, in memory and on disk (older ones are purged, like ZooKeeper's autopurge). */
export const KEPT_SNAPSHOTS = 8;

export const EMPTY_DB: Db = new Db(EMPTY_TREE, 0, TxnLog.EMPTY, TxnLog.EMPTY, Object.freeze([]), 0, 0);

function make(f: DbFields): Db {
  return new Db(f.tree, f.lastProcessedZxid, f.log, f.committed, f.snapshots, f.sinceSnapshot, f.lastTxn, f.olderLog ?? EMPTY_ENTRIES, f.committedBase ?? 0, f.generation ?? 0);
}

/** FileSnap.deserialize reads at most this many snapshots, newest first (findNValidSnapshots(100)). */
export const SNAPSHOTS_TRIED = 100;

/**
 * FileSnap.deserialize: the newest snapshot, among the newest {@link SNAPSHOTS_TRIED}, whose file
 * reads back whole; one that fails its CRC ("problem reading snap file") is skipped for the one
 * before it. Its index in `snaps`; -1 when there are snapshots but none of them reads back
 * ("Not able to find valid snapshots"); null when there is no snapshot at all.
 */
export function validSnapshotIndex(snaps: readonly Snapshot[]): number | null {
  if (snaps.length === 0) return null;
  for (let i = snaps.length - 1; i >= Math.max(0, snaps.length - SNAPSHOTS_TRIED); i--) {
    if ((snaps[i] as Snapshot).corrupt !== true) return i;
  }
  return -1;
}

/** The empty `snapshot.0` FileTxnSnapLog.restore writes on a fresh data directory. */
export const EMPTY_SNAPSHOT: Snapshot = Object.freeze({ zxid: 0, data: EMPTY_TREE });

/** The message of FileTxnSnapLog.restore's refusal with a txn log and no snapshot (EMPTY_SNAPSHOT_WARNING). */
export const NO_SNAPSHOT_WARNING = 'No snapshot found, but there are log entries. Something is broken!';

/**
 * What FileTxnSnapLog.restore makes of a disk before it replays anything: `load` (a snapshot
 * that reads back, or a log trusted without one), `fresh` (nothing on disk: write an empty
 * `snapshot.0`, without fsync, and start empty), or a refusal, the IOException that stops the
 * server (QuorumPeer.loadDataBase: "Unable to load database on disk"). `trustEmpty` is
 * `zookeeper.snapshot.trust.empty` (ZOOKEEPER-3056).
 */
export function restoreOutcome(durable: Pick<DurableImage, 'snapshots' | 'log'>, trustEmpty: boolean): RestoreOutcome {
  const i = validSnapshotIndex(durable.snapshots);
  if (i === -1) return { kind: 'refuse', reason: NO_VALID_SNAPSHOT };
  if (i !== null) return { kind: 'load' };
  if (durable.log.length === 0) return { kind: 'fresh' };
  return trustEmpty ? { kind: 'load' } : { kind: 'refuse', reason: NO_SNAPSHOT_WARNING };
}

export type RestoreOutcome = { kind: 'load' | 'fresh' } | { kind: 'refuse'; reason: string };

/** FileSnap.deserialize's IOException when snapshots exist and none reads back. */
export const NO_VALID_SNAPSHOT = 'Not able to find valid snapshots in the snapshot directory';

/** The snapshot files a TRUNC to z leaves: those reflecting txns after z go, unless the ZOOKEEPER-1549 flaw keeps them. */
function snapshotsKeptByTruncate(db: Db, z: Zxid, keepNewerSnapshots: boolean): readonly Snapshot[] {
  if (keepNewerSnapshots) return db.snapshots;
  const kept: Snapshot[] = [];
  for (const x of db.snapshots) if (snapshotLastTxn(x) <= z) kept.push(x);
  return Object.freeze(kept);
}

/** The labels (zxids) of `snapshots`, in their order. */
export function snapshotLabels(snapshots: readonly Snapshot[]): Zxid[] {
  const labels: Zxid[] = [];
  for (const x of snapshots) labels.push(x.zxid);
  return labels;
}

/**
 * The entries of `log` whose zxids lie in [from, below), in order. (A loop, not `filter` with a
 * callback made per call: see docs/scaling.md, "Eleventh session", on closures and the JIT.)
 */
function entriesIn(log: readonly LogEntry[], from: Zxid, below: Zxid): LogEntry[] {
  const out: LogEntry[] = [];
  for (const e of log) if (e.zxid >= from && e.zxid < below) out.push(e);
  return out;
}

/**
 * ZKDatabase.truncateLog's loadDataBase: FileTxnSnapLog.restore on the files the TRUNC to z leaves
 * ({@link restoreOutcome}). A refusal is the IOException that ends the learner's role
 * (Follower.followLeader's "Exception when following the leader") with its database cleared and
 * not initialized, so that every later QuorumPeer.loadDataBase (getLastLoggedZxid, at the next
 * election) throws it again: the server never takes part again, and a restart on those files
 * refuses to start. 'fresh' (no snapshot, no log left) starts empty, as truncateAndReload does.
 */
export function truncateOutcome(db: Db, z: Zxid, keepNewerSnapshots: boolean, asFileTxnLog: boolean, trustEmpty: boolean): RestoreOutcome {
  const log = logOnDisk(db).slice(0);
  return restoreOutcome({ snapshots: snapshotsKeptByTruncate(db, z, keepNewerSnapshots), log: log.slice(0, keptByTruncate(log, z, asFileTxnLog)) }, trustEmpty);
}

/**
 * FileTxnSnapLog.restore: the newest snapshot that reads back ({@link validSnapshotIndex}), then
 * every logged txn after its label, replayed into the tree and into `committed` (§1.1: no
 * commit point is persisted, so every logged txn is applied). The entries the label covers are
 * kept aside (`olderLog`) for a TRUNC that deletes it.
 *
 * A fuzzy snapshot's content can be ahead of its label (persist.ts:maybeSnapshot): the replay
 * from label+1 then meets txns the tree already reflects. ZooKeeper re-applies them, relying on
 * idempotence (FileTxnSnapLog.processTransaction ignores NODEEXISTS/NONODE, DataTree.processTxn
 * sets what the txn says); zabsim's txns are not idempotent (a setData bumps the version, a
 * sequential create names its node from the parent), so a txn at or below the last txn the
 * snapshot reflects leaves the tree as it is, which is what the re-application gives in ZooKeeper.
 */
export function loadDatabase(durable: DurableImage): Db {
  const k = validSnapshotIndex(durable.snapshots);
  const snap = k === null || k < 0 ? null : (durable.snapshots[k] as Snapshot);
  const replayed = replay(snap, durable.log, 0, durable.log.length);
  return make({ ...replayed, snapshots: Object.freeze([...durable.snapshots]), sinceSnapshot: replayed.log.length });
}

/**
 * The tree a snapshot plus log entries [from, to) give (see {@link loadDatabase}): entries at or
 * below the label go to `olderLog`; those the content already reflects leave the tree as it is.
 */
function replay(snap: Snapshot | null, entries: { at(i: number): LogEntry } | readonly LogEntry[], from: number, to: number): { tree: DataTree; lastProcessedZxid: Zxid; log: TxnLog; committed: TxnLog; lastTxn: Zxid; olderLog: readonly LogEntry[] } {
  const list = Array.isArray(entries) ? (entries as readonly LogEntry[]) : null;
  let tree = snap?.data ?? EMPTY_TREE;
  let log = TxnLog.EMPTY;
  let committed = TxnLog.EMPTY;
  let last = snap?.zxid ?? 0;
  let lastTxn = snap === null ? 0 : snapshotLastTxn(snap);
  const older: LogEntry[] = [];
  for (let i = from; i < to; i++) {
    const e = list !== null ? (list[i] as LogEntry) : (entries as { at(i: number): LogEntry }).at(i);
    if (e.zxid <= last) {
      older.push(e); // at or below the label: already in the snapshot
      continue;
    }
    if (e.zxid > lastTxn) {
      tree = applyTxn(tree, e.zxid, e.txn).tree;
      lastTxn = e.zxid;
    }
    log = log.append(e);
    committed = committed.append(e);
    last = e.zxid;
  }
  return { tree, lastProcessedZxid: last, log, committed, lastTxn, olderLog: Object.freeze(older) };
}

/** Appends a txn to the log (the write itself is a persist effect the caller emits). */
export function logTxn(db: Db, e: LogEntry): Db {
  // The two per-txn changes (this and applyCommitted) build the next Db directly: no spread of
  // the old one into a temporary first.
  return new Db(db.tree, db.lastProcessedZxid, db.log.append(e), db.committed, db.snapshots, db.sinceSnapshot + 1, db.lastTxn, db.olderLog, db.committedBase, db.generation);
}

/**
 * Applies one committed txn in zxid order. `cache` false skips the committedLog append, as the
 * `processTxn(hdr, txn)` variant of ZooKeeper 3.9.3 did during sync (ZOOKEEPER-4925).
 */
export function applyCommitted(db: Db, e: LogEntry, cache = true): { db: Db; result: TxnResult } {
  if (e.zxid <= db.lastProcessedZxid) {
    throw new Error(`applyCommitted: zxid ${e.zxid} not after lastProcessedZxid ${db.lastProcessedZxid}`);
  }
  // A txn the tree already reflects (the content of a fuzzy SNAP is ahead of its label): ZooKeeper's
  // DataTree.processTxn applies it again, to the same tree once the replay reaches the content's
  // last txn; zabsim's txns are not idempotent, so the tree stays as it is (docs/protocol.md
  // "Snapshots"), and the result is what applying it to that tree says (NODEEXISTS, say).
  const applied = applyTxn(db.tree, e.zxid, e.txn);
  const tree = e.zxid <= db.lastTxn ? db.tree : applied.tree;
  const result = applied.result;
  // Only after a TRUNC that kept a txn above its target can the committed tail be ahead of e;
  // ZooKeeper's committedLog would take e out of order, zabsim's keeps zxid order and skips it.
  const tail = db.committed.lastZxid(-1);
  const committed = cache && e.zxid > tail ? db.committed.append(e) : db.committed;
  return { db: new Db(tree, e.zxid, db.log, committed, db.snapshots, db.sinceSnapshot, Math.max(e.zxid, db.lastTxn), db.olderLog, db.committedBase, db.generation), result };
}

/**
 * DataTree.processTxn of txns the tree already reflects (ZOOKEEPER-3104): a learner that loaded a
 * SNAP whose content is ahead of the COMMITs it then reads applies them again; the tree changes,
 * lastProcessedZxid and lastTxn do not (processTxn only ever raises them).
 */
export function reapplyOver(db: Db, entries: readonly LogEntry[]): Db {
  let tree = db.tree;
  for (const e of entries) tree = applyTxn(tree, e.zxid, e.txn).tree;
  return make({ ...db, tree });
}

/**
 * fastForwardDataBase (ZOOKEEPER-2845): when a role ends, every logged txn not yet applied is
 * applied, so the zxid a server votes with is the last one in its log. Each goes through
 * {@link applyCommitted}, as FileTxnSnapLog.fastForwardFromEdits hands every replayed txn to
 * ZKDatabase's commitProposalPlaybackListener (addCommittedProposal): a txn the tree already
 * reflects (a fuzzy SNAP's content, a txn FileTxnLog.truncate kept above a TRUNC target) leaves
 * the tree as it is and joins the committedLog unless its tail is already at or above it.
 */
export function fastForward(db: Db): Db {
  let cur = db;
  for (let i = db.log.lowerBound(db.lastProcessedZxid + 1); i < db.log.length; i++) cur = applyCommitted(cur, db.log.at(i)).db;
  return cur;
}

/** Leader.startZkServer's quirk: the established leader's lastProcessedZxid becomes (e,0). */
export function setLastProcessed(db: Db, z: Zxid): Db {
  return make({ ...db, lastProcessedZxid: z });
}

/**
 * A snapshot of the current tree, labelled with lastProcessedZxid, taken at once: the
 * synchronous ZooKeeperServer.takeSnapshot(syncSnap) of Leader.lead and of NEWLEADER, during
 * which no txn is applied.
 */
export function takeSnapshot(db: Db): { db: Db; snapshot: Snapshot } {
  const snapshot: Snapshot = Object.freeze({ zxid: db.lastProcessedZxid, data: db.tree, lastTxn: db.lastTxn });
  return { db: addSnapshot(db, snapshot), snapshot };
}

/** The database holding one more snapshot file (the newest KEPT_SNAPSHOTS stay), its count reset. */
function addSnapshot(db: Db, snapshot: Snapshot): Db {
  return make({ ...db, snapshots: withSnapshot(db.snapshots, snapshot), sinceSnapshot: 0 });
}

/**
 * The snapshot files with one more, in label order, newest last: a directory holds one file per
 * name (snapshot.<label>), so one of the same label is replaced (FileTxnSnapLog.save opens the
 * name for writing), and FileSnap reads the files newest label first (Util.sortDataDir), wherever
 * a file was written in time. A file can be written below a newer one: a restart from the
 * snapshot before a newest one that does not read back takes its next snapshot below that one's
 * label. The newest KEPT_SNAPSHOTS stay.
 */
function withSnapshot(snaps: readonly Snapshot[], snapshot: Snapshot): readonly Snapshot[] {
  const all = [...snaps.filter((x) => x.zxid !== snapshot.zxid), snapshot].sort((a, b) => a.zxid - b.zxid);
  return Object.freeze(all.slice(-KEPT_SNAPSHOTS));
}

/**
 * SyncRequestProcessor's "Snapshot Thread" while it serialises: FileTxnSnapLog.save names the
 * file after the tree's lastProcessedZxid when it starts (`label`), then serialises the tree
 * node by node while the CommitProcessor goes on applying txns, so the content can reflect txns
 * after the label (a fuzzy snapshot). `tree`/`lastTxn`: the tree when it started; `generation`:
 * the Db's then. A frozen class, replaced whole, as Db.
 */
export class SnapshotThread {
  constructor(
    readonly label: Zxid,
    readonly tree: DataTree,
    readonly lastTxn: Zxid,
    readonly generation: number,
    /** It has seen the end of one step since it started: the next step's end captures the tree. */
    readonly armed: boolean,
  ) {
    Object.freeze(this);
  }

  toJSON(): object {
    return { label: this.label, armed: this.armed };
  }
}

/** Starts a snapshot thread on the current tree (see {@link SnapshotThread}); the count restarts (rollLog). */
export function startSnapshotThread(db: Db): { db: Db; thread: SnapshotThread } {
  return { db: make({ ...db, sinceSnapshot: 0 }), thread: new SnapshotThread(db.lastProcessedZxid, db.tree, db.lastTxn, db.generation, false) };
}

/**
 * The snapshot thread's file, complete: labelled as when it started, with the tree as it is now
 * (every txn applied since is in it). A tree replaced meanwhile (a SNAP, a TRUNC reload) is not
 * serialised: the thread's file is abandoned (null), see docs/protocol.md "Snapshots".
 */
export function finishSnapshotThread(db: Db, t: SnapshotThread): { db: Db; snapshot: Snapshot } | null {
  if (db.generation !== t.generation) return null;
  const snapshot: Snapshot = Object.freeze({ zxid: t.label, data: db.tree, lastTxn: db.lastTxn });
  return { db: make({ ...db, snapshots: withSnapshot(db.snapshots, snapshot) }), snapshot };
}

/** FileTxnSnapLog.restore on a fresh data directory: the empty `snapshot.0` it writes is a file like any other. */
export function withFreshSnapshot(db: Db): Db {
  return make({ ...db, snapshots: withSnapshot(db.snapshots, EMPTY_SNAPSHOT) });
}

/** SNAP sync: the leader's snapshot replaces everything in memory (§5.2). */
export function loadSnapshot(db: Db, snapshot: Snapshot): Db {
  return make({ tree: snapshot.data, lastProcessedZxid: snapshot.zxid, log: TxnLog.EMPTY, committed: TxnLog.EMPTY, snapshots: db.snapshots, sinceSnapshot: 0, lastTxn: snapshotLastTxn(snapshot), generation: db.generation + 1 });
}

/**
 * TRUNC sync (ZKDatabase.truncateLog): cut the log after z, then reload the database as at start
 * from the newest snapshot held plus the remaining log entries after it. Snapshots that reflect
 * txns after z are deleted first, so the reload cannot bring the truncated txns back. ZooKeeper
 * 3.9 leaves them in place and reloads from the newest one (ZOOKEEPER-1549): with
 * `keepNewerSnapshots` this function does the same. A snapshot known not to read back (loaded
 * from disk marked corrupt) is passed over, as FileSnap.deserialize passes it over; when none of
 * those left reads back there is no reload ({@link truncateOutcome}: the server halts).
 */
export function truncateAndReload(db: Db, z: Zxid, keepNewerSnapshots = false, asFileTxnLog = false): Db {
  const snapshots = snapshotsKeptByTruncate(db, z, keepNewerSnapshots);
  const k = validSnapshotIndex(snapshots);
  // Snapshots and none readable: FileSnap.deserialize throws, there is nothing to reload (the
  // caller checks truncateOutcome first). No snapshot at all reloads the log alone, as restore
  // does with zookeeper.snapshot.trust.empty.
  if (k === -1) throw new Error(`truncateAndReload to ${z}: ${NO_VALID_SNAPSHOT}`);
  const snap = k === null ? null : (snapshots[k] as Snapshot);
  const base = snap?.zxid ?? 0;
  // The txn log as on disk: the entries the previous newest snapshot covered, then the log, cut
  // as keptByTruncate says (with the FileTxnLog flaw, the first txn above an absent z stays).
  const firstLogged = db.log.length > 0 ? db.log.at(0).zxid : Infinity;
  const revivable = entriesIn(db.olderLog, base + 1, firstLogged);
  let log: TxnLog;
  if (revivable.length === 0) log = db.log.truncateTo(z, asFileTxnLog);
  else {
    const all = [...revivable, ...db.log.slice(0)];
    log = TxnLog.of(all.slice(0, keptByTruncate(all, z, asFileTxnLog)));
  }
  const r = replay(snap, log, 0, log.length);
  // Only what the cut leaves on disk: with keepNewerSnapshots the base can be above z, and the
  // entries between z and base are gone from the files though the snapshot still reflects them.
  const below = entriesIn(db.olderLog, -Infinity, base + 1);
  const olderLog = Object.freeze(below.slice(0, keptByTruncate(below, z, asFileTxnLog)));
  return make({ tree: r.tree, lastProcessedZxid: r.lastProcessedZxid, log, committed: r.committed, snapshots, sinceSnapshot: db.sinceSnapshot, lastTxn: r.lastTxn, olderLog, generation: db.generation + 1 });
}

/** How many txns this server has applied since it last loaded its database. */
export function appliedCount(db: Db): number {
  return db.committedBase + db.committed.length;
}

/** Every txn still in the log files, oldest first: the first `n` of `older` (those the newest snapshot covers), then `log`. */
export class LogOnDisk {
  readonly length: number;

  constructor(
    private readonly older: readonly LogEntry[],
    private readonly n: number,
    private readonly log: TxnLog,
  ) {
    this.length = n + log.length;
  }

  /** Entry i (0-based). */
  at(i: number): LogEntry {
    return i < this.n ? (this.older[i] as LogEntry) : this.log.at(i - this.n);
  }

  /** Entries [from, length) as a new array. */
  slice(from: number): LogEntry[] {
    const out: LogEntry[] = [];
    for (let i = from; i < this.length; i++) out.push(this.at(i));
    return out;
  }
}

/** Every txn still in the log files, oldest first: those the newest snapshot covers, then `log`. */
export function logOnDisk(db: Db): LogOnDisk {
  const older = db.olderLog;
  const first = db.log.length > 0 ? db.log.at(0).zxid : Infinity;
  let n = older.length;
  while (n > 0 && (older[n - 1] as LogEntry).zxid >= first) n--;
  return new LogOnDisk(older, n, db.log);
}

/**
 * PurgeTxnLog.purge as DatadirCleanupManager's PurgeTask runs it (see {@link purgePlan}): the
 * server's view of its files after the purge, and what went (null: nothing). The committedLog
 * is trimmed to its `commitLogCount` entries in the same step.
 */
export function purgeDb(db: Db, snapRetainCount: number, commitLogCount: number): { db: Db; plan: PurgePlan | null } {
  const plan = purgePlan(logOnDisk(db), snapshotLabels(db.snapshots), snapRetainCount);
  const committed = db.committed.keepLast(Math.max(1, commitLogCount));
  const committedBase = db.committedBase + db.committed.length - committed.length;
  if (plan === null) return { db: committed === db.committed ? db : make({ ...db, committed, committedBase }), plan };
  const z = plan.logFrom;
  const olderLog = db.olderLog.length > 0 && (db.olderLog[0] as LogEntry).zxid < z ? Object.freeze(entriesIn(db.olderLog, z, Infinity)) : db.olderLog;
  const snapshots = Object.freeze(db.snapshots.slice(plan.dropSnapshots));
  return { db: make({ ...db, log: db.log.dropBefore(z), olderLog, snapshots, committed, committedBase }), plan };
}

/** The committedLog window: its bounds and its entries' index range in `committed`. */
export interface CommittedWindow {
  readonly min: Zxid;
  readonly max: Zxid;
  readonly from: number;
  readonly to: number;
}

/**
 * min/maxCommittedLog as syncFollower reads them: with an empty committedLog both equal the
 * leader's lastProcessedZxid (§5.1).
 */
export function committedWindow(db: Db, commitLogCount: number): CommittedWindow {
  const to = db.committed.length;
  const from = Math.max(0, to - commitLogCount);
  if (to === 0) return { min: db.lastProcessedZxid, max: db.lastProcessedZxid, from, to };
  return { min: db.committed.at(from).zxid, max: db.committed.at(to - 1).zxid, from, to };
}
