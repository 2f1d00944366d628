/**
 * ZAB rules not covered elsewhere (zab-protocol.md §1.1, §4, §5.1, §5.3, §6, §7, §9). Two styles,
 * as in zab.test.ts and election.test.ts: kernel-driven runs with fixed delays (5 ms one way, 2 ms
 * fsync, 1 ms rename) asserting on concrete trace records, and one server's step function driven
 * directly through the test driver with crafted inputs.
 */
import { describe, expect, it } from 'vitest';
import { makeClusterConfig } from '../../src/protocol/config.ts';
import { getData } from '../../src/protocol/datatree.ts';
import { TIMER_CONNECT_RETRY } from '../../src/protocol/discovery.ts';
import { TIMER_FINALIZE } from '../../src/protocol/election.ts';
import { TIMER_LEARNER_READ } from '../../src/protocol/heartbeat.ts';
import type { Message } from '../../src/protocol/types.ts';
import { counterOf, epochOf, formatZxid, zxid, type Zxid } from '../../src/protocol/zxid.ts';
import type { MutableDurableImage } from '../../src/sim/disk.ts';
import { image, Node, note, z } from './driver.ts';
import { boot, entry, sends, delivers, persists, fsyncs, notes, epochWrite, one, first, excerpt, leaderOf, durableZxids, slowDisk, request, replies, established, when, type SendEv } from './harness.ts';

// ---------------------------------------------------------------------------------------------
// Step-level harness: s3 in a 5-voter ensemble, following s5

const CFG5 = makeClusterConfig(5);
const BETTER = { leader: 5, zxid: z(1, 5), peerEpoch: 1 };

/** s3 (log <1,1>,<1,2>, epoch 1) elects s5 by finalize and connects to it. */
function s3Following5(): Node {
  const n = Node.start(CFG5, 3, image([z(1, 1), z(1, 2)], 1));
  n.nFrom([4, 5, 3], note('LOOKING', BETTER.leader, BETTER.zxid, 1, BETTER.peerEpoch));
  n.timer(TIMER_FINALIZE);
  expect(n.state.state).toBe('FOLLOWING');
  return n;
}

/** s3 following s5 through LEADERINFO(2) and its ACKEPOCH: the next packet is the first sync packet. */
function s3AwaitingSync(): Node {
  const n = s3Following5();
  n.msg(5, { type: 'LEADERINFO', zxid: z(2, 0) });
  n.flush();
  expect(n.sends().map((s) => s.msg)).toEqual([{ type: 'ACKEPOCH', zxid: z(1, 2), currentEpoch: 1 }]);
  expect(n.state.learner?.phase).toBe('sync');
  return n;
}

// ---------------------------------------------------------------------------------------------
// 1. §1.1 start-up checks

