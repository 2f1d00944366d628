/**
 * LearnerHandler.syncFollower as a pure decision (zab-protocol.md §5.1): one test per rule of the
 * table, its fallbacks, and the "Consequence" paragraph. Databases are built only with the
 * functions of db.ts, as a server builds them: loadDatabase from a durable image, then
 * applyCommitted / logTxn / takeSnapshot / setLastProcessed.
 */
import { describe, expect, it } from 'vitest';
import { applyTxn, EMPTY_TREE, type DataTree, type Txn } from '../../src/protocol/datatree.ts';
import { applyCommitted, committedWindow, loadDatabase, logTxn, setLastProcessed, takeSnapshot, type Db } from '../../src/protocol/db.ts';
import { PROBE } from '../../src/protocol/probes.ts';
import { PREALLOC_BYTES, proposalsFromTxnLog, syncFollower, txnLogSizeLimit, type SyncOp, type SyncParams } from '../../src/protocol/syncplan.ts';
import type { DurableImage, LogEntry, Snapshot } from '../../src/protocol/types.ts';
import { formatZxid, zxid, type Zxid } from '../../src/protocol/zxid.ts';

/** Each txn creates its own znode, so the tree grows with the history. */
function txnFor(z: Zxid): Txn {
  return { type: 'create', path: `/n${formatZxid(z).replace(/[<>,]/g, '_')}`, data: formatZxid(z), ephemeral: false, sequential: false, session: 0 };
}

function entry(e: number, c: number): LogEntry {
  const z = zxid(e, c);
  return { zxid: z, txn: txnFor(z) };
}

function image(log: readonly LogEntry[], snapshots: readonly Snapshot[] = []): DurableImage {
  return { log, snapshots, acceptedEpoch: null, currentEpoch: null, acceptedEpochTmp: null, currentEpochTmp: null, updatingEpoch: false };
}

/** A database loaded at start from a log of (epoch, counter) pairs: every entry is applied (§1.1). */
function loaded(...zs: [number, number][]): Db {
  return loadDatabase(image(zs.map(([e, c]) => entry(e, c))));
}

/** What an established leader of epoch e holds: lastProcessedZxid = (e,0) (Leader.startZkServer). */
function established(db: Db, e: number): Db {
  return setLastProcessed(db, zxid(e, 0));
}

/** A follower-style commit: log the txn, then apply it. */
function logAndApply(db: Db, e: number, c: number): Db {
  const x = entry(e, c);
  return applyCommitted(logTxn(db, x), x).db;
}

const P: SyncParams = { commitLogCount: 500, snapshotSizeFactor: 0.33 };

/** Compact form of the ops: `DIFF <1,5>`, `P <1,3>`, `C <1,3>`, `TRUNC <1,2>`. */
function show(ops: readonly SyncOp[]): string[] {
  return ops.map((op) => {
    switch (op.type) {
      case 'PROPOSAL':
        return `P ${formatZxid(op.entry.zxid)}`;
      case 'COMMIT':
        return `C ${formatZxid(op.zxid)}`;
      default:
        return `${op.type} ${formatZxid(op.zxid)}`;
    }
  });
}

/** PROPOSAL+COMMIT pairs for each (epoch, counter). */
function pairs(...zs: [number, number][]): string[] {
  return zs.flatMap(([e, c]) => [`P ${formatZxid(zxid(e, c))}`, `C ${formatZxid(zxid(e, c))}`]);
}

