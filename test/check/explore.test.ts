/**
 * The checkers have teeth (issue 4 §6): swarm exploration finds each reintroduced ZooKeeper bug
 * within a fixed seed budget and names the right property, and finds nothing with every flaw off
 * over a larger budget. Seeds, budgets and the numbers measured are in docs/checkers.md.
 */
import { setAutoFreeze } from 'immer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explore } from '../../src/cli/explore.ts';
import type { FlagValue } from '../../src/cli/args.ts';
import { budget } from '../budget.ts';

/** Seeds with every flaw off: 10x the flaw budget below, 20x under test:deep. */
const CLEAN_SEEDS = budget(200, 2000);

/** "A committed txn is lost": the properties that catch it first, depending on the interleaving. */
const COMMITTED_TXN_LOST = ['CommittedNeverLost', 'TruncSafety', 'CommittedDurability'];

function firstFailure(flaw: string | null, seeds: number): { seed: number; property: string; replay: string } | null {
  const overrides = new Map<string, FlagValue>(flaw === null ? [] : [['flaw', [flaw]]]);
  const s = explore({ from: 1, seeds, overrides, maxFailures: 1 });
  const f = s.failures[0];
  return f === undefined ? null : { seed: f.seed, property: f.violation?.property ?? '?', replay: f.replay };
}

describe('exploration finds the reintroduced bugs', () => {
  beforeAll(() => setAutoFreeze(false));
  afterAll(() => setAutoFreeze(true));

  it('ZOOKEEPER-3911 (follower ACKs NEWLEADER before the synced txns are durable): an establishment on ACKs no disk backed, within 100 seeds', () => {
    // Establishment judges each NEWLEADER ACK against the learner's disk when it left, so the
    // flaw shows at its first sync, before any crash has to turn it into a lost txn.
    const f = firstFailure('follower_ack_newleader_before_persist', 100);
    expect(f).not.toBeNull();
    expect(f?.property).toBe('Establishment');
    expect(f?.replay).toBe(`npx zabsim run --seed ${f?.seed} --swarm --flaw follower_ack_newleader_before_persist`);
  });

  it('ZOOKEEPER-4643 (follower writes currentEpoch before the synced txns are durable): a committed txn is lost within 100 seeds', () => {
    const f = firstFailure('follower_epoch_before_log_durable', 100);
    expect(f).not.toBeNull();
    expect(COMMITTED_TXN_LOST).toContain(f?.property);
  });

  it('ZOOKEEPER-1419 (epoch-unguarded sid tie-break): the election never settles (Liveness) within 100 seeds', () => {
    const f = firstFailure('fle_epoch_unguarded_sid_tiebreak', 100);
    expect(f).not.toBeNull();
    expect(f?.property).toBe('Liveness');
  });

  it('ZOOKEEPER-1653/2354 (no updatingEpoch marker, as in ZooKeeper 3.9): the seeds that crash inside the window leave an unloadable image (EpochFileSanity); with the marker they pass', () => {
    for (const seed of [1898, 1962]) {
      const flawed = explore({ from: seed, seeds: 1, overrides: new Map([['flaw', ['newleader_no_epoch_marker']]]), maxFailures: 1 });
      expect(flawed.failures.map((f) => f.violation?.property), `seed ${seed}`).toEqual(['EpochFileSanity']);
      expect(explore({ from: seed, seeds: 1, overrides: new Map(), maxFailures: 1 }).failures, `seed ${seed}`).toEqual([]);
    }
  });

  it(`with every flaw off, ${CLEAN_SEEDS} seeds find nothing`, () => {
    expect(firstFailure(null, CLEAN_SEEDS)).toBeNull();
  });
});