describe('§1.1 start-up checks (QuorumPeer.loadDataBase)', () => {
  it('§1.1 last zxid epoch > currentEpoch halts without currentEpoch.tmp or updatingEpoch, starts with either; acceptedEpoch < currentEpoch halts; missing epoch files default to the last zxid epoch and are written', () => {
    // Last zxid <3,1>, currentEpoch 2, no tmp file: refuse to start.
    const a = Node.start(CFG5, 1, image([z(2, 1), z(3, 1)], 2, { acceptedEpoch: 3 }));
    expect(a.effects.filter((e) => e.kind === 'halt')).toEqual([{ kind: 'halt', reason: 'The current epoch, 2, is older than the last zxid, <3,1>' }]);
    expect(a.state.up).toBe(false);
    expect(a.effects.filter((e) => e.kind === 'send' || e.kind === 'persist')).toEqual([]);

    // The same image with currentEpoch.tmp = 3: start with 3 and write currentEpoch := 3.
    const b = Node.start(CFG5, 1, image([z(2, 1), z(3, 1)], 2, { acceptedEpoch: 3, currentEpochTmp: 3 }));
    expect(b.effects.filter((e) => e.kind === 'halt')).toEqual([]);
    expect(b.state).toMatchObject({ up: true, state: 'LOOKING', currentEpoch: 3, acceptedEpoch: 3 });
    expect(b.effects.filter((e) => e.kind === 'persist').map((e) => (e.kind === 'persist' ? e.write : null))).toEqual([{ op: 'writeEpoch', file: 'currentEpoch', value: 3 }]);
    expect(b.notes()).toContain('currentEpoch.tmp found: setting currentEpoch to 3');
    // It votes with the new epoch.
    expect(b.proposal()).toMatchObject({ leader: 1, zxid: z(3, 1), peerEpoch: 3 });

    // The same image with the updatingEpoch marker (3.4.6, zab-bugs.md B4) and no tmp file: take
    // the last zxid's epoch, write it, delete the marker.
    const m = Node.start(CFG5, 1, image([z(2, 1), z(3, 1)], 2, { acceptedEpoch: 4, updatingEpoch: true }));
    expect(m.effects.filter((e) => e.kind === 'halt')).toEqual([]);
    expect(m.state).toMatchObject({ up: true, state: 'LOOKING', currentEpoch: 3, acceptedEpoch: 4 });
    expect(m.effects.flatMap((e) => (e.kind === 'persist' ? [e.write] : []))).toEqual([
      { op: 'writeEpoch', file: 'currentEpoch', value: 3 },
      { op: 'updatingEpoch', exists: false },
    ]);
    expect(m.notes()).toContain('updatingEpoch found: setting currentEpoch to 3, the epoch of the last zxid');
    expect(m.proposal()).toMatchObject({ leader: 1, zxid: z(3, 1), peerEpoch: 3 });
    // With a tmp file too, the tmp file's value (the epoch being written) is taken.
    const t = Node.start(CFG5, 1, image([z(2, 1), z(3, 1)], 2, { acceptedEpoch: 4, updatingEpoch: true, currentEpochTmp: 4 }));
    expect(t.state).toMatchObject({ up: true, currentEpoch: 4 });
    // A leftover marker with nothing to repair changes nothing (3.4.6 leaves it in place).
    const k = Node.start(CFG5, 1, image([z(2, 1), z(3, 1)], 3, { updatingEpoch: true }));
    expect(k.state).toMatchObject({ up: true, currentEpoch: 3, acceptedEpoch: 3 });
    expect(k.effects.filter((e) => e.kind === 'persist')).toEqual([]);

    // acceptedEpoch 1 < currentEpoch 2: refuse to start.
    const c = Node.start(CFG5, 1, image([z(2, 1)], 2, { acceptedEpoch: 1 }));
    expect(c.effects.filter((e) => e.kind === 'halt')).toEqual([{ kind: 'halt', reason: 'The accepted epoch, 1 is less than the current epoch, 2' }]);
    expect(c.state.up).toBe(false);

    // Neither epoch file: both default to epoch(<4,2>) = 4 and are written.
    const d = Node.start(CFG5, 1, image([z(4, 1), z(4, 2)], 0, { acceptedEpoch: null, currentEpoch: null }));
    expect(d.state).toMatchObject({ up: true, currentEpoch: 4, acceptedEpoch: 4 });
    expect(d.effects.flatMap((e) => (e.kind === 'persist' ? [e.write] : []))).toEqual([
      { op: 'writeEpoch', file: 'currentEpoch', value: 4 },
      { op: 'writeEpoch', file: 'acceptedEpoch', value: 4 },
    ]);
    expect(d.notes()).toEqual(expect.arrayContaining(['currentEpoch not found, using 4 (epoch of the last zxid)', 'acceptedEpoch not found, using 4 (epoch of the last zxid)']));
  });

  it('§1.1 end to end: a server whose image fails the checks halts at start, with the reason in the trace', () => {
    const { sim, trace } = boot({ voters: 3, images: { 1: { log: [entry(3, 1)], acceptedEpoch: 3, currentEpoch: 2 } } });
    sim.runUntil(1000);
    const halt = one(
      trace.filter((e) => e.type === 'halt' && e.sid === 1),
      's1 halt',
    );
    expect(halt).toMatchObject({ t: 0, reason: 'The current epoch, 2, is older than the last zxid, <3,1>' });
    expect(sim.server(1).up).toBe(false);
    expect(sends(trace, 'NOTIFICATION', 1)).toEqual([]);
    // The other two elect a leader without it.
    expect(leaderOf(sim)).toBe(3);
  });
});

// ---------------------------------------------------------------------------------------------
// 2. §4 refusal and connect retries

