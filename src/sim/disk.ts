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
import type { DamagedTail, LogEntry, PersistOp, Snapshot } from '../protocol/types.ts';
import { keptByTruncate } from '../protocol/txnlog.ts';
import { drawMs, type DelayDist, type Rng } from './rng.ts';

export interface DiskConfig {
  /** Time from a write's submission until its fsync completes (after earlier ones). */
  readonly fsyncLatency: DelayDist;
  /** Time between an epoch tmp file being durable and its rename being durable. */
  readonly renameLatency: DelayDist;
  /** Storage fault: probability that a write fails at its fsync (an I/O error, EIO). */
  readonly writeErrorProb: number;
  /** Storage fault: probability that a crash leaves the first unsynced log append as a torn record. */
  readonly tornTailProb: number;
  /** Storage fault: probability that a crash leaves it whole-length with a wrong CRC instead. */
  readonly corruptTailProb: number;
  /** Storage fault: probability that a crash leaves a snapshot file being written as a whole-length file that fails its CRC. */
  readonly corruptSnapshotProb?: number;
}

export const DEFAULT_DISK: DiskConfig = Object.freeze({
  fsyncLatency: Object.freeze({ kind: 'uniform', minMs: 1, maxMs: 5 }) as DelayDist,
  renameLatency: Object.freeze({ kind: 'uniform', minMs: 0, maxMs: 1 }) as DelayDist,
  writeErrorProb: 0,
  tornTailProb: 0,
  corruptTailProb: 0,
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
  damagedTail: DamagedTail | null;
}

/** The stage a pending write reaches at a scheduled completion. */
export type DiskStage = 'done' | 'tmp';

export interface PendingWrite {
  readonly token: number;
  readonly write: PersistOp;
  /** Completion times still to come, in order (an epoch write has two: tmp, then rename). */
  readonly stages: { time: number; stage: DiskStage }[];
  /**
   * An injected storage failure: the write completes without reaching the image. `io`: its fsync
   * reports an I/O error; `full`: the disk had no space when it was written.
   */
  readonly fails?: FailReason;
}

/** Why a write failed: an I/O error at its fsync, or no space left on the device. */
export type FailReason = 'io' | 'full';

/**
 * The writes a storage fault can make fail, named as the scenario language names them: a log
 * append, a truncate, a snapshot, or one of the epoch files.
 */
export type FailingOp = 'appendLog' | 'truncateLog' | 'snapshot' | 'acceptedEpoch' | 'currentEpoch' | 'updatingEpoch';

/** The kind of a write, as {@link FailingOp} names it (null for a purge, which never fails). */
export function failingOpOf(w: PersistOp): FailingOp | null {
  return w.op === 'writeEpoch' ? w.file : w.op === 'purge' ? null : w.op;
}

export function emptyImage(): MutableDurableImage {
  return { log: [], snapshots: [], acceptedEpoch: null, currentEpoch: null, acceptedEpochTmp: null, currentEpochTmp: null, updatingEpoch: false, damagedTail: null };
}

export class Disk {
  readonly image: MutableDurableImage = emptyImage();
  private pending: PendingWrite[] = [];
  private lastCompletion = 0;
  /** Armed storage faults: the next write of each listed op fails. */
  private failing: FailingOp[] = [];
  /** The disk is full until this time: writes that need space fail. */
  private fullUntil = -1;
  /** Random storage faults stopped (the end of the faulty period). */
  private calmed = false;
  /** Dropped writes (see {@link drop}): token -> completion events still to come, each ignored. */
  private readonly dropped = new Map<number, number>();
  /** The snapshot file the last {@link crash} left failing its CRC (a storage fault), or null. */
  leftCorrupt: Snapshot | null = null;

  constructor(
    private readonly cfg: DiskConfig,
    private readonly rng: Rng,
    /** Draws the random storage faults; used only when their probabilities are above 0. */
    private readonly storageRng: Rng = rng,
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

  /**
   * A full disk until `untilMs` (Infinity: until {@link free}): every write that needs space (all
   * but a truncate) fails, reported to the server as `writeFailed`.
   */
  fill(untilMs: number): void {
    this.fullUntil = untilMs;
  }

  /** The disk has space again. */
  free(): void {
    this.fullUntil = -1;
  }

  /** Whether the disk is full at `now`. */
  isFull(now: number): boolean {
    return now < this.fullUntil;
  }

  /** The end of the faulty period: no more random write errors or damaged tails, and space again. */
  calm(): void {
    this.calmed = true;
    this.fullUntil = -1;
  }

  /**
   * An operator removes the record that fails its CRC (the last one of the log): the server can
   * start again. Returns whether there was one.
   */
  repairTail(): boolean {
    if (this.image.damagedTail !== 'corrupt') return false;
    this.image.damagedTail = null;
    return true;
  }

  /**
   * An operator deletes the snapshot files that fail their CRC, as the way out of ZooKeeper's
   * "Not able to find valid snapshots" (the server refuses every start while none reads back).
   * Returns the files that went, oldest first.
   */
  removeCorruptSnapshots(): Snapshot[] {
    const gone = this.image.snapshots.filter((x) => x.corrupt === true);
    this.image.snapshots = this.image.snapshots.filter((x) => x.corrupt !== true);
    return gone;
  }

  /**
   * A storage fault: the newest durable snapshot that still reads back (or the one labelled
   * `zxid`, or `all` of them) now fails its CRC. Returns the label (the newest's for `all`) and
   * the files that read back before and now fail, oldest first; null when there is no such
   * snapshot.
   */
  corruptSnapshot(zxid?: number | 'all'): { readonly zxid: number; readonly corrupted: readonly Snapshot[] } | null {
    const snaps = this.image.snapshots;
    if (zxid === 'all') {
      if (snaps.length === 0) return null;
      const corrupted = snaps.filter((x) => x.corrupt !== true);
      for (let i = 0; i < snaps.length; i++) snaps[i] = Object.freeze({ ...(snaps[i] as Snapshot), corrupt: true });
      return { zxid: (snaps[snaps.length - 1] as Snapshot).zxid, corrupted };
    }
    for (let i = snaps.length - 1; i >= 0; i--) {
      const x = snaps[i] as Snapshot;
      if (zxid !== undefined ? x.zxid !== zxid : x.corrupt === true) continue;
      snaps[i] = Object.freeze({ ...x, corrupt: true });
      return { zxid: x.zxid, corrupted: x.corrupt === true ? [] : [x] };
    }
    return null;
  }

  /**
   * The writes submitted after `afterToken` were never issued (the server learnt that the
   * synchronous write `afterToken` failed before it would have issued them): they leave the
   * pending queue without reaching the image, and their scheduled completions are ignored.
   * A purge stays (it is another thread's). Returns how many went.
   */
  drop(afterToken: number): number {
    const kept: PendingWrite[] = [];
    for (const p of this.pending) {
      if (p.token > afterToken && p.write.op !== 'purge') this.dropped.set(p.token, p.stages.length);
      else kept.push(p);
    }
    const n = this.pending.length - kept.length;
    this.pending = kept;
    return n;
  }

  /** Whether a scheduled completion is of a dropped write (it is then consumed). */
  droppedCompletion(token: number): boolean {
    if (this.dropped.size === 0) return false;
    const left = this.dropped.get(token);
    if (left === undefined) return false;
    if (left <= 1) this.dropped.delete(token);
    else this.dropped.set(token, left - 1);
    return true;
  }

  /** Submits a write; returns its completion stages (times are FIFO after earlier writes). */
  submit(now: number, token: number, write: PersistOp): PendingWrite {
    // A purge deletes files and syncs nothing: it draws no latency, so switching purges on or
    // off leaves every other write's latency as it was.
    // Nor does a snapshot written without fsync (snapshot.0 of a fresh directory).
    const unsynced = write.op === 'purge' || (write.op === 'snapshot' && write.noFsync === true);
    const done = Math.max(unsynced ? now : now + drawMs(this.rng, this.cfg.fsyncLatency), this.lastCompletion);
    const fails = this.failureOf(now, write);
    const stages: { time: number; stage: DiskStage }[] = [];
    // A failing epoch write ends at its tmp file (AtomicFileWritingIdiom deletes it and rethrows).
    if (write.op === 'writeEpoch' && fails === null) {
      stages.push({ time: done, stage: 'tmp' });
      const renamed = done + drawMs(this.rng, this.cfg.renameLatency);
      stages.push({ time: renamed, stage: 'done' });
      this.lastCompletion = renamed;
    } else {
      stages.push({ time: done, stage: 'done' });
      this.lastCompletion = done;
    }
    // One shape for every pending write (`fails` undefined when it succeeds): two shapes made every
    // reader of a pending write see both, and deoptimise when the second came.
    const p: PendingWrite = { token, write, stages, fails: fails ?? undefined };
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
    if (p.fails !== undefined) {
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

  /** Whether a write submitted now fails, and why (an armed fault, a full disk, a drawn I/O error). */
  private failureOf(now: number, write: PersistOp): FailReason | null {
    // A purge deletes files: it needs no space and is not among the modelled failing writes.
    if (write.op === 'purge') return null;
    if (this.failing.length > 0) {
      const op = failingOpOf(write);
      const armed = op === null ? -1 : this.failing.indexOf(op);
      if (armed >= 0) {
        this.failing.splice(armed, 1);
        return 'io';
      }
    }
    if (now < this.fullUntil && write.op !== 'truncateLog') return 'full';
    // snapshot.0 draws no I/O error, so that it leaves the storage stream as it was.
    if (write.op === 'snapshot' && write.noFsync === true) return null;
    if (this.cfg.writeErrorProb > 0 && !this.calmed && this.storageRng.chance(this.cfg.writeErrorProb)) return 'io';
    return null;
  }

  /**
   * A crash: every write not yet durable is lost; returns how many. With `damage` (or, for
   * `'draw'`, with the configured probabilities), the first unsynced log append survives half
   * written as the log's damaged tail: the page cache had written part of it back. Only an
   * append right after the durable log can (no truncate pending before it); and a snapshot file
   * being written may stay, failing its CRC ({@link leftCorrupt}). A process that exits (a halt)
   * passes `'none'`.
   */
  crash(now: number, damage: DamagedTail | 'draw' | 'none' = 'none'): number {
    const lost = this.pending.length;
    this.leftCorrupt = null;
    if (damage !== 'none') {
      const tail = damage === 'draw' ? this.drawDamage() : damage;
      if (tail !== null && this.hasUnsyncedAppend()) this.image.damagedTail = tail;
      if (damage === 'draw') this.leftCorrupt = this.drawCorruptSnapshot();
    }
    this.pending = [];
    this.dropped.clear();
    this.lastCompletion = now;
    return lost;
  }

  /**
   * A machine crash while a periodic snapshot file is being written may leave it there at full
   * length with content that fails its CRC (the page cache wrote back its blocks, not all of
   * them current): drawn, with `corruptSnapshotProb`, only when such a write is pending. The
   * write was never synced, so losing it is allowed; the file stays and counts for the purge,
   * and FileSnap.deserialize skips it. snapshot.0 (unsynced, written at start) is left out.
   */
  private drawCorruptSnapshot(): Snapshot | null {
    const p = this.cfg.corruptSnapshotProb ?? 0;
    if (p <= 0 || this.calmed) return null;
    for (const w of this.pending) {
      if (w.write.op !== 'snapshot' || w.write.noFsync === true || w.fails !== undefined) continue;
      if (!this.storageRng.chance(p)) return null;
      const file = Object.freeze({ ...w.write.snapshot, corrupt: true });
      putSnapshot(this.image, file);
      return file;
    }
    return null;
  }

  private drawDamage(): DamagedTail | null {
    const { tornTailProb: torn, corruptTailProb: corrupt } = this.cfg;
    if (this.calmed || torn + corrupt <= 0) return null;
    const x = this.storageRng.next();
    return x < torn ? 'torn' : x < torn + corrupt ? 'corrupt' : null;
  }

  private hasUnsyncedAppend(): boolean {
    for (const p of this.pending) {
      if (p.write.op === 'appendLog') return p.fails === undefined;
      if (p.write.op === 'truncateLog') return false;
    }
    return false;
  }
}

/**
 * A snapshot file written: one named like it (snapshot.<zxid>) is replaced, and the files stay in
 * label order, as FileSnap lists them (db.ts withSnapshot, which the server's view follows). Old
 * snapshots are purged (ZooKeeper's autopurge keeps the newest few), so the image stays bounded
 * however long the run: a file a crash left failing its CRC counts, as the purge counts it.
 */
function putSnapshot(img: MutableDurableImage, snap: Snapshot): void {
  img.snapshots = [...img.snapshots.filter((x) => x.zxid !== snap.zxid), snap].sort((a, b) => a.zxid - b.zxid);
  if (img.snapshots.length > KEPT_SNAPSHOTS) img.snapshots.splice(0, img.snapshots.length - KEPT_SNAPSHOTS);
}

function apply(img: MutableDurableImage, w: PersistOp, stage: DiskStage): void {
  switch (w.op) {
    case 'appendLog': {
      const last = img.log[img.log.length - 1];
      if (last !== undefined && w.entry.zxid <= last.zxid) {
        throw new Error(`disk: append of zxid ${w.entry.zxid} after ${last.zxid} breaks log order`);
      }
      img.log.push(w.entry);
      // A torn record stays in the file it ended; the reader takes it as that file's end and goes
      // on to the next, which is where writes after the restart go (FileTxnLog.rollLog).
      img.damagedTail = null;
      return;
    }
    case 'truncateLog': {
      img.damagedTail = null;
      // Up to w.zxid; with the FileTxnLog flaw also the first txn above it when w.zxid is absent.
      img.log.length = keptByTruncate(img.log, w.zxid, w.keepFirstAbove === true);
      // Snapshots reflecting txns after the cut go too, unless the ZOOKEEPER-1549 flaw keeps them.
      if (w.keepNewerSnapshots !== true) img.snapshots = img.snapshots.filter((x) => snapshotLastTxn(x) <= w.zxid);
      return;
    }
    case 'snapshot':
      putSnapshot(img, w.snapshot);
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
