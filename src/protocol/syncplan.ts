/**
 * The leader's per-learner sync decision, LearnerHandler.syncFollower and queueCommittedProposals
 * (zab-protocol.md §5.1), as a pure function of the leader's database and the learner's zxid. It
 * returns the packets to queue ahead of NEWLEADER and the zxid forwarding starts after; the
 * caller (sync.ts) sends them and runs startForwarding.
 *
 * Rules, first match wins (p = peer's zxid, L = leader's lastProcessedZxid, [min, max] = the
 * committedLog bounds, both L when it is empty):
 *   1. p = L                                   → empty DIFF
 *   2. p > max and counter(p) ≠ 0              → TRUNC(max)
 *   3. min ≤ p ≤ max                           → walk committedLog: DIFF, TRUNC(prev) + entries,
 *                                                or SNAP for a fork across an epoch boundary
 *   4. p < min and txn-log sync allowed         → getProposalsFromTxnLog: the log files from the one
 *                                                that covers p; none whose first txn is ≤ p, or later
 *                                                files (whole, preallocated) above factor × snapshot
 *                                                size → SNAP. Else the same walk over them up to min
 *                                                (DIFF when p is an entry or an epoch start <e,0>,
 *                                                TRUNC(prev) when p is a txn the log lacks), then
 *                                                committedLog; a gap between the two → SNAP
 *   5. otherwise                               → SNAP
 */
import { nodeCount } from './datatree.ts';
import { committedWindow, logOnDisk, snapshotLabels, type Db, type LogOnDisk } from './db.ts';
import { PROBE } from './probes.ts';
import { segmentStarts } from './txnlog.ts';
import type { LogEntry } from './types.ts';
import { counterOf, epochOf, formatZxid, type Zxid } from './zxid.ts';

export type SyncOp = { readonly type: 'DIFF' | 'TRUNC'; readonly zxid: Zxid } | { readonly type: 'PROPOSAL'; readonly entry: LogEntry } | { readonly type: 'COMMIT'; readonly zxid: Zxid };

export interface SyncPlan {
  /** Send SNAP (the leader's whole tree) instead of `ops`. */
  readonly needSnap: boolean;
  /** DIFF or TRUNC first, then PROPOSAL+COMMIT pairs (empty when needSnap). */
  readonly ops: readonly SyncOp[];
  /** The last zxid queued for the learner: startForwarding sends what comes after it. */
  readonly currentZxid: Zxid;
  /** Which rule of §5.1 decided, and why, for the trace. */
  readonly reason: string;
  /** The coverage probe of that rule (probes.ts). */
  readonly probe: number;
}

export interface SyncParams {
  readonly commitLogCount: number;
  /** snapshotSizeFactor: txn-log sync is allowed while the log to send is below this × snapshot size; < 0 disables it. */
  readonly snapshotSizeFactor: number;
  /** The ZOOKEEPER-1154 flaw (B2): DIFF inside the window without walking it. */
  readonly diffWithoutDivergenceCheck?: boolean;
}

/** queueCommittedProposals' state: whether the DIFF/TRUNC op packet is still to be queued. */
class Queue {
  readonly ops: SyncOp[] = [];
  needOpPacket = true;

  op(type: 'DIFF' | 'TRUNC', zxid: Zxid): void {
    this.ops.push({ type, zxid });
  }

  /**
   * Walks entries in zxid order. Returns the last zxid queued, or null when it gave up on a fork
   * across an epoch boundary ("Cannot send TRUNC ... peer zxid is from different epoch").
   */
  committedProposals(entries: Iterable<LogEntry>, peerLastZxid: Zxid, maxZxid: Zxid | null, lastCommittedZxid: Zxid): { queued: Zxid; crossEpochFork: boolean } {
    const isPeerNewEpochZxid = counterOf(peerLastZxid) === 0;
    let queuedZxid = peerLastZxid;
    let prevProposalZxid = -1;
    for (const e of entries) {
      const packetZxid = e.zxid;
      if (maxZxid !== null && packetZxid > maxZxid) break;
      if (packetZxid < peerLastZxid) {
        prevProposalZxid = packetZxid;
        continue;
      }
      if (this.needOpPacket) {
        if (packetZxid === peerLastZxid) {
          this.op('DIFF', lastCommittedZxid);
          this.needOpPacket = false;
          continue;
        }
        if (isPeerNewEpochZxid) {
          this.op('DIFF', lastCommittedZxid);
          this.needOpPacket = false;
        } else if (packetZxid > peerLastZxid) {
          if (epochOf(packetZxid) !== epochOf(peerLastZxid)) return { queued: queuedZxid, crossEpochFork: true };
          this.op('TRUNC', prevProposalZxid);
          this.needOpPacket = false;
        }
      }
      if (packetZxid <= queuedZxid) continue;
      this.ops.push({ type: 'PROPOSAL', entry: e });
      this.ops.push({ type: 'COMMIT', zxid: packetZxid });
      queuedZxid = packetZxid;
    }
    if (this.needOpPacket && isPeerNewEpochZxid) {
      this.op('DIFF', lastCommittedZxid);
      this.needOpPacket = false;
    }
    return { queued: queuedZxid, crossEpochFork: false };
  }
}

