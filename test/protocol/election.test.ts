/**
 * Fast Leader Election, rule by rule (zab-protocol.md §3), driving one server's pure step
 * function with hand-made notifications and timers. Unless a test says otherwise the ensemble is
 * voters s1..s5 (quorum 3) and observer s6, and the server under test is s3 with log
 * <1,1>,<1,2> and currentEpoch 1, so its initial vote is (s3, <1,2>, epoch 1).
 */
import { describe, expect, it } from 'vitest';
import { isQuorum, makeClusterConfig } from '../../src/protocol/config.ts';
import { EMPTY_TREE } from '../../src/protocol/datatree.ts';
import { TIMER_EPOCH_WAIT } from '../../src/protocol/discovery.ts';
import { NOTIFICATION_VERSION, TIMER_FINALIZE, TIMER_POLL } from '../../src/protocol/election.ts';
import { TIMER_LEARNER_READ, TIMER_PING } from '../../src/protocol/heartbeat.ts';
import { TIMER_OBSERVER_DELAY } from '../../src/protocol/peer.ts';
import { MIN_VALUE, ZXID_NONE } from '../../src/protocol/zxid.ts';
import { image, Node, note, z } from './driver.ts';

const cfg = makeClusterConfig(5, 1);
const VOTERS = [1, 2, 3, 4, 5];
const OBS = 6;

const MY_Z = z(1, 2);
/** s3's initial vote. */
const MINE = { leader: 3, zxid: MY_Z, peerEpoch: 1 };
/** A vote that beats s3's: s5 with a longer epoch-1 log. */
const BETTER = { leader: 5, zxid: z(1, 5), peerEpoch: 1 };
/** A vote that beats BETTER through its epoch. */
const BEST = { leader: 1, zxid: z(1, 1), peerEpoch: 2 };
/** A vote that loses to s3's. */
const WORSE = { leader: 2, zxid: z(1, 1), peerEpoch: 1 };

type V = { leader: number; zxid: number; peerEpoch: number };

function looking(v: V, round: number) {
  return note('LOOKING', v.leader, v.zxid, round, v.peerEpoch);
}

function s3(): Node {
  return Node.start(cfg, 3, image([z(1, 1), MY_Z], 1));
}

/** Drives s3 to the end of round 1 with s5 elected, by finalize. */
function s3Following5(): Node {
  const n = s3();
  n.nFrom([4, 5, 3], looking(BETTER, 1));
  n.timer(TIMER_FINALIZE);
  expect(n.state.state).toBe('FOLLOWING');
  return n;
}

/** s5 with the best log, elected leader of round 1 by finalize. */
function s5Leading(): Node {
  const n = Node.start(cfg, 5, image([z(1, 1), z(1, 5)], 1));
  n.nFrom([5, 4, 3], looking(BETTER, 1));
  n.timer(TIMER_FINALIZE);
  expect(n.state.state).toBe('LEADING');
  return n;
}

function expectBroadcast(n: Node, v: V, round: number, state = 'LOOKING'): void {
  const sent = n.notificationsSent();
  expect(sent.map((s) => s.to)).toEqual(VOTERS);
  for (const s of sent) {
    expect(s.n).toEqual({ type: 'NOTIFICATION', state, leader: v.leader, zxid: v.zxid, electionEpoch: round, peerEpoch: v.peerEpoch, version: NOTIFICATION_VERSION });
  }
}

describe('§3.1 start of a round', () => {
  it('§3.1 new round: logicalclock+1 and vote = (myid, lastLoggedZxid, currentEpoch)', () => {
    const n = s3();
    expect(n.state.up).toBe(true);
    expect(n.state.state).toBe('LOOKING');
    expect(n.state.fle.logicalclock).toBe(1);
    expect(n.proposal()).toEqual({ ...MINE, round: 1 });
    expect(n.state.fle.recvset).toEqual({});
    expect(n.state.fle.notTimeoutMs).toBe(200);
    // currentVote before any decision is the initial vote with no round (-1).
    expect(n.state.currentVote).toEqual({ leader: 3, zxid: MY_Z, electionEpoch: -1, peerEpoch: 1 });
  });

  it('§3.1 a second round after losing the leader increments logicalclock again and restores the initial vote', () => {
    const n = s3Following5();
    n.timer(TIMER_LEARNER_READ);
    expect(n.state.state).toBe('LOOKING');
    expect(n.proposal()).toEqual({ ...MINE, round: 2 });
    expectBroadcast(n, MINE, 2);
  });

  it('§3.1 the vote goes to every voter, itself included, and never to an observer', () => {
    const n = s3();
    expectBroadcast(n, MINE, 1);
    expect(n.sends().some((s) => s.to === OBS)).toBe(false);
    expect(n.timersSet(TIMER_POLL)).toEqual([{ kind: 'setTimer', timer: TIMER_POLL, delayMs: 200 }]);
  });

  it('§3.1 an observer votes Long.MIN_VALUE for id, zxid and epoch, and does not send to itself', () => {
    const o = Node.start(cfg, OBS, image([z(1, 1), z(1, 9)], 1));
    expect(o.proposal()).toEqual({ leader: MIN_VALUE, zxid: MIN_VALUE, peerEpoch: MIN_VALUE, round: 1 });
    expectBroadcast(o, { leader: MIN_VALUE, zxid: MIN_VALUE, peerEpoch: MIN_VALUE }, 1);
  });

  it('§3.1 a fresh server (empty data directory) votes (myid, 0, 0)', () => {
    const n = Node.start(cfg, 2, image([], 0, { acceptedEpoch: null, currentEpoch: null }));
    expect(n.proposal()).toEqual({ leader: 2, zxid: 0, peerEpoch: 0, round: 1 });
  });
});

