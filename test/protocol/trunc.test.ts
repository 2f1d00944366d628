/**
 * TRUNC and dirty snapshots (§5.2, ZOOKEEPER-1549). A leader snapshots at the start of lead
 * (§1.1), including an uncommitted tail from its own log. If it never establishes and a later
 * leader sends it TRUNC below that tail, reloading from that snapshot would keep the truncated
 * txns. zabsim deletes such snapshots by default; the `trunc_reload_newest_snapshot` flaw keeps
 * ZooKeeper 3.9's behaviour.
 */
import { describe, expect, it } from 'vitest';
import { getData } from '../../src/protocol/datatree.ts';
import { applyCommitted, logTxn, loadDatabase, snapshotLastTxn, takeSnapshot, truncateAndReload, type Db } from '../../src/protocol/db.ts';
import type { LogEntry } from '../../src/protocol/types.ts';
import { zxid } from '../../src/protocol/zxid.ts';
import { Disk, DEFAULT_DISK } from '../../src/sim/disk.ts';
import { Rng } from '../../src/sim/rng.ts';
import { parseScenario } from '../../src/scenario/parse.ts';
import { runScenario } from '../../src/scenario/runner.ts';

function entry(c: number): LogEntry {
  return { zxid: zxid(1, c), txn: { type: 'create', path: `/n${c}`, data: String(c), ephemeral: false, sequential: false, session: 0 } };
}

/** A db that logged and applied <1,1>..<1,5> and snapshotted after <1,2> and after <1,5>. */
function dirtyDb(): Db {
  let db = loadDatabase({ log: [], snapshots: [], acceptedEpoch: 1, currentEpoch: 1, acceptedEpochTmp: null, currentEpochTmp: null, updatingEpoch: false });
  for (let c = 1; c <= 5; c++) {
    db = applyCommitted(logTxn(db, entry(c)), entry(c)).db;
    if (c === 2 || c === 5) db = takeSnapshot(db).db;
  }
  return db;
}

describe('TRUNC reload', () => {
  it('§5.2 TRUNC: the reload ignores snapshots reflecting txns after the cut, so truncated txns are gone', () => {
    const db = truncateAndReload(dirtyDb(), zxid(1, 3));
    expect(db.lastTxn).toBe(zxid(1, 3));
    expect(getData(db.tree, '/n3')).toBe('3');
    expect(getData(db.tree, '/n4')).toBeNull();
    expect(getData(db.tree, '/n5')).toBeNull();
    expect(db.snapshots.map(snapshotLastTxn)).toEqual([zxid(1, 2)]);
  });

  it('ZOOKEEPER-1549 flaw: reloading from the newest snapshot keeps the truncated txns in the tree', () => {
    const db = truncateAndReload(dirtyDb(), zxid(1, 3), true);
    expect(db.log.lastZxid(0)).toBe(zxid(1, 3));
    expect(getData(db.tree, '/n5')).toBe('5');
  });

  it('§5.2 TRUNC on disk deletes the snapshots reflecting txns after the cut (unless the flaw keeps them)', () => {
    const snaps = dirtyDb().snapshots;
    for (const keep of [false, true]) {
      const disk = new Disk(DEFAULT_DISK, new Rng('trunc'));
      for (let c = 1; c <= 5; c++) disk.image.log.push(entry(c));
      disk.image.snapshots.push(...snaps);
      disk.submit(0, 1, keep ? { op: 'truncateLog', zxid: zxid(1, 3), keepNewerSnapshots: true } : { op: 'truncateLog', zxid: zxid(1, 3) });
      disk.complete(1);
      expect(disk.image.log.map((e) => e.zxid)).toEqual([1, 2, 3].map((c) => zxid(1, c)));
      expect(disk.image.snapshots.map(snapshotLastTxn)).toEqual(keep ? [zxid(1, 2), zxid(1, 5)] : [zxid(1, 2)]);
      // A restart then loads what the TRUNC left: without the flaw, nothing after <1,3>.
      expect(getData(loadDatabase(disk.image).tree, '/n5')).toBe(keep ? '5' : null);
    }
  });

  it('§5.2 TRUNC to a zxid the learner\'s log lacks: zabsim cuts at it; with trunc_keeps_first_txn_above_target, as FileTxnLog.truncate, the first txn above it stays, in memory and on disk', () => {
    // Built by hand: the log holds <1,1>, <1,2>, <1,4>, <1,5>, no <1,3>; no snapshot.
    const log = [1, 2, 4, 5].map(entry);
    const db = loadDatabase({ log, snapshots: [], acceptedEpoch: 1, currentEpoch: 1, acceptedEpochTmp: null, currentEpochTmp: null, updatingEpoch: false });
    const exact = truncateAndReload(db, zxid(1, 3));
    expect(exact.log.slice(0).map((e) => e.zxid)).toEqual([1, 2].map((c) => zxid(1, c)));
    expect(getData(exact.tree, '/n4')).toBeNull();
    const cut = truncateAndReload(db, zxid(1, 3), false, true);
    expect(cut.log.slice(0).map((e) => e.zxid)).toEqual([1, 2, 4].map((c) => zxid(1, c)));
    expect(getData(cut.tree, '/n4')).toBe('4'); // the reload replays the kept txn
    expect(getData(cut.tree, '/n5')).toBeNull();
    const disk = new Disk(DEFAULT_DISK, new Rng('trunc-absent'));
    disk.image.log.push(...log);
    disk.submit(0, 1, { op: 'truncateLog', zxid: zxid(1, 3), keepFirstAbove: true });
    disk.complete(1);
    expect(disk.image.log.map((e) => e.zxid)).toEqual([1, 2, 4].map((c) => zxid(1, c)));
    // No txn at or above the target: nothing is cut.
    expect(truncateAndReload(db, zxid(1, 9), false, true).log.length).toBe(4);
  });

  it('§5.2 TRUNC after a restart: the txns below the deleted snapshot come back from the log on disk, not only those after it', () => {
    // Found by exploration (swarm seed 65): a restarted server whose newest snapshot reflects
    // <1,5> is told TRUNC <1,3>. ZooKeeper reloads from the older snapshot plus its txn log
    // files; zabsim's memory log used to hold only the entries after the newest snapshot, so the
    // reload came back empty.
    const disk = new Disk(DEFAULT_DISK, new Rng('trunc'));
    for (let c = 1; c <= 5; c++) disk.image.log.push(entry(c));
    const snaps = dirtyDb().snapshots;
    disk.image.snapshots.push(...snaps.slice(1)); // only the snapshot after <1,5>
    const restarted = loadDatabase(disk.image);
    expect(restarted.lastTxn).toBe(zxid(1, 5));
    const db = truncateAndReload(restarted, zxid(1, 3));
    expect(db.lastTxn).toBe(zxid(1, 3));
    for (let c = 1; c <= 3; c++) expect(getData(db.tree, `/n${c}`)).toBe(String(c));
    expect(getData(db.tree, '/n4')).toBeNull();
  });

  it('§1.1 a snapshot labelled with a new-epoch zxid (e,0) records the last txn it reflects', () => {
    let db = dirtyDb();
    db = { ...db, lastProcessedZxid: zxid(2, 0) } as Db; // the established leader's quirk
    const { snapshot } = takeSnapshot(Object.assign(Object.create(Object.getPrototypeOf(dirtyDb())), db) as Db);
    expect(snapshot.zxid).toBe(zxid(2, 0));
    expect(snapshotLastTxn(snapshot)).toBe(zxid(1, 5));
  });
});