describe('syncFollower (§5.1)', () => {
  it('§5.1 rule 1: peer at the leader\'s lastProcessedZxid gets an empty DIFF', () => {
    const db = loaded([1, 1], [1, 2], [1, 3]);
    const plan = syncFollower(db, zxid(1, 3), P);
    expect(plan.needSnap).toBe(false);
    expect(show(plan.ops)).toEqual(['DIFF <1,3>']);
    expect(plan.currentZxid).toBe(zxid(1, 3));
    expect(plan.reason).toMatch(/^rule 1/);
    // An established leader's L is (e,0): a peer at (2,0) is in sync too, even though (2,0) is past max.
    const est = established(db, 2);
    const p2 = syncFollower(est, zxid(2, 0), P);
    expect(show(p2.ops)).toEqual(['DIFF <2,0>']);
    expect(p2.needSnap).toBe(false);
  });

  it('§5.1 rule 2: peer past maxCommittedLog (counter ≠ 0) gets TRUNC(max)', () => {
    const db = established(loaded([1, 1], [1, 2], [1, 3]), 2);
    expect(committedWindow(db, P.commitLogCount)).toMatchObject({ min: zxid(1, 1), max: zxid(1, 3) });
    const plan = syncFollower(db, zxid(1, 5), P);
    expect(plan.needSnap).toBe(false);
    expect(show(plan.ops)).toEqual(['TRUNC <1,3>']);
    expect(plan.currentZxid).toBe(zxid(1, 3));
    expect(plan.reason).toMatch(/^rule 2/);
  });

  it('§5.1 rule 2 needs counter(p) ≠ 0: a new-epoch zxid past max is not truncated (it falls through to SNAP)', () => {
    const db = loaded([1, 1], [1, 2], [1, 3]);
    const plan = syncFollower(db, zxid(2, 0), P);
    expect(plan.needSnap).toBe(true);
    expect(plan.ops).toEqual([]);
    expect(plan.reason).toMatch(/^rule 5/);
  });

  it('§5.1 rule 3: peer inside committedLog with q = p gets DIFF(max) then PROPOSAL+COMMIT for every entry > p', () => {
    const db = established(loaded([1, 1], [1, 2], [1, 3], [1, 4], [1, 5]), 2);
    const plan = syncFollower(db, zxid(1, 2), P);
    expect(plan.needSnap).toBe(false);
    expect(show(plan.ops)).toEqual(['DIFF <1,5>', ...pairs([1, 3], [1, 4], [1, 5])]);
    expect(plan.currentZxid).toBe(zxid(1, 5));
    expect(plan.reason).toMatch(/^rule 3/);
    // The PROPOSALs carry the leader's own txns.
    const firstProposal = plan.ops[1];
    expect(firstProposal).toEqual({ type: 'PROPOSAL', entry: entry(1, 3) });
    // p = min: everything after it.
    const fromMin = syncFollower(db, zxid(1, 1), P);
    expect(show(fromMin.ops)).toEqual(['DIFF <1,5>', ...pairs([1, 2], [1, 3], [1, 4], [1, 5])]);
    // p = max on an established leader (L = (2,0) ≠ p): DIFF with nothing to send.
    const atMax = syncFollower(db, zxid(1, 5), P);
    expect(show(atMax.ops)).toEqual(['DIFF <1,5>']);
    expect(atMax.currentZxid).toBe(zxid(1, 5));
  });

  it('§5.1 rule 3: a peer that forked within the same epoch gets TRUNC(prev) then the entries from q on', () => {
    // The leader's history skips (1,3), which the peer holds: q = (1,4) > p, same epoch.
    const db = loaded([1, 1], [1, 2], [1, 4], [1, 5]);
    const plan = syncFollower(db, zxid(1, 3), P);
    expect(plan.needSnap).toBe(false);
    expect(show(plan.ops)).toEqual(['TRUNC <1,2>', ...pairs([1, 4], [1, 5])]);
    expect(plan.currentZxid).toBe(zxid(1, 5));
    expect(plan.reason).toMatch(/^rule 3.*TRUNC/);
  });

  it('§5.1 rule 3: a fork across an epoch boundary (epoch(q) ≠ epoch(p)) gets SNAP, never TRUNC', () => {
    const db = loaded([1, 1], [1, 2], [2, 1], [2, 2]);
    const plan = syncFollower(db, zxid(1, 3), P);
    expect(plan.needSnap).toBe(true);
    expect(plan.ops).toEqual([]);
    expect(plan.reason).toMatch(/^rule 3.*epoch boundary.*SNAP/);
  });

  it('§5.1 rule 3: a new-epoch peer zxid (counter 0) inside committedLog gets DIFF, not SNAP', () => {
    // p = (2,0): e.g. a server that led epoch 2 without writing. q = (2,1) > p, yet no TRUNC/SNAP.
    const db = loaded([1, 1], [1, 2], [2, 1], [2, 2]);
    const plan = syncFollower(db, zxid(2, 0), P);
    expect(plan.needSnap).toBe(false);
    expect(show(plan.ops)).toEqual(['DIFF <2,2>', ...pairs([2, 1], [2, 2])]);
    expect(plan.currentZxid).toBe(zxid(2, 2));
    // Also when the epoch of q differs from epoch(p): (2,0) before (3,1).
    const db3 = loaded([1, 1], [3, 1], [3, 2]);
    const plan3 = syncFollower(db3, zxid(2, 0), P);
    expect(plan3.needSnap).toBe(false);
    expect(show(plan3.ops)).toEqual(['DIFF <3,2>', ...pairs([3, 1], [3, 2])]);
  });

  describe('§5.1 rule 4: p below committedLog, sync from the on-disk txn log', () => {
    /**
     * A leader that loaded a 30-node snapshot at (1,30), then logged (1,31)..(1,36). With
     * commitLogCount 2 its committedLog is [(1,35), (1,36)]; its txn log holds (1,31)..(1,36).
     */
    function bigLeader(): Db {
      let tree: DataTree = EMPTY_TREE;
      for (let c = 1; c <= 30; c++) tree = applyTxn(tree, zxid(1, c), txnFor(zxid(1, c))).tree;
      const snap: Snapshot = { zxid: zxid(1, 30), data: tree };
      const log: LogEntry[] = [];
      for (let c = 31; c <= 36; c++) log.push(entry(1, c));
      return established(loadDatabase(image(log, [snap])), 2);
    }
    const small: SyncParams = { commitLogCount: 2, snapshotSizeFactor: 0.33 };

    it('§5.1 rule 4: p in the log and the log small next to factor × snapshot size → DIFF from the log, then committedLog', () => {
      const db = bigLeader();
      expect(committedWindow(db, small.commitLogCount)).toMatchObject({ min: zxid(1, 35), max: zxid(1, 36) });
      // 4 txns to send after (1,32) against 0.33 × 37 nodes ≈ 12.
      const plan = syncFollower(db, zxid(1, 32), small);
      expect(plan.needSnap).toBe(false);
      expect(show(plan.ops)).toEqual(['DIFF <1,36>', ...pairs([1, 33], [1, 34], [1, 35], [1, 36])]);
      expect(plan.currentZxid).toBe(zxid(1, 36));
      expect(plan.reason).toMatch(/^rule 4/);
      // The same peer with a large committedLog is served by rule 3 with the same packets.
      const rule3 = syncFollower(db, zxid(1, 32), P);
      expect(rule3.reason).toMatch(/^rule 3/);
      expect(rule3.ops).toEqual(plan.ops);
    });

    /** A snapshot of the tree of (1,1)..(1,c): c nodes. */
    function snapAt(c: number): Snapshot {
      let tree: DataTree = EMPTY_TREE;
      for (let i = 1; i <= c; i++) tree = applyTxn(tree, zxid(1, i), txnFor(zxid(1, i))).tree;
      return { zxid: zxid(1, c), data: tree };
    }

    it('§5.1 rule 4, ZKDatabase.getProposalsFromTxnLog: the files after the one holding p count whole (64 MiB preallocated) against factor × snapshot size', () => {
      // Snapshots at (1,30) and (1,33): the log rolled there, so its files are (1,31)..(1,33) and
      // (1,34)..(1,36). Loaded from the newest snapshot, committedLog is (1,34)..(1,36).
      const log: LogEntry[] = [];
      for (let c = 31; c <= 36; c++) log.push(entry(1, c));
      const db = established(loadDatabase(image(log, [snapAt(30), snapAt(33)])), 2);
      expect(committedWindow(db, small.commitLogCount)).toMatchObject({ min: zxid(1, 35), max: zxid(1, 36) });
      // p = (1,32) is in the first file; the second (3 txns) counts as 64 MiB > 0.33 × a 33-node snapshot.
      const plan = syncFollower(db, zxid(1, 32), small);
      expect(plan.needSnap).toBe(true);
      expect(plan.reason).toBe(`rule 5: peer <1,32> below committedLog <1,35> and the txn log cannot serve it (txn log size ${64 * 1024 * 1024} exceeds sizeLimit ${Math.floor(0.33 * 100 * 34)}): SNAP`);
      // A snapshot big enough for the limit to pass one preallocated file lets it through.
      const big = syncFollower(db, zxid(1, 32), { commitLogCount: 2, snapshotSizeFactor: (64 * 1024 * 1024) / (100 * 34) + 1 });
      expect(big.needSnap).toBe(false);
      expect(show(big.ops)).toEqual(['DIFF <1,36>', ...pairs([1, 33], [1, 34], [1, 35], [1, 36])]);
      // p = (1,34) is the second file's first txn, but the iterator still opens the file before it
      // (the newest one starting below p) and counts the second: SNAP. p = (1,35)'s file is the
      // newest: nothing after it, size 0.
      expect(syncFollower(db, zxid(1, 34), { commitLogCount: 1, snapshotSizeFactor: 0.33 }).needSnap).toBe(true);
      const p35 = syncFollower(db, zxid(1, 35), { commitLogCount: 1, snapshotSizeFactor: 0.33 });
      expect(p35.reason).toMatch(/^rule 4/);
      expect(show(p35.ops)).toEqual(['DIFF <1,36>', ...pairs([1, 36])]);
      // A negative factor disables txn-log sync altogether (ZKDatabase.isTxnLogSyncEnabled).
      expect(syncFollower(db, zxid(1, 35), { commitLogCount: 1, snapshotSizeFactor: -1 }).reason).toBe('rule 5: peer <1,35>: SNAP');
    });

    it('§5.1 rule 4: p older than the oldest log file (only inside the snapshot) → SNAP', () => {
      const db = bigLeader();
      const old = syncFollower(db, zxid(1, 20), small);
      expect(old.needSnap).toBe(true);
      expect(old.reason).toBe('rule 5: peer <1,20> below committedLog <1,35> and the txn log cannot serve it (its oldest file starts at <1,31>): SNAP');
    });

    it('§5.1 rule 4: p at an epoch start <2,0> (never an entry) → DIFF from the log, not SNAP', () => {
      const log: LogEntry[] = [];
      for (let c = 31; c <= 36; c++) log.push(entry(1, c));
      for (let c = 1; c <= 4; c++) log.push(entry(2, c));
      const db = established(loadDatabase(image(log, [snapAt(30)])), 3);
      const plan = syncFollower(db, zxid(2, 0), small);
      expect(plan.needSnap).toBe(false);
      expect(plan.reason).toBe('rule 4: peer <2,0> below committedLog, synced from the txn log: DIFF');
      expect(show(plan.ops)).toEqual(['DIFF <2,4>', ...pairs([2, 1], [2, 2], [2, 3], [2, 4])]);
    });

    it('§5.1 rule 4: p a txn the log lacks, the next one of the same epoch → TRUNC(previous) from the log', () => {
      // Built by hand: the log lacks (1,33), which the peer holds as its last txn.
      const log = [entry(1, 31), entry(1, 32), entry(1, 34), entry(1, 35), entry(1, 36)];
      const db = established(loadDatabase(image(log, [snapAt(30)])), 2);
      const plan = syncFollower(db, zxid(1, 33), small);
      expect(plan.needSnap).toBe(false);
      expect(show(plan.ops)).toEqual(['TRUNC <1,32>', ...pairs([1, 34], [1, 35], [1, 36])]);
      expect(plan.currentZxid).toBe(zxid(1, 36));
      // The next txn is of a newer epoch: no TRUNC can be named in one epoch → SNAP.
      const forked = established(loadDatabase(image([entry(1, 31), entry(1, 32), entry(2, 1), entry(2, 2), entry(2, 3)], [snapAt(30)])), 3);
      expect(syncFollower(forked, zxid(1, 33), small).reason).toBe('rule 4: gap between txn log (to <1,33>) and committedLog (from <2,2>): SNAP');
    });

    it('§5.1 rule 4 fallback: a gap between the end of the txn log and the start of committedLog → SNAP', () => {
      // Logged (1,1)..(1,3); (1,4)..(1,6) were applied without being in this log (as after a
      // reload). committedLog [(1,5),(1,6)] does not continue the log.
      let db = loaded([1, 1], [1, 2], [1, 3]);
      for (let c = 4; c <= 6; c++) db = applyCommitted(db, entry(1, c)).db;
      expect(db.log.length).toBe(3);
      const plan = syncFollower(db, zxid(1, 2), { commitLogCount: 2, snapshotSizeFactor: 10 });
      expect(plan.needSnap).toBe(true);
      expect(plan.reason).toMatch(/^rule 4: gap/);
      // Control: the same database with (1,4)..(1,6) logged is served from the log.
      let ok = loaded([1, 1], [1, 2], [1, 3]);
      for (let c = 4; c <= 6; c++) ok = logAndApply(ok, 1, c);
      const good = syncFollower(ok, zxid(1, 2), { commitLogCount: 2, snapshotSizeFactor: 10 });
      expect(good.needSnap).toBe(false);
      expect(show(good.ops)).toEqual(['DIFF <1,6>', ...pairs([1, 3], [1, 4], [1, 5], [1, 6])]);
    });

    it('§5.1 rule 4 fallback: a new-epoch peer <2,0> whose txn log ends below it gets the gap SNAP; the DIFF queued for it is dropped', () => {
      // queueCommittedProposals queues DIFF for a counter-0 peer "in any case" once the log is
      // exhausted, but nothing past p was queued, so syncFollower clears the queue ("Detected gap
      // between end of txnlog and start of committedLog") and sends SNAP. Logged (1,1)..(1,3);
      // (2,1)..(2,3) applied without being in this log; committedLog [(2,2),(2,3)].
      let db = loaded([1, 1], [1, 2], [1, 3]);
      for (let c = 1; c <= 3; c++) db = applyCommitted(db, entry(2, c)).db;
      const plan = syncFollower(db, zxid(2, 0), { commitLogCount: 2, snapshotSizeFactor: 10 });
      expect(plan.needSnap).toBe(true);
      expect(plan.ops).toEqual([]);
      // `if (needSnap) currentZxid = db.getDataTreeLastProcessedZxid()`: forwarding starts above the leader's applied <2,3>.
      expect(plan.currentZxid).toBe(zxid(2, 3));
      expect(plan.reason).toBe('rule 4: gap between txn log (to <2,0>) and committedLog (from <2,2>): SNAP');
      expect(plan.probe).toBe(PROBE['sync.rule4.snap']);
      // Control: with (2,1)..(2,3) logged, the same peer is served from the log by that DIFF.
      let ok = loaded([1, 1], [1, 2], [1, 3]);
      for (let c = 1; c <= 3; c++) ok = logAndApply(ok, 2, c);
      expect(show(syncFollower(ok, zxid(2, 0), { commitLogCount: 2, snapshotSizeFactor: 10 }).ops)).toEqual(['DIFF <2,3>', ...pairs([2, 1], [2, 2], [2, 3])]);
    });
  });

  it('§5.1 rule 5: p below committedLog when txn-log sync cannot help → SNAP of the whole tree', () => {
    // A fresh peer (p = 0) against a leader whose history starts at (1,1).
    const db = established(loaded([1, 1], [1, 2]), 2);
    const plan = syncFollower(db, 0, P);
    expect(plan.needSnap).toBe(true);
    expect(plan.ops).toEqual([]);
    // The leader's lastProcessedZxid (established: <2,0>), not the peer's 0: the SNAP carries the leader's state.
    expect(plan.currentZxid).toBe(db.lastProcessedZxid);
    expect(db.lastProcessedZxid).toBe(zxid(2, 0));
    // After a snapshot the leader's window restarts; the peer's zxid only lives in the snapshot.
    let db2 = loaded([1, 1], [1, 2], [1, 3]);
    db2 = takeSnapshot(db2).db;
    const reloaded = loadDatabase(image([entry(1, 4), entry(1, 5)], [...db2.snapshots]));
    expect(committedWindow(reloaded, 500).min).toBe(zxid(1, 4));
    const p2 = syncFollower(reloaded, zxid(1, 2), P);
    expect(p2.needSnap).toBe(true);
    expect(p2.reason).toMatch(/^rule 5/);
  });

  describe('§5.1 Consequence: an old leader with an uncommitted tail', () => {
    // The old leader of epoch 1 logged (1,3) and (1,4); only (1,1), (1,2) reached a quorum.
    const oldLeaderZxid = zxid(1, 4);

    it('§5.1 Consequence: gets SNAP when the new leader already has entries of a newer epoch', () => {
      let db = established(loaded([1, 1], [1, 2]), 2);
      db = logAndApply(db, 2, 1);
      db = logAndApply(db, 2, 2);
      const plan = syncFollower(db, oldLeaderZxid, P);
      expect(plan.needSnap).toBe(true);
      expect(plan.reason).toMatch(/^rule 3/);
    });

    it('§5.1 Consequence: gets TRUNC(max) (rule 2) when the new leader has nothing beyond the fork', () => {
      const db = established(loaded([1, 1], [1, 2]), 2);
      const plan = syncFollower(db, oldLeaderZxid, P);
      expect(plan.needSnap).toBe(false);
      expect(show(plan.ops)).toEqual(['TRUNC <1,2>']);
      expect(plan.reason).toMatch(/^rule 2/);
    });
  });
});

