/**
 * Snapshots as ZooKeeper 3.9.4 writes and loads them (docs/protocol.md "Snapshots" and §1.1):
 * FileSnap.deserialize (the newest snapshot that reads back), FileTxnSnapLog.restore (snapshot.0
 * on a fresh directory, the refusal of a log without a snapshot, zookeeper.snapshot.trust.empty),
 * SyncRequestProcessor's snapshot thread (a fuzzy snapshot: the label below the content) and the
 * replay over it that relies on idempotence (FileTxnSnapLog.processTransaction).
 */
import { describe, expect, it } from 'vitest';
import { makeClusterConfig } from '../../src/protocol/config.ts';
import { applyTxn, EMPTY_TREE, getData, type DataTree, type Txn } from '../../src/protocol/datatree.ts';
import { applyCommitted, EMPTY_DB, KEPT_SNAPSHOTS, EMPTY_SNAPSHOT, finishSnapshotThread, loadDatabase, logOnDisk, logTxn, NO_SNAPSHOT_WARNING, purgeDb, restoreOutcome, startSnapshotThread, truncateAndReload, validSnapshotIndex, type Db } from '../../src/protocol/db.ts';
import { maybeSnapshot, pendingWrite, persist, schedulePurge, setPendingWrite, snapshotNow, snapshotThreadStep, takePendingWrite, TIMER_PURGE } from '../../src/protocol/persist.ts';
import { blankState } from '../../src/protocol/peer.ts';
import type { StepContext } from '../../src/protocol/context.ts';
import type { DurableImage, Effect, LogEntry, PersistOp, Snapshot } from '../../src/protocol/types.ts';
import { zxid, type Zxid } from '../../src/protocol/zxid.ts';
import { Disk, DEFAULT_DISK } from '../../src/sim/disk.ts';
import { Rng } from '../../src/sim/rng.ts';
import { image, Node } from './driver.ts';

const z = (c: number): Zxid => zxid(1, c);

/**
 * Txns that are not idempotent in zabsim's tree: a setData with version -1 bumps the version, a
 * sequential create names its node from the parent's cversion. Applied twice, each changes the tree.
 */
function txnAt(c: number): Txn {
  if (c === 1) return { type: 'create', path: '/p', data: '0', ephemeral: false, sequential: false, session: 0 };
  if (c % 3 === 0) return { type: 'create', path: '/p/q-', data: String(c), ephemeral: false, sequential: true, session: 0 };
  if (c % 3 === 1) return { type: 'setData', path: '/p', data: String(c), version: -1 };
  return { type: 'create', path: `/n${c}`, data: String(c), ephemeral: false, sequential: false, session: 0 };
}
const entry = (c: number): LogEntry => ({ zxid: z(c), txn: txnAt(c) });
const range = (a: number, b: number): LogEntry[] => Array.from({ length: b - a + 1 }, (_, i) => entry(a + i));

/** The tree of (1,1)..(1,c) applied once each, in order. */
function treeAt(c: number): DataTree {
  let t = EMPTY_TREE;
  for (let i = 1; i <= c; i++) t = applyTxn(t, z(i), txnAt(i)).tree;
  return t;
}
const snapAt = (c: number, over: Partial<Snapshot> = {}): Snapshot => ({ zxid: z(c), data: treeAt(c), ...over });

function durable(log: readonly LogEntry[], snapshots: readonly Snapshot[]): DurableImage {
  return { log, snapshots, acceptedEpoch: 1, currentEpoch: 1, acceptedEpochTmp: null, currentEpochTmp: null, updatingEpoch: false };
}

const halts = (effects: readonly Effect[]): string[] => effects.flatMap((e) => (e.kind === 'halt' ? [e.reason] : []));
const notes = (effects: readonly Effect[]): string[] => effects.flatMap((e) => (e.kind === 'note' ? [e.text] : []));
const persists = (effects: readonly Effect[]): PersistOp[] => effects.flatMap((e) => (e.kind === 'persist' ? [e.write] : []));

