/**
 * The benchmark's yardstick (issue 14 §1): a bare heap-and-dispatch loop doing what a simulator's
 * broadcast does at its barest, so that zabsim's events/s can be given as a ratio that means the
 * same on any machine. Five servers; a leader proposes a txn every 0.2 ms of virtual time; each
 * event is popped from a binary heap ordered by (time, sequence number), as zabsim's queue is; a
 * PROPOSAL is appended to the follower's log and answered by an ACK after a seeded delay; the
 * leader counts ACKs and at a quorum sends COMMITs; a COMMIT advances the follower's applied
 * count. No protocol rules, no checkers, no trace: what is left is the cost of the loop itself.
 */

const PROPOSE = 0;
const PROPOSAL = 1;
const ACK = 2;
const COMMIT = 3;

interface Ev {
  t: number;
  seq: number;
  kind: number;
  server: number;
  zxid: number;
}

/** A binary min-heap of events by (t, seq). */
class Heap {
  private readonly a: Ev[] = [];

  get size(): number {
    return this.a.length;
  }

  private static less(x: Ev, y: Ev): boolean {
    return x.t < y.t || (x.t === y.t && x.seq < y.seq);
  }

  push(e: Ev): void {
    const a = this.a;
    let i = a.length;
    a.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = a[p] as Ev;
      if (!Heap.less(e, parent)) break;
      a[i] = parent;
      i = p;
    }
    a[i] = e;
  }

  pop(): Ev {
    const a = this.a;
    const top = a[0] as Ev;
    const last = a.pop() as Ev;
    const n = a.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && Heap.less(a[r] as Ev, a[l] as Ev) ? r : l;
        if (!Heap.less(a[c] as Ev, last)) break;
        a[i] = a[c] as Ev;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

export interface ReferenceResult {
  readonly events: number;
  readonly wallMs: number;
  /** Txns committed (a check that the loop did its work). */
  readonly committed: number;
}

/** Runs the loop for `events` events; returns its count and wall-clock time. */
export function referenceLoop(events: number, servers = 5): ReferenceResult {
  const heap = new Heap();
  // xorshift32: the delays are seeded, as zabsim's are.
  let x = 0x9e3779b9;
  const delay = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return 1 + ((x >>> 0) % 10);
  };
  let seq = 0;
  const logs: number[][] = Array.from({ length: servers }, () => []);
  const applied = new Array<number>(servers).fill(0);
  const acks = new Map<number, number>();
  const quorum = (servers >> 1) + 1;
  let committed = 0;
  let nextZxid = 1;
  heap.push({ t: 0, seq: seq++, kind: PROPOSE, server: 0, zxid: 0 });
  const t0 = performance.now();
  let n = 0;
  for (; n < events && heap.size > 0; n++) {
    const e = heap.pop();
    switch (e.kind) {
      case PROPOSE: {
        const zxid = nextZxid++;
        (logs[0] as number[]).push(zxid);
        acks.set(zxid, 1);
        for (let s = 1; s < servers; s++) heap.push({ t: e.t + delay(), seq: seq++, kind: PROPOSAL, server: s, zxid });
        heap.push({ t: e.t + 0.2, seq: seq++, kind: PROPOSE, server: 0, zxid: 0 });
        break;
      }
      case PROPOSAL:
        (logs[e.server] as number[]).push(e.zxid);
        heap.push({ t: e.t + delay(), seq: seq++, kind: ACK, server: e.server, zxid: e.zxid });
        break;
      case ACK: {
        const c = acks.get(e.zxid);
        if (c === undefined) break;
        if (c + 1 < quorum) {
          acks.set(e.zxid, c + 1);
          break;
        }
        acks.delete(e.zxid);
        committed++;
        for (let s = 0; s < servers; s++) heap.push({ t: e.t + (s === 0 ? 0 : delay()), seq: seq++, kind: COMMIT, server: s, zxid: e.zxid });
        break;
      }
      case COMMIT:
        applied[e.server] = e.zxid;
        break;
    }
  }
  return { events: n, wallMs: performance.now() - t0, committed };
}
