/**
 * zxids (zab-protocol.md, preamble: epoch in the high 32 bits, counter in the low 32): the
 * encoding, its exact range, and the one printed form. These guards were the surviving mutants of
 * `npm run mutate -- --mutate src/protocol/zxid.ts` (docs/checkers.md, "Mutation testing").
 */
import { describe, expect, it } from 'vitest';
import { counterOf, epochOf, formatLong, formatZxid, MAX_COUNTER, MAX_EPOCH, MIN_VALUE, zxid, ZXID_NONE } from '../../src/protocol/zxid.ts';

describe('zxid encoding (preamble)', () => {
  it('is epoch * 2^32 + counter, ordered as (epoch, counter)', () => {
    expect(zxid(0, 0)).toBe(0);
    expect(zxid(1, 0)).toBe(0x1_0000_0000);
    expect(zxid(1, 5)).toBe(0x1_0000_0005);
    expect(zxid(0, MAX_COUNTER)).toBeLessThan(zxid(1, 0));
    expect(zxid(2, 1)).toBeGreaterThan(zxid(1, MAX_COUNTER));
  });

  it('splits back into its epoch and counter at both ends of the range', () => {
    for (const [e, c] of [[0, 0], [0, MAX_COUNTER], [1, 1], [7, 123456], [MAX_EPOCH, 0], [MAX_EPOCH, MAX_COUNTER]] as const) {
      const z = zxid(e, c);
      expect([epochOf(z), counterOf(z)]).toEqual([e, c]);
    }
  });

  it('accepts the largest exact epoch (2^21 - 1) and counter (2^32 - 1) and stays exact there', () => {
    expect(MAX_EPOCH).toBe(2 ** 21 - 1);
    expect(MAX_COUNTER).toBe(2 ** 32 - 1);
    const top = zxid(MAX_EPOCH, MAX_COUNTER);
    expect(Number.isSafeInteger(top)).toBe(true);
    expect(top - 1).toBe(zxid(MAX_EPOCH, MAX_COUNTER - 1));
  });

  it('refuses an epoch or counter it cannot hold exactly, naming which and the range', () => {
    expect(() => zxid(-1, 0)).toThrow('zxid: epoch -1 out of range 0..2097151');
    expect(() => zxid(MAX_EPOCH + 1, 0)).toThrow('zxid: epoch 2097152 out of range 0..2097151');
    expect(() => zxid(1.5, 0)).toThrow('zxid: epoch 1.5 out of range 0..2097151');
    expect(() => zxid(1, -1)).toThrow('zxid: counter -1 out of range 0..4294967295');
    expect(() => zxid(1, MAX_COUNTER + 1)).toThrow('zxid: counter 4294967296 out of range 0..4294967295');
    expect(() => zxid(1, 0.5)).toThrow('zxid: counter 0.5 out of range 0..4294967295');
  });
});

describe('printing', () => {
  it('prints <epoch,counter>, -1 for no zxid and MIN for Long.MIN_VALUE', () => {
    expect(formatZxid(zxid(3, 14))).toBe('<3,14>');
    expect(formatZxid(zxid(0, 0))).toBe('<0,0>');
    expect(formatZxid(ZXID_NONE)).toBe('-1');
    expect(ZXID_NONE).toBe(-1);
    expect(formatZxid(MIN_VALUE)).toBe('MIN');
    expect(MIN_VALUE).toBeLessThan(ZXID_NONE);
  });

  it('prints an epoch or sid, MIN for Long.MIN_VALUE', () => {
    expect(formatLong(5)).toBe('5');
    expect(formatLong(-1)).toBe('-1');
    expect(formatLong(MIN_VALUE)).toBe('MIN');
  });
});
