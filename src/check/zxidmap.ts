/**
 * A map keyed by zxid for the checkers' ghost, which looks a zxid up several times per event. A
 * zxid is a number beyond the small-integer range (epoch * 2^32 + counter), so a JavaScript Map
 * hashes it as a heap number at every get and set; the ghost's zxids come instead an epoch at a
 * time with counters 1, 2, 3..., so each epoch's values live in one array indexed by counter
 * (minus where it starts). Measured on the broadcast workload of `npm run bench`, the ghost's
 * two Maps and its Set took about 6 % of its CPU profile (docs/scaling.md, "Ninth session").
 *
 * Iteration order is not the Map's insertion order: {@link forEach} visits epochs in the order
 * they first appeared and counters ascending, and {@link dropBelow} replaces the ordered deletes
 * the ghost's compaction did.
 */
import { counterOf, epochOf, type Zxid } from '../protocol/zxid.ts';

/** One epoch's values: `values[i]` is the value of counter `base + i` (undefined: none). */
interface Slab<V> {
  base: number;
  values: (V | undefined)[];
  count: number;
}

/** A counter further than this from its epoch's array goes to a plain Map (a gap in a pre-loaded history, a counter rollover). */
const MAX_GAP = 4096;

export class ZxidMap<V> {
  private readonly epochs = new Map<number, Slab<V>>();
  /** The slab looked up last, and its epoch (most lookups are in the newest epoch). */
  private lastEpoch = -1;
  private last: Slab<V> | undefined = undefined;
  /** Values whose counter lies far from their epoch's array. */
  private readonly far = new Map<Zxid, V>();
  /** How many zxids hold a value. */
  size = 0;

  private slab(epoch: number): Slab<V> | undefined {
    if (epoch === this.lastEpoch) return this.last;
    const s = this.epochs.get(epoch);
    if (s !== undefined) {
      this.lastEpoch = epoch;
      this.last = s;
    }
    return s;
  }

  get(z: Zxid): V | undefined {
    const s = this.slab(epochOf(z));
    if (s !== undefined) {
      const i = counterOf(z) - s.base;
      if (i >= 0 && i < s.values.length) {
        const v = s.values[i];
        if (v !== undefined) return v;
      }
    }
    return this.far.size === 0 ? undefined : this.far.get(z);
  }

  /** Drops every value. */
  clear(): void {
    this.epochs.clear();
    this.far.clear();
    this.lastEpoch = -1;
    this.last = undefined;
    this.size = 0;
  }

  has(z: Zxid): boolean {
    return this.get(z) !== undefined;
  }

  /** Sets the value of `z` (never undefined: that means "none"). */
  set(z: Zxid, v: V): void {
    const epoch = epochOf(z);
    const c = counterOf(z);
    let s = this.slab(epoch);
    if (s === undefined) {
      s = { base: c, values: [], count: 0 };
      this.epochs.set(epoch, s);
      this.lastEpoch = epoch;
      this.last = s;
    }
    let i = c - s.base;
    const vs0 = s.values;
    if (i < -MAX_GAP || i > vs0.length + MAX_GAP || (this.far.size > 0 && this.far.has(z))) {
      if (!this.far.has(z)) this.size++;
      this.far.set(z, v);
      return;
    }
    if (i < 0) {
      // A counter a little below the epoch's first (a pre-loaded history registered out of order).
      s.values = [...new Array<V | undefined>(-i).fill(undefined), ...vs0];
      s.base = c;
      i = 0;
    }
    const vs = s.values;
    while (vs.length < i) vs.push(undefined);
    if (i < vs.length && vs[i] !== undefined) {
      vs[i] = v;
      return;
    }
    if (i === vs.length) vs.push(v);
    else vs[i] = v;
    s.count++;
    this.size++;
  }

  /** Removes every zxid below `floor`. O(epochs + what stays of floor's own epoch). */
  dropBelow(floor: Zxid): void {
    const fe = epochOf(floor);
    for (const [epoch, s] of this.epochs) {
      if (epoch > fe) continue;
      if (epoch < fe) {
        this.size -= s.count;
        this.epochs.delete(epoch);
        continue;
      }
      const k = Math.min(counterOf(floor) - s.base, s.values.length);
      if (k <= 0) continue;
      let gone = 0;
      for (let i = 0; i < k; i++) if (s.values[i] !== undefined) gone++;
      s.values = s.values.slice(k);
      s.base += k;
      s.count -= gone;
      this.size -= gone;
    }
    for (const z of this.far.keys()) {
      if (z >= floor) continue;
      this.far.delete(z);
      this.size--;
    }
    this.lastEpoch = -1;
    this.last = undefined;
  }

  /** Calls `fn` for every zxid with a value: epoch by epoch in the order they first appeared, counters ascending, then the far ones. */
  forEach(fn: (v: V, z: Zxid) => void): void {
    for (const [epoch, s] of this.epochs) {
      for (let i = 0; i < s.values.length; i++) {
        const v = s.values[i];
        if (v !== undefined) fn(v, epoch * 0x1_0000_0000 + s.base + i);
      }
    }
    for (const [z, v] of this.far) fn(v, z);
  }
}

/** A set of zxids on {@link ZxidMap}. */
export class ZxidSet {
  private readonly map = new ZxidMap<true>();

  get size(): number {
    return this.map.size;
  }

  clear(): void {
    this.map.clear();
  }

  has(z: Zxid): boolean {
    return this.map.get(z) !== undefined;
  }

  add(z: Zxid): void {
    this.map.set(z, true);
  }

  dropBelow(floor: Zxid): void {
    this.map.dropBelow(floor);
  }
}
