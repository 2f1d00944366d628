import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeClusterConfig } from '../../src/protocol/config.ts';
import type { PeerStateName, StoredVote } from '../../src/protocol/types.ts';
import { hasQuorumFor, totalOrderPredicate, voteEquals } from '../../src/protocol/vote.ts';
import { MIN_VALUE, zxid } from '../../src/protocol/zxid.ts';

const cfg = makeClusterConfig(5, 2); // voters s1..s5, observers s6, s7
const flawed = makeClusterConfig(5, 0, {}, { fle_epoch_unguarded_sid_tiebreak: true });

/** A candidate as (peerEpoch, zxid, sid), the order's key. */
type Cand = readonly [epoch: number, z: number, sid: number];

function beats(c: typeof cfg, a: Cand, b: Cand): boolean {
  return totalOrderPredicate(c, a[2], a[1], a[0], b[2], b[1], b[0]);
}

function lexGreater(a: Cand, b: Cand): boolean {
  for (let i = 0; i < 3; i++) {
    if ((a[i] as number) !== (b[i] as number)) return (a[i] as number) > (b[i] as number);
  }
  return false;
}

const epochArb = fc.integer({ min: 0, max: 4 });
const zxidArb = fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 })).map(([e, c]) => zxid(e, c));
const voterArb = fc.integer({ min: 1, max: 5 });
/** Small domains so that ties on each component are frequent. */
const candArb: fc.Arbitrary<Cand> = fc.tuple(epochArb, zxidArb, voterArb);

