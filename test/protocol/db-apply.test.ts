/**
 * ZKDatabase as db.ts models it, from the load to the snapshot files: the Db value itself (frozen,
 * and what a serialised state shows of it), FileTxnSnapLog.restore's outcome, the committed-txn
 * path (ZKDatabase.processTxn and its committedLog append, ZOOKEEPER-4925), fastForwardDataBase
 * (ZOOKEEPER-2845) after a TRUNC (§5.2), and the snapshot files a server holds (one per name,
 * snapshot.<zxid>; the newest KEPT_SNAPSHOTS stay).
 */
import { describe, expect, it } from 'vitest';
import { EMPTY_TREE, getData } from '../../src/protocol/datatree.ts';
import { applyCommitted, EMPTY_DB, EMPTY_SNAPSHOT, fastForward, KEPT_SNAPSHOTS, loadDatabase, loadSnapshot, logTxn, NO_SNAPSHOT_WARNING, restoreOutcome, setLastProcessed, startSnapshotThread, takeSnapshot, truncateAndReload, type Db } from '../../src/protocol/db.ts';
import type { DurableImage, LogEntry, Snapshot } from '../../src/protocol/types.ts';
import { zxid, type Zxid } from '../../src/protocol/zxid.ts';
import { Disk, DEFAULT_DISK } from '../../src/sim/disk.ts';
import { Rng } from '../../src/sim/rng.ts';

const z = (c: number): Zxid => zxid(1, c);
const entryAt = (x: Zxid, path: string): LogEntry => ({ zxid: x, txn: { type: 'create', path, data: path, ephemeral: false, sequential: false, session: 0 } });
const entry = (c: number): LogEntry => entryAt(z(c), `/n${c}`);

function durable(log: readonly LogEntry[], snapshots: readonly Snapshot[]): DurableImage {
  return { log, snapshots, acceptedEpoch: 1, currentEpoch: 1, acceptedEpochTmp: null, currentEpochTmp: null, updatingEpoch: false };
}

/** A server that logged and applied the entries in order, from an empty data directory. */
function appliedDb(entries: readonly LogEntry[]): Db {
  let db = EMPTY_DB;
  for (const e of entries) db = applyCommitted(logTxn(db, e), e).db;
  return db;
}

/**
 * A follower whose log holds <1,1>, <1,2> and <2,1> (an epoch-2 txn the new leader never had),
 * loaded from snapshot.0, after the leader's TRUNC to <1,3> (a zxid its log lacks) and
 * Learner.syncWithLeader's setlastProcessedZxid(<1,3>). `asFileTxnLog`: the cut as FileTxnLog
 * makes it (the `trunc_keeps_first_txn_above_target` flaw: <2,1>, the first txn above, stays).
 */
function truncatedToAbsentZxid(asFileTxnLog: boolean): Db {
  const log = [entry(1), entry(2), entryAt(zxid(2, 1), '/e2')];
  const loaded = loadDatabase(durable(log, [EMPTY_SNAPSHOT]));
  return setLastProcessed(truncateAndReload(loaded, z(3), false, asFileTxnLog), z(3));
}

describe('the Db value', () => {
  it('a Db and a SnapshotThread are frozen: a database is replaced wholesale, never mutated', () => {
    const db = appliedDb([entry(1)]);
    expect(() => {
      (db as { tree: unknown }).tree = EMPTY_TREE;
    }).toThrow(TypeError);
    expect(db.tree).not.toBe(EMPTY_TREE);
    const { thread } = startSnapshotThread(db);
    expect(() => {
      (thread as { armed: boolean }).armed = true;
    }).toThrow(TypeError);
    expect(thread.armed).toBe(false);
  });

  it('a serialised state shows the database as lastProcessedZxid, the log summary, the committedLog size, the snapshot labels and the tree digest; a snapshot thread as its label and whether it is armed', () => {
    const db = takeSnapshot(appliedDb([entry(1), entry(2)])).db;
    expect(JSON.parse(JSON.stringify(db))).toEqual({ lastProcessedZxid: z(2), log: { length: 2, first: '<1,1>', last: '<1,2>' }, committed: 2, snapshots: [z(2)], digest: db.tree.digest });
    expect(JSON.parse(JSON.stringify({ t: startSnapshotThread(db).thread }))).toEqual({ t: { label: z(2), armed: false } });
  });
});

