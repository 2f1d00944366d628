/**
 * Autopurge (docs/protocol.md §9): PurgeTxnLog.purge as DatadirCleanupManager's PurgeTask runs
 * it, on the server's view of its files (purgeDb) and on its disk; and what sync does when the
 * files it needs are gone (ZKDatabase.getProposalsFromTxnLog gives up: SNAP).
 */
import { describe, expect, it } from 'vitest';
import { applyTxn, EMPTY_TREE, type DataTree, type Txn } from '../../src/protocol/datatree.ts';
import { appliedCount, loadDatabase, logOnDisk, purgeDb, setLastProcessed, type Db } from '../../src/protocol/db.ts';
import { syncFollower } from '../../src/protocol/syncplan.ts';
import { purgePlan, segmentStarts, TxnLog } from '../../src/protocol/txnlog.ts';
import type { DurableImage, LogEntry, Snapshot } from '../../src/protocol/types.ts';
import { zxid, type Zxid } from '../../src/protocol/zxid.ts';
import { Disk, DEFAULT_DISK } from '../../src/sim/disk.ts';
import { Rng } from '../../src/sim/rng.ts';
import { makeClusterConfig } from '../../src/protocol/config.ts';
import { TIMER_PURGE } from '../../src/protocol/persist.ts';
import type { Effect } from '../../src/protocol/types.ts';
import { Node } from './driver.ts';

function txnFor(z: Zxid): Txn {
  return { type: 'create', path: `/n${z}`, data: String(z), ephemeral: false, sequential: false, session: 0 };
}
const entry = (c: number): LogEntry => ({ zxid: zxid(1, c), txn: txnFor(zxid(1, c)) });

/** A snapshot of the tree of (1,1)..(1,c). */
function snapAt(c: number): Snapshot {
  let tree: DataTree = EMPTY_TREE;
  for (let i = 1; i <= c; i++) tree = applyTxn(tree, zxid(1, i), txnFor(zxid(1, i))).tree;
  return { zxid: zxid(1, c), data: tree };
}

function image(log: readonly LogEntry[], snapshots: readonly Snapshot[]): DurableImage {
  return { log, snapshots, acceptedEpoch: 1, currentEpoch: 1, acceptedEpochTmp: null, currentEpochTmp: null, updatingEpoch: false };
}

const range = (a: number, b: number): LogEntry[] => Array.from({ length: b - a + 1 }, (_, i) => entry(a + i));
const counters = (log: { length: number; at(i: number): { zxid: Zxid } }): number[] => Array.from({ length: log.length }, (_, i) => log.at(i).zxid - zxid(1, 0));

describe('§9 autopurge: PurgeTxnLog.purge', () => {
  it('the txn log is files that roll at each snapshot (SyncRequestProcessor.rollLog)', () => {
    const log = TxnLog.of(range(1, 20));
    // Snapshots at 5, 10, 15: files start at 1, 6, 11, 16.
    expect(segmentStarts(log, [zxid(1, 5), zxid(1, 10), zxid(1, 15)])).toEqual([0, 5, 10, 15]);
    // A snapshot past the log's end starts no file.
    expect(segmentStarts(log, [zxid(1, 25)])).toEqual([0]);
  });

  it('keeps the newest snapRetainCount snapshots and the files FileTxnLog.getLogFiles(oldest kept) returns', () => {
    const log = TxnLog.of(range(1, 20));
    const snaps = [zxid(1, 5), zxid(1, 10), zxid(1, 15), zxid(1, 18)];
    // Keep 3: the oldest kept is (1,10); the newest file starting at or before it starts at (1,6).
    expect(purgePlan(log, snaps, 3)).toEqual({ logFrom: zxid(1, 6), dropSnapshots: 1 });
    // Keep 2: the oldest kept is (1,15), inside the file that starts at (1,11).
    expect(purgePlan(log, snaps, 2)).toEqual({ logFrom: zxid(1, 11), dropSnapshots: 2 });
    // No more snapshots than the count: nothing goes.
    expect(purgePlan(log, snaps, 4)).toBeNull();
    expect(purgePlan(log, [], 3)).toBeNull();
  });

  it('purgeDb: the server view loses the purged files and snapshots, the committedLog keeps commitLogCount txns, the applied count stays', () => {
    // Loaded from snapshot (1,5) with (1,1)..(1,20) on disk: (1,1)..(1,5) are the older log.
    let db: Db = loadDatabase(image(range(1, 20), [snapAt(5), snapAt(10), snapAt(15), snapAt(18)]));
    // loadDatabase starts from the newest snapshot (1,18); (1,1)..(1,18) are on disk, not in `log`.
    expect(counters(logOnDisk(db))).toEqual(range(1, 20).map((_, i) => i + 1));
    const before = appliedCount(db);
    const { db: after, plan } = purgeDb(db, 3, 1);
    expect(plan).toEqual({ logFrom: zxid(1, 6), dropSnapshots: 1 });
    expect(counters(logOnDisk(after))).toEqual(range(6, 20).map((_, i) => i + 6));
    expect(after.snapshots.map((s) => s.zxid)).toEqual([zxid(1, 10), zxid(1, 15), zxid(1, 18)]);
    expect(after.committed.length).toBe(1);
    expect(appliedCount(after)).toBe(before);
    // The tree and what the server applied are untouched.
    expect(after.tree).toBe(db.tree);
    expect(after.lastProcessedZxid).toBe(db.lastProcessedZxid);
    db = after;
    // Purging again with nothing new to purge changes nothing but the committedLog (already trimmed).
    expect(purgeDb(db, 3, 1).db).toBe(db);
  });

  it('the disk applies the same purge to what is on it, and the purge draws no fsync latency', () => {
    const disk = new Disk(DEFAULT_DISK, new Rng('purge-test'));
    disk.image.log.push(...range(1, 20));
    disk.image.snapshots.push(snapAt(5), snapAt(10), snapAt(15), snapAt(18));
    const w = disk.submit(100, 1, { op: 'purge', snapRetainCount: 3, logFrom: zxid(1, 6) });
    expect(w.stages).toEqual([{ time: 100, stage: 'done' }]);
    expect(disk.complete(1)).toBe(true);
    expect(disk.image.log.map((e) => e.zxid - zxid(1, 0))).toEqual(range(6, 20).map((_, i) => i + 6));
    expect(disk.image.snapshots.map((s) => s.zxid)).toEqual([zxid(1, 10), zxid(1, 15), zxid(1, 18)]);
  });

  it('§5.1 rule 4/5: a peer whose txns were purged from the leader gets SNAP (getProposalsFromTxnLog: its oldest file starts after p)', () => {
    const leader = (db: Db): Db => setLastProcessed(db, zxid(2, 0));
    const full = leader(loadDatabase(image(range(1, 20), [snapAt(5), snapAt(10), snapAt(15), snapAt(18)])));
    const params = { commitLogCount: 1, snapshotSizeFactor: 1e9 };
    // Before the purge (1,3) is in the first file: served from the txn log.
    expect(syncFollower(full, zxid(1, 3), params).reason).toMatch(/^rule 4/);
    const purged = purgeDb(full, 3, 1).db;
    const plan = syncFollower(purged, zxid(1, 3), params);
    expect(plan.needSnap).toBe(true);
    expect(plan.reason).toBe('rule 5: peer <1,3> below committedLog <1,20> and the txn log cannot serve it (its oldest file starts at <1,6>): SNAP');
    // A peer inside the kept files is still served from them.
    expect(syncFollower(purged, zxid(1, 7), params).reason).toMatch(/^rule 4/);
  });
});

