/**
 * Fast Leader Election (src/protocol/election.ts, zab-protocol.md §3): rules no test had told
 * apart, found as surviving mutants of `npx stryker run --mutate src/protocol/election.ts`
 * (docs/checkers.md, "Mutation testing"). The ensemble is voters s1..s5 and observer s6, as in
 * election.test.ts; s3 has log <1,1>,<1,2> and currentEpoch 1.
 */
import { writeStep } from '../../src/protocol/cow.ts';
import { describe, expect, it } from 'vitest';
import { makeClusterConfig } from '../../src/protocol/config.ts';
import type { StepContext } from '../../src/protocol/context.ts';
import { EMPTY_TREE } from '../../src/protocol/datatree.ts';
import { onFinalizeTimeout, TIMER_FINALIZE, TIMER_POLL } from '../../src/protocol/election.ts';
import { TIMER_OBSERVER_DELAY } from '../../src/protocol/peer.ts';
import { ZXID_NONE } from '../../src/protocol/zxid.ts';
import { image, Node, note, z } from './driver.ts';

const cfg = makeClusterConfig(5, 1);
const OBS = 6;
const BETTER = { leader: 5, zxid: z(1, 5), peerEpoch: 1 };
const looking = (v: typeof BETTER, round: number) => note('LOOKING', v.leader, v.zxid, round, v.peerEpoch);
const s3 = () => Node.start(cfg, 3, image([z(1, 1), z(1, 2)], 1));

/** The observer elected s5, lost it, and is in its pre-election delay again: notifications queue. */
function observerBackInDelay(): Node {
  const o = Node.start(cfg, OBS, image([z(1, 1), z(1, 9)], 1));
  o.nFrom([1, 2, 5], looking(BETTER, 3));
  o.timer(TIMER_FINALIZE);
  o.msg(5, { type: 'LEADERINFO', zxid: z(1, 0) });
  o.feed({ kind: 'disconnected', peer: 5 });
  return o;
}

describe('§3.4 an observer\'s notifications queued during its pre-election delay', () => {
  it('are processed in arrival order when the round starts, and the one that completes a quorum ends the election there', () => {
    const o = observerBackInDelay();
    expect(o.state.fle.running).toBe(false);
    // The ensemble has a leader again (s5, round 4): two followers and the leader say so.
    o.n(1, note('FOLLOWING', 5, z(2, 2), 4, 2));
    o.n(5, note('LEADING', 5, z(2, 2), 4, 2));
    o.n(2, note('FOLLOWING', 5, z(2, 2), 4, 2));
    expect(o.state.fle.queued).toHaveLength(3);
    o.timer(TIMER_OBSERVER_DELAY);
    // Queued 1 and 2 leave no quorum (s1, s5); the third makes s1, s2, s5 with s5 LEADING.
    expect(o.state.state).toBe('OBSERVING');
    expect(o.state.currentVote).toEqual({ leader: 5, zxid: z(2, 2), electionEpoch: 4, peerEpoch: 2 });
    expect(o.state.learner?.leader).toBe(5);
  });

  it('a decision by an earlier queued notification ends the round: the later ones are not processed', () => {
    const o = observerBackInDelay();
    o.n(1, note('FOLLOWING', 5, z(2, 2), 4, 2));
    o.n(2, note('FOLLOWING', 5, z(2, 2), 4, 2));
    o.n(5, note('LEADING', 5, z(2, 2), 4, 2));
    // Queued after the deciding one: a LOOKING vote of a later round that the round would adopt.
    o.n(4, note('LOOKING', 4, z(3, 9), 9, 3));
    o.timer(TIMER_OBSERVER_DELAY);
    expect(o.state.state).toBe('OBSERVING');
    expect(o.state.fle.logicalclock).toBe(4);
    expect(o.state.currentVote.leader).toBe(5);
  });
});