describe('FileTxnSnapLog.restore: what a disk gives before the replay', () => {
  it('a snapshot that reads back is loaded whether or not zookeeper.snapshot.trust.empty is set; a log with no snapshot is loaded only with it (ZOOKEEPER-3056)', () => {
    const log = [entry(1), entry(2)];
    expect(restoreOutcome(durable(log, [EMPTY_SNAPSHOT]), false)).toEqual({ kind: 'load' });
    expect(restoreOutcome(durable(log, [EMPTY_SNAPSHOT]), true)).toEqual({ kind: 'load' });
    expect(restoreOutcome(durable(log, []), true)).toEqual({ kind: 'load' });
    expect(restoreOutcome(durable(log, []), false)).toEqual({ kind: 'refuse', reason: NO_SNAPSHOT_WARNING });
  });
});

describe('ZKDatabase.processTxn: a committed txn applied', () => {
  it('ZOOKEEPER-4925: the processTxn(hdr, txn) variant of 3.9.3 applies the txn during sync without the committedLog append', () => {
    const db = appliedDb([entry(1)]);
    const r = applyCommitted(logTxn(db, entry(2)), entry(2), false).db;
    expect(getData(r.tree, '/n2')).toBe('/n2');
    expect(r.lastProcessedZxid).toBe(z(2));
    expect(r.committed.length).toBe(1);
    expect(applyCommitted(logTxn(db, entry(2)), entry(2)).db.committed.length).toBe(2);
  });

  it('the committedLog stays in zxid order: a txn already at its tail (kept above a TRUNC target by FileTxnLog.truncate) is not appended again', () => {
    const db = truncatedToAbsentZxid(true);
    expect(db.committed.lastZxid(-1)).toBe(zxid(2, 1));
    const r = applyCommitted(db, entryAt(zxid(2, 1), '/e2')).db;
    expect(r.lastProcessedZxid).toBe(zxid(2, 1));
    expect(r.committed.length).toBe(db.committed.length);
    expect(r.tree).toBe(db.tree);
  });
});

describe('fastForwardDataBase (ZOOKEEPER-2845): the logged txns applied when a role ends', () => {
  it('§5.2 a txn FileTxnLog.truncate kept above the TRUNC target is already in the tree: lastProcessedZxid moves on to it, the tree and the committedLog stay', () => {
    const db = truncatedToAbsentZxid(true);
    expect(db.lastProcessedZxid).toBe(z(3));
    const ff = fastForward(db);
    expect(ff.lastProcessedZxid).toBe(zxid(2, 1));
    expect(ff.tree).toBe(db.tree);
    expect(ff.committed.length).toBe(db.committed.length);
    expect(ff.snapshots).toBe(db.snapshots);
  });

  it('ZKDatabase.fastForwardDataBase hands every replayed txn to commitProposalPlaybackListener: after a fuzzy SNAP, the logged txns its content already reflects join the committedLog, the tree stays', () => {
    // A SNAP labelled <1,2> whose content reaches <1,4>; the proposals <1,3> and <1,4> logged; the
    // role ends before their COMMITs.
    const content = appliedDb([entry(1), entry(2), entry(3), entry(4)]);
    const snap: Snapshot = { zxid: z(2), data: content.tree, lastTxn: z(4) };
    const db = logTxn(logTxn(loadSnapshot(appliedDb([entry(1)]), snap), entry(3)), entry(4));
    expect(db.committed.length).toBe(0);
    const ff = fastForward(db);
    expect(ff.lastProcessedZxid).toBe(z(4));
    expect(ff.tree).toBe(content.tree);
    // FileTxnSnapLog.fastForwardFromEdits: listener.onTxnLoaded -> addCommittedProposal, as the
    // COMMIT path (applyCommitted) and a restart (loadDatabase) on the same files give.
    expect(ff.committed.slice(0).map((e) => e.zxid)).toEqual([z(3), z(4)]);
    const viaCommits = applyCommitted(applyCommitted(db, entry(3)).db, entry(4)).db;
    expect(ff.committed.slice(0)).toEqual(viaCommits.committed.slice(0));
    expect(loadDatabase(durable([entry(3), entry(4)], [snap])).committed.slice(0).map((e) => e.zxid)).toEqual([z(3), z(4)]);
  });

  it('FileTxnSnapLog.fastForwardFromEdits reads the log from lastProcessedZxid + 1: after a TRUNC to a zxid the log lacks, nothing follows and lastProcessedZxid stays the target', () => {
    const db = truncatedToAbsentZxid(false);
    expect(db.log.lastZxid(0)).toBe(z(2));
    const ff = fastForward(db);
    expect(ff.lastProcessedZxid).toBe(z(3));
    expect(ff.tree).toBe(db.tree);
  });
});