describe('FileSnap.deserialize: the newest snapshot that reads back', () => {
  it('a newest snapshot that fails its CRC is skipped for the one before; the log from its label is replayed over it', () => {
    const img = durable(range(1, 12), [snapAt(4), snapAt(8), snapAt(11, { corrupt: true })]);
    expect(validSnapshotIndex(img.snapshots)).toBe(1);
    const db = loadDatabase(img);
    expect(db.tree.digest).toBe(treeAt(12).digest);
    expect(db.lastProcessedZxid).toBe(z(12));
    // (1,9)..(1,12) replayed: applied and in the committedLog.
    expect(db.committed.length).toBe(4);
  });

  it('no snapshot that reads back is a refusal ("Not able to find valid snapshots"); no snapshot at all is not', () => {
    expect(validSnapshotIndex([snapAt(4, { corrupt: true }), snapAt(8, { corrupt: true })])).toBe(-1);
    expect(validSnapshotIndex([])).toBeNull();
    expect(restoreOutcome(durable(range(1, 8), [snapAt(4, { corrupt: true })]), true)).toEqual({ kind: 'refuse', reason: 'Not able to find valid snapshots in the snapshot directory' });
  });

  it('the server reports each skipped file and starts; with none readable it halts at every start', () => {
    const cfg = makeClusterConfig(3);
    const n = Node.start(cfg, 1, image([], 1, { log: range(1, 6), snapshots: [snapAt(3), snapAt(5, { corrupt: true })] }));
    expect(n.state.up).toBe(true);
    expect(notes(n.effects)).toContain('problem reading snap file snapshot.<1,5>: CRC check failed; trying the one before');
    expect(n.state.db.tree.digest).toBe(treeAt(6).digest);
    const bad = Node.start(cfg, 1, image([], 1, { log: range(1, 6), snapshots: [snapAt(3, { corrupt: true })] }));
    expect(bad.state.up).toBe(false);
    expect(halts(bad.effects)).toEqual(['Unable to load database on disk: Not able to find valid snapshots in the snapshot directory']);
  });

  it('the purge keeps what the fallback needs: after PurgeTxnLog.purge (snapRetainCount 3) a corrupt newest snapshot still loads the same tree', () => {
    const db0 = loadDatabase(durable(range(1, 20), [snapAt(5), snapAt(10), snapAt(15), snapAt(18)]));
    const { db, plan } = purgeDb(db0, 3, 500);
    expect(plan).not.toBeNull();
    // The disk after the purge: the files the server kept, the newest snapshot now unreadable.
    const onDisk = logOnDisk(db);
    const log = Array.from({ length: onDisk.length }, (_, i) => onDisk.at(i));
    const snaps = db.snapshots.map((s, i) => (i === db.snapshots.length - 1 ? { ...s, corrupt: true } : s));
    const again = loadDatabase(durable(log, snaps));
    expect(again.tree.digest).toBe(treeAt(20).digest);
    expect(again.lastProcessedZxid).toBe(z(20));
  });
});

describe('FileTxnSnapLog.restore: a fresh directory, and a log without a snapshot', () => {
  it('a fresh data directory gets an empty snapshot.0, written without an fsync', () => {
    const n = Node.start(makeClusterConfig(3), 1, image([], 0, { snapshots: [] }));
    expect(n.state.up).toBe(true);
    expect(persists(n.effects)[0]).toEqual({ op: 'snapshot', snapshot: EMPTY_SNAPSHOT, noFsync: true });
    expect(n.state.db.snapshots).toEqual([EMPTY_SNAPSHOT]);
    // Not on a directory that holds a snapshot already.
    const again = Node.start(makeClusterConfig(3), 1, image([], 0, { snapshots: [EMPTY_SNAPSHOT] }));
    expect(persists(again.effects).some((w) => w.op === 'snapshot')).toBe(false);
  });

  it('a txn log with no snapshot refuses to start ("No snapshot found, but there are log entries"), unless zookeeper.snapshot.trust.empty', () => {
    const img = image([], 1, { log: range(1, 4), snapshots: [] });
    const refused = Node.start(makeClusterConfig(3), 1, img);
    expect(refused.state.up).toBe(false);
    expect(halts(refused.effects)).toEqual([`Unable to load database on disk: ${NO_SNAPSHOT_WARNING}`]);
    const trusted = Node.start(makeClusterConfig(3, 0, { snapshotTrustEmpty: 1 }), 1, img);
    expect(trusted.state.up).toBe(true);
    expect(trusted.state.db.tree.digest).toBe(treeAt(4).digest);
    expect(persists(trusted.effects).some((w) => w.op === 'snapshot')).toBe(false);
  });
});

/** A server that logged (1,1)..(1,n) and applied (1,1)..(1,a). */
function server(n: number, a: number): Db {
  let db: Db = EMPTY_DB;
  for (let c = 1; c <= n; c++) db = logTxn(db, entry(c));
  for (let c = 1; c <= a; c++) db = applyCommitted(db, entry(c)).db;
  return db;
}

