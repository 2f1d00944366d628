/**
 * Discovery at the leader (src/protocol/discovery.ts, zab-protocol.md §4; Leader.getEpochToPropose,
 * Leader.waitForEpochAck, LearnerHandler.run up to the sync): rules no test had told apart, found
 * as surviving mutants of `npx stryker run --mutate src/protocol/discovery.ts` (docs/checkers.md,
 * "Mutation testing"). Two styles, as in rules.test.ts: s5, leader of five voters (log <1,1>..<1,5>,
 * both epochs 1), driven step by step through the test driver with the packets its learners
 * send; and kernel runs with fixed delays (test/protocol/harness.ts) where a rule is about time
 * (tickTime 2000 ms, initLimit 10 ticks, syncLimit 5 ticks: the defaults).
 */
import { describe, expect, it } from 'vitest';
import { makeClusterConfig, type Flaws, type Sid } from '../../src/protocol/config.ts';
import { EMPTY_TREE } from '../../src/protocol/datatree.ts';
import { TIMER_EPOCH_WAIT } from '../../src/protocol/discovery.ts';
import { TIMER_FINALIZE } from '../../src/protocol/election.ts';
import type { AckEpoch, Effect } from '../../src/protocol/types.ts';
import { formatZxid, zxid, ZXID_NONE } from '../../src/protocol/zxid.ts';
import { image, Node, note, z } from './driver.ts';
import { epochWrite, established, excerpt, first, log, notes, request, sends, slowDisk, when } from './harness.ts';

const LOG5 = [z(1, 1), z(1, 2), z(1, 3), z(1, 4), z(1, 5)];

/** s3, s4 and s5 vote for s5 (log to <1,5>) in `round` with `peerEpoch`; s5 leads, its snapshot durable. */
function electS5(n: Node, round: number, peerEpoch: number): Node {
  n.nFrom([5, 4, 3], note('LOOKING', 5, z(1, 5), round, peerEpoch));
  n.timer(TIMER_FINALIZE);
  expect(n.state.state).toBe('LEADING');
  n.flush(); // the snapshot taken on leading
  return n;
}

/** s5 (log <1,1>..<1,5>, epoch 1) elected by s3, s4 and itself in round 1; its snapshot is durable. */
function s5Leading(flaws: Partial<Flaws> = {}): Node {
  return electS5(Node.start(makeClusterConfig(5, 0, {}, flaws), 5, image(LOG5, 1)), 1, 1);
}

/** FOLLOWERINFO(acceptedEpoch << 32) from each sid, then the leader's acceptedEpoch write is durable. */
function connect(n: Node, acceptedEpochs: Record<Sid, number>): Effect[] {
  const out: Effect[] = [];
  for (const [sid, e] of Object.entries(acceptedEpochs)) out.push(...n.msg(Number(sid), { type: 'FOLLOWERINFO', zxid: zxid(e, 0) }));
  return [...out, ...n.flush()];
}

const leaderInfos = (es: readonly Effect[]): string[] => es.flatMap((e) => (e.kind === 'send' && e.msg.type === 'LEADERINFO' ? [`s${e.to} ${formatZxid(e.msg.zxid)}`] : []));
const noteTexts = (es: readonly Effect[]): string[] => es.flatMap((e) => (e.kind === 'note' ? [e.text] : []));
const ackEpoch = (zx: number, currentEpoch: number): AckEpoch => ({ type: 'ACKEPOCH', zxid: zx, currentEpoch });

describe('§4.3 getEpochToPropose: the leader\'s acceptedEpoch is the decided epoch from the decision on', () => {
  // Leader.getEpochToPropose calls self.setAcceptedEpoch(epoch), which sets the field with the
  // file: a leader that gives up and is elected again proposes past the epoch it accepted.
  it('s5 decides epoch 2, gets no ACKEPOCH and gives up; elected again, it proposes epoch 3 to the same followers, never 2 again', () => {
    const n = s5Leading();
    const once = connect(n, { 1: 1, 2: 1 });
    expect(noteTexts(once)).toContain('epoch 2 decided with [5,1,2]; writing acceptedEpoch');
    expect(n.state.acceptedEpoch).toBe(2);
    expect(leaderInfos(once)).toEqual(['s1 <2,0>', 's2 <2,0>']);
    n.timer(TIMER_EPOCH_WAIT);
    expect(n.notes()).toContain('going LOOKING: Timeout while waiting for epoch to be acked by quorum');
    expect(n.state.acceptedEpoch).toBe(2);
    // Round 2: the same three elect s5 again; s1 and s2 never wrote epoch 2 (they still say 1).
    electS5(n, 2, 1);
    const again = connect(n, { 1: 1, 2: 1 });
    expect(noteTexts(again)).toContain('epoch 3 decided with [5,1,2]; writing acceptedEpoch');
    expect(leaderInfos(again)).toEqual(['s1 <3,0>', 's2 <3,0>']);
  });
});