// ---------------------------------------------------------------------------------------------
/*
 * TRUNC on a learner with no txn log file (zab-protocol.md §5.2; docs/protocol.md "Sync"):
 * ZooKeeper 3.9.5's FileTxnLog.truncate throws "No log files found to truncate!",
 * FileTxnSnapLog.truncateLog returns false, and Learner.syncWithLeader logs "Not able to truncate
 * the log" and exits (ServiceUtils.requestSystemExit). A learner whose history is a snapshot
 * alone (a SNAP sync with no txn logged since, or a purged log) is such a learner. Found by the
 * 20,000-seed sweep at seed 17328: zabsim reloaded an empty tree at the TRUNC's zxid and the
 * leader established its epoch on that learner's ACK (Establishment).
 */
/** s1, s2 at <1,5>; s3 at <1,7>, as a log or (purge) as a snapshot alone; s2 leads and TRUNCs s3 to <1,5>. */
function scenario(purge: boolean, expects: readonly string[]): string {
  return [
    'scenario trunc-no-log',
    'title    TRUNC with no txn log file',
    'story    s3 is ahead of the leader with txns the quorum never committed',
    'outcome  see the test',
    'servers 3',
    'delay 5',
    'fsync 2',
    'preload s1 log <1,1>..<1,5> acceptedEpoch 1 currentEpoch 1',
    'preload s2 log <1,1>..<1,5> acceptedEpoch 1 currentEpoch 1',
    'preload s3 log <1,1>..<1,7>',
    ...(purge ? ['preload s3 snapshot <1,7> purge'] : []),
    'preload s3 acceptedEpoch 1 currentEpoch 1',
    'start s1 s2',
    'stabilize until s2 leads within 5s',
    'start s3',
    'run 100ms',
    ...expects,
  ].join('\n');
}

/** The first failed line of that scenario with `expects` after it, or null when all hold. */
function failureOf(purge: boolean, expects: readonly string[]): string | null {
  return runScenario(parseScenario(scenario(purge, expects), 'trunc-no-log')).failure?.message ?? null;
}

describe('§5.2 TRUNC', () => {
  it('a learner with no txn log file cannot truncate: "No log files found to truncate!", it exits (halts) and never ACKs NEWLEADER', () => {
    expect(
      failureOf(true, [
        'expect trace has "s2 -> s3 send TRUNC <1,5>"',
        'expect trace has "s3 HALT Not able to truncate the log to <1,5>: No log files found to truncate!"',
        'expect trace lacks "s3 -> s2 send ACK <2,0>"',
        'expect s3 is DOWN',
        'expect s2 leads',
        'expect checkers pass',
      ]),
    ).toBeNull();
  });

  it('near miss: with its log, the same learner truncates to <1,5>, reloads and follows', () => {
    expect(
      failureOf(false, [
        'expect trace has "s2 -> s3 send TRUNC <1,5>"',
        'expect trace lacks "s3 HALT"',
        'stabilize',
        'expect s3 is FOLLOWING/BROADCAST',
        'expect s3 logged = <1,1>..<1,5>',
        'expect checkers pass',
      ]),
    ).toBeNull();
  });
});