describe('§3.2 receiver thread', () => {
  it('§3.2 a sender that is not a voter gets an immediate reply with currentVote, my round and my state, and is not enqueued', () => {
    const n = s3();
    n.n(4, looking(BETTER, 1)); // my proposal is now s5's, my currentVote still my initial vote
    const before = n.state;
    n.n(OBS, note('LOOKING', MIN_VALUE, MIN_VALUE, 1, MIN_VALUE));
    expect(n.sends()).toEqual([
      { kind: 'send', to: OBS, msg: note('LOOKING', 3, MY_Z, 1, 1) },
    ]);
    // Not enqueued: the state is untouched and the poll wait is not restarted.
    expect(n.state).toBe(before);
    expect(n.effects.filter((e) => e.kind !== 'send')).toEqual([]);
  });

  it('§3.2 a FOLLOWING server replies to an observer with its state and logicalclock', () => {
    const n = s3Following5();
    n.n(OBS, note('LOOKING', MIN_VALUE, MIN_VALUE, 4, MIN_VALUE));
    expect(n.sends()).toEqual([{ kind: 'send', to: OBS, msg: note('FOLLOWING', 5, BETTER.zxid, 1, 1) }]);
  });

  it('§3.2 a LOOKING receiver replies at once to a LOOKING sender with a lower round, with its proposal and round', () => {
    const n = s3();
    n.n(4, looking(BETTER, 3)); // now round 3, proposing s5
    const rs = n.state.fle.recvset;
    n.n(2, looking(WORSE, 1));
    expect(n.sends()).toEqual([{ kind: 'send', to: 2, msg: looking(BETTER, 3) }]);
    // The lower-round notification itself is dropped (§3.3 step 3).
    expect(n.state.fle.recvset).toBe(rs);
  });

  it('§3.2 a LOOKING receiver does not reply to a same-round sender whose vote does not change its own', () => {
    const n = s3();
    n.n(2, looking(WORSE, 1));
    expect(n.sends()).toEqual([]);
  });

  it('§3.2 a LOOKING receiver does not reply to a non-LOOKING sender with a lower round', () => {
    const n = s3();
    n.n(4, looking(WORSE, 3));
    n.n(2, note('FOLLOWING', 5, BETTER.zxid, 1, 1));
    expect(n.sends()).toEqual([]);
  });

  it('§3.2 a FOLLOWING receiver replies to a LOOKING sender with currentVote carrying currentVote.electionEpoch', () => {
    const n = s3Following5();
    // Make logicalclock differ from the deciding round to see which one the reply carries.
    n.edit((d) => {
      d.fle.logicalclock = 9;
    });
    const before = n.state;
    n.n(1, looking(WORSE, 17));
    expect(n.sends()).toEqual([{ kind: 'send', to: 1, msg: note('FOLLOWING', 5, BETTER.zxid, 1, 1) }]);
    expect(n.state).toBe(before);
  });

  it('§3.2 a LEADING receiver replies to a LOOKING sender with currentVote and its round', () => {
    const n = s5Leading();
    n.n(1, looking(WORSE, 4));
    expect(n.sends()).toEqual([{ kind: 'send', to: 1, msg: note('LEADING', 5, BETTER.zxid, 1, 1) }]);
    expect(n.state.state).toBe('LEADING');
  });

  it('§3.2 a non-LOOKING receiver ignores non-LOOKING senders', () => {
    for (const n of [s3Following5(), s5Leading()]) {
      for (const st of ['FOLLOWING', 'LEADING', 'OBSERVING'] as const) {
        const before = n.state;
        n.n(2, note(st, 4, z(3, 3), 5, 3));
        expect(n.effects).toEqual([]);
        expect(n.state).toBe(before);
      }
    }
  });
});

