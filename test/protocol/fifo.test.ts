/**
 * Fifo, the immutable sequence that holds server state's in-flight work (queues, outstanding
 * proposals, the learner's inbox). Two properties the rest of zabsim leans on, which were the
 * surviving mutants of `npm run mutate -- --mutate src/protocol/fifo.ts` (docs/checkers.md,
 * "Mutation testing"):
 * - an operation that removes nothing returns the same Fifo: assigning it back to the step's copy
 *   (`l.inbox = l.inbox.rest()`) then changes nothing, so the step returns the server state it was
 *   given instead of a copy (src/protocol/cow.ts `writeStep`);
 * - a Fifo serialises as its elements, oldest first: traces, reports and the step-purity law
 *   (test/protocol/laws.test.ts compares a state's JSON before and after a step) see what it holds.
 *
 * And, since the values made from one another share a backing array (push in place, rest and drop
 * by moving the start): no value ever sees another's elements, whatever order they are used in,
 * and the buffer stays bounded by what is queued.
 */
import type { StepContext } from '../../src/protocol/context.ts';
import { writeStep } from '../../src/protocol/cow.ts';
import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/protocol/fifo.ts';

describe('Fifo', () => {
  it('keeps its elements oldest first; push, rest, drop, with and filter return new values', () => {
    const a = Fifo.empty<number>().push(1).push(2).push(3);
    expect(a.items).toEqual([1, 2, 3]);
    expect(a.length).toBe(3);
    expect(a.first()).toBe(1);
    expect(a.rest().items).toEqual([2, 3]);
    expect(a.drop(2).items).toEqual([3]);
    expect(a.drop(5).items).toEqual([]);
    expect(a.with(1, 9).items).toEqual([1, 9, 3]);
    expect(a.filter((x) => x !== 2).items).toEqual([1, 3]);
    expect(a.items).toEqual([1, 2, 3]);
    expect(Object.isFrozen(a.items)).toBe(true);
    expect(Fifo.empty<number>().first()).toBeUndefined();
  });

  it('removing nothing returns the same Fifo: rest() of an empty one, drop(0), drop(-1)', () => {
    const empty = Fifo.empty<number>();
    expect(empty.rest()).toBe(empty);
    const a = empty.push(1).push(2);
    expect(a.drop(0)).toBe(a);
    expect(a.drop(-1)).toBe(a);
    // One element removed is a new value.
    expect(a.drop(1)).not.toBe(a);
    expect(a.rest()).not.toBe(a);
  });

  it('so a step that takes nothing from a queue returns the state it was given', () => {
    const base = { inbox: Fifo.empty<number>(), outstanding: Fifo.empty<number>().push(7) };
    const ctx = { owned: [] } as unknown as StepContext;
    const next = writeStep(ctx, base, (d) => {
      d.inbox = d.inbox.rest();
      d.outstanding = d.outstanding.drop(0);
    });
    expect(next).toBe(base);
    // Taking one is a new state.
    expect(writeStep({ owned: [] } as unknown as StepContext, base, (d) => void (d.outstanding = d.outstanding.rest()))).not.toBe(base);
  });

  it('serialises as its elements, so a state\'s JSON shows what its queues hold', () => {
    const state = { queue: Fifo.empty<{ zxid: number }>().push({ zxid: 1 }).push({ zxid: 2 }), empty: Fifo.empty<number>() };
    expect(JSON.stringify(state)).toBe('{"queue":[{"zxid":1},{"zxid":2}],"empty":[]}');
    expect(state.queue.toJSON()).toBe(state.queue.items);
  });

  it('at, last, findIndex and some read the elements of this value only', () => {
    const a = Fifo.empty<number>().push(1).push(2).push(3).rest();
    expect([a.at(0), a.at(1), a.at(2), a.at(-1)]).toEqual([2, 3, undefined, undefined]);
    expect(a.last()).toBe(3);
    expect(Fifo.empty<number>().last()).toBeUndefined();
    expect(a.findIndex((x) => x === 3)).toBe(1);
    expect(a.findIndex((x) => x === 1)).toBe(-1); // taken from the front: gone from this value
    expect(a.some((x) => x === 1)).toBe(false);
    expect(a.some((x) => x === 2)).toBe(true);
  });

  it('values sharing a buffer never see each other: a push on an older value copies', () => {
    const a = Fifo.empty<number>().push(1).push(2);
    const b = a.push(3);
    const c = a.push(4); // b appended past a: c must not overwrite or see b's 3
    expect(b.items).toEqual([1, 2, 3]);
    expect(c.items).toEqual([1, 2, 4]);
    expect(a.items).toEqual([1, 2]);
    const r = b.rest();
    const r2 = r.push(5);
    expect(r2.items).toEqual([2, 3, 5]);
    expect(b.items).toEqual([1, 2, 3]);
    expect(b.push(6).items).toEqual([1, 2, 3, 6]);
    expect(r2.items).toEqual([2, 3, 5]);
    expect(a.drop(1).push(7).items).toEqual([2, 7]);
    expect(a.with(0, 9).items).toEqual([9, 2]);
    expect(b.items).toEqual([1, 2, 3]);
  });

  it('a queue used as one (push at the back, rest at the front) keeps its buffer bounded, and an emptied one lets it go', () => {
    let q = Fifo.empty<number>().push(0).push(1).push(2);
    for (let i = 3; i < 10_000; i++) {
      q = q.rest().push(i);
      expect(q.length).toBe(3);
      expect(q.buf.length).toBeLessThanOrEqual(8);
    }
    expect(q.items).toEqual([9997, 9998, 9999]);
    expect(q.rest().rest().rest()).toBe(Fifo.empty());
    expect(q.drop(3)).toBe(Fifo.empty());
    expect(q.filter(() => false)).toBe(Fifo.empty());
  });

  it('a Fifo made from an array freezes it and never appends to it', () => {
    const arr = [1, 2];
    const f = new Fifo(arr);
    expect(Object.isFrozen(arr)).toBe(true);
    expect(f.push(3).items).toEqual([1, 2, 3]);
    expect(arr).toEqual([1, 2]);
    expect(() => f.with(2, 0)).toThrow(RangeError);
  });
});
