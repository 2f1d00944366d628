/**
 * Discovery at the learner (src/protocol/discovery.ts, zab-protocol.md §4.4): rules no test had
 * told apart, found as surviving mutants of `npx stryker run --mutate src/protocol/discovery.ts`
 * (docs/checkers.md, "Mutation testing"):
 *
 * - the LEADERINFO check under ZOOKEEPER-335 (zab-bugs.md B1, flaw `epoch_from_last_logged_zxid`,
 *   ZooKeeper 3.3), which has no acceptedEpoch to compare with: 3.3's Follower.followLeader
 *   refuses only a leader epoch below the epoch of the follower's last logged zxid ("Leader epoch
 *   … is less than our epoch …"). s3 of five voters follows s5; its log is <2,1>,<2,2> with
 *   currentEpoch 2, and its acceptedEpoch is 3 (it acked an epoch 3 whose leader never got to
 *   NEWLEADER). One server's step function is driven through the test driver (driver.ts).
 * - the connect retry (§4.2, Learner.connectToLeader; §9 connectToLearnerMasterLimit): a retry that
 *   comes due after the leader has answered does nothing. Only a connection opened meanwhile
 *   lets the leader answer before the retry, and only a scenario's injected FOLLOWERINFO opens
 *   one, so this one is a scenario (docs/scenarios.md, "Crafted messages").
 */
import { describe, expect, it } from 'vitest';
import { makeClusterConfig, type Flaws } from '../../src/protocol/config.ts';
import { TIMER_CONNECT_RETRY } from '../../src/protocol/discovery.ts';
import { TIMER_FINALIZE } from '../../src/protocol/election.ts';
import { parseScenario } from '../../src/scenario/parse.ts';
import { runScenario } from '../../src/scenario/runner.ts';
import { image, Node, note, z } from './driver.ts';
import { excerpt, notes, one, sends } from './harness.ts';

const B1: Partial<Flaws> = { epoch_from_last_logged_zxid: true };

/** s3 (log <2,1>,<2,2>, currentEpoch 2, acceptedEpoch 3) elects s5 and sends it FOLLOWERINFO. */
function s3Following5(flaws: Partial<Flaws>): Node {
  const n = Node.start(makeClusterConfig(5, 0, {}, flaws), 3, image([z(2, 1), z(2, 2)], 2, { acceptedEpoch: 3 }));
  n.nFrom([4, 5, 3], note('LOOKING', 5, z(2, 5), 1, 2));
  n.timer(TIMER_FINALIZE);
  expect(n.state).toMatchObject({ state: 'FOLLOWING', zabState: 'DISCOVERY' });
  expect(n.sends().filter((s) => s.msg.type === 'FOLLOWERINFO')).toEqual([{ kind: 'send', to: 5, msg: { type: 'FOLLOWERINFO', zxid: z(3, 0) } }]);
  return n;
}

const writes = (n: Node) => n.effects.flatMap((e) => (e.kind === 'persist' ? [e.write] : []));

