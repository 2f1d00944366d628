/**
 * A server's disk. Writes are pending until their fsync completes after a drawn latency; only
 * then do they reach the durable image, and only then is the server told ("fsync done"). A
 * crash discards every pending write. Completions are FIFO per disk (one log device: an fsync
 * also flushes what was written before it), so the durable image is always a prefix of the
 * writes in submission order.
 *
 * Epoch files are replaced as ZooKeeper does (QuorumPeer.writeLongToFile, AtomicFileOutputStream):
 * write and fsync `<file>.tmp`, then rename it over `<file>`. Those are two durable steps; a
 * crash between them leaves the old file and the tmp file, never a torn value.
 */
import { KEPT_SNAPSHOTS, snapshotLastTxn } from '../protocol/db.ts';
import type { LogEntry, PersistOp, Snapshot } from '../protocol/types.ts';
import { keptByTruncate } from '../protocol/txnlog.ts';
import { drawMs, type DelayDist, type Rng } from './rng.ts';

export interface DiskConfig {
  /** Time from a write's submission until its fsync completes (after earlier ones). */
  readonly fsyncLatency: DelayDist;
  /** Time between an epoch tmp file being durable and its rename being durable. */
  readonly renameLatency: DelayDist;
}

export const DEFAULT_DISK: DiskConfig = Object.freeze({
  fsyncLatency: Object.freeze({ kind: 'uniform', minMs: 1, maxMs: 5 }) as DelayDist,
  renameLatency: Object.freeze({ kind: 'uniform', minMs: 0, maxMs: 1 }) as DelayDist,
});

/** The kernel's mutable durable image; the protocol sees it through the read-only DurableImage. */
export interface MutableDurableImage {
  log: LogEntry[];
  snapshots: Snapshot[];
  acceptedEpoch: number | null;
  currentEpoch: number | null;
  acceptedEpochTmp: number | null;
  currentEpochTmp: number | null;
  updatingEpoch: boolean;
}

/** The stage a pending write reaches at a scheduled completion. */
export type DiskStage = 'done' | 'tmp';

export interface PendingWrite {
  readonly token: number;
  readonly write: PersistOp;
  /** Completion times still to come, in order (an epoch write has two: tmp, then rename). */
  readonly stages: { time: number; stage: DiskStage }[];
  /** An injected storage failure: the write completes without reaching the image. */
  readonly fails?: true;
}

/** The writes a storage fault can make fail (a failing truncate: disk full, I/O error). */
export type FailingOp = Extract<PersistOp['op'], 'truncateLog'>;

export function emptyImage(): MutableDurableImage {
  return { log: [], snapshots: [], acceptedEpoch: null, currentEpoch: null, acceptedEpochTmp: null, currentEpochTmp: null, updatingEpoch: false };
}

export class Disk {
  readonly image: MutableDurableImage = emptyImage();
  private pending: PendingWrite[] = [];
  private lastCompletion = 0;
  /** Armed storage faults: the next write of each listed op fails. */
  private failing: FailingOp[] = [];

  constructor(
    private readonly cfg: DiskConfig,
    private readonly rng: Rng,
  ) {}

  /** Number of writes submitted but not yet durable. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** The pending writes, oldest first (read-only view for checkers and tests). */
  pendingWrites(): readonly PendingWrite[] {
    return this.pending;
  }

  /**
   * Arms a storage fault: the next `op` submitted fails when its fsync would complete. It leaves
   * the image untouched, and the kernel reports it to the server as `writeFailed`.
   */
  failNext(op: FailingOp): void {
    this.failing.push(op);
  }