describe("SyncRequestProcessor's snapshot thread: a fuzzy snapshot", () => {
  it('the file is named after lastProcessedZxid when the thread starts; its content has every txn applied until it completes', () => {
    const { db, thread } = startSnapshotThread(server(9, 4));
    expect(db.sinceSnapshot).toBe(0); // rollLog: the count starts again
    let now = db;
    for (let c = 5; c <= 7; c++) now = applyCommitted(now, entry(c)).db;
    const done = finishSnapshotThread(now, thread);
    expect(done).not.toBeNull();
    const snap = (done as { snapshot: Snapshot }).snapshot;
    expect(snap.zxid).toBe(z(4));
    expect(snap.lastTxn).toBe(z(7));
    expect(snap.data.digest).toBe(treeAt(7).digest);
    expect((done as { db: Db }).db.snapshots.at(-1)).toBe(snap);
  });

  it('FileTxnSnapLog.restore replays from label+1 over the fuzzy content and ends with the exact tree (idempotence), for txns that are not idempotent in zabsim', () => {
    const fuzzy: Snapshot = { zxid: z(4), data: treeAt(9), lastTxn: z(9) };
    const db = loadDatabase(durable(range(1, 12), [EMPTY_SNAPSHOT, fuzzy]));
    expect(db.tree.digest).toBe(treeAt(12).digest);
    expect(getData(db.tree, '/p')).toBe('10');
    expect(db.lastProcessedZxid).toBe(z(12));
    expect(db.lastTxn).toBe(z(12));
    // Every txn after the label is in the log and the committedLog, as ZooKeeper replays it.
    expect(db.log.length).toBe(8);
    expect(db.committed.length).toBe(8);
    // Applying (1,5)..(1,9) again would not give it: the replay must leave them out of the tree.
    let twice = treeAt(9);
    for (let c = 5; c <= 12; c++) twice = applyTxn(twice, z(c), txnAt(c)).tree;
    expect(twice.digest).not.toBe(treeAt(12).digest);
  });

  it('a TRUNC reload over a fuzzy snapshot reaches the exact tree of the cut too, and deletes a snapshot whose content is above the cut', () => {
    const fuzzy: Snapshot = { zxid: z(4), data: treeAt(9), lastTxn: z(9) };
    const db = loadDatabase(durable(range(1, 12), [EMPTY_SNAPSHOT, snapAt(3), fuzzy]));
    const cut = truncateAndReload(db, z(10));
    expect(cut.tree.digest).toBe(treeAt(10).digest);
    const below = truncateAndReload(db, z(7));
    expect(below.snapshots.map((s) => s.zxid)).toEqual([0, z(3)]);
    expect(below.tree.digest).toBe(treeAt(7).digest);
  });

  it('a tree replaced while the thread runs (a TRUNC reload) is not written: the file is abandoned', () => {
    const { db, thread } = startSnapshotThread(server(9, 9));
    expect(finishSnapshotThread(truncateAndReload(db, z(5)), thread)).toBeNull();
  });

  it('maybeSnapshot starts the thread; it completes at the end of the next step; a second one meanwhile is "Too busy to snap, skipping"', () => {
    const cfg = makeClusterConfig(3, 0, { snapCount: 4 });
    const effects: Effect[] = [];
    const ctx: StepContext = { cfg, sid: 1, effects, probe: null, owned: [] };
    const s = { ...blankState(1), up: true, db: server(4, 2) };
    maybeSnapshot(s, ctx);
    expect(s.snapThread).not.toBeNull();
    expect(effects).toEqual([]);
    snapshotThreadStep(s, ctx); // the end of the step that started it
    expect(persists(effects)).toEqual([]);
    // The next step applies (1,3) and logs enough for another snapshot.
    s.db = applyCommitted(s.db, entry(3)).db;
    for (let c = 5; c <= 8; c++) s.db = logTxn(s.db, entry(c));
    maybeSnapshot(s, ctx);
    expect(notes(effects)).toEqual(['Too busy to snap, skipping']);
    snapshotThreadStep(s, ctx);
    const w = persists(effects);
    expect(w).toHaveLength(1);
    const snap = (w[0] as Extract<PersistOp, { op: 'snapshot' }>).snapshot;
    expect([snap.zxid, snap.lastTxn]).toEqual([z(2), z(3)]);
    expect(s.snapThread).toBeNull();
  });
});