describe('§3.3 main loop', () => {
  it('§3.3 poll timeout re-sends my vote to all voters and doubles notTimeout 200→400→…→60000 cap', () => {
    const n = s3();
    const expected = [400, 800, 1600, 3200, 6400, 12_800, 25_600, 51_200, 60_000, 60_000, 60_000];
    for (const t of expected) {
      n.timer(TIMER_POLL);
      expectBroadcast(n, MINE, 1);
      expect(n.state.fle.notTimeoutMs).toBe(t);
      expect(n.timersSet(TIMER_POLL)).toEqual([{ kind: 'setTimer', timer: TIMER_POLL, delayMs: t }]);
    }
  });

  it('§3.3 notTimeout never resets within a round, and each notification restarts the poll wait with it', () => {
    const n = s3();
    n.timer(TIMER_POLL);
    n.timer(TIMER_POLL); // 800
    n.n(4, looking(BETTER, 5)); // a higher round is the same lookForLeader call
    expect(n.state.fle.notTimeoutMs).toBe(800);
    expect(n.timersSet(TIMER_POLL)).toEqual([{ kind: 'setTimer', timer: TIMER_POLL, delayMs: 800 }]);
    n.n(2, looking(WORSE, 5));
    expect(n.timersSet(TIMER_POLL)).toEqual([{ kind: 'setTimer', timer: TIMER_POLL, delayMs: 800 }]);
  });

  it('§3.3 notifications whose proposed leader is not a voter are ignored', () => {
    const n = s3();
    for (const leader of [OBS, 42, MIN_VALUE]) {
      const before = n.state;
      n.n(4, note('LOOKING', leader, z(9, 9), 7, 9));
      expect(n.state.fle).toBe(before.fle);
      expect(n.notes().join()).toMatch(/not a voter/);
      expect(n.notificationsSent()).toEqual([]);
    }
    for (const st of ['FOLLOWING', 'LEADING'] as const) {
      n.n(4, note(st, OBS, z(9, 9), 1, 9));
      expect(n.state.fle.recvset).toEqual({});
      expect(n.state.fle.outofelection).toEqual({});
    }
  });

  it('§3.3 notifications whose sender is not a voter never reach the main loop', () => {
    const n = s3();
    n.n(OBS, looking(BEST, 9));
    expect(n.state.fle.logicalclock).toBe(1);
    expect(n.proposal()).toEqual({ ...MINE, round: 1 });
    expect(n.state.fle.recvset).toEqual({});
  });

  it('§3.3 step 1: a notification with zxid -1 is ignored (ZOOKEEPER-261)', () => {
    const n = s3();
    const before = n.state.fle;
    n.n(4, note('LOOKING', 4, ZXID_NONE, 5, 9));
    expect(n.state.fle).toBe(before);
    expect(n.notificationsSent()).toEqual([]);
  });

  it('§3.3 step 1: when my own zxid is -1 every LOOKING notification is ignored', () => {
    const n = Node.start(cfg, 3, image([], 0, { snapshots: [{ zxid: ZXID_NONE, data: EMPTY_TREE }] }));
    expect(n.state.db.lastProcessedZxid).toBe(ZXID_NONE);
    const before = n.state.fle;
    n.n(4, looking(BEST, 5));
    expect(n.state.fle).toBe(before);
    expect(n.notificationsSent()).toEqual([]);
  });

  it("§3.3 step 2: a higher round resets recvset, adopts the round, and picks the better of n's vote and my INITIAL vote", () => {
    const n = s3();
    n.n(5, looking(BETTER, 1)); // current proposal: s5
    n.n(4, looking(BETTER, 1));
    expect(Object.keys(n.state.fle.recvset)).toEqual(['4', '5']);
    // n's vote (s2) loses to my initial vote (s3) but beats nobody else: I go back to my own.
    n.n(2, looking(WORSE, 4));
    expect(n.state.fle.logicalclock).toBe(4);
    expect(n.proposal()).toEqual({ ...MINE, round: 4 });
    expect(n.state.fle.recvset).toEqual({ 2: { ...WORSE, electionEpoch: 4, state: 'LOOKING', version: 0 } });
    expectBroadcast(n, MINE, 4);
  });

  it("§3.3 step 2: a higher round compares n's vote with my initial vote, not my current proposal", () => {
    const n = s3();
    n.n(5, looking(BETTER, 1)); // current proposal: s5, better than n's vote below
    const middle = { leader: 4, zxid: z(1, 3), peerEpoch: 1 }; // beats my initial vote, loses to s5's
    n.n(4, looking(middle, 2));
    expect(n.proposal()).toEqual({ ...middle, round: 2 });
    expectBroadcast(n, middle, 2);
  });

  it("§3.3 step 2: a higher round whose vote beats my initial vote is adopted and broadcast", () => {
    const n = s3();
    n.n(5, looking(BETTER, 7));
    expect(n.proposal()).toEqual({ ...BETTER, round: 7 });
    expectBroadcast(n, BETTER, 7);
    expect(Object.keys(n.state.fle.recvset)).toEqual(['5']);
  });

  it('§3.3 step 3: a lower round is dropped and not stored, even with a better vote', () => {
    const n = s3();
    n.n(2, looking(WORSE, 3));
    const before = n.state.fle;
    n.n(4, looking(BEST, 2));
    expect(n.state.fle.recvset).toBe(before.recvset);
    expect(n.proposal()).toEqual({ ...MINE, round: 3 });
    expect(n.notes().join()).toMatch(/dropped/);
  });

  it('§3.3 step 4: a same-round vote that beats mine is adopted and broadcast', () => {
    const n = s3();
    n.n(5, looking(BETTER, 1));
    expect(n.proposal()).toEqual({ ...BETTER, round: 1 });
    expectBroadcast(n, BETTER, 1);
    n.n(1, looking(BEST, 1));
    expect(n.proposal()).toEqual({ ...BEST, round: 1 });
    expectBroadcast(n, BEST, 1);
  });

  it('§3.3 step 4: a same-round vote that does not beat mine changes nothing but is stored', () => {
    const n = s3();
    n.n(5, looking(BETTER, 1));
    n.n(2, looking(WORSE, 1));
    expect(n.proposal()).toEqual({ ...BETTER, round: 1 });
    expect(n.notificationsSent()).toEqual([]);
    expect(n.state.fle.recvset[2]).toEqual({ ...WORSE, electionEpoch: 1, state: 'LOOKING', version: 0 });
  });

  it('§3.3 step 5: each LOOKING notification is stored in recvset by sender (as a LOOKING version-0 vote), newest wins', () => {
    const n = s3();
    n.n(3, looking(MINE, 1));
    n.n(2, looking(WORSE, 1));
    n.n(2, looking(MINE, 1));
    expect(n.state.fle.recvset).toEqual({
      2: { ...MINE, electionEpoch: 1, state: 'LOOKING', version: 0 },
      3: { ...MINE, electionEpoch: 1, state: 'LOOKING', version: 0 },
    });
  });

  it('§3.3 step 6: a quorum of votes equal to mine starts a finalize wait of 200 ms instead of the poll wait', () => {
    const n = s3();
    n.n(5, looking(BETTER, 1));
    n.n(4, looking(BETTER, 1));
    expect(n.state.fle.finalizing).toBe(false);
    n.n(3, looking(BETTER, 1)); // my own, looped back: 3 of 5
    expect(n.state.fle.finalizing).toBe(true);
    expect(n.state.state).toBe('LOOKING');
    expect(n.timersCancelled()).toContain(TIMER_POLL);
    expect(n.timersSet()).toEqual([{ kind: 'setTimer', timer: TIMER_FINALIZE, delayMs: 200 }]);
  });

  it('§3.3 step 6: votes for the same leader from a different round or zxid do not count towards the quorum', () => {
    const n = s3();
    n.n(5, looking(BETTER, 1));
    n.n(3, looking(BETTER, 1));
    n.n(4, looking({ ...BETTER, zxid: z(1, 4) }, 1));
    n.n(2, looking({ ...BETTER, peerEpoch: 0 }, 1));
    expect(n.state.fle.finalizing).toBe(false);
  });

  it('§3.3 step 6: during finalize a not-better notification is discarded and the 200 ms wait restarts', () => {
    const n = s3();
    n.nFrom([5, 4, 3], looking(BETTER, 1));
    const before = n.state;
    for (const m of [looking(WORSE, 1), looking(BETTER, 1), looking(MINE, 6), note('FOLLOWING', 2, z(1, 1), 1, 1), note('LOOKING', 4, ZXID_NONE, 1, 1)]) {
      n.n(1, m);
      expect(n.state).toBe(before); // not stored, round not adopted
      expect(n.timersSet()).toEqual([{ kind: 'setTimer', timer: TIMER_FINALIZE, delayMs: 200 }]);
      expect(n.notificationsSent()).toEqual([]);
    }
  });

  it('§3.3 step 6: during finalize a better notification cancels the wait and is processed', () => {
    const n = s3();
    n.nFrom([5, 4, 3], looking(BETTER, 1));
    n.n(1, looking(BEST, 1));
    expect(n.state.fle.finalizing).toBe(false);
    expect(n.timersCancelled()).toContain(TIMER_FINALIZE);
    expect(n.proposal()).toEqual({ ...BEST, round: 1 });
    expectBroadcast(n, BEST, 1);
    expect(n.state.fle.recvset[1]).toMatchObject(BEST);
    expect(n.timersSet(TIMER_POLL)).toHaveLength(1);
    expect(n.state.fle.finalizing).toBe(false);
    // A stale finalize timer does nothing now.
    const s = n.state;
    n.timer(TIMER_FINALIZE);
    expect(n.state).toBe(s);
    expect(n.effects).toEqual([]);
  });

  it('§3.3 step 6: during finalize "better" is judged by totalOrderPredicate alone, so even a vote that step 1 then ignores cancels the wait', () => {
    const n = s3();
    n.nFrom([5, 4, 3], looking(BETTER, 1));
    n.n(1, note('LOOKING', 4, ZXID_NONE, 1, 9)); // beats mine by epoch, but zxid -1
    expect(n.state.fle.finalizing).toBe(false);
    expect(n.proposal()).toEqual({ ...BETTER, round: 1 });
    expect(n.state.fle.recvset[1]).toBeUndefined();
    expect(n.timersSet(TIMER_POLL)).toHaveLength(1);
  });

  it('§3.3 step 6: after 200 ms quiet the server FOLLOWs the proposed leader, currentVote = (leader, zxid, logicalclock, peerEpoch)', () => {
    const n = s3();
    n.n(1, looking(WORSE, 2)); // round 2
    n.nFrom([5, 4, 3], looking(BETTER, 2));
    n.timer(TIMER_FINALIZE);
    expect(n.state.state).toBe('FOLLOWING');
    expect(n.state.currentVote).toEqual({ leader: 5, zxid: BETTER.zxid, electionEpoch: 2, peerEpoch: 1 });
    expect(n.state.fle.running).toBe(false);
    expect(n.state.learner?.leader).toBe(5);
    expect(n.sends()).toEqual([{ kind: 'send', to: 5, msg: { type: 'FOLLOWERINFO', zxid: z(1, 0) } }]);
    expect(n.timersCancelled()).toEqual(expect.arrayContaining([TIMER_POLL, TIMER_FINALIZE]));
  });

  it('§3.3 step 6: after 200 ms quiet the proposed leader itself becomes LEADING', () => {
    const n = s5Leading();
    expect(n.state.currentVote).toEqual({ leader: 5, zxid: BETTER.zxid, electionEpoch: 1, peerEpoch: 1 });
    expect(n.state.leader).not.toBeNull();
    expect(n.state.zabState).toBe('DISCOVERY');
    // Discovery starts: the wait for a quorum of learners to connect (§4).
    expect(n.timersSet(TIMER_EPOCH_WAIT)).toEqual([{ kind: 'setTimer', timer: TIMER_EPOCH_WAIT, delayMs: 10 * 2000 }]);
  });

  it('§3.3 step 6: a one-voter ensemble elects itself from its own looped-back vote', () => {
    const one = makeClusterConfig(1);
    const n = Node.start(one, 1, image([z(1, 1)], 1));
    expect(n.notificationsSent().map((s) => s.to)).toEqual([1]);
    n.n(1, n.notificationsSent()[0]!.n);
    expect(n.state.fle.finalizing).toBe(true);
    n.timer(TIMER_FINALIZE);
    expect(n.state.state).toBe('LEADING');
  });

  it('§3.3 FOLLOWING/LEADING same round: stored in recvset; a quorum needs the LEADING notification from the leader itself (checkLeader)', () => {
    const n = s3();
    n.n(1, note('FOLLOWING', 5, BETTER.zxid, 1, 1));
    n.n(2, note('FOLLOWING', 5, BETTER.zxid, 1, 1));
    n.n(4, note('FOLLOWING', 5, BETTER.zxid, 1, 1));
    // Three of five follow s5, but s5 has not said it leads.
    expect(n.state.state).toBe('LOOKING');
    expect(n.state.fle.recvset[1]).toEqual({ ...BETTER, electionEpoch: 1, state: 'FOLLOWING', version: 0 });
    n.n(5, note('LEADING', 5, BETTER.zxid, 1, 1));
    expect(n.state.state).toBe('FOLLOWING');
    expect(n.state.currentVote).toEqual({ leader: 5, zxid: BETTER.zxid, electionEpoch: 1, peerEpoch: 1 });
    expect(n.state.fle.logicalclock).toBe(1);
  });

  it('§3.3 FOLLOWING/LEADING same round: version-0 recvset entries match on the leader id only', () => {
    const n = s3();
    n.n(1, note('FOLLOWING', 5, z(1, 1), 1, 7));
    n.n(2, note('FOLLOWING', 5, z(1, 3), 1, 8));
    expect(n.state.state).toBe('LOOKING');
    n.n(5, note('LEADING', 5, BETTER.zxid, 1, 1));
    expect(n.state.state).toBe('FOLLOWING');
  });

  it('§3.3 FOLLOWING/LEADING same round, leader is me: a quorum of followers in my round suffices (checkLeader)', () => {
    const n = Node.start(cfg, 5, image([z(1, 5)], 1));
    n.n(1, note('FOLLOWING', 5, BETTER.zxid, 1, 1));
    n.n(2, note('FOLLOWING', 5, BETTER.zxid, 1, 1));
    expect(n.state.state).toBe('LOOKING');
    n.n(3, note('FOLLOWING', 5, BETTER.zxid, 1, 1));
    expect(n.state.state).toBe('LEADING');
    expect(n.state.currentVote.electionEpoch).toBe(1);
  });

  it('§3.3 FOLLOWING same round, leader is me: a restarted leader (round 1 again) is re-elected by followers of its previous life, even newer ones', () => {
    // s5 led round 1, crashed and restarted: its logicalclock starts again at 0, so its new round
    // is 1 too. s1 and s2 still follow its previous incarnation and answer with that round-1 vote.
    // Their entries match on the leader id only, checkLeader holds (my round), and s5 leads again
    // although s1's log is newer: FLE does not compare followers with their leader (§4 step 5 does).
    const n = Node.start(cfg, 5, image([z(1, 5)], 1));
    n.n(5, looking(BETTER, 1));
    n.n(1, note('FOLLOWING', 5, z(1, 5), 1, 1));
    expect(n.state.state).toBe('LOOKING');
    n.n(2, note('FOLLOWING', 5, z(1, 5), 1, 1));
    expect(n.state.state).toBe('LEADING');
    expect(n.state.fle.recvset[1]).toMatchObject({ state: 'FOLLOWING', version: 0 });
  });

  it('§3.3 outofelection: a server in any round joins an established ensemble and takes its round (logicalclock := n.round)', () => {
    for (const myRound of [1, 12]) {
      const n = s3();
      if (myRound > 1) n.n(2, looking(WORSE, myRound));
      expect(n.state.fle.logicalclock).toBe(myRound);
      n.n(1, note('FOLLOWING', 5, z(4, 2), 7, 4));
      n.n(2, note('FOLLOWING', 5, z(4, 2), 7, 4));
      expect(n.state.state).toBe('LOOKING');
      expect(Object.keys(n.state.fle.outofelection)).toEqual(['1', '2']);
      n.n(5, note('LEADING', 5, z(4, 2), 7, 4));
      expect(n.state.state).toBe('FOLLOWING');
      expect(n.state.fle.logicalclock).toBe(7);
      expect(n.state.currentVote).toEqual({ leader: 5, zxid: z(4, 2), electionEpoch: 7, peerEpoch: 4 });
    }
  });

  it('§3.3 outofelection: the quorum must agree on (leader, peerEpoch) and include LEADING from the leader', () => {
    const n = s3();
    n.n(1, note('FOLLOWING', 5, z(4, 2), 7, 3));
    n.n(2, note('FOLLOWING', 5, z(4, 2), 7, 4));
    n.n(5, note('LEADING', 5, z(4, 2), 7, 4));
    expect(n.state.state).toBe('LOOKING'); // only s2 and s5 agree on epoch 4
    n.n(4, note('FOLLOWING', 5, z(4, 9), 3, 4)); // any round and zxid, same (leader, peerEpoch)
    expect(n.state.state).toBe('FOLLOWING');
    expect(n.state.fle.logicalclock).toBe(3);

    const m = s3();
    m.n(1, note('FOLLOWING', 4, z(4, 2), 7, 4));
    m.n(2, note('FOLLOWING', 4, z(4, 2), 7, 4));
    m.n(5, note('FOLLOWING', 4, z(4, 2), 7, 4));
    expect(m.state.state).toBe('LOOKING'); // nobody said LEADING
  });

  it('§3.3 outofelection, leader is me: only a notification of my own round elects me', () => {
    const n = Node.start(cfg, 5, image([z(1, 5)], 1));
    n.n(1, note('FOLLOWING', 5, BETTER.zxid, 4, 1));
    n.n(2, note('FOLLOWING', 5, BETTER.zxid, 4, 1));
    n.n(3, note('FOLLOWING', 5, BETTER.zxid, 4, 1));
    expect(n.state.state).toBe('LOOKING');
  });

  it('§3.3 OBSERVING notifications are ignored', () => {
    const n = s3();
    const before = n.state.fle;
    n.n(4, note('OBSERVING', 5, BETTER.zxid, 1, 1));
    n.n(2, note('OBSERVING', 5, BETTER.zxid, 3, 1));
    expect(n.state.fle).toBe(before);
    expect(n.notes().join()).toMatch(/OBSERVING/);
  });
});

