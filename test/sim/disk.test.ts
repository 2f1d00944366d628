import { EMPTY_TREE } from '../../src/protocol/datatree.ts';
import { describe, expect, it } from 'vitest';
import type { EpochFile, LogEntry, PersistOp } from '../../src/protocol/types.ts';
import { DEFAULT_DISK, Disk, type DiskConfig } from '../../src/sim/disk.ts';
import { Rng, type DelayDist } from '../../src/sim/rng.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A disk whose config the test may change between submissions (the Disk draws on each submit). */
function makeDisk(over: Partial<DiskConfig> = {}, seed = 'disk'): { disk: Disk; cfg: Mutable<DiskConfig> } {
  const cfg: Mutable<DiskConfig> = { ...DEFAULT_DISK, ...over };
  return { disk: new Disk(cfg, new Rng(seed)), cfg };
}

function append(zxid: number): PersistOp {
  const entry: LogEntry = { zxid, txn: { type: 'setData', path: '/k', data: String(zxid), version: -1 } };
  return { op: 'appendLog', entry };
}

function writeEpoch(file: EpochFile, value: number): PersistOp {
  return { op: 'writeEpoch', file, value };
}

/** Completes every stage of the oldest pending write. */
function completeFully(disk: Disk, token: number): void {
  while (!disk.complete(token)) {
    /* next stage */
  }
}

const zxids = (disk: Disk): number[] => disk.image.log.map((e) => e.zxid);

