import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../src/sim/queue.ts';
import { Rng } from '../../src/sim/rng.ts';

interface Ev {
  time: number;
  seq: number;
  /** Insertion number kept by the test (the queue overwrites `seq`). */
  id: number;
}

function ev(time: number, id: number): Ev {
  return { time, seq: -1, id };
}

function drain(q: EventQueue<Ev>): Ev[] {
  const out: Ev[] = [];
  for (let e = q.pop(); e !== undefined; e = q.pop()) out.push(e);
  return out;
}

/** Fisher-Yates with a seeded stream, so the shuffle is the same on every run. */
function shuffle<T>(rng: Rng, xs: T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

describe('EventQueue', () => {
  it('pops events in increasing time order regardless of push order', () => {
    const q = new EventQueue<Ev>();
    const times = [50, 3, 99, 0, 17, 42, 8, 8.5, 1000, 2];
    times.forEach((t, i) => q.push(ev(t, i)));
    expect(q.size).toBe(times.length);
    expect(drain(q).map((e) => e.time)).toEqual([...times].sort((a, b) => a - b));
    expect(q.size).toBe(0);
  });

  it('stamps strictly increasing seq numbers in push order', () => {
    const q = new EventQueue<Ev>();
    const pushed = [ev(5, 0), ev(1, 1), ev(5, 2), ev(3, 3)];
    for (const e of pushed) q.push(e);
    expect(pushed.map((e) => e.seq)).toEqual([0, 1, 2, 3]);
  });

  it('pushFirst puts an event ahead of every plain event of its time, after earlier pushFirst ones, and never ahead of an earlier time', () => {
    const q = new EventQueue<Ev>();
    q.push(ev(10, 0));
    q.push(ev(10, 1));
    q.pushFirst(ev(10, 2));
    q.push(ev(5, 3));
    q.pushFirst(ev(10, 4));
    q.push(ev(10, 5));
    q.pushFirst(ev(20, 6));
    expect(drain(q).map((e) => e.id)).toEqual([3, 2, 4, 0, 1, 5, 6]);
  });

  it('1000 shuffled events over 5 distinct times come out by (time, insertion order)', () => {
    const rng = new Rng('queue-ties');
    const times = shuffle(
      rng,
      Array.from({ length: 1000 }, (_, k) => k % 5),
    );
    const q = new EventQueue<Ev>();
    times.forEach((t, id) => q.push(ev(t, id)));
    const out = drain(q);
    expect(out).toHaveLength(1000);
    // Expected: a stable sort of the insertion sequence by time.
    const expected = times.map((t, id) => ({ t, id })).sort((a, b) => a.t - b.t || a.id - b.id);
    expect(out.map((e) => [e.time, e.id])).toEqual(expected.map((e) => [e.t, e.id]));
    // And spelled out: within each time, ids strictly increase.
    for (let k = 1; k < out.length; k++) {
      const a = out[k - 1] as Ev;
      const b = out[k] as Ev;
      expect(a.time < b.time || (a.time === b.time && a.id < b.id)).toBe(true);
    }
  });

  it('interleaved push and pop keep (time, seq) order, including pushes at the current minimum', () => {
    const rng = new Rng('queue-interleave');
    const q = new EventQueue<Ev>();
    // Reference model: a plain array kept sorted by (time, id) with a stable insertion.
    const model: Ev[] = [];
    let id = 0;
    let now = 0;
    const popped: Ev[] = [];
    for (let round = 0; round < 2000; round++) {
      if (model.length > 0 && rng.chance(0.45)) {
        const got = q.pop() as Ev;
        const want = model.shift() as Ev;
        expect(got.id).toBe(want.id);
        expect(got.time).toBeGreaterThanOrEqual(now);
        now = got.time;
        popped.push(got);
      } else {
        // Like the kernel: never schedule into the past; many ties at `now`.
        const e = ev(now + rng.int(0, 3), id++);
        q.push(e);
        let k = model.length;
        while (k > 0 && (model[k - 1] as Ev).time > e.time) k--;
        model.splice(k, 0, e);
      }
      expect(q.size).toBe(model.length);
      expect(q.peekTime()).toBe(model.length === 0 ? Infinity : (model[0] as Ev).time);
    }
    expect(drain(q).map((e) => e.id)).toEqual(model.map((e) => e.id));
    expect(popped.length).toBeGreaterThan(500);
  });

  it('keeps (time, seq) order across its ring and its heap: near, far, fractional and pushFirst events, with pops between', () => {
    // The reference: every event in flight, popped by the smallest (time, seq). Times as the
    // kernel makes them, near (within the ring's reach) and far (beyond it: timers), and as it
    // does not, fractional and in the past; pushFirst ones at any of those.
    const rng = new Rng('queue-ring');
    for (let trial = 0; trial < 20; trial++) {
      const q = new EventQueue<Ev>();
      const model: Ev[] = [];
      let id = 0;
      let now = 0;
      for (let round = 0; round < 3000; round++) {
        const r = rng.next();
        if (model.length > 0 && r < 0.42) {
          let k = 0;
          for (let j = 1; j < model.length; j++) {
            const a = model[j] as Ev;
            const b = model[k] as Ev;
            if (a.time < b.time || (a.time === b.time && a.seq < b.seq)) k = j;
          }
          const want = model.splice(k, 1)[0] as Ev;
          const got = q.pop() as Ev;
          expect(got.id).toBe(want.id);
          now = got.time;
        } else {
          const w = rng.next();
          // 3 % before the last popped event: the kernel never does it, a queue must still cope.
          const time = w < 0.57 ? now + rng.int(0, 4) : w < 0.6 ? Math.max(0, now - rng.int(1, 2000)) : w < 0.75 ? now + rng.int(1000, 1100) : w < 0.85 ? now + rng.int(0, 3) + 0.5 : w < 0.95 ? now + rng.int(0, 5000) : now + 10 * 1024;
          const e = ev(time, id++);
          if (rng.chance(0.1)) q.pushFirst(e);
          else q.push(e);
          model.push(e);
        }
        expect(q.size).toBe(model.length);
        expect(q.peekTime()).toBe(model.length === 0 ? Infinity : Math.min(...model.map((e) => e.time)));
      }
      const rest = [...model].sort((a, b) => a.time - b.time || a.seq - b.seq);
      expect(drain(q).map((e) => e.id)).toEqual(rest.map((e) => e.id));
    }
  });

  it('peekTime is Infinity and pop is undefined on an empty queue, also after draining', () => {
    const q = new EventQueue<Ev>();
    expect(q.peekTime()).toBe(Infinity);
    expect(q.pop()).toBeUndefined();
    q.push(ev(7, 0));
    expect(q.peekTime()).toBe(7);
    q.pop();
    expect(q.peekTime()).toBe(Infinity);
    expect(q.pop()).toBeUndefined();
    expect(q.size).toBe(0);
  });

  it('clear drops the events of its ring and its heap, and the queue then works on as a new one from its clock', () => {
    const q = new EventQueue<Ev>();
    q.push(ev(3, 0));
    q.push(ev(3, 1));
    q.push(ev(900, 2)); // ring
    q.push(ev(5000, 3)); // heap: beyond the ring
    q.push(ev(4.5, 4)); // heap: fractional
    q.pushFirst(ev(3, 5)); // heap
    expect(q.pop()?.id).toBe(5);
    q.clear();
    expect(q.size).toBe(0);
    expect(q.peekTime()).toBe(Infinity);
    expect(q.pop()).toBeUndefined();
    q.push(ev(10, 6));
    q.push(ev(4, 7));
    q.push(ev(2000, 8));
    q.push(ev(4, 9));
    expect(q.size).toBe(4);
    expect(drain(q).map((e) => e.id)).toEqual([7, 9, 6, 8]);
  });
});