describe('the snapshot files a server holds', () => {
  it('ZooKeeperServer.takeSnapshot twice at the same lastProcessedZxid writes snapshot.<zxid> twice: the second file replaces the first, the older files stay', () => {
    const one = takeSnapshot(appliedDb([entry(1)])).db;
    const two = takeSnapshot(applyCommitted(logTxn(one, entry(2)), entry(2)).db);
    const again = takeSnapshot(two.db);
    expect(again.db.snapshots.map((s) => s.zxid)).toEqual([z(1), z(2)]);
    expect(again.db.snapshots[1]).toBe(again.snapshot);
    expect(again.db.snapshots[0]).toBe(one.snapshots[0]);
  });

  it('one file per name, read newest label first (Util.sortDataDir): after a restart from the snapshot below an unreadable newest one, the next snapshot goes below it, and one of the unreadable label replaces it', () => {
    // snapshot.<1,9> fails its CRC (its write was cut by a crash, with the appends of <1,8>, <1,9>).
    const img = durable([entry(1), entry(2), entry(3), entry(4), entry(5), entry(6), entry(7)], [{ ...takeSnapshot(appliedDb([entry(1), entry(2), entry(3), entry(4), entry(5)])).snapshot }, { ...takeSnapshot(appliedDb([1, 2, 3, 4, 5, 6, 7, 8, 9].map(entry))).snapshot, corrupt: true }]);
    const restarted = loadDatabase(img);
    expect(restarted.lastProcessedZxid).toBe(z(7));
    const at7 = takeSnapshot(restarted).db;
    expect(at7.snapshots.map((s) => [s.zxid, s.corrupt === true])).toEqual([[z(5), false], [z(7), false], [z(9), true]]);
    const at9 = takeSnapshot(applyCommitted(applyCommitted(logTxn(logTxn(at7, entry(8)), entry(9)), entry(8)).db, entry(9)).db);
    expect(at9.db.snapshots.map((s) => [s.zxid, s.corrupt === true])).toEqual([[z(5), false], [z(7), false], [z(9), false]]);
    expect(at9.db.snapshots[2]).toBe(at9.snapshot);
    // The disk's files follow the same rule.
    const disk = new Disk(DEFAULT_DISK, new Rng('db-apply'));
    disk.image.snapshots.push(...img.snapshots);
    const snapAt7 = at7.snapshots[1] as Snapshot;
    disk.submit(0, 1, { op: 'snapshot', snapshot: snapAt7 });
    disk.complete(1);
    expect(disk.image.snapshots.map((s) => [s.zxid, s.corrupt === true])).toEqual([[z(5), false], [z(7), false], [z(9), true]]);
    disk.submit(2, 2, { op: 'snapshot', snapshot: at9.snapshot });
    disk.complete(2);
    expect(disk.image.snapshots).toEqual(at9.db.snapshots);
  });

  it(`the newest KEPT_SNAPSHOTS (${KEPT_SNAPSHOTS}) stay, as autopurge keeps them; older ones are dropped`, () => {
    let db = EMPTY_DB;
    for (let c = 1; c <= KEPT_SNAPSHOTS + 2; c++) db = takeSnapshot(applyCommitted(logTxn(db, entry(c)), entry(c)).db).db;
    expect(db.snapshots.map((s) => s.zxid)).toEqual(Array.from({ length: KEPT_SNAPSHOTS }, (_, i) => z(i + 3)));
  });
});