describe('§4.5 waitForEpochAck: StateSummary.isMoreRecentThan compares (currentEpoch, lastZxid) lexicographically', () => {
  // Leader summary: (currentEpoch 1, lastZxid <1,5>). Each follower's handler has had LEADERINFO(2).
  function acking(flaws: Partial<Flaws> = {}): Node {
    const n = s5Leading(flaws);
    const es = connect(n, { 1: 1, 2: 1, 3: 1, 4: 1 });
    expect(leaderInfos(es)).toEqual(['s1 <2,0>', 's2 <2,0>', 's3 <2,0>', 's4 <2,0>']);
    return n;
  }

  it('a follower of a later currentEpoch is ahead whatever its lastZxid; of the same currentEpoch, only with a greater lastZxid; each one ahead is dropped and not counted', () => {
    const n = acking();
    // (2, <1,3>): a later epoch with a shorter log is still ahead (the epoch decides first).
    n.msg(1, ackEpoch(z(1, 3), 2));
    expect(n.notes()).toEqual(['Follower is ahead of the leader: s1 has (2, <1,3>), leader (1, <1,5>); dropping it']);
    expect(n.effects).toContainEqual({ kind: 'disconnect', peer: 1 });
    expect(n.state.leader?.learners[1]).toBeUndefined();
    // (1, <1,6>): the same epoch, one txn more.
    n.msg(2, ackEpoch(z(1, 6), 1));
    expect(n.notes()).toEqual(['Follower is ahead of the leader: s2 has (1, <1,6>), leader (1, <1,5>); dropping it']);
    expect(n.state.leader?.learners[2]).toBeUndefined();
    // (1, <1,5>) and (1, <1,4>) are not ahead: both count, and complete the quorum with s5.
    n.msg(3, ackEpoch(z(1, 5), 1));
    expect(n.state.leader?.electionFinished).toBe(false);
    n.msg(4, ackEpoch(z(1, 4), 1));
    expect(n.notes()[0]).toBe('epoch 2 acked by [5,3,4]; writing currentEpoch');
    expect(n.state.zabState).toBe('SYNCHRONIZATION');
  });

  it('ZOOKEEPER-335 (epoch_from_last_logged_zxid, 3.3 had no StateSummary): the same followers ahead of the leader are counted, not dropped', () => {
    const n = acking({ epoch_from_last_logged_zxid: true });
    n.msg(1, ackEpoch(z(1, 3), 2));
    expect(n.notes()).toEqual([]);
    expect(n.state.leader?.learners[1]?.stage).toBe('epoch-quorum');
    n.msg(2, ackEpoch(z(1, 6), 1));
    expect(n.notes()[0]).toBe('epoch 2 acked by [5,1,2]; writing currentEpoch');
    expect(n.notes().filter((t) => t.includes('ahead'))).toEqual([]);
    expect(n.effects.filter((e) => e.kind === 'disconnect')).toEqual([]);
  });
});

describe('§1.1 the acceptedEpoch file never goes down, even under ZOOKEEPER-335', () => {
  // 3.3's Leader.lead took the epoch from its own log alone (epoch_from_last_logged_zxid), so the
  // decided epoch can be below the epoch files of a later release's data directory. 3.3 had no
  // epoch files; zabsim keeps them consistent (acceptedEpoch >= currentEpoch, the start-up check),
  // so the leader writes the greater of the two. Writing the decided epoch made a crash before the
  // currentEpoch write leave acceptedEpoch 2 < currentEpoch 3, an image that halts at restart.
  it('s5 (acceptedEpoch 5, currentEpoch 3, log up to <1,5>) decides epoch 2 and writes acceptedEpoch 5, not 2', () => {
    const n = electS5(Node.start(makeClusterConfig(5, 0, {}, { epoch_from_last_logged_zxid: true }), 5, image(LOG5, 1, { acceptedEpoch: 5, currentEpoch: 3 })), 1, 3);
    const out = connect(n, { 1: 1, 2: 1 });
    expect(noteTexts(out)).toContain('epoch 2 decided with [5,1,2]; writing acceptedEpoch');
    const written = out.flatMap((e) => (e.kind === 'persist' && e.write.op === 'writeEpoch' && e.write.file === 'acceptedEpoch' ? [e.write.value] : []));
    expect(written).toEqual([5]);
    expect(n.state.acceptedEpoch).toBe(5);
    expect(leaderInfos(out)).toEqual(['s1 <2,0>', 's2 <2,0>']);
  });
});