/**
 * Each plan names the rule that decided it twice: in words for the trace (`reason`, what a reader
 * of `zabsim run` sees in the leader's note) and as its coverage cell (`probe`, what the coverage
 * map of issue 12 §3 counts). Both are part of the rule's output, so each is stated exactly here.
 */
describe('§5.1 each rule names itself: the trace reason and the coverage probe', () => {
  const big = (): Db => {
    let tree: DataTree = EMPTY_TREE;
    for (let c = 1; c <= 30; c++) tree = applyTxn(tree, zxid(1, c), txnFor(zxid(1, c))).tree;
    const log: LogEntry[] = [];
    for (let c = 31; c <= 36; c++) log.push(entry(1, c));
    return established(loadDatabase(image(log, [{ zxid: zxid(1, 30), data: tree }])), 2);
  };
  const small: SyncParams = { commitLogCount: 2, snapshotSizeFactor: 0.33 };

  it.each([
    ['rule 1', () => syncFollower(loaded([1, 1], [1, 2]), zxid(1, 2), P), 'sync.rule1', 'rule 1: peer at my lastProcessedZxid <1,2>: empty DIFF'],
    ['rule 2', () => syncFollower(established(loaded([1, 1], [1, 2]), 2), zxid(1, 4), P), 'sync.rule2', 'rule 2: peer <1,4> past maxCommittedLog <1,2>: TRUNC'],
    ['rule 3 DIFF', () => syncFollower(established(loaded([1, 1], [1, 2], [1, 3]), 2), zxid(1, 1), P), 'sync.rule3.diff', 'rule 3: peer <1,1> within committedLog [<1,1>, <1,3>]: DIFF'],
    ['rule 3 TRUNC', () => syncFollower(loaded([1, 1], [1, 2], [1, 4]), zxid(1, 3), P), 'sync.rule3.trunc', 'rule 3: peer <1,3> within committedLog [<1,1>, <1,4>]: TRUNC'],
    ['rule 3 SNAP', () => syncFollower(loaded([1, 1], [2, 1], [2, 2]), zxid(1, 2), P), 'sync.rule3.snap', 'rule 3: peer <1,2> forked from my history across an epoch boundary: SNAP'],
    ['rule 3 with ZOOKEEPER-1154', () => syncFollower(loaded([1, 1], [1, 2], [1, 4]), zxid(1, 3), { ...P, diffWithoutDivergenceCheck: true }), 'sync.rule3.flaw1154', 'rule 3 (ZOOKEEPER-1154 flaw): peer <1,3> within committedLog [<1,1>, <1,4>]: DIFF without a divergence check'],
    ['rule 4 DIFF', () => syncFollower(big(), zxid(1, 32), small), 'sync.rule4.diff', 'rule 4: peer <1,32> below committedLog, synced from the txn log: DIFF'],
    ['rule 4 gap', () => syncFollower(established(loadDatabase(image([entry(1, 31), entry(1, 32), entry(2, 1), entry(2, 2), entry(2, 3)], [])), 3), zxid(1, 33), small), 'sync.rule4.snap', 'rule 4: gap between txn log (to <1,33>) and committedLog (from <2,2>): SNAP'],
    ['rule 5 no log', () => syncFollower(big(), zxid(1, 20), small), 'sync.rule5.nolog', 'rule 5: peer <1,20> below committedLog <1,35> and the txn log cannot serve it (its oldest file starts at <1,31>): SNAP'],
    ['rule 5', () => syncFollower(loaded([1, 1], [1, 2]), zxid(2, 0), P), 'sync.rule5', 'rule 5: peer <2,0>: SNAP'],
  ] as const)('%s', (_, plan, probe, reason) => {
    const p = plan();
    expect(p.reason).toBe(reason);
    expect(p.probe).toBe(PROBE[probe]);
  });

  it('rule 4 TRUNC: the txn log lacks the peer\'s last txn, the next one is of the same epoch', () => {
    let tree: DataTree = EMPTY_TREE;
    for (let c = 1; c <= 30; c++) tree = applyTxn(tree, zxid(1, c), txnFor(zxid(1, c))).tree;
    const db = established(loadDatabase(image([entry(1, 31), entry(1, 32), entry(1, 34), entry(1, 35), entry(1, 36)], [{ zxid: zxid(1, 30), data: tree }])), 2);
    const p = syncFollower(db, zxid(1, 33), small);
    expect(p.reason).toBe('rule 4: peer <1,33> below committedLog, synced from the txn log: TRUNC');
    expect(p.probe).toBe(PROBE['sync.rule4.trunc']);
  });
});

