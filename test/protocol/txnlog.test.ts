/**
 * TxnLog (txnlog.ts): the server's in-memory txn log as an immutable value with structural
 * sharing. Appends, TRUNC (truncateTo), the binary searches syncFollower relies on (§5.1), and the
 * sharing rules: the newest value appends in place; an older value or a frozen array copies; an
 * older value never sees a later append.
 */
import { describe, expect, it } from 'vitest';
import { keptByTruncate, purgePlan, segmentStarts, TxnLog } from '../../src/protocol/txnlog.ts';
import type { LogEntry } from '../../src/protocol/types.ts';
import { zxid, type Zxid } from '../../src/protocol/zxid.ts';

function e(epoch: number, counter: number): LogEntry {
  const z = zxid(epoch, counter);
  return { zxid: z, txn: { type: 'setData', path: '/k', data: `${epoch}.${counter}`, version: -1 } };
}

const zxids = (log: TxnLog): Zxid[] => log.slice(0).map((x) => x.zxid);

/** (1,1), (1,2), (1,4), (2,1), built by appends. */
function sample(): TxnLog {
  return TxnLog.EMPTY.append(e(1, 1)).append(e(1, 2)).append(e(1, 4)).append(e(2, 1));
}

describe('TxnLog basics', () => {
  it('§1.1 txn log: append, at, last, lastZxid and length', () => {
    const log = sample();
    expect(log.length).toBe(4);
    expect(log.at(0)).toEqual(e(1, 1));
    expect(log.at(3)).toEqual(e(2, 1));
    expect(log.last()).toEqual(e(2, 1));
    expect(log.lastZxid(-7)).toBe(zxid(2, 1));
    expect(TxnLog.EMPTY.lastZxid(-7)).toBe(-7);
    expect(TxnLog.EMPTY.last()).toBeUndefined();
    expect(() => log.at(4)).toThrow('TxnLog.at(4) out of range 0..3');
    expect(() => log.at(-1)).toThrow('TxnLog.at(-1) out of range 0..3');
  });

  it('§5.2 TRUNC to a zxid the log lacks: by default the cut is exact (nothing above it stays); as FileTxnLog.truncate, the first txn above it stays', () => {
    const log = sample(); // (1,1), (1,2), (1,4), (2,1): no (1,3)
    expect(log.truncateLength(zxid(1, 3))).toBe(2);
    expect(zxids(log.truncateTo(zxid(1, 3)))).toEqual([zxid(1, 1), zxid(1, 2)]);
    expect(log.truncateLength(zxid(1, 3), true)).toBe(3);
  });

  it('§1.1 txn log: append refuses a zxid that does not follow the last one; TxnLog.of refuses an unordered list', () => {
    const log = sample();
    expect(() => log.append(e(2, 1))).toThrow(/does not follow/);
    expect(() => log.append(e(1, 9))).toThrow(/does not follow/);
    expect(log.length).toBe(4);
    expect(() => TxnLog.of([e(1, 2), e(1, 1)])).toThrow(/does not follow/);
    expect(() => TxnLog.of([e(1, 1), e(1, 1)])).toThrow(/does not follow/);
    const src = [e(1, 1), e(1, 2)];
    const of = TxnLog.of(src);
    src.push(e(1, 3));
    expect(of.length).toBe(2); // copied
  });

  it('§1.1 / §5.1 txn log: lowerBound is the index of the first zxid ≥ z; indexOf finds exact zxids only', () => {
    const log = sample();
    expect(log.lowerBound(0)).toBe(0);
    expect(log.lowerBound(zxid(1, 1))).toBe(0);
    expect(log.lowerBound(zxid(1, 3))).toBe(2);
    expect(log.lowerBound(zxid(1, 4))).toBe(2);
    expect(log.lowerBound(zxid(2, 0))).toBe(3);
    expect(log.lowerBound(zxid(2, 2))).toBe(4);
    expect(log.indexOf(zxid(1, 4))).toBe(2);
    expect(log.indexOf(zxid(1, 3))).toBe(-1);
    expect(log.indexOf(zxid(3, 0))).toBe(-1);
    expect(TxnLog.EMPTY.lowerBound(5)).toBe(0);
    expect(TxnLog.EMPTY.indexOf(5)).toBe(-1);
  });

  it('§1.1 txn log: lowerBound and indexOf agree with a scan, near the end and deep in a long log', () => {
    const entries: LogEntry[] = [];
    for (let c = 1; c <= 40; c++) entries.push(e(c <= 25 ? 1 : 2, c * 2));
    const log = TxnLog.of(entries);
    const shorter = log.append(e(3, 1)).truncateTo(entries[30]?.zxid as Zxid); // the shared array reaches past its length
    for (const l of [log, shorter, log.dropBefore(entries[10]?.zxid as Zxid)]) {
      const own = Array.from({ length: l.length }, (_, i) => l.at(i).zxid);
      for (let ep = 0; ep <= 3; ep++) {
        for (let c = 0; c <= 82; c++) {
          const z = zxid(ep, c);
          const scan = own.findIndex((x) => x >= z);
          expect(l.lowerBound(z)).toBe(scan < 0 ? l.length : scan);
          expect(l.indexOf(z)).toBe(own.indexOf(z));
        }
      }
    }
  });

  it('§1.1 txn log: lowerBound/indexOf only see the value\'s own entries, not later appends on the shared array', () => {
    const short = sample();
    const long = short.append(e(2, 2));
    expect(short.lowerBound(zxid(2, 2))).toBe(4);
    expect(short.indexOf(zxid(2, 2))).toBe(-1);
    expect(long.indexOf(zxid(2, 2))).toBe(4);
  });

  it('§1.1 / §5.2 txn log: truncateTo(z) keeps exactly the entries ≤ z (TRUNC)', () => {
    const log = sample(); // <1,1> <1,2> <1,4> <2,1>
    expect(zxids(log.truncateTo(zxid(1, 2)))).toEqual([zxid(1, 1), zxid(1, 2)]);
    expect(zxids(log.truncateTo(zxid(1, 3)))).toEqual([zxid(1, 1), zxid(1, 2)]);
    expect(zxids(log.truncateTo(zxid(1, 4)))).toEqual([zxid(1, 1), zxid(1, 2), zxid(1, 4)]);
    expect(log.truncateTo(0).length).toBe(0);
    expect(log.truncateTo(zxid(2, 1))).toBe(log); // nothing to cut: the same value
    expect(log.truncateTo(zxid(9, 9))).toBe(log);
    expect(log.length).toBe(4); // the original is untouched
    expect(log.truncateTo(zxid(1, 2)).last()).toEqual(e(1, 2));
    expect(keptByTruncate(log.slice(0), zxid(1, 3))).toBe(2);
  });

  it('§5.2 txn log, trunc_keeps_first_txn_above_target: FileTxnLog.truncate keeps the first txn above a zxid the log lacks', () => {
    const log = sample();
    // <1,3> is absent: the iterator stops on <1,4>, the first txn at or above it, and the file is cut after it.
    expect(zxids(log.truncateTo(zxid(1, 3), true))).toEqual([zxid(1, 1), zxid(1, 2), zxid(1, 4)]);
    expect(zxids(log.truncateTo(zxid(1, 2), true))).toEqual([zxid(1, 1), zxid(1, 2)]); // present: the same cut
    expect(zxids(log.truncateTo(0, true))).toEqual([zxid(1, 1)]); // TRUNC to <0,0> keeps the first txn
    expect(log.truncateTo(zxid(9, 9), true)).toBe(log); // no txn at or above z: nothing is cut
    expect(keptByTruncate(log.slice(0), zxid(1, 3), true)).toBe(3);
    expect(keptByTruncate([], zxid(1, 3), true)).toBe(0);
  });

  it('§1.1 txn log: slice clamps to the value\'s own length; toJSON summarises', () => {
    const log = sample();
    const longer = log.append(e(3, 1));
    expect(log.slice(2).map((x) => x.zxid)).toEqual([zxid(1, 4), zxid(2, 1)]);
    expect(log.slice(-5, 99)).toHaveLength(4);
    expect(longer.slice(0)).toHaveLength(5);
    expect(log.toJSON()).toEqual({ length: 4, first: '<1,1>', last: '<2,1>' });
    expect(TxnLog.EMPTY.toJSON()).toEqual({ length: 0, first: null, last: null });
  });
});