describe('§4.5 waitForEpochAck counts a voter\'s ACKEPOCH unless its lastZxid is -1 (ss.getLastZxid() != -1)', () => {
  /**
   * s1 starts from a database at zxid -1 (a snapshot labelled -1, as in the ZOOKEEPER-261 test of
   * election-steps.test.ts), learns that s5 leads from two FOLLOWING notifications and s5's
   * LEADING one, and answers LEADERINFO(2): its ACKEPOCH carries lastZxid -1 and currentEpoch 0.
   */
  function ackOfEmptyFollower(): AckEpoch {
    const s1 = Node.start(makeClusterConfig(5), 1, image([], 0, { snapshots: [{ zxid: ZXID_NONE, data: EMPTY_TREE }] }));
    s1.n(2, note('FOLLOWING', 5, z(1, 5), 1, 1));
    s1.n(3, note('FOLLOWING', 5, z(1, 5), 1, 1));
    s1.n(5, note('LEADING', 5, z(1, 5), 1, 1));
    expect(s1.state.state).toBe('FOLLOWING');
    s1.msg(5, { type: 'LEADERINFO', zxid: z(2, 0) });
    s1.flush();
    const acks = s1.sends().flatMap((e) => (e.msg.type === 'ACKEPOCH' ? [e.msg] : []));
    expect(acks).toEqual([ackEpoch(-1, 0)]);
    return acks[0] as AckEpoch;
  }

  it('lastZxid -1 (a follower with nothing, not even snapshot.0) is not counted; <0,0> (a fresh data directory) and <0,1> are', () => {
    const n = s5Leading();
    connect(n, { 1: 0, 2: 0, 3: 0 });
    n.msg(1, ackOfEmptyFollower());
    n.msg(2, ackEpoch(z(0, 0), 0));
    // s5 and s2 only: not a quorum of five, although three voters have answered LEADERINFO.
    expect(n.state.leader?.electionFinished).toBe(false);
    expect(n.state.leader?.electing).toEqual([5, 2]);
    n.msg(3, ackEpoch(z(0, 1), 0));
    expect(n.notes()[0]).toBe('epoch 2 acked by [5,2,3]; writing currentEpoch');
    // The uncounted follower still syncs, as one that answered -1 for its epoch does.
    expect(n.state.leader?.learners[1]?.stage).toBe('sync');
  });
});

describe('§2.2 SYNC / §6: a learner\'s new connection drops the pending syncs of its old one, and only those', () => {
  // LearnerSyncRequest.fh: a pending `sync` is answered on the connection it came in on.
  it('s1 and s2 each forward a sync that waits for <2,1>; s1 connects again; at the commit only s2 gets its SYNC, and s1 gets none', () => {
    const E1 = { acceptedEpoch: 1, currentEpoch: 1, log: log([1, 1]) };
    const { sim } = established({ voters: 5, images: Object.fromEntries([1, 2, 3, 4, 5].map((sid) => [sid, { ...E1, log: log([1, 1]) }])) }, 5);
    const n = new Node(sim.cfg, sim.server(5).state);
    n.feed({ kind: 'clientRequest', request: { client: 9, cxid: 1, session: 0, op: 'create', path: '/a', data: 'v' } });
    expect(n.sends().filter((e) => e.msg.type === 'PROPOSAL').map((e) => e.to)).toEqual([1, 2, 3, 4]);
    const from = (server: Sid) => ({ server, client: 7, cxid: server });
    n.msg(1, { type: 'REQUEST', request: { kind: 'sync', origin: from(1) } });
    n.msg(2, { type: 'REQUEST', request: { kind: 'sync', origin: from(2) } });
    expect(n.state.leader?.pendingSyncs.items.map((x) => x.origin.server)).toEqual([1, 2]);
    // s1's old connection breaks; its new one says FOLLOWERINFO and gets LEADERINFO at once.
    n.feed({ kind: 'disconnected', peer: 1 });
    n.msg(1, { type: 'FOLLOWERINFO', zxid: z(2, 0) });
    expect(n.sends().map((e) => `${e.msg.type} s${e.to}`)).toEqual(['LEADERINFO s1']);
    expect(n.state.leader?.pendingSyncs.items.map((x) => x.origin.server)).toEqual([2]);
    // <2,1> commits with the ACKs of s3, s4 and s5's own (its log writer's flush).
    n.msg(3, { type: 'ACK', zxid: z(2, 1) });
    n.msg(4, { type: 'ACK', zxid: z(2, 1) });
    const es = n.flush();
    const syncs = es.flatMap((e) => (e.kind === 'send' && e.msg.type === 'SYNC' ? [{ to: e.to, origin: e.msg.origin }] : []));
    expect(syncs).toEqual([{ to: 2, origin: from(2) }]);
    expect(n.state.leader?.pendingSyncs.length).toBe(0);
  });
});