describe('§5.1 rule 4 edges: ZKDatabase.calculateTxnLogSizeLimit and getProposalsFromTxnLog', () => {
  /** A leader that loaded a snapshot at (1,30) (30 znodes and `sessions` sessions), then logged (1,31)..(1,36). */
  function leader(sessions: number): Db {
    let tree: DataTree = EMPTY_TREE;
    for (let c = 1; c <= 30 - sessions; c++) tree = applyTxn(tree, zxid(1, c), txnFor(zxid(1, c))).tree;
    for (let c = 30 - sessions + 1; c <= 30; c++) tree = applyTxn(tree, zxid(1, c), { type: 'createSession', session: c, timeoutMs: 10_000 }).tree;
    const log: LogEntry[] = [];
    for (let c = 31; c <= 36; c++) log.push(entry(1, c));
    return established(loadDatabase(image(log, [{ zxid: zxid(1, 30), data: tree }])), 2);
  }

  /**
   * Two log files, (1,31)..(1,33) and (1,34)..(1,36) (the log rolled at the snapshot of (1,33)),
   * both snapshots of the bare root: the size limit is factor × 100 bytes.
   */
  function twoFiles(): Db {
    const log = [entry(1, 31), entry(1, 32), entry(1, 33), entry(1, 34), entry(1, 35), entry(1, 36)];
    return established(loadDatabase(image(log, [{ zxid: zxid(1, 30), data: EMPTY_TREE }, { zxid: zxid(1, 33), data: EMPTY_TREE }])), 2);
  }

  it('the size limit is factor × (znodes + sessions) × 100 bytes of the newest snapshot; factor 0 means no limit, a negative one no txn-log sync', () => {
    expect(txnLogSizeLimit(leader(0), 2)).toBe(2 * 100 * 31); // 30 znodes and the root
    expect(txnLogSizeLimit(leader(10), 2)).toBe(2 * 100 * (21 + 10)); // sessions count like znodes
    expect(txnLogSizeLimit(leader(10), 0)).toBe(0);
    expect(txnLogSizeLimit(leader(10), -1)).toBe(-1);
    // Factor 0: the later files are not weighed at all, so even 64 MiB of them is served from the log.
    const p = syncFollower(twoFiles(), zxid(1, 32), { commitLogCount: 2, snapshotSizeFactor: 0 });
    expect(p.reason).toBe('rule 4: peer <1,32> below committedLog, synced from the txn log: DIFF');
  });

  it('getProposalsFromTxnLog gives up only when the later files are longer than sizeLimit ("txnSize > sizeLimit"): at exactly the limit it serves', () => {
    const db = twoFiles();
    // The limit at exactly one preallocated file, 64 MiB: the file after p's is that long.
    const exact = { commitLogCount: 2, snapshotSizeFactor: PREALLOC_BYTES / 100 };
    expect(txnLogSizeLimit(db, exact.snapshotSizeFactor)).toBe(PREALLOC_BYTES);
    const p = syncFollower(db, zxid(1, 32), exact);
    expect(p.reason).toBe('rule 4: peer <1,32> below committedLog, synced from the txn log: DIFF');
    expect(show(p.ops)).toEqual(['DIFF <1,36>', ...pairs([1, 33], [1, 34], [1, 35], [1, 36])]);
    // One byte less: SNAP.
    const below = { commitLogCount: 2, snapshotSizeFactor: (PREALLOC_BYTES - 1) / 100 };
    expect(txnLogSizeLimit(db, below.snapshotSizeFactor)).toBe(PREALLOC_BYTES - 1);
    expect(syncFollower(db, zxid(1, 32), below).reason).toBe(`rule 5: peer <1,32> below committedLog <1,35> and the txn log cannot serve it (txn log size ${PREALLOC_BYTES} exceeds sizeLimit ${PREALLOC_BYTES - 1}): SNAP`);
  });

  it('getProposalsFromTxnLog with a negative sizeLimit reads no file: txn-log sync is disabled', () => {
    // ZKDatabase.getProposalsFromTxnLog: "Negative size limit - retrieving proposal via txnlog is
    // disabled", an empty iterator, whatever the log holds (here p is its first txn).
    const db = twoFiles();
    expect(proposalsFromTxnLog(db, zxid(1, 31), -1)).toBe('txn-log sync disabled');
    expect(proposalsFromTxnLog(db, zxid(1, 31), txnLogSizeLimit(db, -0.5))).toBe('txn-log sync disabled');
    // Control: with no limit (0) the same call returns the log from p's file on.
    const all = proposalsFromTxnLog(db, zxid(1, 31), 0);
    expect(typeof all).not.toBe('string');
    expect([...(all as Iterable<LogEntry>)].map((e) => formatZxid(e.zxid))).toEqual(['<1,31>', '<1,32>', '<1,33>', '<1,34>', '<1,35>', '<1,36>']);
  });

  it('a log file counts in whole 64 MiB preallocations: 671,088 txns of 100 bytes fill one, the 671,089th makes it two', () => {
    // FileTxnLog grows a file in preAllocSize steps (FilePadding.calculateFileSizeWithPadding), so
    // zabsim counts a file as its txns' bytes, 100 each, rounded up to 64 MiB (ZooKeeper adds the
    // next step 4 KB before the end; zabsim does not model that margin). Files: (1,1)..(1,5), then
    // n txns (a setData workload on the root) up to the snapshot of (1,5+n), then
    // (1,6+n)..(1,8+n), which the leader loaded on top of that snapshot (a bare root: the limit is
    // factor × 100 bytes).
    const perFile = Math.floor(PREALLOC_BYTES / 100);
    expect(perFile).toBe(671_088);
    const write: Txn = { type: 'setData', path: '/', data: 'v', version: -1 };
    const log: LogEntry[] = [];
    for (let c = 1; c <= 5 + perFile + 1 + 3; c++) log.push({ zxid: zxid(1, c), txn: write });
    const limit = 1.5 * PREALLOC_BYTES;
    const params: SyncParams = { commitLogCount: 500, snapshotSizeFactor: limit / 100 };
    for (const [n, blocks] of [[perFile, 2], [perFile + 1, 3]] as const) {
      const db = loadDatabase(image(log.slice(0, 5 + n + 3), [{ zxid: zxid(1, 5), data: EMPTY_TREE }, { zxid: zxid(1, 5 + n), data: EMPTY_TREE }]));
      expect(txnLogSizeLimit(db, params.snapshotSizeFactor)).toBe(limit);
      // p = (1,3) is in the first file; the second counts 1 or 2 blocks, the third (3 txns) 1.
      const plan = syncFollower(db, zxid(1, 3), params);
      expect(plan.reason).toBe(`rule 5: peer <1,3> below committedLog ${formatZxid(zxid(1, 6 + n))} and the txn log cannot serve it (txn log size ${blocks * PREALLOC_BYTES} exceeds sizeLimit ${limit}): SNAP`);
    }
  });

  it('a peer at the first txn of the oldest log file is served from it (the file does not start after p)', () => {
    const p = syncFollower(leader(0), zxid(1, 31), { commitLogCount: 2, snapshotSizeFactor: 0.33 });
    expect(p.reason).toBe('rule 4: peer <1,31> below committedLog, synced from the txn log: DIFF');
    expect(show(p.ops)).toEqual(['DIFF <1,36>', ...pairs([1, 32], [1, 33], [1, 34], [1, 35], [1, 36])]);
  });
});

