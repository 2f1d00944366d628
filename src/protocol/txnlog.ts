/**
 * A server's in-memory view of its txn log: an immutable value with structural sharing.
 *
 * States are immutable, yet a log grows to hundreds of thousands of entries and a copy per
 * append would make every step cost O(history). So a TxnLog is a (shared array, length) pair:
 * appending to the newest log pushes onto the shared array, which older values never read past
 * their own length; appending to an older value (a branch), or to a frozen array (tests deep-
 * freeze states), copies first. Truncation only lowers the length, so it is O(1) until the next
 * append, which then copies once. A class instance, so a step's copy-on-write (cow.ts) treats it
 * as an opaque value and never copies or freezes into it.
 */
import type { LogEntry } from './types.ts';
import { formatZxid, type Zxid } from './zxid.ts';

export class TxnLog {
  private constructor(
    /** Internal: the shared backing array; only [0, length) belongs to this value. */
    readonly entries: LogEntry[],
    /** Number of entries in this log. */
    readonly length: number,
  ) {}

  static readonly EMPTY = new TxnLog([], 0);

  /** A log holding exactly `entries` (copied). Zxids must increase. */
  static of(entries: readonly LogEntry[]): TxnLog {
    const copy = [...entries];
    for (let i = 1; i < copy.length; i++) {
      if ((copy[i] as LogEntry).zxid <= (copy[i - 1] as LogEntry).zxid) {
        throw new Error(`TxnLog.of: zxid ${formatZxid((copy[i] as LogEntry).zxid)} does not follow ${formatZxid((copy[i - 1] as LogEntry).zxid)}`);
      }
    }
    return new TxnLog(copy, copy.length);
  }

  /** Entry at index i (0-based). */
  at(i: number): LogEntry {
    if (i < 0 || i >= this.length) throw new Error(`TxnLog.at(${i}) out of range 0..${this.length - 1}`);
    return this.entries[i] as LogEntry;
  }

  /** The last entry, or undefined when empty. */
  last(): LogEntry | undefined {
    return this.length === 0 ? undefined : (this.entries[this.length - 1] as LogEntry);
  }

  /** Zxid of the last entry, or `empty` when the log is empty. */
  lastZxid(empty: Zxid): Zxid {
    return this.length === 0 ? empty : (this.entries[this.length - 1] as LogEntry).zxid;
  }

  /** A log with `e` appended; its zxid must exceed the last one (the log is in zxid order). */
  append(e: LogEntry): TxnLog {
    const last = this.last();
    if (last !== undefined && e.zxid <= last.zxid) {
      throw new Error(`TxnLog.append: zxid ${formatZxid(e.zxid)} does not follow ${formatZxid(last.zxid)}`);
    }
    if (this.entries.length === this.length && !Object.isFrozen(this.entries)) {
      this.entries.push(e);
      return new TxnLog(this.entries, this.length + 1);
    }
    const copy = this.entries.slice(0, this.length);
    copy.push(e);
    return new TxnLog(copy, copy.length);
  }

  /** Index of the first entry with zxid >= z (`length` when none): {@link lowerBoundOf}. */
  lowerBound(z: Zxid): number {
    return lowerBoundOf(this.entries, z, this.length);
  }

  /** Index of the entry with exactly zxid z, or -1. */
  indexOf(z: Zxid): number {
    const i = this.lowerBound(z);
    return i < this.length && (this.entries[i] as LogEntry).zxid === z ? i : -1;
  }

  /** How many entries a TRUNC to z keeps: see {@link keptByTruncate}. */
  truncateLength(z: Zxid, asFileTxnLog = false): number {
    return keptByTruncate(this.entries, z, asFileTxnLog, this.length);
  }

  /** The log as a TRUNC to z leaves it (see {@link keptByTruncate}). */
  truncateTo(z: Zxid, asFileTxnLog = false): TxnLog {
    const n = this.truncateLength(z, asFileTxnLog);
    return n === this.length ? this : new TxnLog(this.entries, n);
  }

  /**
   * The log without its entries below z, as a purge leaves it: a copy, so the dropped front is
   * freed (O(kept), once per purge). This log itself when nothing is below z.
   */
  dropBefore(z: Zxid): TxnLog {
    const i = this.lowerBound(z);
    return i === 0 ? this : new TxnLog(this.entries.slice(i, this.length), this.length - i);
  }

  /** The newest n entries (a copy, as {@link dropBefore}); this log when it holds no more. */
  keepLast(n: number): TxnLog {
    return this.length <= n ? this : new TxnLog(this.entries.slice(this.length - n, this.length), n);
  }

  /** Entries [from, to) as a new array. */
  slice(from: number, to: number = this.length): LogEntry[] {
    return this.entries.slice(Math.max(0, from), Math.min(to, this.length));
  }

