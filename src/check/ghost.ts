/**
 * The checker's ghost state: what no server knows but a judge of the run must. Kept here, never
 * in the protocol.
 *
 * - Every zxid ever assigned, with its txn and its *predecessor*: the entry before it in the log
 *   of the leader that proposed it. Predecessor links make every server's history a path in one
 *   tree of txns, so "is a prefix of" becomes "is an ancestor of", checked by walking links.
 * - The committed sequence C: every txn any leader ever committed, by commit decision (a quorum
 *   ACKed it) or by establishment (a leader's whole initial history, zab-protocol.md §5.3). In a
 *   correct run C is one path ending at `cmax`; each new commit must descend from `cmax`, and the
 *   walk from it down to `cmax` visits only txns that become committed, so its cost is paid once
 *   per txn.
 * - A data tree the ghost builds by applying C in order, with its digest after every committed
 *   zxid (to compare with any server's tree in O(1)), and the value history of every path (for
 *   the client checker's reads).
 *
 * Bounded by {@link Ghost.compact}: the safety checker passes a floor below which no server holds
 * anything any more (no log entry, snapshot or applied state, on disk or in memory), and the ghost
 * forgets every txn below it. What it answers about a zxid below the floor is "committed, an
 * ancestor, digest unknown": no server can present such a zxid again, so no property needs more.
 */
import { applyTxn, EMPTY_TREE, getData, type DataTree, type Txn } from '../protocol/datatree.ts';
import { epochOf, type Zxid } from '../protocol/zxid.ts';
import { ZxidMap, ZxidSet } from './zxidmap.ts';

export interface Assigned {
  readonly txn: Txn;
  /** The zxid before it in the proposer's history; 0 for the first txn ever. */
  readonly pred: Zxid;
  /** The server that logged it first (its proposer in a run that starts empty). */
  readonly by: number;
}

/** Values of one path over time: zxids ascending, the value after each (null: no node). */
interface PathHistory {
  readonly zxids: Zxid[];
  readonly values: (string | null)[];
}

/** What a commit walk found. */
export type CommitOutcome =
  | { readonly ok: true; readonly added: number }
  /** z's history does not contain cmax: it branches off at `at` (its newest ancestor <= cmax). */
  | { readonly ok: false; readonly at: Zxid };

export class Ghost {
  readonly assigned = new ZxidMap<Assigned>();
  readonly committed = new ZxidSet();
  /** The newest committed zxid (0 before any commit). */
  cmax: Zxid = 0;
  /** How many txns joined C (compaction forgets them, this count stays). */
  committedCount = 0;
  /** Called after each {@link compact} with its floor (the client checker forgets what it can). */
  onCompact: ((floor: Zxid) => void) | null = null;
  private tree: DataTree = EMPTY_TREE;
  private readonly digests = new ZxidMap<number>();
  private readonly paths = new Map<string, PathHistory>();
  /** Where the committed sequence enters each new epoch: the epoch and the txn before it. */
  private readonly epochEntries: { readonly epoch: number; readonly before: Zxid }[] = [];
  /** Txns below this zxid are forgotten ({@link compact}); 0 until the first compaction. */
  floor: Zxid = 0;
  /** Called for each txn as it joins C, in order (the client checker listens). */
  onCommit: ((z: Zxid, txn: Txn) => void) | null = null;
  /**
   * Called for each createSession and closeSession as it joins C, with whether the session was
   * live in the committed state just before (the safety checker's session properties listen).
   */
  onSession: ((z: Zxid, txn: Txn, live: boolean) => void) | null = null;

  /** The run is over: drops the history (run.ts releaseRun says why). */
  release(): void {
    this.assigned.clear();
    this.committed.clear();
    this.digests.clear();
    this.paths.clear();
    this.epochEntries.length = 0;
    this.tree = EMPTY_TREE;
    this.onCompact = null;
    this.onCommit = null;
    this.onSession = null;
  }

  /** Registers a txn seen for the first time. */
  assign(z: Zxid, txn: Txn, pred: Zxid, by: number): void {
    this.assigned.set(z, { txn, pred, by });
  }

  isCommitted(z: Zxid): boolean {
    return z < this.floor || z === 0 || this.committed.has(z);
  }

  /** The ghost tree's digest after committed zxid z (undefined when z is not committed). */
  digestAfter(z: Zxid): number | undefined {
    return z === 0 ? EMPTY_TREE.digest : this.digests.get(z);
  }

