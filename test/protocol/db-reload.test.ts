/**
 * ZKDatabase reloads and the counts around them (db.ts): a TRUNC reload (ZKDatabase.truncateLog:
 * FileTxnSnapLog.truncateLog, then loadDataBase) gives the database a restart on what the TRUNC
 * left on disk would give (§5.2); `generation` counts every replacement of the tree, so a
 * snapshot thread started before two of them still abandons its file; the applied count
 * (committedBase + committedLog) survives a purge that only trims the committedLog (§9).
 */
import { describe, expect, it } from 'vitest';
import { applyTxn, EMPTY_TREE, type DataTree } from '../../src/protocol/datatree.ts';
import { appliedCount, finishSnapshotThread, loadDatabase, loadSnapshot, logOnDisk, NO_SNAPSHOT_WARNING, NO_VALID_SNAPSHOT, purgeDb, restoreOutcome, startSnapshotThread, truncateAndReload, truncateOutcome, type Db } from '../../src/protocol/db.ts';
import type { LogEntry, Snapshot } from '../../src/protocol/types.ts';
import { zxid, type Zxid } from '../../src/protocol/zxid.ts';
import { Disk, DEFAULT_DISK } from '../../src/sim/disk.ts';
import { Rng } from '../../src/sim/rng.ts';
import { boot, entry as hEntry, log as hLog, sends } from './harness.ts';

const z = (c: number): Zxid => zxid(1, c);
const entry = (c: number): LogEntry => ({ zxid: z(c), txn: { type: 'create', path: `/n${c}`, data: String(c), ephemeral: false, sequential: false, session: 0 } });
const range = (a: number, b: number): LogEntry[] => Array.from({ length: b - a + 1 }, (_, i) => entry(a + i));

/** The tree of (1,1)..(1,c) applied in order. */
function treeAt(c: number): DataTree {
  let t = EMPTY_TREE;
  for (let i = 1; i <= c; i++) t = applyTxn(t, z(i), entry(i).txn).tree;
  return t;
}
const snapAt = (c: number): Snapshot => ({ zxid: z(c), data: treeAt(c) });

/** The counters of a sequence of log entries, oldest first. */
const counters = (log: { readonly length: number; at(i: number): { zxid: Zxid } | undefined }): number[] => Array.from({ length: log.length }, (_, i) => (log.at(i) as { zxid: Zxid }).zxid - z(0));

/** What a database shows of its files and its state, to compare a reload with a restart. */
function view(db: Db): object {
  return {
    digest: db.tree.digest,
    lastProcessedZxid: db.lastProcessedZxid,
    lastTxn: db.lastTxn,
    log: counters(db.log),
    olderLog: counters(db.olderLog),
    committed: counters(db.committed),
    snapshots: db.snapshots.map((s) => s.zxid),
    onDisk: counters(logOnDisk(db)),
  };
}

/** The disk of a server that logged (1,1)..(1,8) and snapshotted after (1,2) and after (1,5). */
function diskOf(): Disk {
  const disk = new Disk(DEFAULT_DISK, new Rng('db-reload'));
  disk.image.log.push(...range(1, 8));
  disk.image.snapshots.push(snapAt(2), snapAt(5));
  return disk;
}