describe('§4 learner connection', () => {
  it('§4 a non-leader refuses FOLLOWERINFO; the learner retries a refused connection up to 5 times, 1 s apart, then goes LOOKING', () => {
    // s5 is LOOKING (not leading): it refuses s3's FOLLOWERINFO by closing the connection.
    const s5 = Node.start(CFG5, 5, image([z(1, 1), z(1, 5)], 1));
    expect(s5.state.state).toBe('LOOKING');
    s5.msg(3, { type: 'FOLLOWERINFO', zxid: z(1, 0) });
    expect(s5.notes()).toEqual(['refused FOLLOWERINFO from s3: not leading']);
    expect(s5.effects.filter((e) => e.kind === 'disconnect')).toEqual([{ kind: 'disconnect', peer: 3 }]);
    expect(s5.sends()).toEqual([]);
    expect(s5.state.leader).toBeNull();

    const n = s3Following5();
    // Attempt 1: FOLLOWERINFO(acceptedEpoch << 32) at once.
    expect(n.sends().filter((s) => s.msg.type === 'FOLLOWERINFO')).toEqual([{ kind: 'send', to: 5, msg: { type: 'FOLLOWERINFO', zxid: z(1, 0) } }]);
    const infos: number[] = [1];
    for (let k = 2; k <= 5; k++) {
      n.feed({ kind: 'disconnected', peer: 5 });
      expect(n.notes()).toEqual([`connection to leader s5 refused or reset; attempt ${k} of 5 in 1000 ms`]);
      expect(n.timersSet(TIMER_CONNECT_RETRY)).toEqual([{ kind: 'setTimer', timer: TIMER_CONNECT_RETRY, delayMs: 1000 }]);
      expect(n.sends()).toEqual([]);
      expect(n.state.state).toBe('FOLLOWING');
      n.timer(TIMER_CONNECT_RETRY);
      expect(n.sends()).toEqual([{ kind: 'send', to: 5, msg: { type: 'FOLLOWERINFO', zxid: z(1, 0) } }]);
      infos.push(k);
    }
    expect(n.state.learner?.connectTries).toBe(5);
    // The fifth attempt is refused too: no sixth try, LOOKING and a new FLE round.
    n.feed({ kind: 'disconnected', peer: 5 });
    expect(n.timersSet(TIMER_CONNECT_RETRY)).toEqual([]);
    expect(n.notes()).toContain('going LOOKING: connection to leader s5 closed');
    expect(n.state).toMatchObject({ state: 'LOOKING', zabState: 'ELECTION', learner: null });
    expect(n.state.fle.logicalclock).toBe(2);
    expect(infos).toEqual([1, 2, 3, 4, 5]);
  });

  it('§4 a learner whose leader answered does not retry: a later close sends it LOOKING at once', () => {
    const n = s3Following5();
    n.msg(5, { type: 'LEADERINFO', zxid: z(2, 0) });
    expect(n.state.learner?.connected).toBe(true);
    n.feed({ kind: 'disconnected', peer: 5 });
    expect(n.timersSet(TIMER_CONNECT_RETRY)).toEqual([]);
    expect(n.notes()[0]).toBe('going LOOKING: connection to leader s5 closed');
    expect(n.state.state).toBe('LOOKING');
  });
});

// ---------------------------------------------------------------------------------------------
// 3. §4 / §5.3 leader timeouts

