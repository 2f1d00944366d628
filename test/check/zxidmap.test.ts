/**
 * The ghost's zxid-keyed map (src/check/zxidmap.ts) against a plain Map, the structure it
 * replaced: random sets, lookups and drops over a few epochs, with counters in order, out of
 * order, with small gaps and far from the rest (a counter rollover, a pre-loaded history).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZxidMap, ZxidSet } from '../../src/check/zxidmap.ts';
import { MAX_COUNTER, zxid, type Zxid } from '../../src/protocol/zxid.ts';

type Op = { kind: 'set'; z: Zxid; v: number } | { kind: 'drop'; floor: Zxid };

const counter = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 60 }) },
  { weight: 1, arbitrary: fc.integer({ min: 4000, max: 9000 }) },
  { weight: 1, arbitrary: fc.constantFrom(MAX_COUNTER - 1, MAX_COUNTER) },
);
const z = fc.tuple(fc.integer({ min: 0, max: 3 }), counter).map(([e, c]) => zxid(e, c));
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), z, v: fc.integer() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), floor: z }) },
);

function contents(m: ZxidMap<number>): [Zxid, number][] {
  const out: [Zxid, number][] = [];
  m.forEach((v, k) => out.push([k, v]));
  return out.sort((a, b) => a[0] - b[0]);
}

describe('ZxidMap', () => {
  it('answers every get, has and size as a Map does, through sets and drops', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), fc.array(z, { maxLength: 40 }), (ops, probes) => {
        const m = new ZxidMap<number>();
        const ref = new Map<Zxid, number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            m.set(o.z, o.v);
            ref.set(o.z, o.v);
          } else {
            m.dropBelow(o.floor);
            for (const k of [...ref.keys()]) if (k < o.floor) ref.delete(k);
          }
          expect(m.size).toBe(ref.size);
        }
        for (const p of [...probes, ...ref.keys()]) {
          expect(m.get(p)).toBe(ref.get(p));
          expect(m.has(p)).toBe(ref.has(p));
        }
        expect(contents(m)).toEqual([...ref].sort((a, b) => a[0] - b[0]));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps an epoch in one array from its first counter: a dense run, then a drop of its front', () => {
    const m = new ZxidMap<string>();
    for (let c = 5; c <= 1000; c++) m.set(zxid(7, c), `v${c}`);
    expect(m.size).toBe(996);
    expect(m.get(zxid(7, 4))).toBeUndefined();
    expect(m.get(zxid(7, 5))).toBe('v5');
    expect(m.get(zxid(6, 5))).toBeUndefined();
    m.dropBelow(zxid(7, 900));
    expect(m.size).toBe(101);
    expect(m.get(zxid(7, 899))).toBeUndefined();
    expect(m.get(zxid(7, 900))).toBe('v900');
    m.set(zxid(7, 3), 'early'); // below the array's start now: still found
    expect(m.get(zxid(7, 3))).toBe('early');
    expect(m.size).toBe(102);
  });

  it('clear drops every value, near and far, and the map then fills again as a new one', () => {
    const m = new ZxidMap<string>();
    for (let c = 1; c <= 50; c++) m.set(zxid(2, c), `a${c}`);
    m.set(zxid(2, MAX_COUNTER), 'far');
    m.set(zxid(3, 1), 'b1');
    expect(m.get(zxid(3, 1))).toBe('b1'); // the slab looked up last
    m.clear();
    expect(m.size).toBe(0);
    expect(contents(m as unknown as ZxidMap<number>)).toEqual([]);
    for (const x of [zxid(2, 1), zxid(2, 50), zxid(2, MAX_COUNTER), zxid(3, 1)]) expect(m.has(x)).toBe(false);
    m.set(zxid(3, 1), 'again');
    m.set(zxid(2, 7), 'seven');
    expect(m.size).toBe(2);
    expect(m.get(zxid(3, 1))).toBe('again');
    expect(m.get(zxid(2, 7))).toBe('seven');
    expect(m.get(zxid(2, 6))).toBeUndefined();
  });
});

describe('ZxidSet', () => {
  it('adds, answers and drops as a Set does', () => {
    const s = new ZxidSet();
    const zs = [zxid(1, 1), zxid(1, 2), zxid(1, 9), zxid(2, 1), zxid(2, MAX_COUNTER)];
    for (const x of zs) s.add(x);
    s.add(zxid(1, 2));
    expect(s.size).toBe(5);
    for (const x of zs) expect(s.has(x)).toBe(true);
    expect(s.has(zxid(1, 3))).toBe(false);
    s.dropBelow(zxid(2, 0));
    expect(s.size).toBe(2);
    expect(s.has(zxid(1, 9))).toBe(false);
    expect(s.has(zxid(2, MAX_COUNTER))).toBe(true);
    s.clear();
    expect(s.size).toBe(0);
    expect(s.has(zxid(2, MAX_COUNTER))).toBe(false);
  });
});
