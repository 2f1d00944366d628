/**
 * Storage failures (issue 13 §2; docs/protocol.md "Storage faults"). A TRUNC whose truncate fails
 * is fatal (zab-bugs.md S20, ZOOKEEPER-3701): Learner.syncWithLeader (3.9) logs "Not able to
 * truncate the log" and exits the process (ServiceUtils.requestSystemExit) instead of carrying on
 * with the tail it was told to drop. The other storage faults are in storage-faults.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { zxid } from '../../src/protocol/zxid.ts';
import { boot, durableZxids, excerpt, leaderOf, log, one, sends } from './harness.ts';

/**
 * s1 and s2 hold <1,1> and are in epoch 2; s3 holds <1,1> <1,2>, never committed, in epoch 1. s2
 * wins (epoch 2, then sid) and sends s3 TRUNC to <1,1> (rule 2: past maxCommittedLog).
 */
function staleFollower(): ReturnType<typeof boot> {
  const fresh = { log: log([1, 1]), acceptedEpoch: 2, currentEpoch: 2 };
  return boot({ voters: 3, images: { 1: fresh, 2: fresh, 3: { log: log([1, 1], [1, 2]), acceptedEpoch: 1, currentEpoch: 1 } } });
}

describe('storage failures', () => {
  it('§5.2 TRUNC whose truncate fails halts the learner ("Not able to truncate the log"); its log keeps the tail; after a restart the next TRUNC works', () => {
    const { sim, trace } = staleFollower();
    sim.failNextWrite(3, 'truncateLog');
    sim.runUntil(1000);
    expect(leaderOf(sim), excerpt(trace)).toBe(2);
    expect(one(sends(trace, 'TRUNC', 2, 3), 'TRUNC').msg.zxid).toBe(zxid(1, 1));
    const fail = one(trace.filter((e) => e.type === 'diskfail'), 'diskfail');
    expect(fail).toMatchObject({ sid: 3, write: { op: 'truncateLog', zxid: zxid(1, 1) } });
    const halt = one(trace.filter((e) => e.type === 'halt'), 'halt');
    expect(halt).toMatchObject({ sid: 3, reason: 'Not able to truncate the log to <1,1>' });
    expect(halt.i).toBeGreaterThan(fail.i);
    expect(sim.server(3).up).toBe(false);
    // The failed truncate changed nothing on disk, and s3 never acknowledged the new leader.
    expect(durableZxids(sim, 3)).toEqual([zxid(1, 1), zxid(1, 2)]);
    expect(sends(trace, 'ACK', 3, 2)).toEqual([]);
    sim.start(3);
    sim.runUntil(40_000);
    expect(sim.server(3).state).toMatchObject({ state: 'FOLLOWING', zabState: 'BROADCAST' });
    expect(durableZxids(sim, 3)).toEqual([zxid(1, 1)]);
    expect(sends(trace, 'TRUNC', 2, 3)).toHaveLength(2);
  });

});