describe('§5.2 TRUNC: ZKDatabase.truncateLog reloads the database as a restart would', () => {
  it('after a restart (the txns up to (1,5) are covered by snapshot.(1,5)): for every cut, the reload equals loadDatabase on the disk the TRUNC leaves', () => {
    const restarted = loadDatabase(diskOf().image);
    expect(counters(restarted.olderLog)).toEqual([1, 2, 3, 4, 5]);
    expect(counters(restarted.log)).toEqual([6, 7, 8]);
    for (const c of [1, 2, 3, 4, 5, 6, 8]) {
      const disk = diskOf();
      disk.submit(0, 1, { op: 'truncateLog', zxid: z(c) });
      disk.complete(1);
      const reloaded = truncateAndReload(restarted, z(c));
      expect(view(reloaded), `TRUNC to (1,${c})`).toEqual(view(loadDatabase(disk.image)));
      expect(reloaded.tree.digest).toBe(treeAt(c).digest);
    }
  });

  it('ZOOKEEPER-1549 flaw (trunc_reload_newest_snapshot): the reload from snapshot.(1,5) keeps its tree, but the txn log files it knows of end at the cut, as on disk', () => {
    const restarted = loadDatabase(diskOf().image);
    for (const c of [1, 2, 3, 4, 5, 6]) {
      const disk = diskOf();
      disk.submit(0, 1, { op: 'truncateLog', zxid: z(c), keepNewerSnapshots: true });
      disk.complete(1);
      const reloaded = truncateAndReload(restarted, z(c), true);
      expect(view(reloaded), `TRUNC to (1,${c})`).toEqual(view(loadDatabase(disk.image)));
      expect(counters(logOnDisk(reloaded))).toEqual(counters(disk.image.log));
      expect(reloaded.tree.digest).toBe(treeAt(Math.max(c, 5)).digest);
    }
  });

  it('a snapshot reflecting exactly the TRUNC zxid stays and the reload starts from it: the txns it covers stay aside, the one after it is the log', () => {
    const reloaded = truncateAndReload(loadDatabase(diskOf().image), z(3));
    expect(reloaded.snapshots.map((s) => s.zxid)).toEqual([z(2)]);
    // Reloaded from snapshot.(1,2): (1,1), (1,2) are the files it covers, (1,3) is replayed.
    expect(counters(reloaded.olderLog)).toEqual([1, 2]);
    expect(counters(reloaded.log)).toEqual([3]);
    expect(counters(reloaded.committed)).toEqual([3]);
    const atLabel = truncateAndReload(loadDatabase(diskOf().image), z(2));
    expect(atLabel.snapshots.map((s) => s.zxid)).toEqual([z(2)]);
    expect(counters(atLabel.olderLog)).toEqual([1, 2]);
    expect(counters(atLabel.log)).toEqual([]);
    expect(atLabel.lastProcessedZxid).toBe(z(2));
  });
});

/** The disk of diskOf() with snapshot.(1,2) unreadable (it fails its CRC). */
function diskWithCorruptOlder(): Disk {
  const disk = diskOf();
  disk.image.snapshots[0] = { ...snapAt(2), corrupt: true };
  return disk;
}