  /** Summary used when a state is serialised (traces and reports never dump whole logs). */
  toJSON(): { length: number; first: string | null; last: string | null } {
    return {
      length: this.length,
      first: this.length === 0 ? null : formatZxid((this.entries[0] as LogEntry).zxid),
      last: this.length === 0 ? null : formatZxid((this.entries[this.length - 1] as LogEntry).zxid),
    };
  }
}

/**
 * Index of the first of the first `length` entries (ascending zxids) whose zxid is >= z (`length`
 * when none): the last four first, as most lookups are for what was just logged (a COMMIT, an
 * ACK), then a binary search (measured in docs/scaling.md, "Ninth session"). The one search of a
 * txn log: TxnLog's, a TRUNC's, and the safety checker's over a disk's durable log.
 */
export function lowerBoundOf(entries: readonly { readonly zxid: Zxid }[], z: Zxid, length = entries.length): number {
  let hi = length;
  for (const stop = Math.max(0, hi - 4); hi > stop; hi--) {
    if ((entries[hi - 1] as { zxid: Zxid }).zxid < z) return hi;
  }
  let lo = 0;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((entries[mid] as { zxid: Zxid }).zxid < z) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * How many of the first `length` entries (ascending zxids) a TRUNC to z keeps.
 *
 * zabsim: every txn up to z, none above. `asFileTxnLog` (the `trunc_keeps_first_txn_above_target`
 * flaw): as ZooKeeper's FileTxnLog.truncate(z) does it, whose iterator, fast-forwarded while the
 * txn it holds is below z, stops on the first txn at or above z, and the file is cut right after
 * that txn: when z itself is not in the log the first txn above it stays too. With no txn at or
 * above z nothing is cut either way.
 */
export function keptByTruncate(zxids: readonly { readonly zxid: Zxid }[], z: Zxid, asFileTxnLog = false, length = zxids.length): number {
  const lo = lowerBoundOf(zxids, z, length);
  if (lo >= length) return length;
  return asFileTxnLog || (zxids[lo] as { zxid: Zxid }).zxid === z ? lo + 1 : lo;
}

/** A txn log as a sequence of zxids, oldest first (a TxnLog view, or a disk's array). */
export interface ZxidSeq {
  readonly length: number;
  at(i: number): { readonly zxid: Zxid };
}

/**
 * Where the txn log files begin, as indices into `log`: ZooKeeper rolls its txn log at every
 * snapshot (SyncRequestProcessor.rollLog), so a file starts at the oldest txn and at the first
 * txn after each snapshot. One segment per snapshot: zabsim keeps the log as one sequence and
 * derives its files from the snapshots (`snapshotZxids`, any order), which is all that purge
 * and getProposalsFromTxnLog need of them.
 */
export function segmentStarts(log: ZxidSeq, snapshotZxids: readonly Zxid[]): number[] {
  const starts = [0];
  for (const z of snapshotZxids) {
    let lo = 0;
    let hi = log.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (log.at(mid).zxid <= z) lo = mid + 1;
      else hi = mid;
    }
    if (lo < log.length && !starts.includes(lo)) starts.push(lo);
  }
  return starts.sort(ascending);
}

/** Sort comparator for numbers, smallest first. */
function ascending(a: number, b: number): number {
  return a - b;
}

/** What a purge removes: the log files before `logFrom`, and the oldest `dropSnapshots` snapshots. */
export interface PurgePlan {
  /** The first zxid the purged log keeps (its entries below go). */
  readonly logFrom: Zxid;
  /** How many snapshots go, oldest first. */
  readonly dropSnapshots: number;
}

/**
 * PurgeTxnLog.purge(dataDir, snapDir, snapRetainCount): keep the newest `retain` snapshots, and of
 * the txn log the files FileTxnLog.getLogFiles(zxid of the oldest kept snapshot) returns: every
 * file that starts after that zxid, and the newest one that starts at or before it (it holds the
 * txns right after the snapshot). Everything older goes. `snapshotZxids` is oldest first. null
 * when nothing would go (no more than `retain` snapshots).
 */
export function purgePlan(log: ZxidSeq, snapshotZxids: readonly Zxid[], retain: number): PurgePlan | null {
  const dropSnapshots = snapshotZxids.length - retain;
  if (retain < 1 || dropSnapshots <= 0) return null;
  const oldestKept = snapshotZxids[dropSnapshots] as Zxid;
  if (log.length === 0) return { logFrom: 0, dropSnapshots };
  const starts = segmentStarts(log, snapshotZxids);
  let from = 0;
  for (const i of starts) if (log.at(i).zxid <= oldestKept) from = i;
  return { logFrom: log.at(from).zxid, dropSnapshots };
}