describe('§4.4 LEADERINFO at the learner under ZOOKEEPER-335 (B1, 3.3\'s Follower.followLeader)', () => {
  it('a leader epoch below the epoch of the last logged zxid is refused: "Leader epoch 1 is less than our epoch 2", LOOKING, no ACKEPOCH and nothing written', () => {
    const n = s3Following5(B1);
    n.msg(5, { type: 'LEADERINFO', zxid: z(1, 0) });
    expect(n.notes()[0]).toBe('going LOOKING: Leader epoch 1 is less than our epoch 2');
    expect(n.state).toMatchObject({ state: 'LOOKING', zabState: 'ELECTION', learner: null, acceptedEpoch: 3, currentEpoch: 2 });
    expect(n.sends().filter((s) => s.msg.type === 'ACKEPOCH')).toEqual([]);
    expect(writes(n)).toEqual([]);
    expect(n.effects.filter((e) => e.kind === 'disconnect')).toEqual([{ kind: 'disconnect', peer: 5 }]);
  });

  it('a leader epoch equal to it is taken, though below acceptedEpoch (3.3 had none): ACKEPOCH at once with currentEpoch, nothing written; without the flaw the same LEADERINFO is refused', () => {
    const n = s3Following5(B1);
    n.msg(5, { type: 'LEADERINFO', zxid: z(2, 0) });
    expect(n.sends()).toEqual([{ kind: 'send', to: 5, msg: { type: 'ACKEPOCH', zxid: z(2, 2), currentEpoch: 2 } }]);
    expect(writes(n)).toEqual([]);
    expect(n.state).toMatchObject({ state: 'FOLLOWING', zabState: 'SYNCHRONIZATION', acceptedEpoch: 3, currentEpoch: 2 });
    expect(n.state.learner).toMatchObject({ phase: 'sync', newEpoch: 2, blocked: null });

    // Zab 1.0 (3.4 on): Learner.registerWithLeader compares with acceptedEpoch.
    const fixed = s3Following5({});
    fixed.msg(5, { type: 'LEADERINFO', zxid: z(2, 0) });
    expect(fixed.notes()[0]).toBe('going LOOKING: Leaders epoch, 2 is less than accepted epoch, 3');
    expect(fixed.sends().filter((s) => s.msg.type === 'ACKEPOCH')).toEqual([]);
  });

  it('a leader epoch above acceptedEpoch is still made durable as acceptedEpoch before the ACKEPOCH, which reports the currentEpoch from before (the currentEpoch NEWLEADER writes then never exceeds acceptedEpoch, which §1.1 start-up requires)', () => {
    const n = s3Following5(B1);
    n.msg(5, { type: 'LEADERINFO', zxid: z(4, 0) });
    expect(writes(n)).toEqual([{ op: 'writeEpoch', file: 'acceptedEpoch', value: 4 }]);
    expect(n.sends()).toEqual([]);
    expect(n.state).toMatchObject({ state: 'FOLLOWING', zabState: 'DISCOVERY', acceptedEpoch: 4, currentEpoch: 2 });
    expect(n.state.learner?.blocked?.on).toBe('ackepoch');
    const after = n.flush();
    expect(after.filter((e) => e.kind === 'send')).toEqual([{ kind: 'send', to: 5, msg: { type: 'ACKEPOCH', zxid: z(2, 2), currentEpoch: 2 } }]);
    expect(n.state.learner).toMatchObject({ phase: 'sync', newEpoch: 4, blocked: null });
  });
});

describe('§4.2 connect retries (Learner.connectToLeader: at most 5 tries, 1 s apart)', () => {
  it('a retry that comes due after the leader has answered does nothing: no second FOLLOWERINFO, the learner stays synced', () => {
    // s1's FOLLOWERINFO is lost at 1 s (both ends get a CLOSE): s1 will retry at 2005 ms. Before
    // that, a FOLLOWERINFO injected as s1's opens a new connection, and s3 (leading with s2 since
    // about 0.2 s) answers on it: LEADERINFO, then the sync, and s1 serves from 1136 ms.
    const text = [
      'scenario retry-after-answer',
      'title a pending connect retry after the leader answered',
      'story s1 follows s3; its FOLLOWERINFO is lost, and a new connection opens before the retry.',
      'outcome the retry does nothing.',
      'servers 3',
      'delay 5',
      'fsync 2',
      'hold FOLLOWERINFO from s1 to s3',
      'start',
      'run 1s',
      'drop FOLLOWERINFO from s1',
      'release FOLLOWERINFO from s1 to s3',
      'run 100ms',
      'inject s1 -> s3 FOLLOWERINFO <0,0>',
      'run 2s',
      'expect s1 follows s3',
    ].join('\n');
    const r = runScenario(parseScenario(text, 'retry-after-answer.scenario'));
    expect(r.failure).toBeNull();
    const why = excerpt(r.trace);
    expect(one(notes(r.trace, 1, /refused or reset/), 'the lost FOLLOWERINFO').text).toBe('connection to leader s3 refused or reset; attempt 2 of 5 in 1000 ms');
    const retry = one(
      r.trace.filter((e) => e.type === 'timer' && e.sid === 1 && e.timer === TIMER_CONNECT_RETRY),
      'the retry timer',
    );
    expect(retry.t, why).toBe(2005);
    expect(r.trace.filter((e) => e.type === 'state' && e.sid === 1).at(-1), why).toMatchObject({ t: 1136, state: 'FOLLOWING', zabState: 'BROADCAST', leader: 3 });
    // The lost one and the injected one: the retry sends none.
    expect(sends(r.trace, 'FOLLOWERINFO', 1).map((e) => e.t), why).toEqual([210, 1100]);
    expect(r.sim.server(1).state.learner).toMatchObject({ connected: true, connectTries: 1, phase: 'broadcast' });
    expect(r.sim.server(3).state.leader?.learners[1]?.stage, why).toBe('broadcast');
  });
});
