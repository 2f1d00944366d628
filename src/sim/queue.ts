/**
 * The event queue: events come out ordered by (time, seq). `seq` is a strictly increasing
 * insertion number, so two events at the same virtual time always come out in the order they
 * were scheduled, independent of any sort's stability. An event pushed with {@link pushFirst}
 * comes before every plain event of its time (its `seq` is taken from a second counter far below
 * the first), and after the earlier-pushed `pushFirst` events of that time.
 *
 * Two parts (docs/scaling.md, "Ninth session"). Most events are due within a few milliseconds
 * (a message, a disk write, a thread's wake-up) at whole-millisecond times, many at the same
 * millisecond: those go to a ring of {@link RING} buckets, one per millisecond from the time of
 * the last event popped, each a list in push order, so a push and a pop cost O(1). Everything
 * else (later than the ring reaches, a fractional time, every `pushFirst`) goes to a binary heap.
 * The order stays (time, seq) exactly: at one time, every event in the heap was pushed before any
 * in the ring's bucket for that time (a plain event of that time went to the heap only while the
 * ring did not reach it yet, and `pushFirst` ones sort first anyway), so the heap's go first.
 */
export interface Queued {
  time: number;
  seq: number;
}

/** Buckets in the ring: milliseconds ahead of the last popped event that a push can reach. */
const RING = 1024;

export class EventQueue<T extends Queued> {
  private readonly heap = new BinaryHeap<T>();
  /** Per bucket, its events in push order from `heads[b]` to `tails[b]` (made at its first push: a run may be short). */
  private readonly buckets: ((T | undefined)[] | undefined)[] = new Array<(T | undefined)[] | undefined>(RING).fill(undefined);
  private readonly heads = new Int32Array(RING);
  private readonly tails = new Int32Array(RING);
  /** One bit per bucket, set while it holds events: finding the next one reads 32 buckets a word. */
  private readonly full = new Int32Array(RING >> 5);
  /** No event in the ring is earlier (the time of the last event popped from anywhere, or 0). */
  private base = 0;
  /** Events in the ring. */
  private inRing = 0;
  /** The earliest time with an event in the ring (Infinity when none). */
  private ringMin = Infinity;
  private nextSeq = 0;
  private nextFirstSeq = FIRST_SEQ;

  get size(): number {
    return this.inRing + this.heap.size;
  }

  /** Time of the earliest event, or Infinity when empty. */
  peekTime(): number {
    const h = this.heap.peekTime();
    return h < this.ringMin ? h : this.ringMin;
  }

  /** Inserts `ev`, stamping its `seq`. */
  push(ev: T): void {
    ev.seq = this.nextSeq++;
    const time = ev.time;
    if (time >= this.base && time < this.base + RING && Number.isInteger(time)) {
      const b = time % RING;
      (this.buckets[b] ??= [])[(this.tails[b] as number)++] = ev;
      this.full[b >> 5] = (this.full[b >> 5] as number) | (1 << (b & 31));
      this.inRing++;
      if (time < this.ringMin) this.ringMin = time;
    } else this.heap.push(ev);
  }

  /** Inserts `ev` ahead of every plain event of its time (see the class comment). */
  pushFirst(ev: T): void {
    ev.seq = this.nextFirstSeq++;
    this.heap.push(ev);
  }

  /** Removes and returns the earliest event. */
  pop(): T | undefined {
    let ev: T;
    if (this.heap.peekTime() <= this.ringMin) {
      const top = this.heap.pop();
      if (top === undefined) return undefined;
      ev = top;
    } else {
      const time = this.ringMin;
      const b = time % RING;
      const bucket = this.buckets[b] as (T | undefined)[];
      const head = this.heads[b] as number;
      ev = bucket[head] as T;
      bucket[head] = undefined;
      if (head + 1 === this.tails[b]) {
        this.heads[b] = 0;
        this.tails[b] = 0;
        this.full[b >> 5] = (this.full[b >> 5] as number) & ~(1 << (b & 31));
        this.ringMin = --this.inRing === 0 ? Infinity : this.nextRingTime(time + 1);
      } else {
        this.heads[b] = head + 1;
        this.inRing--;
      }
    }
    if (ev.time > this.base) this.base = ev.time;
    return ev;
  }

  /** Drops every event (the queue stays usable, empty, its clock where it was). */
  clear(): void {
    this.heap.clear();
    this.buckets.fill(undefined);
    this.heads.fill(0);
    this.tails.fill(0);
    this.full.fill(0);
    this.inRing = 0;
    this.ringMin = Infinity;
  }

  /**
   * The earliest time from `from` on with an event in the ring (there is one): the first full
   * bucket going round from `from`'s, since every time in the ring lies in [from, from + RING).
   */
  private nextRingTime(from: number): number {
    const start = from % RING;
    const full = this.full;
    let w = start >> 5;
    let bits = (full[w] as number) & (-1 << (start & 31));
    for (let k = 0; bits === 0; k++) {
      if (k === RING >> 5) throw new Error('EventQueue: the ring holds events but no bucket is marked');
      w = (w + 1) % (RING >> 5);
      bits = full[w] as number;
    }
    const b = (w << 5) + (31 - Math.clz32(bits & -bits));
    return from + ((b - start + RING) % RING);
  }
}

/** The first `seq` of {@link EventQueue.pushFirst}: below every plain `seq` for 2^52 pushes. */
const FIRST_SEQ = -(2 ** 52);

/** A binary min-heap by (time, seq) of events whose `seq` is already stamped. */
class BinaryHeap<T extends Queued> {
  // Three parallel arrays, moved in lock-step: the events' times and sequence numbers sit in
  // arrays of numbers, so the comparisons of a push or pop read one array element each, whatever
  // kind of event it is (reading `time` off events of six shapes was a megamorphic property load
  // at every comparison).
  private readonly items: T[] = [];
  private readonly times: number[] = [];
  private readonly seqs: number[] = [];

  get size(): number {
    return this.items.length;
  }

  clear(): void {
    this.items.length = 0;
    this.times.length = 0;
    this.seqs.length = 0;
  }

  peekTime(): number {
    return this.items.length === 0 ? Infinity : (this.times[0] as number);
  }

  push(ev: T): void {
    const items = this.items;
    const times = this.times;
    const seqs = this.seqs;
    const time = ev.time;
    const seq = ev.seq;
    let i = items.length;
    items.push(ev);
    times.push(time);
    seqs.push(seq);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent] as number;
      if (pt < time || (pt === time && (seqs[parent] as number) < seq)) break;
      items[i] = items[parent] as T;
      times[i] = pt;
      seqs[i] = seqs[parent] as number;
      i = parent;
    }
    items[i] = ev;
    times[i] = time;
    seqs[i] = seq;
  }

  pop(): T | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const times = this.times;
    const seqs = this.seqs;
    const top = items[0] as T;
    const last = items.pop() as T;
    const lastTime = times.pop() as number;
    const lastSeq = seqs.pop() as number;
    const n = items.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        let ct = times[l] as number;
        let cs = seqs[l] as number;
        if (r < n) {
          const rt = times[r] as number;
          const rs = seqs[r] as number;
          if (rt < ct || (rt === ct && rs < cs)) {
            c = r;
            ct = rt;
            cs = rs;
          }
        }
        if (!(ct < lastTime || (ct === lastTime && cs < lastSeq))) break;
        items[i] = items[c] as T;
        times[i] = ct;
        seqs[i] = cs;
        i = c;
      }
      items[i] = last;
      times[i] = lastTime;
      seqs[i] = lastSeq;
    }
    return top;
  }
}