describe('§7 a new learner handler\'s deadlines', () => {
  /**
   * s3 leads s2 in epoch 1 (s1 not started). s1 starts at t0; once s3 has its handler, s2
   * crashes. s3 is not told: s2's handler stops counting syncLimit ticks after its last packet
   * (and is dropped by its read timeout at 10 s), so from about 6 s on s3's quorum is itself and
   * s1. s1's acceptedEpoch write takes 15 s, so its ACKEPOCH, its first packet after
   * FOLLOWERINFO, comes 15 s late: until then only the handler's initial deadline counts it.
   */
  it('§7 a handler counts as synced for initLimit + syncLimit ticks from its FOLLOWERINFO (getTickOfInitialAckDeadline): a follower 15 s slow to answer LEADERINFO keeps the leader\'s quorum', () => {
    const { sim, trace } = established({ voters: 3, startAt: { 1: null } }, 3);
    slowDisk(sim, 1, 15_000, epochWrite('acceptedEpoch', 1));
    const t0 = sim.now;
    sim.start(1);
    when(sim, () => sim.server(3).state.leader?.learners[1] !== undefined, () => sim.crash(2));
    sim.runUntil(t0 + 40_000);
    const ack = first(sends(trace, 'ACKEPOCH', 1, 3), 's1 ACKEPOCH');
    expect(ack.t - t0, excerpt(trace, t0)).toBeGreaterThan(15_000);
    expect(notes(trace, 3, /^going LOOKING/), excerpt(trace, t0)).toEqual([]);
    expect(sim.server(3).state).toMatchObject({ state: 'LEADING', zabState: 'BROADCAST' });
    expect(sim.server(1).state).toMatchObject({ state: 'FOLLOWING', zabState: 'BROADCAST' });
  });

  /**
   * s3 leads s2 in epoch 1 (s1 not started). s1 starts at t0 and is synced by DIFF; its NEWLEADER
   * writes take 12 s (its currentEpoch write is that slow), more than syncLimit·tickTime (10 s).
   * Meanwhile s3 proposes /a, which startForwarding has made s1's handler forward to it.
   */
  it('§7 SyncLimitCheck starts at the NEWLEADER ACK (LearnerHandler: syncLimitCheck.start() after waitForNewLeaderAck): a PROPOSAL forwarded before it is not timed, and the slow learner is not dropped', () => {
    const E1 = { acceptedEpoch: 1, currentEpoch: 1 };
    const { sim, trace } = established({ voters: 3, startAt: { 1: null }, images: { 1: { ...E1, log: log([1, 1]) }, 2: { ...E1, log: log([1, 1]) }, 3: { ...E1, log: log([1, 1]) } } }, 3);
    slowDisk(sim, 1, 12_000, epochWrite('currentEpoch', 2));
    const t0 = sim.now;
    sim.start(1);
    when(sim, () => sim.server(3).state.leader?.learners[1]?.forwarding === true, () => request(sim, 3, 'create', '/a', 'v'));
    sim.runUntil(t0 + 30_000);
    const proposal = first(sends(trace, 'PROPOSAL', 3, 1), 'PROPOSAL to s1');
    const newLeaderAck = first(sends(trace, 'ACK', 1, 3).filter((e) => e.msg.zxid === zxid(2, 0)), 'NEWLEADER ACK');
    expect(newLeaderAck.t - proposal.t, excerpt(trace, t0)).toBeGreaterThan(10_000);
    expect(notes(trace, 3, /unacked/), excerpt(trace, t0)).toEqual([]);
    expect(trace.filter((e) => e.type === 'send' && e.msg.type === 'CLOSE' && e.from === 3 && e.to === 1)).toEqual([]);
    expect(sim.server(1).state).toMatchObject({ state: 'FOLLOWING', zabState: 'BROADCAST' });
    // s1 then ACKs <2,1> after its own fsync, as any follower at UPTODATE.
    expect(sends(trace, 'ACK', 1, 3).map((e) => formatZxid(e.msg.zxid))).toContain('<2,1>');
  });
});