function* committedRange(db: Db, from: number, to: number): Iterable<LogEntry> {
  for (let i = from; i < to; i++) yield db.committed.at(i);
}

/** LearnerHandler.syncFollower for a learner whose last zxid is `p`. */
export function syncFollower(db: Db, p: Zxid, params: SyncParams): SyncPlan {
  const isPeerNewEpochZxid = counterOf(p) === 0;
  const w = committedWindow(db, params.commitLogCount);
  const L = db.lastProcessedZxid;
  const q = new Queue();
  // `if (needSnap) currentZxid = db.getDataTreeLastProcessedZxid()`: a SNAP carries the leader's
  // applied state, so forwarding starts above it, not above the learner's zxid.
  const snap = (reason: string, probe: number): SyncPlan => ({ needSnap: true, ops: [], currentZxid: L, reason, probe });
  const opProbe = (diff: number, trunc: number): number => (q.ops[0]?.type === 'TRUNC' ? trunc : diff);
  if (L === p) {
    q.op('DIFF', p);
    return { needSnap: false, ops: q.ops, currentZxid: p, reason: `rule 1: peer at my lastProcessedZxid ${formatZxid(L)}: empty DIFF`, probe: PROBE['sync.rule1'] };
  }
  if (p > w.max && !isPeerNewEpochZxid) {
    q.op('TRUNC', w.max);
    return { needSnap: false, ops: q.ops, currentZxid: w.max, reason: `rule 2: peer ${formatZxid(p)} past maxCommittedLog ${formatZxid(w.max)}: TRUNC`, probe: PROBE['sync.rule2'] };
  }
  if (w.min <= p && p <= w.max && params.diffWithoutDivergenceCheck === true) {
    // ZOOKEEPER-1154 (B2), 3.3.3's LearnerHandler.run: inside the window, DIFF(maxCommittedLog)
    // and every proposal above p, without asking whether p is in this history at all.
    q.op('DIFF', w.max);
    let queued = p;
    for (const e of committedRange(db, w.from, w.to)) {
      if (e.zxid <= p) continue;
      q.ops.push({ type: 'PROPOSAL', entry: e }, { type: 'COMMIT', zxid: e.zxid });
      queued = e.zxid;
    }
    return { needSnap: false, ops: q.ops, currentZxid: queued, reason: `rule 3 (ZOOKEEPER-1154 flaw): peer ${formatZxid(p)} within committedLog [${formatZxid(w.min)}, ${formatZxid(w.max)}]: DIFF without a divergence check`, probe: PROBE['sync.rule3.flaw1154'] };
  }
  if (w.min <= p && p <= w.max) {
    const r = q.committedProposals(committedRange(db, w.from, w.to), p, null, w.max);
    if (r.crossEpochFork || q.needOpPacket) return snap(`rule 3: peer ${formatZxid(p)} forked from my history across an epoch boundary: SNAP`, PROBE['sync.rule3.snap']);
    return { needSnap: false, ops: q.ops, currentZxid: r.queued, reason: `rule 3: peer ${formatZxid(p)} within committedLog [${formatZxid(w.min)}, ${formatZxid(w.max)}]: ${q.ops[0]?.type ?? 'DIFF'}`, probe: opProbe(PROBE['sync.rule3.diff'], PROBE['sync.rule3.trunc']) };
  }
  if (p < w.min && params.snapshotSizeFactor >= 0) {
    const src = proposalsFromTxnLog(db, p, txnLogSizeLimit(db, params.snapshotSizeFactor));
    if (typeof src === 'string') return snap(`rule 5: peer ${formatZxid(p)} below committedLog ${formatZxid(w.min)} and the txn log cannot serve it (${src}): SNAP`, PROBE['sync.rule5.nolog']);
    const r = q.committedProposals(src, p, w.min, w.max);
    // A fork across an epoch boundary leaves the op packet undecided with nothing queued past p,
    // so it lands here too: "Detected gap between end of txnlog and start of committedLog".
    if (r.crossEpochFork || r.queued < w.min) return snap(`rule 4: gap between txn log (to ${formatZxid(r.queued)}) and committedLog (from ${formatZxid(w.min)}): SNAP`, PROBE['sync.rule4.snap']);
    const r2 = q.committedProposals(committedRange(db, w.from, w.to), r.queued, null, w.max);
    if (q.needOpPacket) return snap(`rule 4: no DIFF/TRUNC decided for peer ${formatZxid(p)}: SNAP`, PROBE['sync.rule4.snap']);
    return { needSnap: false, ops: q.ops, currentZxid: r2.queued, reason: `rule 4: peer ${formatZxid(p)} below committedLog, synced from the txn log: ${q.ops[0]?.type ?? 'DIFF'}`, probe: opProbe(PROBE['sync.rule4.diff'], PROBE['sync.rule4.trunc']) };
  }
  return snap(`rule 5: peer ${formatZxid(p)}: SNAP`, PROBE['sync.rule5']);
}