describe('§4 / §5.3 leader Discovery and Sync timeouts (initLimit·tickTime = 20 s)', () => {
  it('§4 no quorum connects: "Timeout while waiting for epoch from quorum" initLimit·tickTime after leading', () => {
    // s2 never starts; s1's packets to s3 are cut as soon as s1 follows s3 (its FOLLOWERINFO, in
    // flight, is lost).
    const { sim, trace } = boot({ voters: 3, startAt: { 2: null } });
    when(sim, () => sim.server(1).state.state === 'FOLLOWING', () => sim.partition([[1, 3]], 's1 -x s3'));
    sim.runUntil(25_000);
    const leading = first(
      trace.filter((e) => e.type === 'state' && e.sid === 3 && e.state === 'LEADING'),
      's3 leads',
    );
    expect(first(sends(trace, 'FOLLOWERINFO', 1, 3), 's1 FOLLOWERINFO').t).toBeLessThanOrEqual(leading.t);
    expect(delivers(trace, 'FOLLOWERINFO', 1, 3)).toEqual([]);
    const timeout = one(notes(trace, 3, /^going LOOKING: Timeout while waiting for epoch/), 'epoch timeout');
    expect(timeout.text).toBe('going LOOKING: Timeout while waiting for epoch from quorum');
    expect(timeout.t - leading.t).toBe(20_000);
    // The epoch was never decided: no acceptedEpoch write, no LEADERINFO.
    expect(persists(trace, 3, epochWrite('acceptedEpoch', 1))).toEqual([]);
    expect(sends(trace, 'LEADERINFO', 3)).toEqual([]);
  });

  it('§4 the epoch is decided but no quorum ACKs it: "Timeout while waiting for epoch to be acked by quorum"', () => {
    // s1's FOLLOWERINFO arrives (the epoch is decided with [3,1]), then s1 -> s3 is cut: its ACKEPOCH is lost.
    const { sim, trace } = boot({ voters: 3, startAt: { 2: null } });
    when(sim, () => delivers(trace, 'FOLLOWERINFO', 1, 3).length > 0, () => sim.partition([[1, 3]], 's1 -x s3'));
    sim.runUntil(25_000);
    expect(one(notes(trace, 3, /^epoch \d+ decided/), 'decision').text).toBe('epoch 1 decided with [3,1]; writing acceptedEpoch');
    expect(first(sends(trace, 'ACKEPOCH', 1, 3), 's1 ACKEPOCH').msg).toEqual({ type: 'ACKEPOCH', zxid: 0, currentEpoch: 0 });
    expect(delivers(trace, 'ACKEPOCH', 1, 3)).toEqual([]);
    const timeout = one(notes(trace, 3, /^going LOOKING: Timeout while waiting for epoch/), 'epoch-ack timeout');
    expect(timeout.text).toBe('going LOOKING: Timeout while waiting for epoch to be acked by quorum');
    // waitForEpochAck waits initLimit·tickTime from the decision being durable.
    const durable = one(fsyncs(trace, 3, epochWrite('acceptedEpoch', 1)), 'leader acceptedEpoch durable');
    expect(timeout.t - durable.t).toBe(20_000);
    expect(persists(trace, 3, epochWrite('currentEpoch', 1))).toEqual([]);
    expect(sends(trace, 'NEWLEADER', 3)).toEqual([]);
  });

  it('§5.3 the only follower\'s ACK(NEWLEADER) is lost: "Timeout while waiting for NEWLEADER to be acked by quorum"', () => {
    // s1 -> s3 is cut the moment s1 sends its NEWLEADER ACK (in flight, so it is dropped).
    const { sim, trace } = boot({ voters: 3, startAt: { 2: null } });
    when(sim, () => sends(trace, 'ACK', 1, 3).length > 0, () => sim.partition([[1, 3]], 's1 -x s3'));
    sim.runUntil(25_000);
    const ack = one(sends(trace, 'ACK', 1, 3), 's1 ACK(NEWLEADER)');
    expect(ack.msg.zxid).toBe(zxid(1, 0));
    expect(delivers(trace, 'ACK', 1, 3)).toEqual([]);
    const timeout = one(notes(trace, 3, /^going LOOKING: Timeout while waiting for NEWLEADER/), 'NEWLEADER timeout');
    expect(timeout.text).toBe('going LOOKING: Timeout while waiting for NEWLEADER to be acked by quorum');
    const own = one(fsyncs(trace, 3, epochWrite('currentEpoch', 1)), 'leader currentEpoch durable');
    expect(timeout.t - own.t).toBe(20_000);
    expect(notes(trace, 3, /^established/)).toEqual([]);
    expect(sends(trace, 'UPTODATE', 3)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// 4. §5.1 startForwarding

describe('§5.1 startForwarding', () => {
  /** A fresh image each time: the disk appends to the image's log array. */
  const E1 = (): Partial<MutableDurableImage> => ({ acceptedEpoch: 1, currentEpoch: 1, log: [entry(1, 1)] });

  it('§5.1 a voter joining while proposals are outstanding gets them as PROPOSAL without COMMIT after the sync stream and before NEWLEADER, then live broadcasts', () => {
    // s3 leads epoch 2 with s1; s2 starts later. s1's packets to s3 are 1 s slow, so (2,1) and
    // (2,2) are still outstanding when s2 syncs.
    const { sim, trace } = established({ voters: 3, images: { 1: E1(), 2: E1(), 3: E1() }, startAt: { 2: null } }, 3);
    const t0 = sim.now;
    sim.slow(1, 3, 1000);
    request(sim, 3, 'create', '/a', 'a');
    request(sim, 3, 'create', '/b', 'b');
    sim.at(t0 + 10, () => sim.start(2));
    sim.runUntil(t0 + 300);
    const toS2 = trace.filter((e): e is SendEv => e.type === 'send' && e.from === 3 && e.to === 2 && e.msg.type !== 'NOTIFICATION' && e.msg.type !== 'PING');
    const shown = toS2.map((e) => `${e.msg.type}${'zxid' in e.msg ? ` ${formatZxid(e.msg.zxid)}` : ''}`);
    expect(shown, excerpt(trace, t0)).toEqual(['LEADERINFO <2,0>', 'DIFF <1,1>', 'PROPOSAL <2,1>', 'PROPOSAL <2,2>', 'NEWLEADER <2,0>', 'UPTODATE', 'COMMIT <2,1>', 'COMMIT <2,2>']);
    // The outstanding proposals went out with the sync stream, uncommitted at the time.
    const nl = one(sends(trace, 'NEWLEADER', 3, 2), 'NEWLEADER');
    expect(sends(trace, 'COMMIT', 3).filter((c) => c.i < nl.i)).toEqual([]);
    expect(sim.server(3).state.leader?.lastCommitted).toBe(zxid(2, 2));
    // They commit with s2's ACKs (s1's are still on the slow link): s2 counts once synced.
    const c1 = first(sends(trace, 'COMMIT', 3, 2), 'COMMIT to s2').t;
    expect(c1).toBe(first(delivers(trace, 'ACK', 2, 3).filter((e) => e.msg.zxid === zxid(2, 1)), 's2 ACK <2,1>').t);
    expect(delivers(trace, 'ACK', 1, 3).filter((e) => epochOf(e.msg.zxid) === 2 && counterOf(e.msg.zxid) > 0 && e.t <= c1)).toEqual([]);
    // A live write after s2 joined reaches it as PROPOSAL then COMMIT.
    request(sim, 1, 'create', '/c', 'c');
    sim.runUntil(t0 + 2000);
    expect(sends(trace, 'PROPOSAL', 3, 2).map((e) => e.msg.zxid)).toEqual([zxid(2, 1), zxid(2, 2), zxid(2, 3)]);
    expect(sends(trace, 'COMMIT', 3, 2).map((e) => e.msg.zxid)).toEqual([zxid(2, 1), zxid(2, 2), zxid(2, 3)]);
    expect(durableZxids(sim, 2)).toEqual([zxid(1, 1), zxid(2, 1), zxid(2, 2), zxid(2, 3)]);
    for (const p of ['/a', '/b', '/c']) expect(getData(sim.server(2).state.db.tree, p), p).toBe(p.slice(1));
  });

  it('§5.1 an observer joining while proposals are outstanding does not get them; it gets INFORM when they commit', () => {
    // Same scene with observer s4 joining and s2 down: (2,1), (2,2) commit only with s1's slow ACKs.
    const { sim, trace } = established({ voters: 3, observers: 1, images: { 1: E1(), 3: E1(), 4: E1() }, startAt: { 2: null, 4: null } }, 3);
    const t0 = sim.now;
    sim.slow(1, 3, 1000);
    request(sim, 3, 'create', '/a', 'a');
    request(sim, 3, 'create', '/b', 'b');
    sim.at(t0 + 10, () => sim.start(4));
    sim.runUntil(t0 + 2000);
    expect(sim.server(4).state).toMatchObject({ state: 'OBSERVING', zabState: 'BROADCAST' });
    const up = one(sends(trace, 'UPTODATE', 3, 4), 'UPTODATE to s4');
    const toS4 = trace.filter((e): e is SendEv => e.type === 'send' && e.from === 3 && e.to === 4 && e.msg.type !== 'NOTIFICATION' && e.msg.type !== 'PING');
    const shown = toS4.map((e) => `${e.msg.type}${'zxid' in e.msg ? ` ${formatZxid(e.msg.zxid)}` : ''}`);
    expect(shown, excerpt(trace, t0)).toEqual(['LEADERINFO <2,0>', 'DIFF <1,1>', 'NEWLEADER <2,0>', 'UPTODATE', 'INFORM <2,1>', 'INFORM <2,2>']);
    expect(sends(trace, 'PROPOSAL', 3, 4)).toEqual([]);
    // The proposals were outstanding when the observer synced (UPTODATE), and INFORMs go out at commit.
    const commitT = first(sends(trace, 'COMMIT', 3, 1), 'COMMIT to s1').t;
    expect(up.t).toBeLessThan(commitT);
    for (const inf of sends(trace, 'INFORM', 3, 4)) expect(inf.t).toBe(commitT);
    expect(commitT).toBe(first(delivers(trace, 'ACK', 1, 3).filter((e) => e.msg.zxid === zxid(2, 2)), 's1 ACK <2,2>').t);
    expect(getData(sim.server(4).state.db.tree, '/b')).toBe('b');
    expect(durableZxids(sim, 4)).toEqual([zxid(1, 1), zxid(2, 1), zxid(2, 2)]);
  });
});

// ---------------------------------------------------------------------------------------------
// 5. §7 failure detection of single learners

describe('§7 dropping one learner', () => {
  it('§7 SyncLimitCheck: a follower whose log fsync stalls (its oldest PROPOSAL unacked for syncLimit·tickTime) is dropped at a ping while it still answers PINGs', () => {
    // Established at 244 ms; the leader wakes at 1244, 2244, ... The write comes at 1800 ms,
    // between two wake-ups.
    const { sim, trace } = established({ voters: 3 }, 3, 1800);
    slowDisk(sim, 1, 30_000, (w) => w.op === 'appendLog');
    const t0 = sim.now;
    request(sim, 3, 'create', '/a');
    sim.runUntil(t0 + 15_000);
    const prop = one(sends(trace, 'PROPOSAL', 3, 1), 'PROPOSAL to s1');
    expect(prop.msg.zxid).toBe(zxid(1, 1));
    const dropped = one(notes(trace, 3, /oldest PROPOSAL unacked/), 'SyncLimitCheck drop');
    expect(dropped.text).toBe('learner s1: oldest PROPOSAL unacked for syncLimit·tickTime, dropping it');
    // At the first ping (every tickTime/2 = 1 s) at which the proposal is at least
    // syncLimit·tickTime = 10 s old: never earlier, at most one ping interval later.
    expect(prop.t).toBe(1800);
    expect(dropped.t - prop.t, excerpt(trace, t0 + 9000, t0 + 11_000)).toBeGreaterThanOrEqual(10_000);
    expect(dropped.t - prop.t).toBeLessThan(11_000);
    expect(trace.some((e) => e.type === 'timer' && e.sid === 3 && e.timer === 'leader.ping' && e.t === dropped.t)).toBe(true);
    // s1 never ACKed it but kept echoing PINGs up to the drop, so it was not a read timeout.
    expect(delivers(trace, 'ACK', 1, 3).filter((e) => e.msg.zxid === zxid(1, 1) && e.t <= dropped.t)).toEqual([]);
    const lastPing = delivers(trace, 'PING', 1, 3).filter((e) => e.t <= dropped.t).at(-1);
    expect(dropped.t - (lastPing?.t ?? 0)).toBeLessThan(1000);
    expect(notes(trace, 3, /read timeout/)).toEqual([]);
    // The handler is gone and its connection closed; the leader stays (s2 makes a quorum).
    expect(first(trace.filter((e) => e.type === 'send' && e.msg.type === 'CLOSE' && e.from === 3 && e.to === 1), 'CLOSE to s1').t).toBe(dropped.t);
    expect(leaderOf(sim)).toBe(3);
    expect(notes(trace, 1, /^going LOOKING: connection to leader s3 closed/).length).toBeGreaterThan(0);
  });

  it('§7 the leader\'s per-learner read timeout drops a learner that sends nothing for syncLimit·tickTime', () => {
    const { sim, trace } = established({ voters: 3 }, 3);
    const t0 = sim.now;
    sim.partition([[1, 3]], 's1 -x s3');
    sim.runUntil(t0 + 15_000);
    const dropped = one(notes(trace, 3, /read timeout, dropping it/), 'handler read timeout');
    expect(dropped.text).toBe('learner handler for s1: read timeout, dropping it');
    const lastHeard = trace.filter((e) => e.type === 'deliver' && e.from === 1 && e.to === 3 && e.msg.type !== 'NOTIFICATION' && e.t <= t0).at(-1);
    expect(lastHeard).toMatchObject({ type: 'deliver', msg: { type: 'ACK', zxid: zxid(1, 0) } }); // its ACK of UPTODATE
    expect(dropped.t - (lastHeard?.t ?? 0)).toBe(10_000);
    expect(first(trace.filter((e) => e.type === 'send' && e.msg.type === 'CLOSE' && e.from === 3 && e.to === 1), 'CLOSE to s1').t).toBe(dropped.t);
    expect(sim.server(3).state.leader?.learners[1]).toBeUndefined();
    expect(leaderOf(sim)).toBe(3);
  });

  it('§7 the learner\'s own read timeout is initLimit·tickTime before NEWLEADER and syncLimit·tickTime after', () => {
    // Before NEWLEADER: s3 -> s1 is cut once s1 has sent FOLLOWERINFO; s1 hears nothing from its leader.
    const a = boot({ voters: 3, startAt: { 2: null } });
    when(a.sim, () => sends(a.trace, 'FOLLOWERINFO', 1, 3).length > 0, () => a.sim.partition([[3, 1]], 's3 -x s1'));
    a.sim.runUntil(25_000);
    const info = first(sends(a.trace, 'FOLLOWERINFO', 1, 3), 'FOLLOWERINFO');
    const gaveUp = first(notes(a.trace, 1, /^going LOOKING: read timeout/), 's1 read timeout (discovery)');
    expect(gaveUp.text).toBe('going LOOKING: read timeout: nothing from leader s3');
    expect(gaveUp.t - info.t).toBe(20_000);

    // After NEWLEADER: an established follower whose leader goes silent gives up after syncLimit·tickTime.
    const b = established({ voters: 3 }, 3);
    const t0 = b.sim.now;
    b.sim.partition([[3, 1]], 's3 -x s1');
    b.sim.runUntil(t0 + 15_000);
    const lastHeard = b.trace.filter((e) => e.type === 'deliver' && e.from === 3 && e.to === 1 && e.msg.type !== 'NOTIFICATION' && e.t <= t0).at(-1);
    expect(lastHeard?.type).toBe('deliver');
    const gone = first(notes(b.trace, 1, /^going LOOKING: read timeout/), 's1 read timeout (broadcast)');
    expect(gone.t - (lastHeard?.t ?? 0)).toBe(10_000);

    // Step level: the timer is re-armed with initLimit before NEWLEADER and syncLimit from NEWLEADER on.
    const n = s3AwaitingSync();
    n.msg(5, { type: 'DIFF', zxid: z(1, 2) });
    expect(n.timersSet(TIMER_LEARNER_READ).map((t) => t.delayMs)).toEqual([20_000]);
    n.msg(5, { type: 'NEWLEADER', zxid: z(2, 0) });
    expect(n.timersSet(TIMER_LEARNER_READ).map((t) => t.delayMs).at(-1)).toBe(10_000);
    n.flush();
    n.msg(5, { type: 'PING', zxid: z(2, 0) });
    expect(n.timersSet(TIMER_LEARNER_READ).map((t) => t.delayMs)).toEqual([10_000]);
  });
});

// ---------------------------------------------------------------------------------------------
// 6. §9 snapshot policy

describe('§9 snapshot policy', () => {
  it('§9 with snapCount = 10 every server snapshots after 6..10 logged txns, each snapshot labelled with its last applied txn', () => {
    const N = 10;
    const W = 60;
    const { sim, trace } = established({ voters: 3, params: { snapCount: N } }, 3);
    const t0 = sim.now;
    // Writes /w1../w60 every 20 ms, through each server in turn: (1,k) creates /wk.
    for (let k = 1; k <= W; k++) sim.at(t0 + 20 * k, () => request(sim, (k % 3) + 1, 'create', `/w${k}`, String(k)));
    sim.runUntil(t0 + 20 * W + 1000);
    for (const sid of sim.sids) {
      expect(durableZxids(sim, sid).length, `s${sid}`).toBe(W);
      const recs = persists(trace, sid, (w) => w.op === 'appendLog' || w.op === 'snapshot').filter((e) => e.t > t0);
      const gaps: number[] = [];
      let count = 0;
      const labels: Zxid[] = [];
      for (const r of recs) {
        if (r.write.op === 'appendLog') count++;
        else if (r.write.op === 'snapshot') {
          gaps.push(count);
          count = 0;
          const snap = r.write.snapshot;
          labels.push(snap.zxid);
          // The label is the last txn in the tree: /wk for (1,k), and no /w(k+1).
          const k = counterOf(snap.zxid);
          expect(epochOf(snap.zxid), `s${sid} snapshot ${formatZxid(snap.zxid)}`).toBe(1);
          if (k > 0) expect(getData(snap.data, `/w${k}`), `s${sid} snapshot ${formatZxid(snap.zxid)}`).toBe(String(k));
          expect(getData(snap.data, `/w${k + 1}`), `s${sid} snapshot ${formatZxid(snap.zxid)}`).toBeNull();
        }
      }
      // 60 txns at 6..10 per snapshot: 6 to 10 snapshots, each after N/2+1..N appends.
      expect(gaps.length, `s${sid} gaps ${gaps.join(',')}`).toBeGreaterThanOrEqual(6);
      expect(gaps.length, `s${sid}`).toBeLessThanOrEqual(10);
      for (const g of gaps) {
        expect(g, `s${sid} gaps ${gaps.join(',')}`).toBeGreaterThanOrEqual(N / 2 + 1);
        expect(g, `s${sid} gaps ${gaps.join(',')}`).toBeLessThanOrEqual(N);
      }
      expect(count, `s${sid} trailing`).toBeLessThanOrEqual(N);
      // Labels increase and the durable image holds them.
      for (let k = 1; k < labels.length; k++) expect(labels[k] as Zxid).toBeGreaterThan(labels[k - 1] as Zxid);
      expect(sim.server(sid).disk.image.snapshots.map((s) => s.zxid)).toEqual(expect.arrayContaining(labels.slice(-3)));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 7. §6 / §7 process exits, driven through step()

describe('§6 / §7 process exits', () => {
  it('§6 a follower receiving a COMMIT that does not match its oldest pending txn halts', () => {
    const n = s3AwaitingSync();
    n.msg(5, { type: 'DIFF', zxid: z(1, 2) });
    n.msg(5, { type: 'NEWLEADER', zxid: z(2, 0) });
    const synced = n.flush();
    expect(synced.flatMap((e) => (e.kind === 'send' ? [e.msg] : []))).toEqual([{ type: 'ACK', zxid: z(2, 0) }]);
    n.msg(5, { type: 'UPTODATE' });
    expect(n.state).toMatchObject({ state: 'FOLLOWING', zabState: 'BROADCAST', up: true });
    n.msg(5, { type: 'PROPOSAL', zxid: z(2, 1), txn: { type: 'create', path: '/a', data: '', ephemeral: false, sequential: false, session: 0 } });
    n.msg(5, { type: 'PROPOSAL', zxid: z(2, 2), txn: { type: 'create', path: '/b', data: '', ephemeral: false, sequential: false, session: 0 } });
    n.flush();
    n.msg(5, { type: 'COMMIT', zxid: z(2, 2) });
    expect(n.effects.filter((e) => e.kind === 'halt')).toEqual([{ kind: 'halt', reason: 'Committing zxid <2,2> but next pending txn <2,1>' }]);
    expect(n.state.up).toBe(false);
    const prev = n.history[n.history.length - 2];
    expect(getData(prev?.db.tree ?? n.state.db.tree, '/b')).toBeNull();
  });

  it('§7 a learner whose first sync packet is not DIFF, SNAP or TRUNC halts', () => {
    for (const m of [
      { type: 'NEWLEADER', zxid: z(2, 0) },
      { type: 'PROPOSAL', zxid: z(2, 1), txn: { type: 'create', path: '/a', data: '', ephemeral: false, sequential: false, session: 0 } },
      { type: 'UPTODATE' },
    ] as Message[]) {
      const n = s3AwaitingSync();
      n.msg(5, m);
      expect(n.effects.filter((e) => e.kind === 'halt'), m.type).toEqual([{ kind: 'halt', reason: `Learner expected DIFF, SNAP or TRUNC first, got ${m.type}` }]);
      expect(n.state.up).toBe(false);
      expect(n.sends()).toEqual([]);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 8. §6 reads and sync

describe('§6 reads', () => {
  it('§6 reads are local and possibly stale; a sync waits for the leader\'s last proposal at request time to commit, and a read after it sees the latest value', () => {
    const { sim, trace } = established({ voters: 3 }, 3);
    const t0 = sim.now;
    // s3's packets to s1 are 300 ms slow: s1 applies commits late; s2 gives the quorum.
    sim.slow(3, 1, 300);
    request(sim, 3, 'create', '/x', 'v1');
    const readers: Record<string, number> = {};
    sim.at(t0 + 100, () => {
      readers.staleS1 = request(sim, 1, 'read', '/x');
      readers.leader = request(sim, 3, 'read', '/x');
      // From now on s2's ACKs are slow too, so the next write commits only with s1's ACK.
      sim.slow(2, 3, 1000);
      request(sim, 3, 'setData', '/x', 'v2');
    });
    sim.at(t0 + 101, () => {
      readers.sync = request(sim, 1, 'sync', '/');
    });
    when(
      sim,
      () => readers.sync !== undefined && replies(trace, 1, readers.sync).length > 0,
      () => {
        readers.after = request(sim, 1, 'read', '/x');
      },
    );
    sim.runUntil(t0 + 2000);
    const commit1 = one(sends(trace, 'COMMIT', 3, 1).filter((e) => e.msg.zxid === zxid(1, 1)), 'COMMIT <1,1>');
    expect(commit1.t).toBeLessThan(t0 + 100);
    // Stale: the write is committed at the leader, not yet at s1.
    expect(one(replies(trace, 1, readers.staleS1 as number), 'stale read')).toEqual({ client: 1, cxid: readers.staleS1, ok: true, value: null, zxid: 0 });
    expect(one(replies(trace, 3, readers.leader as number), 'leader read')).toEqual({ client: 1, cxid: readers.leader, ok: true, value: 'v1', zxid: zxid(1, 1) });
    // The sync reached the leader while (1,2) was outstanding; it was answered when (1,2) committed.
    const syncReq = one(delivers(trace, 'REQUEST', 1, 3), 'forwarded sync');
    expect(syncReq.msg.request.kind).toBe('sync');
    const commit2 = one(sends(trace, 'COMMIT', 3, 1).filter((e) => e.msg.zxid === zxid(1, 2)), 'COMMIT <1,2>');
    expect(syncReq.t).toBeLessThan(commit2.t);
    const syncAns = one(sends(trace, 'SYNC', 3, 1), 'SYNC to s1');
    expect(syncAns.t).toBe(commit2.t);
    expect(syncAns.i).toBeGreaterThan(commit2.i);
    // s1 answers the client after applying (1,2), and the read right after sees v2.
    expect(one(replies(trace, 1, readers.sync as number), 'sync reply')).toEqual({ client: 1, cxid: readers.sync, ok: true, zxid: zxid(1, 2) });
    expect(one(delivers(trace, 'SYNC', 3, 1), 'SYNC delivered').i).toBeGreaterThan(one(delivers(trace, 'COMMIT', 3, 1).filter((e) => e.msg.zxid === zxid(1, 2)), 'COMMIT <1,2> at s1').i);
    expect(one(replies(trace, 1, readers.after as number), 'read after sync')).toEqual({ client: 1, cxid: readers.after, ok: true, value: 'v2', zxid: zxid(1, 2) });
  });
});