describe('§5.2 TRUNC: a reload that finds nothing to load', () => {
  it('for every cut, with and without the ZOOKEEPER-1549 flaw, FileTxnLog\'s cut and zookeeper.snapshot.trust.empty, truncateOutcome is FileTxnSnapLog.restore on the disk the TRUNC leaves', () => {
    const restarted = loadDatabase(diskWithCorruptOlder().image);
    const seen = new Set<string>();
    for (const keep of [false, true]) {
      for (const asFile of [false, true]) {
        for (const trust of [false, true]) {
          for (const c of [0, 1, 2, 3, 4, 5, 6, 8]) {
            const disk = diskWithCorruptOlder();
            disk.submit(0, 1, { op: 'truncateLog', zxid: z(c), ...(keep ? { keepNewerSnapshots: true } : {}), ...(asFile ? { keepFirstAbove: true } : {}) });
            disk.complete(1);
            const expected = restoreOutcome(disk.image, trust);
            expect(truncateOutcome(restarted, z(c), keep, asFile, trust), `TRUNC to (1,${c}), keep ${keep}, asFile ${asFile}, trust ${trust}`).toEqual(expected);
            seen.add(JSON.stringify(expected));
          }
        }
      }
    }
    // Every outcome of restore is met: a load, nothing at all (fresh), the unreadable snapshot, no snapshot beside a log.
    expect([...seen].sort()).toEqual([{ kind: 'load' }, { kind: 'fresh' }, { kind: 'refuse', reason: NO_SNAPSHOT_WARNING }, { kind: 'refuse', reason: NO_VALID_SNAPSHOT }].map((x) => JSON.stringify(x)).sort());
    // FileSnap.deserialize throws: there is no database to reload, and truncateAndReload says so.
    expect(truncateOutcome(restarted, z(3), false, false, false)).toEqual({ kind: 'refuse', reason: NO_VALID_SNAPSHOT });
    expect(() => truncateAndReload(restarted, z(3))).toThrow(`truncateAndReload to ${z(3)}: ${NO_VALID_SNAPSHOT}`);
  });

  it('a learner whose TRUNC leaves only a snapshot that does not read back halts with "Unable to load database on disk", as every later loadDataBase would throw; it never ACKs NEWLEADER', () => {
    // s3 logged <1,6>, <1,7> that the others never had; its snapshot.<1,3> fails its CRC, and
    // snapshot.<1,7> (reflecting the txns the TRUNC removes) is deleted by the cut.
    let tree = EMPTY_TREE;
    const snaps: Snapshot[] = [];
    for (let c = 1; c <= 7; c++) {
      tree = applyTxn(tree, z(c), hEntry(1, c).txn).tree;
      if (c === 3) snaps.push({ zxid: z(3), data: tree, corrupt: true });
      if (c === 7) snaps.push({ zxid: z(7), data: tree });
    }
    const E1 = { acceptedEpoch: 1, currentEpoch: 1 };
    const five = hLog([1, 1], [1, 2], [1, 3], [1, 4], [1, 5]);
    const { sim, trace } = boot({
      voters: 3,
      startAt: { 3: 1000 },
      images: { 1: { ...E1, log: five }, 2: { ...E1, log: five }, 3: { ...E1, log: [...five, hEntry(1, 6), hEntry(1, 7)], snapshots: snaps } },
    });
    sim.runUntil(3000);
    expect(sends(trace, 'TRUNC', 2, 3).map((e) => e.msg.zxid)).toEqual([z(5)]);
    const halts = trace.flatMap((e) => (e.type === 'halt' ? [`s${e.sid} ${e.reason}`] : []));
    expect(halts[0]).toBe(`s3 Unable to load database on disk: ${NO_VALID_SNAPSHOT}`);
    expect(sends(trace, 'ACK', 3, 2)).toEqual([]);
    expect(sim.server(3).state.up).toBe(false);
  });
});

describe('generation: every replacement of the tree counts, so a snapshot thread never writes a tree it did not start on', () => {
  it('a SNAP load and a TRUNC reload each add one', () => {
    const db = loadDatabase(diskOf().image);
    const snapped = loadSnapshot(db, snapAt(7));
    expect(snapped.generation).toBe(db.generation + 1);
    expect(truncateAndReload(snapped, z(7)).generation).toBe(db.generation + 2);
  });

  it('a thread started before a SNAP load and a TRUNC reload abandons its file (FileTxnSnapLog.save never serialises a replaced tree)', () => {
    const { db, thread } = startSnapshotThread(loadDatabase(diskOf().image));
    expect(finishSnapshotThread(db, thread)).not.toBeNull();
    const twice = truncateAndReload(loadSnapshot(db, snapAt(7)), z(6));
    expect(finishSnapshotThread(twice, thread)).toBeNull();
  });
});

describe('§9 autopurge: the applied count', () => {
  it('a database loaded with (1,6)..(1,8) after its snapshot has applied 3 txns', () => {
    expect(appliedCount(loadDatabase(diskOf().image))).toBe(3);
  });

  it('a PurgeTask with no file to purge (no more than snapRetainCount snapshots) still trims the committedLog to commitLogCount; the applied count stays', () => {
    const db = loadDatabase(diskOf().image);
    const { db: after, plan } = purgeDb(db, 3, 1);
    expect(plan).toBeNull();
    expect(counters(after.committed)).toEqual([8]);
    expect(after.committedBase).toBe(2);
    expect(appliedCount(after)).toBe(3);
    // The files are untouched.
    expect(counters(logOnDisk(after))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(after.snapshots).toBe(db.snapshots);
  });
});