describe('§4.3, §4.5 a leader whose currentEpoch is -1 (QuorumPeer.getCurrentEpoch: -1 is "not read yet", and the file says -1)', () => {
  /**
   * No run writes such a server: QuorumPeer.loadDataBase writes currentEpoch := epoch of the last
   * zxid when the file is missing (-1 only for a database at zxid -1, which never leads,
   * ZOOKEEPER-261), and keeps a file below that epoch only from a currentEpoch.tmp. So this is a
   * hand-made data directory that 3.9.5 starts from as zabsim does: currentEpoch and
   * currentEpoch.tmp of -1, acceptedEpoch -1, over snapshot.0 (zxid <0,0>): epochOfZxid 0 >
   * currentEpoch -1, the tmp file is found and its -1 taken.
   */
  const MINUS_ONE = image([], -1, { currentEpochTmp: -1 });

  it('Leader.epoch starts at -1: the only voter, with acceptedEpoch -1, decides epoch 0 (lastAcceptedEpoch >= epoch), and never counts its own ACKEPOCH (ss.getCurrentEpoch() != -1), so it gives up and decides epoch 1 next', () => {
    const n = Node.start(makeClusterConfig(1), 1, MINUS_ONE);
    expect(n.state).toMatchObject({ up: true, currentEpoch: -1, acceptedEpoch: -1 });
    n.n(1, note('LOOKING', 1, z(0, 0), 1, -1));
    const elected = n.timer(TIMER_FINALIZE);
    expect(n.state.state).toBe('LEADING');
    expect(noteTexts(elected)).toContain('epoch 0 decided with [1]; writing acceptedEpoch');
    const written = elected.flatMap((e) => (e.kind === 'persist' && e.write.op === 'writeEpoch' ? [`${e.write.file} := ${e.write.value}`] : []));
    expect(written).toEqual(['acceptedEpoch := 0']);
    n.flush();
    expect(n.state.leader).toMatchObject({ epochDurable: true, electionFinished: false, electing: [] });
    n.timer(TIMER_EPOCH_WAIT);
    expect(n.notes()).toContain('going LOOKING: Timeout while waiting for epoch to be acked by quorum');
    n.n(1, note('LOOKING', 1, z(0, 0), 2, -1));
    expect(noteTexts(n.timer(TIMER_FINALIZE))).toContain('epoch 1 decided with [1]; writing acceptedEpoch');
  });

  it('an ACKEPOCH of currentEpoch -1 (a learner that had accepted the epoch already) is not compared with the leader\'s summary, even when the leader\'s currentEpoch is -1 too; one of currentEpoch 0 is ahead of it and dropped', () => {
    const n = electS5(Node.start(makeClusterConfig(5), 5, MINUS_ONE), 1, -1);
    expect(n.state.leader).toMatchObject({ summaryEpoch: -1, summaryZxid: z(0, 0) });
    const es = connect(n, { 1: 0, 2: 0 });
    expect(noteTexts(es)).toContain('epoch 1 decided with [5,1,2]; writing acceptedEpoch');
    // s3 accepted epoch 1 before (Learner.registerWithLeader: newEpoch == acceptedEpoch sends -1).
    n.msg(3, { type: 'FOLLOWERINFO', zxid: zxid(1, 0) });
    expect(leaderInfos(n.effects)).toEqual(['s3 <1,0>']);
    n.msg(3, ackEpoch(z(1, 2), -1));
    expect(n.notes()).toEqual([]);
    expect(n.state.leader?.learners[3]?.stage).toBe('epoch-quorum');
    expect(n.state.leader?.electing).toEqual([]);
    // StateSummary.isMoreRecentThan: (0, <0,0>) is ahead of (-1, <0,0>).
    n.msg(1, ackEpoch(z(0, 0), 0));
    expect(n.notes()).toEqual(['Follower is ahead of the leader: s1 has (0, <0,0>), leader (-1, <0,0>); dropping it']);
    expect(n.state.leader?.learners[1]).toBeUndefined();
  });
});