describe('the snapshot thread and the purge timer, step by step (persist.ts)', () => {
  const cfg = makeClusterConfig(3, 0, { snapCount: 4 });
  function started(): { s: ReturnType<typeof blankState>; ctx: StepContext; effects: Effect[] } {
    const effects: Effect[] = [];
    const ctx: StepContext = { cfg, sid: 1, effects, probe: null, owned: [] };
    const s = { ...blankState(1), up: true, db: server(4, 2) };
    maybeSnapshot(s, ctx);
    snapshotThreadStep(s, ctx); // armed at the end of the step that started it
    expect(s.snapThread?.armed).toBe(true);
    return { s, ctx, effects };
  }

  it('a tree replaced before the thread completes (a SNAP or TRUNC reload) abandons the file: no write, a note naming its label, the thread gone', () => {
    const { s, ctx, effects } = started();
    s.db = truncateAndReload(s.db, z(1));
    snapshotThreadStep(s, ctx);
    expect(persists(effects)).toEqual([]);
    expect(notes(effects)).toEqual(['snapshot.<1,2> abandoned: the database was reloaded while it was being written']);
    expect(s.snapThread).toBeNull();
  });

  it('a server that stopped in the step (a halt) loses its thread: no write, as a half-written file never loads', () => {
    const { s, ctx, effects } = started();
    s.up = false;
    snapshotThreadStep(s, ctx);
    expect(persists(effects)).toEqual([]);
    expect(s.snapThread).toBeNull();
  });

  it('every snapshot taken counts toward the next threshold (SyncRequestProcessor draws it anew each time; zabsim from the count): the thread and takeSnapshot(syncSnap) both add one', () => {
    const { s } = started();
    expect(s.snapshotsTaken).toBe(1);
    const effects: Effect[] = [];
    snapshotNow(s, { cfg, sid: 1, effects, probe: null, owned: [] });
    expect(s.snapshotsTaken).toBe(2);
    expect(persists(effects).map((w) => w.op)).toEqual(['snapshot']);
  });

  it('what a write\'s fsync means is kept by its token until the fsync is reported, then forgotten; a token has one meaning', () => {
    const effects: Effect[] = [];
    const ctx: StepContext = { cfg, sid: 1, effects, probe: null, owned: [] };
    const s = { ...blankState(1), up: true };
    const a = persist(s, ctx, { op: 'appendLog', entry: { zxid: z(1), txn: { type: 'createSession', session: 1, timeoutMs: 1000 } } }, { kind: 'ack', role: 0, zxid: z(1) });
    const b = persist(s, ctx, { op: 'writeEpoch', file: 'currentEpoch', value: 1 });
    expect(b).toBe(a + 1);
    expect(pendingWrite(s, a)).toEqual({ kind: 'ack', role: 0, zxid: z(1) });
    expect(pendingWrite(s, b)).toBeUndefined();
    // The NEWLEADER steps give the last write a meaning after the fact.
    setPendingWrite(s, b, { kind: 'block', role: 0 });
    expect(s.writes.map((e) => e.token)).toEqual([a, b]);
    expect(() => setPendingWrite(s, b, { kind: 'block', role: 0 })).toThrow(`s1: the fsync of write ${b} already has a meaning (block), not block`);
    expect(takePendingWrite(s, a)).toEqual({ kind: 'ack', role: 0, zxid: z(1) });
    expect(pendingWrite(s, a)).toBeUndefined();
    expect(s.writes.map((e) => e.token)).toEqual([b]);
    // A token with no meaning (or one already reported) leaves the list as it is: the same array.
    const before = s.writes;
    expect(takePendingWrite(s, a)).toBeUndefined();
    expect(s.writes).toBe(before);
  });

  it('autopurge: with a purge interval the next PurgeTask is one interval away; with 0 (autopurge off, as in ZooKeeper) no timer is set', () => {
    const timers = (purgeIntervalMs: number): Effect[] => {
      const effects: Effect[] = [];
      schedulePurge({ cfg: makeClusterConfig(3, 0, { purgeIntervalMs }), sid: 1, effects, probe: null, owned: [] });
      return effects;
    };
    expect(timers(60_000)).toEqual([{ kind: 'setTimer', timer: TIMER_PURGE, delayMs: 60_000 }]);
    expect(timers(0)).toEqual([]);
  });
});