describe('§3.4 observers and quorum', () => {
  function observer(): Node {
    return Node.start(cfg, OBS, image([z(1, 1), z(1, 9)], 1));
  }

  it('§3.4 an observer never becomes a candidate: votes proposing it are ignored', () => {
    const o = observer();
    const before = o.state.fle;
    o.n(1, note('LOOKING', OBS, z(1, 9), 1, 1));
    expect(o.state.fle).toBe(before);
    const v = s3();
    v.n(1, note('LOOKING', OBS, z(9, 9), 1, 9));
    expect(v.proposal().leader).toBe(3);
  });

  it('§3.4 an observer adopts voters\' proposals and OBSERVEs once a voter quorum agrees', () => {
    const o = observer();
    o.n(1, looking(BETTER, 3));
    expect(o.proposal()).toEqual({ ...BETTER, round: 3 }); // beats MIN_VALUE
    o.n(2, looking(BETTER, 3));
    expect(o.state.fle.finalizing).toBe(false);
    o.n(5, looking(BETTER, 3));
    expect(o.state.fle.finalizing).toBe(true);
    o.timer(TIMER_FINALIZE);
    expect(o.state.state).toBe('OBSERVING');
    expect(o.state.currentVote).toEqual({ leader: 5, zxid: BETTER.zxid, electionEpoch: 3, peerEpoch: 1 });
    expect(o.sends()).toEqual([{ kind: 'send', to: 5, msg: { type: 'OBSERVERINFO', zxid: z(1, 0) } }]);
  });

  it('§3.4 an observer learns an established leader through outofelection', () => {
    const o = observer();
    o.n(1, note('FOLLOWING', 5, z(2, 2), 4, 2));
    o.n(2, note('FOLLOWING', 5, z(2, 2), 4, 2));
    expect(o.state.state).toBe('LOOKING');
    o.n(5, note('LEADING', 5, z(2, 2), 4, 2));
    expect(o.state.state).toBe('OBSERVING');
    expect(o.state.learner?.leader).toBe(5);
    expect(o.state.fle.logicalclock).toBe(4);
  });

  it('§3.4 an observer that loses its leader waits [0, 200) ms before LOOKING, queueing what arrives meanwhile', () => {
    const o = observer();
    o.nFrom([1, 2, 5], looking(BETTER, 3));
    o.timer(TIMER_FINALIZE);
    o.msg(5, { type: 'LEADERINFO', zxid: z(1, 0) }); // the leader answered: connected
    expect(o.state.learner?.connected).toBe(true);
    o.feed({ kind: 'disconnected', peer: 5 });
    expect(o.state.state).toBe('LOOKING');
    expect(o.state.fle.running).toBe(false);
    expect(o.timersSet(TIMER_OBSERVER_DELAY)).toEqual([{ kind: 'setTimer', timer: TIMER_OBSERVER_DELAY, delayMs: 0, jitterMs: 200 }]);
    expect(o.notificationsSent()).toEqual([]);
    expect(o.state.fle.logicalclock).toBe(3);
    // A notification during the delay is enqueued, not processed; a poll timeout does nothing.
    o.n(1, looking(BEST, 4));
    expect(o.state.fle.queued).toHaveLength(1);
    expect(o.effects).toEqual([]);
    o.timer(TIMER_POLL);
    expect(o.effects).toEqual([]);
    // The delay ends: a new round, then the queued notification.
    o.timer(TIMER_OBSERVER_DELAY);
    expect(o.state.fle.running).toBe(true);
    expect(o.state.fle.queued).toEqual([]);
    expect(o.state.fle.logicalclock).toBe(4);
    expect(o.proposal()).toEqual({ ...BEST, round: 4 });
  });

  it('§3.4 a voter that loses its leader starts a new round at once (no delay)', () => {
    const n = s3Following5();
    n.msg(5, { type: 'LEADERINFO', zxid: z(1, 0) });
    n.feed({ kind: 'disconnected', peer: 5 });
    expect(n.state.state).toBe('LOOKING');
    expect(n.state.fle.running).toBe(true);
    expect(n.state.fle.logicalclock).toBe(2);
    expect(n.timersSet(TIMER_OBSERVER_DELAY)).toEqual([]);
  });

  it('§3.2 an observer in a higher round and a voter in a lower round answer each other at once, again and again', () => {
    // Both replies are immediate (§3.2): the voter answers any non-voter, the LOOKING observer
    // answers a LOOKING voter whose round is lower than its own. Nothing in either reply changes
    // the voter's round, so the exchange lasts until the voter's round or state changes. With
    // zero-delay links the simulator would loop forever at one instant.
    const v = s3(); // round 1
    const o = observer();
    o.n(1, looking(BETTER, 3)); // observer at round 3
    let toVoter = o.notificationsSent().find((s) => s.to === 3)!.n;
    for (let i = 0; i < 50; i++) {
      v.n(OBS, toVoter);
      const reply = v.sends();
      expect(reply).toHaveLength(1);
      expect(reply[0]!.msg).toMatchObject({ state: 'LOOKING', electionEpoch: 1 });
      o.n(3, reply[0]!.msg as ReturnType<typeof note>);
      const back = o.sends().filter((s) => s.to === 3);
      expect(back).toHaveLength(1);
      expect(back[0]!.msg).toMatchObject({ state: 'LOOKING', electionEpoch: 3 });
      toVoter = back[0]!.msg as ReturnType<typeof note>;
    }
    expect(v.state.fle.logicalclock).toBe(1);
  });

  it('§3.4 a quorum is a strict majority of voters: 2 of 4 is not a quorum, 3 of 4 is', () => {
    const four = makeClusterConfig(4, 1);
    expect(isQuorum(four, 2)).toBe(false);
    expect(isQuorum(four, 3)).toBe(true);
    const n = Node.start(four, 1, image([z(1, 1)], 1));
    const v = { leader: 4, zxid: z(1, 1), peerEpoch: 1 };
    n.nFrom([4, 1], looking(v, 1));
    expect(n.state.fle.finalizing).toBe(false);
    n.n(5, looking(v, 1)); // the observer does not count (nor is it enqueued)
    expect(n.state.fle.finalizing).toBe(false);
    n.n(2, looking(v, 1));
    expect(n.state.fle.finalizing).toBe(true);
  });
});