  /**
   * Commits z and every uncommitted ancestor of it. Fails, committing nothing, when z's history
   * does not pass through cmax (a leader committing a history without an earlier committed txn).
   * A txn whose predecessor the ghost never saw (a pre-loaded image) ends the walk.
   */
  commitThrough(z: Zxid): CommitOutcome {
    if (z <= this.cmax) return this.isCommitted(z) ? { ok: true, added: 0 } : { ok: false, at: z };
    const path: Zxid[] = [];
    let cur = z;
    while (cur > this.cmax) {
      const a = this.assigned.get(cur);
      if (a === undefined) break;
      path.push(cur);
      cur = a.pred;
    }
    if (cur < this.cmax) return { ok: false, at: cur };
    for (let i = path.length - 1; i >= 0; i--) this.append(path[i] as Zxid);
    return { ok: true, added: path.length };
  }

  private append(z: Zxid): void {
    const a = this.assigned.get(z) as Assigned;
    const before = this.tree;
    const { tree, result } = applyTxn(before, z, a.txn);
    this.tree = tree;
    const e = epochOf(z);
    if (e !== epochOf(this.cmax) || this.cmax === 0) this.epochEntries.push({ epoch: e, before: this.cmax });
    this.committed.add(z);
    this.committedCount++;
    this.cmax = z;
    this.digests.set(z, tree.digest);
    if (result.ok) {
      const t = a.txn;
      switch (t.type) {
        case 'create':
          this.record(result.path ?? t.path, z);
          break;
        case 'setData':
        case 'delete':
          this.record(t.path, z);
          break;
        case 'closeSession':
          for (const p of before.session(t.session)?.ephemerals ?? []) this.record(p, z);
          break;
        case 'createSession':
          break;
      }
    }
    if (a.txn.type === 'closeSession' || a.txn.type === 'createSession') this.onSession?.(z, a.txn, before.session(a.txn.session) !== undefined);
    this.onCommit?.(z, a.txn);
  }

  private record(path: string, z: Zxid): void {
    let h = this.paths.get(path);
    if (h === undefined) {
      h = { zxids: [], values: [] };
      this.paths.set(path, h);
    }
    h.zxids.push(z);
    h.values.push(getData(this.tree, path));
  }

  /**
   * Forgets every txn below `floor` (it must not pass cmax): their links, commit marks and
   * digests, and each path's values older than the last one before the floor (a path whose last
   * value before the floor is "no node" and that has none after goes entirely). O(forgotten).
   */
  compact(floor: Zxid): void {
    if (floor <= this.floor) return;
    if (floor > this.cmax + 1) throw new Error(`Ghost.compact: floor ${floor} above the committed sequence (cmax ${this.cmax})`);
    this.digests.dropBelow(floor);
    this.committed.dropBelow(floor);
    this.assigned.dropBelow(floor);
    for (const [path, h] of this.paths) {
      let k = 0;
      while (k < h.zxids.length && (h.zxids[k] as Zxid) < floor) k++;
      if (k === 0) continue;
      if (k === h.zxids.length && h.values[k - 1] === null) {
        this.paths.delete(path); // no node since before the floor: valueAt answers null anyway
        continue;
      }
      // Keep the value the path had at the floor (the last one before it).
      h.zxids.splice(0, k - 1);
      h.values.splice(0, k - 1);
    }
    this.floor = floor;
    this.onCompact?.(floor);
  }

  /** How many zxids, links, digests and path values the ghost holds (bounded-memory tests). */
  retained(): { assigned: number; committed: number; digests: number; pathValues: number } {
    let pathValues = 0;
    for (const h of this.paths.values()) pathValues += h.zxids.length;
    return { assigned: this.assigned.size, committed: this.committed.size, digests: this.digests.size, pathValues };
  }

  /** The newest committed txn of an epoch before `epoch` (0 if none). */
  lastCommittedBefore(epoch: number): Zxid {
    const xs = this.epochEntries;
    let lo = 0;
    let hi = xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((xs[mid] as { epoch: number }).epoch < epoch) lo = mid + 1;
      else hi = mid;
    }
    return lo < xs.length ? (xs[lo] as { before: Zxid }).before : this.cmax;
  }

  /** The value of `path` in the committed state as of zxid z (binary search). */
  valueAt(path: string, z: Zxid): string | null {
    const h = this.paths.get(path);
    if (h === undefined) return null;
    let lo = 0;
    let hi = h.zxids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((h.zxids[mid] as Zxid) <= z) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? null : (h.values[lo - 1] as string | null);
  }

  /**
   * True when `a` is `b` or an ancestor of it. Committed `a` is an ancestor of anything that
   * descends from cmax, so the walk only crosses uncommitted txns (in-flight proposals).
   */
  isAncestor(a: Zxid, b: Zxid): boolean {
    let cur = b;
    while (cur > a) {
      const g = this.assigned.get(cur);
      if (g === undefined) return true; // beyond what the ghost saw (or below its floor): cannot tell, assume so
      if (this.committed.has(cur) && this.committed.has(a)) return true;
      cur = g.pred;
    }
    return cur === a;
  }
}