// ---------------------------------------------------------------------------------------------
// The on-disk txn log as getProposalsFromTxnLog reads it

/** zookeeper.preAllocSize: FileTxnLog pads every log file to a multiple of 64 MiB. */
export const PREALLOC_BYTES = 64 * 1024 * 1024;
/** zabsim's estimate of one serialised txn (header, CRC, a create of a short path). */
export const TXN_BYTES = 100;
/** zabsim's estimate of one serialised snapshot entry (a znode or a session). */
export const SNAPSHOT_ENTRY_BYTES = 100;

/**
 * ZKDatabase.calculateTxnLogSizeLimit: snapshotSizeFactor × the newest snapshot file's size
 * (0, no check, without a snapshot; negative when the factor disables txn-log sync).
 */
export function txnLogSizeLimit(db: Db, factor: number): number {
  if (factor < 0) return -1;
  const snap = db.snapshots[db.snapshots.length - 1];
  if (snap === undefined) return 0;
  return Math.floor(factor * SNAPSHOT_ENTRY_BYTES * (nodeCount(snap.data) + snap.data.sessionList.length));
}

/**
 * ZKDatabase.getProposalsFromTxnLog(p, sizeLimit) over FileTxnLog's files: the iterator opens the
 * newest file starting below p (or, if none, the oldest file) and every later one; it gives up
 * when that file's first txn is newer than p, or when the later files (the one holding p is
 * not counted: goToNextLog has already taken it off the list) are longer than sizeLimit, each
 * counted whole, preallocation included. Returns the txns from that file's first one on, or
 * why it gave up.
 */
export function proposalsFromTxnLog(db: Db, p: Zxid, sizeLimit: number): Iterable<LogEntry> | string {
  if (sizeLimit < 0) return 'txn-log sync disabled';
  const disk = logOnDisk(db);
  if (disk.length === 0) return 'the txn log is empty';
  const starts = segmentStarts(disk, snapshotLabels(db.snapshots));
  let k = 0;
  for (let i = 0; i < starts.length; i++) if (disk.at(starts[i] as number).zxid < p) k = i;
  const from = starts[k] as number;
  const firstZxid = disk.at(from).zxid;
  if (firstZxid > p) return `its oldest file starts at ${formatZxid(firstZxid)}`;
  if (sizeLimit > 0) {
    let size = 0;
    for (let i = k + 1; i < starts.length; i++) {
      const txns = (starts[i + 1] ?? disk.length) - (starts[i] as number);
      size += Math.max(1, Math.ceil((txns * TXN_BYTES) / PREALLOC_BYTES)) * PREALLOC_BYTES;
    }
    if (size > sizeLimit) return `txn log size ${size} exceeds sizeLimit ${sizeLimit}`;
  }
  return logFrom(disk, from);
}

/** The entries of `disk` from index `from` on. */
function* logFrom(disk: LogOnDisk, from: number): Iterable<LogEntry> {
  for (let i = from; i < disk.length; i++) yield disk.at(i);
}
