/**
 * The flaw switches that reorder the learner's NEWLEADER steps (zab-bugs.md B9, B11; §1.3). Same
 * setup as zab.test.ts's §1.3 DIFF test: s3 alone holds <1,2>, <1,3>, so both followers get DIFF
 * with two PROPOSAL+COMMIT pairs; fsyncs take 10 ms and renames 3 ms so every wait shows.
 */
import { describe, expect, it } from 'vitest';
import type { Flaws, Sid } from '../../src/protocol/config.ts';
import { zxid } from '../../src/protocol/zxid.ts';
import type { TraceEvent } from '../../src/sim/events.ts';
import { boot, delivers, first, leaderOf, log, one, sends, writeSteps } from './harness.ts';

const E1 = { acceptedEpoch: 1, currentEpoch: 1 };

/** The learner's persist and (fully durable) fsync records from NEWLEADER on, and where the ACK(NEWLEADER) falls. */
function learnerWrites(flaws: Partial<Flaws>, sid: Sid): { steps: string[]; ackAt: number } {
  const { sim, trace } = boot({
    voters: 3,
    flaws,
    disk: { fsyncLatency: { kind: 'constant', ms: 10 }, renameLatency: { kind: 'constant', ms: 3 } },
    images: { 1: { ...E1, log: log([1, 1]) }, 2: { ...E1, log: log([1, 1]) }, 3: { ...E1, log: log([1, 1], [1, 2], [1, 3]) } },
  });
  sim.runUntil(1000);
  expect(leaderOf(sim)).toBe(3);
  const newLeader = one(delivers(trace, 'NEWLEADER', 3, sid), 'NEWLEADER');
  const ack = first(sends(trace, 'ACK', sid, 3).filter((e) => e.msg.zxid === zxid(2, 0)), 'ACK(NEWLEADER)');
  const mine = (trace as TraceEvent[]).filter((e) => e.i >= newLeader.i && e.t <= newLeader.t + 100 && 'sid' in e && e.sid === sid);
  return { steps: writeSteps(mine), ackAt: writeSteps(mine.filter((e) => e.i < ack.i)).length };
}

describe('NEWLEADER flaw switches', () => {
  // All off, the full order is zab.test.ts's "§1.3 DIFF with PROPOSAL+COMMIT pairs" (same setup).
  it('ZOOKEEPER-1653/2354 (newleader_no_epoch_marker): the default order without the updatingEpoch marker, as ZooKeeper 3.9 writes it', () => {
    const fixed = learnerWrites({}, 1);
    const flawed = learnerWrites({ newleader_no_epoch_marker: true }, 1);
    const before = fixed.steps.slice(0, fixed.ackAt);
    expect(before[0]).toBe('persist create updatingEpoch');
    expect(before[before.length - 1]).toBe('persist delete updatingEpoch');
    expect(flawed.steps.slice(0, flawed.ackAt)).toEqual(before.filter((x) => !x.endsWith(' updatingEpoch')));
  });

  it('ZOOKEEPER-3911 (follower_ack_newleader_before_persist): the ACK leaves before the synced txns are durable', () => {
    const { steps, ackAt } = learnerWrites({ follower_ack_newleader_before_persist: true }, 1);
    expect(steps.slice(0, ackAt)).toEqual(['persist currentEpoch := 2', 'fsync currentEpoch := 2']);
    expect(steps.slice(ackAt)).toEqual(expect.arrayContaining(['persist appendLog <1,2>', 'persist appendLog <1,3>', 'fsync appendLog <1,2>', 'fsync appendLog <1,3>']));
  });

  it('ZOOKEEPER-4643 (follower_epoch_before_log_durable): currentEpoch is durable before the synced txns are', () => {
    const { steps, ackAt } = learnerWrites({ follower_epoch_before_log_durable: true }, 1);
    expect(steps.slice(0, ackAt)).toEqual(['persist currentEpoch := 2', 'fsync currentEpoch := 2', 'persist appendLog <1,2>', 'persist appendLog <1,3>', 'fsync appendLog <1,2>', 'fsync appendLog <1,3>']);
  });
});