describe('§9 autopurge: DatadirCleanupManager.start (scheduleAtFixedRate(task, 0, purgeInterval))', () => {
  // A disk a server restarts from: 5 snapshots and a log from (1,1), more than snapRetainCount keeps;
  // its log files start at (1,1), (1,5), (1,9), (1,13), (1,17), (1,19), so keeping snapshot (1,12)
  // keeps the file from (1,9).
  const full = (): DurableImage => image(range(1, 20), [snapAt(4), snapAt(8), snapAt(12), snapAt(16), snapAt(18)]);
  const purges = (effects: readonly Effect[]) => effects.filter((e) => e.kind === 'persist' && e.write.op === 'purge');
  const purgeTimers = (effects: readonly Effect[]) => effects.filter((e) => e.kind === 'setTimer' && e.timer === TIMER_PURGE);

  it('the first PurgeTask runs at start-up, then one purge interval later: a restarted server purges at once', () => {
    const n = Node.start(makeClusterConfig(3, 0, { purgeIntervalMs: 60_000, snapRetainCount: 3 }), 1, full());
    expect(purges(n.effects)).toEqual([{ kind: 'persist', token: expect.any(Number), write: { op: 'purge', snapRetainCount: 3, logFrom: zxid(1, 9) } }]);
    expect(n.state.db.snapshots.map((s) => s.zxid)).toEqual([zxid(1, 12), zxid(1, 16), zxid(1, 18)]);
    expect(counters(logOnDisk(n.state.db))).toEqual(range(9, 20).map((_, i) => i + 9));
    expect(purgeTimers(n.effects)).toEqual([{ kind: 'setTimer', timer: TIMER_PURGE, delayMs: 60_000 }]);
    // The next PurgeTask, one interval later, has nothing left to delete and schedules the one after.
    n.timer(TIMER_PURGE);
    expect(purges(n.effects)).toEqual([]);
    expect(purgeTimers(n.effects)).toEqual([{ kind: 'setTimer', timer: TIMER_PURGE, delayMs: 60_000 }]);
  });

  it('a fresh data directory has nothing to purge: no purge write at start-up', () => {
    const n = Node.start(makeClusterConfig(3, 0, { purgeIntervalMs: 60_000 }), 1, { ...image([], []), acceptedEpoch: null, currentEpoch: null });
    expect(purges(n.effects)).toEqual([]);
    expect(purgeTimers(n.effects)).toHaveLength(1);
  });

  it('purgeInterval 0: "Purge task is not scheduled", nothing is purged at start-up or later', () => {
    const n = Node.start(makeClusterConfig(3, 0, { purgeIntervalMs: 0 }), 1, full());
    expect(purges(n.effects)).toEqual([]);
    expect(purgeTimers(n.effects)).toEqual([]);
    expect(n.state.db.snapshots).toHaveLength(5);
  });
});