describe('TxnLog structural sharing', () => {
  it('§1.1 txn log: appending to the newest value shares its backing array; older values never see the later appends', () => {
    const a = sample();
    const b = a.append(e(3, 1));
    const c = b.append(e(3, 2));
    expect(b.entries).toBe(a.entries);
    expect(c.entries).toBe(a.entries);
    expect(a.length).toBe(4);
    expect(a.last()).toEqual(e(2, 1));
    expect(zxids(a)).toEqual([zxid(1, 1), zxid(1, 2), zxid(1, 4), zxid(2, 1)]);
    expect(b.lastZxid(0)).toBe(zxid(3, 1));
    expect(c.length).toBe(6);
  });

  it('§1.1 txn log: appending to an older value (a branch) copies: both branches keep their own entries', () => {
    const a = sample();
    const b = a.append(e(3, 1));
    const branch = a.append(e(4, 1)); // a is no longer the newest value of the shared array
    expect(branch.entries).not.toBe(a.entries);
    expect(b.last()).toEqual(e(3, 1));
    expect(branch.last()).toEqual(e(4, 1));
    expect(branch.length).toBe(5);
    expect(a.length).toBe(4);
    // Appending further on either branch leaves the other alone.
    const b2 = b.append(e(3, 2));
    const branch2 = branch.append(e(4, 2));
    expect(zxids(b2).slice(4)).toEqual([zxid(3, 1), zxid(3, 2)]);
    expect(zxids(branch2).slice(4)).toEqual([zxid(4, 1), zxid(4, 2)]);
  });

  it('§1.1 txn log: a truncated value copies on its next append; the value it was cut from keeps its tail', () => {
    const a = sample().append(e(3, 1));
    const cut = a.truncateTo(zxid(1, 2));
    expect(cut.entries).toBe(a.entries); // O(1) truncation shares
    const regrown = cut.append(e(5, 1));
    expect(regrown.entries).not.toBe(a.entries);
    expect(zxids(regrown)).toEqual([zxid(1, 1), zxid(1, 2), zxid(5, 1)]);
    expect(zxids(a)).toEqual([zxid(1, 1), zxid(1, 2), zxid(1, 4), zxid(2, 1), zxid(3, 1)]);
  });

  it('§1.1 txn log: appending to a value whose array is frozen (deep-frozen test states) copies instead of throwing', () => {
    const a = sample();
    Object.freeze(a.entries);
    const b = a.append(e(3, 1));
    expect(b.entries).not.toBe(a.entries);
    expect(Object.isFrozen(b.entries)).toBe(false);
    expect(b.length).toBe(5);
    expect(a.entries).toHaveLength(4);
    // The copy is the new newest value: it appends in place again.
    const c = b.append(e(3, 2));
    expect(c.entries).toBe(b.entries);
  });

  it('§1.1 txn log: TxnLog.EMPTY stays empty however often it is appended to', () => {
    const x = TxnLog.EMPTY.append(e(1, 1));
    const y = TxnLog.EMPTY.append(e(7, 7));
    expect(TxnLog.EMPTY.length).toBe(0);
    expect(TxnLog.EMPTY.last()).toBeUndefined();
    expect(zxids(x)).toEqual([zxid(1, 1)]);
    expect(zxids(y)).toEqual([zxid(7, 7)]);
  });
});