describe('§7 failure detection basics', () => {
  it('§7 a follower whose read timeout fires goes LOOKING and starts a new round', () => {
    const n = s3Following5();
    expect(n.timersSet(TIMER_LEARNER_READ)).toEqual([{ kind: 'setTimer', timer: TIMER_LEARNER_READ, delayMs: 10 * 2000 }]);
    n.timer(TIMER_LEARNER_READ);
    expect(n.state.state).toBe('LOOKING');
    expect(n.state.learner).toBeNull();
    expect(n.state.fle.logicalclock).toBe(2);
    expect(n.effects).toContainEqual({ kind: 'disconnect', peer: 5 });
    expectBroadcast(n, MINE, 2);
  });

  /**
   * s5 leads s1 and s2 to establishment (§4–§5): FOLLOWERINFO from both fixes epoch 2, the
   * acceptedEpoch write, LEADERINFO, ACKEPOCHs, the currentEpoch write, the sync streams with
   * NEWLEADER, and both NEWLEADER ACKs. The ping loop then runs.
   */
  function s5Established(): Node {
    const n = s5Leading();
    n.flush(); // the snapshot taken on leading
    n.msg(1, { type: 'FOLLOWERINFO', zxid: z(1, 0) });
    expect(n.state.leader?.epochDecided).toBe(false);
    n.msg(2, { type: 'FOLLOWERINFO', zxid: z(1, 0) });
    expect(n.state.leader?.epochDecided).toBe(true);
    n.flush(); // acceptedEpoch := 2
    expect(n.sends().map((e) => [e.to, e.msg.type])).toEqual([[1, 'LEADERINFO'], [2, 'LEADERINFO']]);
    n.msg(1, { type: 'ACKEPOCH', zxid: z(1, 1), currentEpoch: 1 });
    n.msg(2, { type: 'ACKEPOCH', zxid: z(1, 1), currentEpoch: 1 });
    expect(n.state.zabState).toBe('SYNCHRONIZATION');
    n.flush(); // currentEpoch := 2: the leader's own NEWLEADER ack
    n.msg(1, { type: 'ACK', zxid: z(2, 0) });
    n.msg(2, { type: 'ACK', zxid: z(2, 0) });
    expect(n.state.leader?.established).toBe(true);
    expect(n.state.zabState).toBe('BROADCAST');
    expect(n.timersSet(TIMER_PING)).toEqual([{ kind: 'setTimer', timer: TIMER_PING, delayMs: 1000 }]);
    return n;
  }

  it('§7 a leader whose synced voters fall below a quorum at a tick abdicates ("Not sufficient followers synced")', () => {
    const n = s5Established();
    n.timer(TIMER_PING); // tickSkip: no tick
    n.timer(TIMER_PING); // tick 1: {5, 1, 2} synced
    expect(n.state.leader?.tick).toBe(1);
    expect(n.state.state).toBe('LEADING');
    n.feed({ kind: 'disconnected', peer: 2 });
    n.timer(TIMER_PING); // not a tick
    expect(n.state.state).toBe('LEADING');
    n.timer(TIMER_PING); // tick 2: {5, 1} is 2 of 5
    expect(n.state.state).toBe('LOOKING');
    expect(n.notes().join()).toMatch(/Not sufficient followers synced/);
    expect(n.effects).toContainEqual({ kind: 'disconnect', peer: 1 });
    expect(n.state.fle.logicalclock).toBe(2);
  });

  it('§7 a leader abdicates once silent learners pass their syncLimit deadline', () => {
    const n = s5Established();
    // The NEWLEADER ACKs at tick 0 set the deadlines to 0 + syncLimit = 5: synced at tick 5, not 6.
    for (let i = 0; i < 10; i++) n.timer(TIMER_PING);
    expect(n.state.leader?.tick).toBe(5);
    expect(n.state.state).toBe('LEADING');
    n.timer(TIMER_PING);
    n.timer(TIMER_PING);
    expect(n.state.state).toBe('LOOKING');
  });
});