  /** Submits a write; returns its completion stages (times are FIFO after earlier writes). */
  submit(now: number, token: number, write: PersistOp): PendingWrite {
    // A purge deletes files and syncs nothing: it draws no latency, so switching purges on or
    // off leaves every other write's latency as it was.
    const done = Math.max(write.op === 'purge' ? now : now + drawMs(this.rng, this.cfg.fsyncLatency), this.lastCompletion);
    const stages: { time: number; stage: DiskStage }[] = [];
    if (write.op === 'writeEpoch') {
      stages.push({ time: done, stage: 'tmp' });
      const renamed = done + drawMs(this.rng, this.cfg.renameLatency);
      stages.push({ time: renamed, stage: 'done' });
      this.lastCompletion = renamed;
    } else {
      stages.push({ time: done, stage: 'done' });
      this.lastCompletion = done;
    }
    const armed = this.failing.length > 0 ? this.failing.indexOf(write.op as FailingOp) : -1;
    if (armed >= 0) this.failing.splice(armed, 1);
    const p: PendingWrite = armed >= 0 ? { token, write, stages, fails: true } : { token, write, stages };
    this.pending.push(p);
    return p;
  }

  /**
   * Applies the next stage of the oldest pending write, which must be `token` (completions are
   * FIFO). Returns true when the write is now finished: fully durable, or failed (`fails`).
   */
  complete(token: number): boolean {
    const p = this.pending[0];
    if (p === undefined || p.token !== token) {
      throw new Error(`disk: completion for token ${token} but oldest pending is ${p?.token ?? 'none'}`);
    }
    const stage = p.stages.shift();
    if (stage === undefined) throw new Error(`disk: token ${token} has no stage left`);
    if (p.fails === true) {
      this.pending.shift();
      return true;
    }
    apply(this.image, p.write, stage.stage);
    if (stage.stage === 'done') {
      this.pending.shift();
      return true;
    }
    return false;
  }

  /** A crash: every write not yet durable is lost. Returns how many were lost. */
  crash(now: number): number {
    const lost = this.pending.length;
    this.pending = [];
    this.lastCompletion = now;
    return lost;
  }
}

function apply(img: MutableDurableImage, w: PersistOp, stage: DiskStage): void {
  switch (w.op) {
    case 'appendLog': {
      const last = img.log[img.log.length - 1];
      if (last !== undefined && w.entry.zxid <= last.zxid) {
        throw new Error(`disk: append of zxid ${w.entry.zxid} after ${last.zxid} breaks log order`);
      }
      img.log.push(w.entry);
      return;
    }
    case 'truncateLog': {
      // Up to w.zxid; with the FileTxnLog flaw also the first txn above it when w.zxid is absent.
      img.log.length = keptByTruncate(img.log, w.zxid, w.keepFirstAbove === true);
      // Snapshots reflecting txns after the cut go too, unless the ZOOKEEPER-1549 flaw keeps them.
      if (w.keepNewerSnapshots !== true) img.snapshots = img.snapshots.filter((x) => snapshotLastTxn(x) <= w.zxid);
      return;
    }
    case 'snapshot':
      img.snapshots.push(w.snapshot);
      // Old snapshots are purged (ZooKeeper's autopurge keeps the newest few), so the image
      // stays bounded however long the run.
      if (img.snapshots.length > KEPT_SNAPSHOTS) img.snapshots.splice(0, img.snapshots.length - KEPT_SNAPSHOTS);
      return;
    case 'writeEpoch':
      if (stage === 'tmp') {
        if (w.file === 'acceptedEpoch') img.acceptedEpochTmp = w.value;
        else img.currentEpochTmp = w.value;
      } else if (w.file === 'acceptedEpoch') {
        img.acceptedEpoch = w.value;
        img.acceptedEpochTmp = null;
      } else {
        img.currentEpoch = w.value;
        img.currentEpochTmp = null;
      }
      return;
    case 'updatingEpoch':
      img.updatingEpoch = w.exists;
      return;
    case 'purge': {
      // PurgeTxnLog.purge on what is on disk: the newest snapRetainCount snapshots stay, and the
      // log files from the one holding logFrom (the server chose it from the same snapshots:
      // writes complete in order, so every snapshot it knew of is durable by now).
      if (img.snapshots.length > w.snapRetainCount) img.snapshots.splice(0, img.snapshots.length - w.snapRetainCount);
      let k = 0;
      while (k < img.log.length && (img.log[k] as LogEntry).zxid < w.logFrom) k++;
      if (k > 0) img.log.splice(0, k);
      return;
    }
  }
}
