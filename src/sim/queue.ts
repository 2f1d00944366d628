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
  // The heap is three parallel arrays, moved in lock-step: the events' times and sequence numbers
  // sit in arrays of numbers, so the comparisons of a push or pop read one array element each,
  // whatever kind of event it is (reading `time` off events of six shapes was a megamorphic
  // property load at every comparison).
  private readonly items: T[] = [];
  private readonly times: number[] = [];
  private readonly seqs: number[] = [];
  private nextSeq = 0;
  private nextFirstSeq = FIRST_SEQ;

  get size(): number {
    return this.items.length;
  }

  /** Time of the earliest event, or Infinity when empty. */
  peekTime(): number {
    return this.items.length === 0 ? Infinity : (this.times[0] as number);
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

  /** Removes and returns the earliest event. */
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

/** The first `seq` of {@link EventQueue.pushFirst}: below every plain `seq` for 2^52 pushes. */
const FIRST_SEQ = -(2 ** 52);