describe('TxnLog purge views and PurgeTxnLog\'s plan, at the edges', () => {
  /** (1,a) .. (1,b), built by appends. */
  const run = (a: number, b: number): TxnLog => Array.from({ length: b - a + 1 }, (_, i) => e(1, a + i)).reduce((log, x) => log.append(x), TxnLog.EMPTY);

  it('§9 dropBefore(z) keeps the entries ≥ z of this value only, and is this log itself when nothing is below z', () => {
    const log = sample(); // <1,1> <1,2> <1,4> <2,1>
    const longer = log.append(e(3, 1)); // shares log's array
    const dropped = log.dropBefore(zxid(1, 3));
    expect(zxids(dropped)).toEqual([zxid(1, 4), zxid(2, 1)]);
    expect(dropped.length).toBe(2);
    expect(dropped.lastZxid(0)).toBe(zxid(2, 1)); // not longer's <3,1>
    expect(log.dropBefore(zxid(1, 1))).toBe(log);
    expect(log.dropBefore(0)).toBe(log);
    expect(longer.length).toBe(5);
  });

  it('§1.2 keepLast(n) keeps the newest n entries of this value, and is this log itself when it holds no more than n', () => {
    const log = sample();
    log.append(e(3, 1)); // a longer value on the same array
    expect(zxids(log.keepLast(2))).toEqual([zxid(1, 4), zxid(2, 1)]);
    expect(log.keepLast(4)).toBe(log);
    expect(log.keepLast(9)).toBe(log);
  });

  it('§9 segmentStarts: a snapshot below the log\'s first txn (the log after a purge) starts no second file at 0; snapshots may come in any order', () => {
    const log = run(6, 20);
    expect(segmentStarts(log, [zxid(1, 5), zxid(1, 10)])).toEqual([0, 5]);
    expect(segmentStarts(log, [zxid(1, 15), zxid(1, 10), zxid(1, 5)])).toEqual([0, 5, 10]);
    expect(segmentStarts(log, [zxid(1, 10), zxid(1, 10)])).toEqual([0, 5]);
  });

  it('§9 purgePlan: FileTxnLog.getLogFiles keeps a file that starts exactly at the oldest kept snapshot, not the one before it', () => {
    // snapshot.5 rolled the log: log.6 holds (1,6); snapshot.6 rolled it again: log.7 from (1,7).
    const log = run(1, 20);
    expect(purgePlan(log, [zxid(1, 5), zxid(1, 6)], 1)).toEqual({ logFrom: zxid(1, 6), dropSnapshots: 1 });
  });

  it('§9 purgePlan: retain 1 keeps the newest snapshot and its file (zabsim allows counts below ZooKeeper\'s minimum of 3); retain 0 purges nothing (PurgeTxnLog.purge refuses it); an empty log drops snapshots only', () => {
    const log = run(1, 20);
    const snaps = [zxid(1, 5), zxid(1, 10), zxid(1, 15), zxid(1, 18)];
    expect(purgePlan(log, snaps, 1)).toEqual({ logFrom: zxid(1, 16), dropSnapshots: 3 });
    expect(purgePlan(log, snaps, 0)).toBeNull();
    expect(purgePlan(TxnLog.EMPTY, snaps, 2)).toEqual({ logFrom: 0, dropSnapshots: 2 });
  });
});