describe('§5.1 rule 3 with ZOOKEEPER-1154 (sync_diff_without_divergence_check): only inside the window', () => {
  const flaw: SyncParams = { ...P, diffWithoutDivergenceCheck: true };

  it('a peer at either end of committedLog takes the flawed DIFF; one below it or at a new epoch past it does not', () => {
    const db = established(loaded([1, 1], [1, 2], [1, 3], [1, 4]), 2);
    expect(syncFollower(db, zxid(1, 1), flaw).probe).toBe(PROBE['sync.rule3.flaw1154']);
    expect(syncFollower(db, zxid(1, 4), flaw).probe).toBe(PROBE['sync.rule3.flaw1154']);
    // Past max at a new epoch: rule 2 does not apply (counter 0) and neither does the window.
    expect(syncFollower(db, zxid(2, 0), flaw).reason).toBe('rule 1: peer at my lastProcessedZxid <2,0>: empty DIFF');
    expect(syncFollower(established(loaded([1, 1], [1, 2]), 3), zxid(2, 0), flaw).reason).toBe('rule 5: peer <2,0>: SNAP');
    // Below min: a fresh peer.
    expect(syncFollower(db, 0, flaw).reason).toMatch(/^rule 5/);
  });

  it('the flawed DIFF sends committedLog, not the txn log: txns applied without being in this log are sent too', () => {
    // Logged (1,1)..(1,3); (1,4)..(1,6) applied without being in this log (as after a reload).
    let db = loaded([1, 1], [1, 2], [1, 3]);
    for (let c = 4; c <= 6; c++) db = applyCommitted(db, entry(1, c)).db;
    expect(db.log.length).toBe(3);
    const p = syncFollower(db, zxid(1, 2), flaw);
    expect(p.probe).toBe(PROBE['sync.rule3.flaw1154']);
    expect(show(p.ops)).toEqual(['DIFF <1,6>', ...pairs([1, 3], [1, 4], [1, 5], [1, 6])]);
    expect(p.currentZxid).toBe(zxid(1, 6));
  });

  it('rule 4 applies strictly below min: a peer at min is rule 3 (DIFF from committedLog)', () => {
    const db = established(loaded([1, 1], [1, 2], [1, 3], [1, 4]), 2);
    const p = syncFollower(db, zxid(1, 3), { commitLogCount: 2, snapshotSizeFactor: 0.33 });
    expect(p.reason).toBe('rule 3: peer <1,3> within committedLog [<1,3>, <1,4>]: DIFF');
  });
});
