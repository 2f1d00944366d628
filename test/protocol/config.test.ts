/**
 * The cluster configuration (src/protocol/config.ts): voters s1..sN, observers after them, and a
 * clear refusal of a voter count no ensemble can have (a QuorumMaj needs at least one voter).
 */
import { describe, expect, it } from 'vitest';
import { allServers, DEFAULT_PARAMS, isQuorum, isVoter, makeClusterConfig, NO_FLAWS } from '../../src/protocol/config.ts';

describe('makeClusterConfig', () => {
  it('numbers the voters 1..N and the observers after them, over the defaults', () => {
    const cfg = makeClusterConfig(3, 2, { tickTimeMs: 500 }, { newleader_no_epoch_marker: true });
    expect(cfg.voters).toEqual([1, 2, 3]);
    expect(cfg.observers).toEqual([4, 5]);
    expect(allServers(cfg)).toEqual([1, 2, 3, 4, 5]);
    expect(cfg.params).toEqual({ ...DEFAULT_PARAMS, tickTimeMs: 500 });
    expect(cfg.flaws).toEqual({ ...NO_FLAWS, newleader_no_epoch_marker: true });
    expect([1, 3, 4, 0, 1.5].map((s) => isVoter(cfg, s))).toEqual([true, true, false, false, false]);
    expect([1, 2].map((n) => isQuorum(cfg, n))).toEqual([false, true]);
    expect(makeClusterConfig(1).voters).toEqual([1]);
  });

  it('refuses a voter count that is not a positive whole number, naming it', () => {
    for (const n of [0, -1, 2.5, Number.NaN]) expect(() => makeClusterConfig(n)).toThrow(`makeClusterConfig: voterCount must be a positive integer, got ${n}`);
  });
});