describe('Disk', () => {
  it('a crash loses exactly the writes whose fsync had not completed', () => {
    const { disk } = makeDisk();
    for (let k = 1; k <= 6; k++) disk.submit(0, k, append(k));
    expect(disk.pendingCount).toBe(6);
    // Nothing is durable before its completion.
    expect(disk.image.log).toEqual([]);
    expect(disk.complete(1)).toBe(true);
    expect(disk.complete(2)).toBe(true);
    expect(disk.complete(3)).toBe(true);
    expect(zxids(disk)).toEqual([1, 2, 3]);
    expect(disk.pendingCount).toBe(3);

    expect(disk.crash(10)).toBe(3);
    expect(zxids(disk)).toEqual([1, 2, 3]);
    expect(disk.pendingCount).toBe(0);
    expect(disk.pendingWrites()).toEqual([]);
    // The lost writes can no longer complete.
    expect(() => disk.complete(4)).toThrow(/none/);
  });

  it('after a crash the disk accepts new writes, scheduled no earlier than the crash', () => {
    const { disk } = makeDisk({ fsyncLatency: { kind: 'constant', ms: 100 } });
    disk.submit(0, 1, append(1)); // would complete at 100
    disk.crash(5);
    const p = disk.submit(5, 1, append(1));
    expect(p.stages).toEqual([{ time: 105, stage: 'done' }]);
    expect(disk.complete(1)).toBe(true);
    expect(zxids(disk)).toEqual([1]);
  });

  it('completion times are FIFO even when a later write draws a much shorter latency', () => {
    const { disk, cfg } = makeDisk({ fsyncLatency: { kind: 'constant', ms: 50 } });
    const first = disk.submit(0, 1, append(1));
    cfg.fsyncLatency = { kind: 'constant', ms: 1 };
    const second = disk.submit(0, 2, append(2));
    const third = disk.submit(60, 3, append(3));
    expect(first.stages.map((s) => s.time)).toEqual([50]);
    // Alone it would complete at 1; it waits for the fsync before it.
    expect(second.stages.map((s) => s.time)).toEqual([50]);
    // No longer behind anything: its own latency.
    expect(third.stages.map((s) => s.time)).toEqual([61]);
  });

  it('completion times never decrease in submission order under random latencies, epoch writes included', () => {
    const { disk } = makeDisk({ fsyncLatency: { kind: 'uniform', minMs: 1, maxMs: 50 }, renameLatency: { kind: 'uniform', minMs: 0, maxMs: 5 } }, 'fifo');
    const times: number[] = [];
    let zxid = 0;
    for (let k = 1; k <= 300; k++) {
      const now = Math.floor(k / 5);
      const w = k % 7 === 0 ? writeEpoch('currentEpoch', k) : append(++zxid);
      const p = disk.submit(now, k, w);
      expect(p.stages[0]?.time).toBeGreaterThanOrEqual(now + 1);
      times.push(...p.stages.map((s) => s.time));
    }
    expect(times.every((t, k) => k === 0 || (times[k - 1] as number) <= t)).toBe(true);
  });

  it('complete() with a token that is not the oldest pending one throws and changes nothing', () => {
    const { disk } = makeDisk();
    disk.submit(0, 1, append(1));
    disk.submit(0, 2, append(2));
    expect(() => disk.complete(2)).toThrow(/token 2 but oldest pending is 1/);
    expect(() => disk.complete(99)).toThrow();
    expect(disk.image.log).toEqual([]);
    expect(disk.pendingCount).toBe(2);
    expect(disk.complete(1)).toBe(true);
    expect(zxids(disk)).toEqual([1]);
  });

  it('complete() on an idle disk throws', () => {
    const { disk } = makeDisk();
    expect(() => disk.complete(1)).toThrow(/oldest pending is none/);
  });

  it('truncateLog removes exactly the entries above its zxid, when it completes', () => {
    const { disk } = makeDisk();
    for (let k = 1; k <= 5; k++) disk.submit(0, k, append(k * 10));
    for (let k = 1; k <= 5; k++) disk.complete(k);
    disk.submit(1, 6, { op: 'truncateLog', zxid: 30 });
    expect(zxids(disk)).toEqual([10, 20, 30, 40, 50]);
    disk.complete(6);
    expect(zxids(disk)).toEqual([10, 20, 30]);
    // A zxid between entries keeps those below it.
    disk.submit(2, 7, { op: 'truncateLog', zxid: 25 });
    disk.complete(7);
    expect(zxids(disk)).toEqual([10, 20]);
    // Above the last entry: nothing to remove.
    disk.submit(3, 8, { op: 'truncateLog', zxid: 1000 });
    disk.complete(8);
    expect(zxids(disk)).toEqual([10, 20]);
    // Appending after a truncation continues the log.
    disk.submit(4, 9, append(21));
    disk.complete(9);
    expect(zxids(disk)).toEqual([10, 20, 21]);
    disk.submit(5, 10, { op: 'truncateLog', zxid: 0 });
    disk.complete(10);
    expect(zxids(disk)).toEqual([]);
  });

  it('a truncation lost in a crash leaves the log as it was', () => {
    const { disk } = makeDisk();
    disk.submit(0, 1, append(1));
    disk.submit(0, 2, append(2));
    disk.complete(1);
    disk.complete(2);
    disk.submit(1, 3, { op: 'truncateLog', zxid: 1 });
    disk.crash(2);
    expect(zxids(disk)).toEqual([1, 2]);
  });

  it('an append that breaks zxid order is refused when it completes', () => {
    const { disk } = makeDisk();
    disk.submit(0, 1, append(5));
    disk.complete(1);
    disk.submit(0, 2, append(5));
    expect(() => disk.complete(2)).toThrow(/breaks log order/);
  });

  describe('epoch files are replaced atomically through .tmp', () => {
    for (const file of ['currentEpoch', 'acceptedEpoch'] as const) {
      const tmpKey = file === 'currentEpoch' ? 'currentEpochTmp' : 'acceptedEpochTmp';
      const otherKey = file === 'currentEpoch' ? 'acceptedEpoch' : 'currentEpoch';

      it(`${file}: stage tmp writes only the tmp file, stage done renames it over the file`, () => {
        const { disk } = makeDisk({ renameLatency: { kind: 'constant', ms: 3 } });
        disk.submit(0, 1, writeEpoch(file, 4));
        completeFully(disk, 1);
        expect(disk.image[file]).toBe(4);

        const p = disk.submit(10, 2, writeEpoch(file, 5));
        expect(p.stages.map((s) => s.stage)).toEqual(['tmp', 'done']);
        const [tmp, done] = p.stages.map((s) => s.time);
        expect(done).toBe((tmp ?? NaN) + 3);

        expect(disk.complete(2)).toBe(false);
        expect(disk.image[file]).toBe(4);
        expect(disk.image[tmpKey]).toBe(5);
        expect(disk.pendingCount).toBe(1);

        expect(disk.complete(2)).toBe(true);
        expect(disk.image[file]).toBe(5);
        expect(disk.image[tmpKey]).toBeNull();
        expect(disk.pendingCount).toBe(0);
        // The other epoch file is untouched.
        expect(disk.image[otherKey]).toBeNull();
      });

      for (const old of [null, 4] as const) {
        it(`${file}: a crash at every point leaves the old (${old}) or the new value, never anything else`, () => {
          const seen: (number | null)[] = [];
          // stagesDone: 0 = crash before the tmp file is durable, 1 = between tmp and rename, 2 = after.
          for (const stagesDone of [0, 1, 2]) {
            const { disk } = makeDisk();
            if (old !== null) {
              disk.submit(0, 1, writeEpoch(file, old));
              completeFully(disk, 1);
            }
            disk.submit(10, 2, writeEpoch(file, 9));
            // A later write queued behind it is lost too whenever the epoch write is not done.
            disk.submit(10, 3, append(1));
            for (let k = 0; k < stagesDone; k++) disk.complete(2);
            const lost = disk.crash(20);
            expect(lost).toBe(stagesDone === 2 ? 1 : 2);
            const value = disk.image[file];
            expect([old, 9]).toContain(value);
            seen.push(value);
            // What the crash leaves next to the file: the tmp file only when it hit between the steps.
            expect(disk.image[tmpKey]).toBe(stagesDone === 1 ? 9 : null);
          }
          expect(seen).toEqual([old, old, 9]);
        });
      }
    }

    it('a later epoch write over a leftover tmp file replaces it', () => {
      const { disk } = makeDisk();
      disk.submit(0, 1, writeEpoch('currentEpoch', 2));
      disk.complete(1); // tmp only
      disk.crash(5);
      expect(disk.image).toMatchObject({ currentEpoch: null, currentEpochTmp: 2 });
      disk.submit(5, 1, writeEpoch('currentEpoch', 3));
      completeFully(disk, 1);
      expect(disk.image).toMatchObject({ currentEpoch: 3, currentEpochTmp: null });
    });
  });

  it('drop(after) removes the pending writes submitted after a token (not a purge, not the ones before): they never reach the image and their completions are ignored', () => {
    const { disk } = makeDisk({ fsyncLatency: { kind: 'constant', ms: 1 } });
    disk.submit(0, 1, append(1));
    disk.submit(0, 2, { op: 'updatingEpoch', exists: true });
    disk.submit(0, 3, append(2));
    disk.submit(0, 4, { op: 'purge', snapRetainCount: 3, logFrom: 0 });
    disk.submit(0, 5, writeEpoch('currentEpoch', 2));
    expect(disk.drop(2)).toBe(2);
    expect(disk.pendingWrites().map((p) => p.token)).toEqual([1, 2, 4]);
    completeFully(disk, 1);
    completeFully(disk, 2);
    // The scheduled completions of the dropped writes (the epoch write has two) are consumed once each.
    expect(disk.droppedCompletion(3)).toBe(true);
    expect(disk.droppedCompletion(3)).toBe(false);
    completeFully(disk, 4);
    expect(disk.droppedCompletion(5)).toBe(true);
    expect(disk.droppedCompletion(5)).toBe(true);
    expect(disk.droppedCompletion(5)).toBe(false);
    expect(zxids(disk)).toEqual([1]);
    expect(disk.image.currentEpoch).toBeNull();
    expect(disk.image.currentEpochTmp).toBeNull();
    expect(disk.image.updatingEpoch).toBe(true);
    // A dropped append is not an unsynced one: a crash cannot leave it as a damaged tail.
    disk.submit(1, 6, { op: 'updatingEpoch', exists: false });
    disk.submit(1, 7, append(3));
    disk.drop(6);
    disk.crash(2, 'torn');
    expect(disk.image.damagedTail).toBeNull();
  });

  it('snapshot writes reach the image only when complete', () => {
    const { disk } = makeDisk();
    const snapshot = { zxid: 7, data: EMPTY_TREE };
    disk.submit(0, 1, { op: 'snapshot', snapshot });
    expect(disk.image.snapshots).toEqual([]);
    disk.complete(1);
    expect(disk.image.snapshots).toEqual([snapshot]);
  });

  it('latencies come from the seeded stream: the same seed gives the same completion times', () => {
    const dist: DelayDist = { kind: 'uniform', minMs: 1, maxMs: 1000 };
    const times = (seed: string): number[] => {
      const { disk } = makeDisk({ fsyncLatency: dist }, seed);
      return Array.from({ length: 20 }, (_, k) => disk.submit(k * 1000, k + 1, append(k + 1)).stages[0]?.time ?? -1);
    };
    expect(times('a')).toEqual(times('a'));
    expect(times('a')).not.toEqual(times('b'));
  });
});