describe('the disk: snapshot files', () => {
  it('a corrupt-snapshot fault: a crash leaves the snapshot file being written, unsynced, as a file that fails its CRC; never snapshot.0, never a synced one', () => {
    const disk = new Disk({ ...DEFAULT_DISK, corruptSnapshotProb: 1 }, new Rng('1'), new Rng('2'));
    disk.submit(0, 1, { op: 'snapshot', snapshot: EMPTY_SNAPSHOT, noFsync: true });
    while (!disk.complete(1));
    disk.submit(0, 2, { op: 'snapshot', snapshot: snapAt(3) });
    while (!disk.complete(2));
    disk.submit(10, 3, { op: 'snapshot', snapshot: snapAt(4) });
    disk.crash(10, 'draw');
    expect(disk.image.snapshots.map((s) => [s.zxid, s.corrupt === true])).toEqual([[0, false], [z(3), false], [z(4), true]]);
    expect(loadDatabase(durable(range(1, 4), disk.image.snapshots)).tree.digest).toBe(treeAt(4).digest);
    // A pending snapshot.0 is only lost; a halt ('none') damages nothing.
    const fresh = new Disk({ ...DEFAULT_DISK, corruptSnapshotProb: 1 }, new Rng('1'), new Rng('2'));
    fresh.submit(0, 1, { op: 'snapshot', snapshot: EMPTY_SNAPSHOT, noFsync: true });
    fresh.crash(0, 'draw');
    expect(fresh.image.snapshots).toEqual([]);
    const halted = new Disk({ ...DEFAULT_DISK, corruptSnapshotProb: 1 }, new Rng('1'), new Rng('2'));
    halted.submit(0, 1, { op: 'snapshot', snapshot: snapAt(3) });
    halted.crash(0, 'none');
    expect(halted.image.snapshots).toEqual([]);
  });

  it('the disk keeps the newest KEPT_SNAPSHOTS files, counting one a crash left failing its CRC; leftCorrupt names it', () => {
    const disk = new Disk({ ...DEFAULT_DISK, corruptSnapshotProb: 1 }, new Rng('1'), new Rng('2'));
    for (let c = 1; c <= KEPT_SNAPSHOTS; c++) {
      disk.submit(0, c, { op: 'snapshot', snapshot: snapAt(c) });
      while (!disk.complete(c));
    }
    expect(disk.image.snapshots.length).toBe(KEPT_SNAPSHOTS);
    disk.submit(10, 100, { op: 'snapshot', snapshot: snapAt(KEPT_SNAPSHOTS + 1) });
    disk.crash(10, 'draw');
    expect(disk.leftCorrupt?.zxid).toBe(z(KEPT_SNAPSHOTS + 1));
    const counters = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);
    expect(disk.image.snapshots.map((s) => [s.zxid, s.corrupt === true])).toEqual([...counters(2, KEPT_SNAPSHOTS).map((c) => [z(c), false]), [z(KEPT_SNAPSHOTS + 1), true]]);
    disk.crash(20, 'draw');
    expect(disk.leftCorrupt).toBe(null);
    // What the operator removes and what an injected fault corrupts, as the trace reports them.
    expect(disk.corruptSnapshot(z(3))).toEqual({ zxid: z(3), corrupted: [snapAt(3)] });
    expect(disk.corruptSnapshot(z(3))).toEqual({ zxid: z(3), corrupted: [] });
    expect(disk.removeCorruptSnapshots().map((s) => s.zxid)).toEqual([z(3), z(KEPT_SNAPSHOTS + 1)]);
    expect(disk.image.snapshots.map((s) => s.zxid)).toEqual([2, ...counters(4, KEPT_SNAPSHOTS)].map(z));
  });

  it('a snapshot file of the same name (snapshot.<zxid>) replaces the old one; without the fault nothing is drawn from the storage stream', () => {
    const storage = new Rng('2');
    const disk = new Disk(DEFAULT_DISK, new Rng('1'), storage);
    disk.submit(0, 1, { op: 'snapshot', snapshot: snapAt(3) });
    while (!disk.complete(1));
    disk.submit(0, 2, { op: 'snapshot', snapshot: { zxid: z(3), data: treeAt(4), lastTxn: z(4) } });
    disk.crash(0);
    disk.submit(0, 3, { op: 'snapshot', snapshot: { zxid: z(3), data: treeAt(4), lastTxn: z(4) } });
    while (!disk.complete(3));
    expect(disk.image.snapshots.map((s) => [s.zxid, s.lastTxn])).toEqual([[z(3), z(4)]]);
    expect(storage.next()).toBe(new Rng('2').next());
  });

  it('corruptSnapshot and the operator: the newest readable file goes bad; with none readable, repair deletes them', () => {
    const disk = new Disk(DEFAULT_DISK, new Rng('1'));
    disk.image.snapshots = [EMPTY_SNAPSHOT, snapAt(3)];
    expect(disk.corruptSnapshot()?.zxid).toBe(z(3));
    expect(disk.corruptSnapshot()?.zxid).toBe(0);
    expect(disk.corruptSnapshot()).toBeNull();
    expect(disk.removeCorruptSnapshots().map((s) => s.zxid)).toEqual([0, z(3)]);
    expect(disk.image.snapshots).toEqual([]);
  });
});