describe('totalOrderPredicate (§3.1)', () => {
  it('§3.1 a higher peerEpoch wins whatever the zxid and sid', () => {
    expect(beats(cfg, [2, zxid(1, 1), 1], [1, zxid(1, 9), 5])).toBe(true);
    expect(beats(cfg, [1, zxid(1, 9), 5], [2, zxid(1, 1), 1])).toBe(false);
  });

  it('§3.1 with equal epochs a higher zxid wins whatever the sid', () => {
    expect(beats(cfg, [1, zxid(1, 3), 1], [1, zxid(1, 2), 5])).toBe(true);
    expect(beats(cfg, [1, zxid(1, 2), 5], [1, zxid(1, 3), 1])).toBe(false);
  });

  it('§3.1 with equal epochs and zxids the higher sid wins', () => {
    expect(beats(cfg, [1, zxid(1, 3), 4], [1, zxid(1, 3), 2])).toBe(true);
    expect(beats(cfg, [1, zxid(1, 3), 2], [1, zxid(1, 3), 4])).toBe(false);
  });

  it('§3.1 a vote never beats itself', () => {
    expect(beats(cfg, [1, zxid(1, 3), 4], [1, zxid(1, 3), 4])).toBe(false);
  });

  it('§3.1 is exactly lexicographic on (peerEpoch, zxid, sid) among voters', () => {
    fc.assert(
      fc.property(candArb, candArb, (a, b) => {
        expect(beats(cfg, a, b)).toBe(lexGreater(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it('§3.1 an observer candidate (weight 0) never wins, however new its vote', () => {
    for (const obs of cfg.observers) {
      expect(beats(cfg, [99, zxid(99, 99), obs], [0, 0, 1])).toBe(false);
      expect(beats(cfg, [99, zxid(99, 99), obs], [MIN_VALUE, MIN_VALUE, MIN_VALUE])).toBe(false);
    }
    // Nor do sids outside the ensemble, nor the observer's MIN_VALUE vote.
    expect(beats(cfg, [99, zxid(99, 99), 42], [0, 0, 1])).toBe(false);
    expect(beats(cfg, [MIN_VALUE, MIN_VALUE, MIN_VALUE], [MIN_VALUE, MIN_VALUE, MIN_VALUE])).toBe(false);
    // Any voter beats an observer's initial vote.
    expect(beats(cfg, [0, 0, 1], [MIN_VALUE, MIN_VALUE, MIN_VALUE])).toBe(true);
  });

  it('§3.1 is a strict total order over voter candidates: irreflexive, antisymmetric, total, transitive', () => {
    fc.assert(
      fc.property(candArb, candArb, candArb, (a, b, c) => {
        expect(beats(cfg, a, a)).toBe(false);
        // Antisymmetry: never both ways.
        expect(beats(cfg, a, b) && beats(cfg, b, a)).toBe(false);
        // Totality: distinct candidates are always ordered.
        const same = a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
        if (!same) expect(beats(cfg, a, b) || beats(cfg, b, a)).toBe(true);
        // Transitivity.
        if (beats(cfg, a, b) && beats(cfg, b, c)) expect(beats(cfg, a, c)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('§3.1 flaw ZOOKEEPER-1419: (epoch 1, z, s5) and (epoch 2, z, s2) each beat the other', () => {
    const z = zxid(1, 7);
    const a: Cand = [1, z, 5];
    const b: Cand = [2, z, 2];
    expect(beats(flawed, a, b)).toBe(true);
    expect(beats(flawed, b, a)).toBe(true);
    // The correct order has only b > a.
    expect(beats(cfg, a, b)).toBe(false);
    expect(beats(cfg, b, a)).toBe(true);
  });

  it('§3.1 flaw ZOOKEEPER-1419 differs from the correct order only by the unguarded sid tie-break', () => {
    fc.assert(
      fc.property(candArb, candArb, (a, b) => {
        const bug = beats(flawed, a, b);
        const ok = beats(cfg, a, b);
        if (bug !== ok) {
          // Only when zxids tie, the sid is higher and the epoch lower.
          expect(bug).toBe(true);
          expect(a[1]).toBe(b[1]);
          expect(a[2]).toBeGreaterThan(b[2]);
          expect(a[0]).toBeLessThan(b[0]);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

function sv(state: PeerStateName, version: number, leader: number, z: number, round: number, peerEpoch: number): StoredVote {
  return { state, version, leader, zxid: z, electionEpoch: round, peerEpoch };
}

describe('voteEquals (§3.3)', () => {
  it('§3.3 when either side is LOOKING all four fields must match', () => {
    const base = sv('LOOKING', 0, 3, zxid(1, 2), 4, 1);
    expect(voteEquals(base, sv('LOOKING', 0, 3, zxid(1, 2), 4, 1))).toBe(true);
    expect(voteEquals(base, sv('FOLLOWING', 2, 3, zxid(1, 2), 4, 1))).toBe(true);
    expect(voteEquals(sv('FOLLOWING', 2, 3, zxid(1, 2), 4, 1), base)).toBe(true);
    for (const other of [
      sv('LOOKING', 0, 2, zxid(1, 2), 4, 1),
      sv('LOOKING', 0, 3, zxid(1, 3), 4, 1),
      sv('LOOKING', 0, 3, zxid(1, 2), 5, 1),
      sv('LOOKING', 0, 3, zxid(1, 2), 4, 2),
      sv('LEADING', 2, 3, zxid(1, 3), 4, 1),
      sv('FOLLOWING', 0, 3, zxid(1, 2), 5, 1),
    ]) {
      expect(voteEquals(base, other)).toBe(false);
      expect(voteEquals(other, base)).toBe(false);
    }
  });

  it('§3.3 non-LOOKING votes with exactly one side at version 0 compare the leader id only', () => {
    const v0 = sv('FOLLOWING', 0, 3, zxid(1, 2), 4, 1);
    expect(voteEquals(v0, sv('LEADING', 2, 3, zxid(7, 7), 9, 8))).toBe(true);
    expect(voteEquals(sv('LEADING', 2, 3, zxid(7, 7), 9, 8), v0)).toBe(true);
    expect(voteEquals(v0, sv('LEADING', 2, 4, zxid(1, 2), 4, 1))).toBe(false);
  });

  it('§3.3 non-LOOKING votes with both versions > 0 compare leader id and peerEpoch', () => {
    const a = sv('FOLLOWING', 2, 3, zxid(1, 2), 4, 1);
    expect(voteEquals(a, sv('LEADING', 2, 3, zxid(5, 5), 9, 1))).toBe(true);
    expect(voteEquals(a, sv('FOLLOWING', 1, 3, zxid(1, 2), 4, 2))).toBe(false);
    expect(voteEquals(a, sv('FOLLOWING', 2, 4, zxid(1, 2), 4, 1))).toBe(false);
  });

  it('§3.3 non-LOOKING votes with both versions 0 also compare leader id and peerEpoch', () => {
    const a = sv('FOLLOWING', 0, 3, zxid(1, 2), 4, 1);
    expect(voteEquals(a, sv('LEADING', 0, 3, zxid(5, 5), 9, 1))).toBe(true);
    expect(voteEquals(a, sv('LEADING', 0, 3, zxid(1, 2), 4, 2))).toBe(false);
  });

  it('§3.3 is symmetric', () => {
    const state = fc.constantFrom<PeerStateName>('LOOKING', 'FOLLOWING', 'LEADING');
    const vote = fc.tuple(state, fc.constantFrom(0, 2), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }));
    fc.assert(
      fc.property(vote, vote, (a, b) => {
        expect(voteEquals(sv(...a), sv(...b))).toBe(voteEquals(sv(...b), sv(...a)));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('hasQuorumFor (§3.4)', () => {
  const target = sv('LOOKING', 2, 5, zxid(1, 1), 1, 1);
  const match = sv('LOOKING', 0, 5, zxid(1, 1), 1, 1);

  it('§3.4 counts a strict majority of voters', () => {
    expect(hasQuorumFor(cfg, { 1: match, 2: match }, target)).toBe(false);
    expect(hasQuorumFor(cfg, { 1: match, 2: match, 3: match }, target)).toBe(true);
    const four = makeClusterConfig(4);
    expect(hasQuorumFor(four, { 1: match, 2: match }, target)).toBe(false);
    expect(hasQuorumFor(four, { 1: match, 2: match, 4: match }, target)).toBe(true);
  });

  it('§3.4 observers and non-matching votes do not count', () => {
    const other = sv('LOOKING', 0, 4, zxid(1, 1), 1, 1);
    expect(hasQuorumFor(cfg, { 1: match, 2: match, 6: match, 7: match }, target)).toBe(false);
    expect(hasQuorumFor(cfg, { 1: match, 2: match, 3: other }, target)).toBe(false);
  });
});
