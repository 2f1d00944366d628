/**
 * The event queue: a binary min-heap ordered by (time, seq). `seq` is a strictly increasing
 * insertion number, so two events at the same virtual time always come out in the order they
 * were scheduled, independent of any sort's stability. An event pushed with {@link pushFirst}
 * comes before every plain event of its time (its `seq` is taken from a second counter far below
 * the first), and after the earlier-pushed `pushFirst` events of that time.
 */
export interface Queued {
  time: number;
  seq: number;
}

export class EventQueue<T extends Queued> {
  private readonly heap: T[] = [];
  private nextSeq = 0;
  private nextFirstSeq = FIRST_SEQ;

  get size(): number {
    return this.heap.length;
  }

  /** Time of the earliest event, or Infinity when empty. */
  peekTime(): number {
    return this.heap.length === 0 ? Infinity : (this.heap[0] as T).time;
  }

  /** Inserts `ev`, stamping its `seq`. */
  push(ev: T): void {
    ev.seq = this.nextSeq++;
    this.siftUp(ev);
  }

  /** Inserts `ev` ahead of every plain event of its time (see the class comment). */
  pushFirst(ev: T): void {
    ev.seq = this.nextFirstSeq++;
    this.siftUp(ev);
  }

  private siftUp(ev: T): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as T;
      if (!before(ev, p)) break;
      h[i] = p;
      i = parent;
    }
    h[i] = ev;
  }

  /** Removes and returns the earliest event. */
  pop(): T | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0] as T;
    const last = h.pop() as T;
    const n = h.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        if (r < n && before(h[r] as T, h[l] as T)) c = r;
        if (!before(h[c] as T, last)) break;
        h[i] = h[c] as T;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

/** The first `seq` of {@link EventQueue.pushFirst}: below every plain `seq` for 2^52 pushes. */
const FIRST_SEQ = -(2 ** 52);

function before(a: Queued, b: Queued): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
