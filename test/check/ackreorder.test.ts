/**
 * The ACK-reorder fault (issue 12 §2): reordering only the ACKs from learners to the leader makes
 * a commit-order bug observable. The bug is a mutant of Leader.tryToCommit made here (vi.mock):
 * a proposal that reaches a quorum commits at once, ahead of older proposals still waiting. Over
 * FIFO links every follower ACKs in zxid order, so a later proposal never has a quorum before an
 * earlier one and the mutant is invisible; with --ack-reorder exploration catches it.
 */
import { setStateFreezing } from '../../src/protocol/cow.ts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isQuorum, isVoter } from '../../src/protocol/config.ts';
import { Fifo } from '../../src/protocol/fifo.ts';
import type { Proposal } from '../../src/protocol/types.ts';
import { counterOf } from '../../src/protocol/zxid.ts';
import { explore } from '../../src/run/explore.ts';
import { settings } from '../../src/run/settings.ts';
import { budget } from '../budget.ts';

const mutant = vi.hoisted(() => ({ on: false, fired: 0 }));

vi.mock('../../src/protocol/broadcast.ts', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../src/protocol/broadcast.ts')>();
  const processAck: typeof orig.processAck = (s, ctx, sid, z) => {
    const l = s.leader;
    if (mutant.on && l !== null && counterOf(z) !== 0 && isVoter(ctx.cfg, sid)) {
      const items = l.outstanding.items;
      const i = items.findIndex((p) => p.zxid === z);
      const head = items[0];
      const p = items[i];
      if (i > 0 && head !== undefined && p !== undefined) {
        const acks = p.acks.includes(sid) ? p.acks : [...p.acks, sid];
        if (isQuorum(ctx.cfg, acks.length) && !isQuorum(ctx.cfg, head.acks.length)) {
          // The mutant: the proposal with a quorum moves to the head and commits now.
          mutant.fired++;
          l.outstanding = new Fifo<Proposal>([{ ...p, acks }, ...items.filter((_, k) => k !== i)]);
        }
      }
    }
    orig.processAck(s, ctx, sid, z);
  };
  return { ...orig, processAck };
});

/** The commit-order property family: what a commit ahead of an older proposal breaks first. */
const COMMIT_ORDER = ['Agreement', 'TotalOrder', 'Integrity', 'GlobalPrimaryOrder', 'HistoryConsistency', 'MessageLegality'];

describe('the ACK-reorder fault', () => {
  beforeAll(() => setStateFreezing(false));
  afterAll(() => {
    setStateFreezing(true);
    mutant.on = false;
  });

  const SEEDS = budget(20, 200);

  it('without the mutant, exploration with ACKs reordered finds nothing (ZooKeeper commits in zxid order whatever order the ACKs come in)', () => {
    mutant.on = false;
    const s = explore({ from: 1, seeds: SEEDS, overrides: settings({ 'ack-reorder': 0.3, clients: 4, 'ops-per-sec': 40 }), maxFailures: 1 });
    expect(s.failures.map((f) => `${f.seed} ${f.violation?.property ?? f.error}`)).toEqual([]);
  });

  it('the commit-order mutant is caught by exploration with --ack-reorder, and never fires over FIFO links', () => {
    mutant.on = true;
    mutant.fired = 0;
    // The swarm draws ack-reorder for some seeds: 0 here keeps every link FIFO.
    const fifo = explore({ from: 1, seeds: SEEDS, overrides: settings({ 'ack-reorder': 0, clients: 4, 'ops-per-sec': 40 }), maxFailures: 1 });
    expect(fifo.failures).toEqual([]);
    expect(mutant.fired).toBe(0);
    const s = explore({ from: 1, seeds: SEEDS, overrides: settings({ 'ack-reorder': 0.3, clients: 4, 'ops-per-sec': 40 }), maxFailures: 1 });
    mutant.on = false;
    expect(mutant.fired).toBeGreaterThan(0);
    const f = s.failures[0];
    expect(f, 'a failing seed').toBeDefined();
    expect(f?.error).toBeNull();
    expect(COMMIT_ORDER).toContain(f?.violation?.property);
    expect(f?.replay).toBe(`npx zabsim run --seed ${f?.seed} --swarm --ack-reorder 0.3 --clients 4 --ops-per-sec 40 --stop-early`);
  });
});