describe('§3.3 ZOOKEEPER-261: a zxid of -1 takes no part in the election, and the server says why', () => {
  it('a notification carrying zxid -1', () => {
    const n = s3();
    n.n(4, note('LOOKING', 4, ZXID_NONE, 5, 9));
    expect(n.notes()).toEqual(['ignored notification from s4: its zxid is -1 (ZOOKEEPER-261)']);
  });

  it('my own zxid -1', () => {
    const n = Node.start(cfg, 3, image([], 0, { snapshots: [{ zxid: ZXID_NONE, data: EMPTY_TREE }] }));
    n.n(4, looking(BETTER, 5));
    expect(n.notes()).toEqual(['ignored notification: my zxid is -1 (ZOOKEEPER-261)']);
  });
});

describe('§3.3 step 6: a quorum for my vote starts finalizeWait in place of the notTimeout poll', () => {
  it('the step that completes the quorum cancels the poll and arms only the finalize timer', () => {
    const n = s3();
    n.n(4, looking(BETTER, 1));
    n.n(5, looking(BETTER, 1));
    expect(n.state.fle.finalizing).toBe(false);
    expect(n.timersSet(TIMER_POLL)).toHaveLength(1);
    n.n(3, looking(BETTER, 1));
    expect(n.state.fle.finalizing).toBe(true);
    expect(n.timersCancelled()).toContain(TIMER_POLL);
    expect(n.effects.filter((e) => e.kind === 'setTimer')).toEqual([{ kind: 'setTimer', timer: TIMER_FINALIZE, delayMs: cfg.params.finalizeWaitMs }]);
  });
});

describe('§3.3 the notification that ends the election leaves no poll armed', () => {
  // lookForLeader returns once a leader is decided: its recvqueue.poll(notTimeout) loop is over.
  it('s3 learns s5 leads round 1 (two FOLLOWING, one LEADING): the poll is cancelled and not re-armed in that step', () => {
    const n = s3();
    n.n(1, note('FOLLOWING', 5, z(1, 5), 1, 1));
    n.n(2, note('FOLLOWING', 5, z(1, 5), 1, 1));
    expect(n.timersSet(TIMER_POLL)).toHaveLength(1);
    n.n(5, note('LEADING', 5, z(1, 5), 1, 1));
    expect(n.state.state).toBe('FOLLOWING');
    expect(n.timersCancelled()).toContain(TIMER_POLL);
    expect(n.timersSet(TIMER_POLL)).toEqual([]);
  });
});

describe('§3.3 Vote.equals with a LOOKING side compares all four fields', () => {
  // lookForLeader's LOOKING branch counts recvset entries equal to new Vote(proposedLeader,
  // proposedZxid, logicalclock, proposedEpoch), a LOOKING vote: a same-round FOLLOWING entry for
  // the same leader with another zxid does not count toward it.
  it('same-round FOLLOWING votes for my leader with another zxid do not make a quorum for my proposal', () => {
    const n = s3();
    n.n(1, note('FOLLOWING', 5, z(1, 7), 1, 1));
    n.n(2, note('FOLLOWING', 5, z(1, 7), 1, 1));
    n.n(4, looking(BETTER, 1));
    expect(n.proposal()).toEqual({ ...BETTER, round: 1 });
    // recvset: s1, s2 FOLLOWING (5, <1,7>); s4 LOOKING (5, <1,5>): one vote equals mine.
    expect(n.state.fle.finalizing).toBe(false);
    n.n(5, looking(BETTER, 1));
    n.n(3, looking(BETTER, 1));
    expect(n.state.fle.finalizing).toBe(true);
  });
});

describe('§3.3 the finalize timer after the round was left', () => {
  it('decides nothing once the round is no longer running (leaveInstance), finalizing or not', () => {
    const n = s3();
    const ctx: StepContext = { cfg, sid: 3, effects: [], probe: null, owned: [] };
    let out: unknown = 'unset';
    writeStep(ctx, n.state, (d) => {
      d.fle = { ...d.fle, running: false, finalizing: true };
      out = onFinalizeTimeout(d, ctx);
    });
    expect(out).toBeNull();
    expect(ctx.effects).toEqual([]);
  });
});
