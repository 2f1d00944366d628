import { describe, expect, it } from 'vitest';
import { drawMs, Rng, RngRoot, type DelayDist } from '../../src/sim/rng.ts';

function take(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.next());
}

describe('Rng and RngRoot', () => {
  it('the same seed and stream name give the same sequence', () => {
    const a = new RngRoot(42).stream('network');
    const b = new RngRoot(42).stream('network');
    expect(take(a, 200)).toEqual(take(b, 200));
  });

  it('different seeds, or different names of one seed, give different sequences', () => {
    const base = take(new RngRoot(42).stream('network'), 20);
    expect(take(new RngRoot(43).stream('network'), 20)).not.toEqual(base);
    expect(take(new RngRoot(42).stream('disk'), 20)).not.toEqual(base);
  });

  it('stream() returns the same live stream on each call (it does not restart it)', () => {
    const root = new RngRoot(7);
    const first = root.stream('timers').next();
    const second = root.stream('timers').next();
    const fresh = take(new RngRoot(7).stream('timers'), 2);
    expect([first, second]).toEqual(fresh);
  });

  it('named streams are independent: heavy use of disk does not change network', () => {
    const quiet = new RngRoot(99);
    const expected = take(quiet.stream('network'), 100);

    const busy = new RngRoot(99);
    const net = busy.stream('network');
    const disk = busy.stream('disk');
    const got: number[] = [];
    // Interleave: draw from network, then a burst from disk (and others), repeatedly.
    for (let k = 0; k < 100; k++) {
      got.push(net.next());
      for (let j = 0; j < 37; j++) disk.next();
      busy.stream('crashes').int(0, 1000);
    }
    expect(got).toEqual(expected);
  });

  it('int(lo, hi) stays in [lo, hi] and hits both ends', () => {
    const rng = new Rng('int-bounds');
    for (const [lo, hi] of [
      [0, 1],
      [1, 6],
      [-3, 3],
      [5, 5],
    ] as const) {
      const seen = new Set<number>();
      for (let k = 0; k < 2000; k++) {
        const x = rng.int(lo, hi);
        expect(Number.isInteger(x)).toBe(true);
        expect(x).toBeGreaterThanOrEqual(lo);
        expect(x).toBeLessThanOrEqual(hi);
        seen.add(x);
      }
      // Every value of the inclusive range occurs, in particular both bounds.
      expect(seen.size).toBe(hi - lo + 1);
      expect(seen.has(lo) && seen.has(hi)).toBe(true);
    }
  });

  it('int() throws on an empty range', () => {
    expect(() => new Rng('x').int(3, 2)).toThrow(/empty range/);
  });

  it('chance() is never true for p <= 0 and always true for p >= 1', () => {
    const rng = new Rng('chance');
    for (let k = 0; k < 1000; k++) {
      expect(rng.chance(0)).toBe(false);
      expect(rng.chance(-1)).toBe(false);
      expect(rng.chance(1)).toBe(true);
    }
  });

  it('exponentialMs returns whole milliseconds >= 1 with roughly the given mean', () => {
    const rng = new Rng('exp');
    let sum = 0;
    const n = 20_000;
    for (let k = 0; k < n; k++) {
      const x = rng.exponentialMs(50);
      expect(Number.isInteger(x)).toBe(true);
      expect(x).toBeGreaterThanOrEqual(1);
      sum += x;
    }
    // ceil() adds about 0.5 on average; allow a few percent of sampling noise.
    expect(sum / n).toBeGreaterThan(48);
    expect(sum / n).toBeLessThan(53);
  });

  describe('drawMs stays in bounds for each DelayDist kind', () => {
    const cases: [string, DelayDist, number, number][] = [
      ['uniform 1..10', { kind: 'uniform', minMs: 1, maxMs: 10 }, 1, 10],
      ['uniform 0..1', { kind: 'uniform', minMs: 0, maxMs: 1 }, 0, 1],
      ['uniform 7..7', { kind: 'uniform', minMs: 7, maxMs: 7 }, 7, 7],
      ['exponential min 1 mean 5', { kind: 'exponential', minMs: 1, meanMs: 5 }, 1, Infinity],
      ['exponential min 20 mean 30', { kind: 'exponential', minMs: 20, meanMs: 30 }, 20, Infinity],
      ['constant 5', { kind: 'constant', ms: 5 }, 5, 5],
      ['constant 0', { kind: 'constant', ms: 0 }, 0, 0],
    ];
    for (const [name, dist, lo, hi] of cases) {
      it(name, () => {
        const rng = new Rng(`drawMs/${name}`);
        let min = Infinity;
        let max = -Infinity;
        for (let k = 0; k < 5000; k++) {
          const x = drawMs(rng, dist);
          expect(Number.isInteger(x)).toBe(true);
          min = Math.min(min, x);
          max = Math.max(max, x);
        }
        expect(min).toBeGreaterThanOrEqual(lo);
        expect(max).toBeLessThanOrEqual(hi);
        // Bounded kinds reach both ends; the exponential reaches its minimum.
        expect(min).toBe(lo);
        if (hi !== Infinity) expect(max).toBe(hi);
        else expect(max).toBeGreaterThan(lo);
      });
    }
  });

  it('an exponential delay has the stated overall mean, and a mean below its minimum is refused', () => {
    const rng = new Rng('drawMs/exp-mean');
    const dist: DelayDist = { kind: 'exponential', minMs: 20, meanMs: 30 };
    let sum = 0;
    const n = 20_000;
    for (let k = 0; k < n; k++) sum += drawMs(rng, dist);
    expect(sum / n).toBeGreaterThan(29);
    expect(sum / n).toBeLessThan(31);
    expect(() => drawMs(rng, { kind: 'exponential', minMs: 20, meanMs: 3 })).toThrow(/below min/);
  });
});
