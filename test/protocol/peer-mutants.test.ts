/**
 * peer.ts's role transitions and write completions at step level, written against the survivors
 * of `npx stryker run --mutate src/protocol/peer.ts` (docs/checkers.md, "peer.ts"): what a server
 * does when a role ends (QuorumPeer.run, Leader.shutdown, Learner.shutdown), when a write
 * completes or fails, and on packets that arrive where no handler expects them.
 */
import { describe, expect, it } from 'vitest';
import type { Effect, LogEntry, Message, TxnPacket } from '../../src/protocol/types.ts';
import { awaitingSync, image, Node, note, txnFor, z } from './driver.ts';
import { makeClusterConfig, type Flaws } from '../../src/protocol/config.ts';
import { TIMER_FINALIZE } from '../../src/protocol/election.ts';
import { blankState, step } from '../../src/protocol/peer.ts';
import { TIMER_LEARNER_READ } from '../../src/protocol/heartbeat.ts';
import { established, log, notes, one, sends, write } from './harness.ts';

const e1 = (sids: readonly number[]) => Object.fromEntries(sids.map((sid) => [sid, { acceptedEpoch: 1, currentEpoch: 1, log: log([1, 1]) }]));

/** s3 leads voters s1, s2 and observer s4 in epoch 2. */
function ensemble() {
  return established({ voters: 3, observers: 1, images: e1([1, 2, 3, 4]) }, 3);
}

const quiet = (es: readonly Effect[]): Effect[] => es.filter((e) => e.kind !== 'send');
const notesOf = (es: readonly Effect[]): string[] => es.flatMap((e) => (e.kind === 'note' ? [e.text] : []));

/** s3 of five voters (log <1,1> <1,2>, epoch 1), elected s5's follower: in discovery, before LEADERINFO. */
function s3FollowingS5(): Node {
  const n = Node.start(makeClusterConfig(5, 0), 3, image([z(1, 1), z(1, 2)], 1));
  n.nFrom([4, 5, 3], note('LOOKING', 5, z(1, 5), 1, 1));
  n.timer(TIMER_FINALIZE);
  return n;
}

/** {@link s3FollowingS5}, then LEADERINFO for epoch 2: it writes acceptedEpoch first, blocked until that is durable. */
function blockedOnAcceptedEpoch(): Node {
  const n = s3FollowingS5();
  n.msg(5, { type: 'LEADERINFO', zxid: z(2, 0) });
  expect(n.state.learner?.blocked?.on).toBe('ackepoch');
  return n;
}

describe('QuorumPeer.run: a role ends (goLooking)', () => {
  it('Leader.shutdown: the leader closes every LearnerHandler (its read timer and socket) and stops its ping and wait timers before it looks again', () => {
    const { sim } = ensemble();
    const r = step(sim.cfg, sim.server(3).state, { kind: 'roleFailed', reason: 'test' });
    expect(quiet(r.effects)).toEqual([
      { kind: 'note', text: 'going LOOKING: test' },
      { kind: 'cancelTimer', timer: 'handler.readTimeout.1' },
      { kind: 'disconnect', peer: 1 },
      { kind: 'cancelTimer', timer: 'handler.readTimeout.2' },
      { kind: 'disconnect', peer: 2 },
      { kind: 'cancelTimer', timer: 'handler.readTimeout.4' },
      { kind: 'disconnect', peer: 4 },
      { kind: 'cancelTimer', timer: 'leader.ping' },
      { kind: 'cancelTimer', timer: 'leader.epochWait' },
      { kind: 'cancelTimer', timer: 'leader.newLeaderWait' },
      { kind: 'setTimer', timer: 'fle.poll', delayMs: 200 },
    ]);
    expect(r.state).toMatchObject({ state: 'LOOKING', zabState: 'ELECTION', leader: null, learner: null, role: sim.server(3).state.role + 1 });
  });

  it('Learner.shutdown: a follower closes its socket to the leader and stops its read and reconnect timers; a voter starts FLE at once', () => {
    const { sim } = ensemble();
    const r = step(sim.cfg, sim.server(1).state, { kind: 'roleFailed', reason: 'test' });
    expect(quiet(r.effects)).toEqual([
      { kind: 'note', text: 'going LOOKING: test' },
      { kind: 'disconnect', peer: 3 },
      { kind: 'cancelTimer', timer: 'learner.readTimeout' },
      { kind: 'cancelTimer', timer: 'learner.connectRetry' },
      { kind: 'setTimer', timer: 'fle.poll', delayMs: 200 },
    ]);
    expect(r.effects.filter((e) => e.kind === 'send' && e.msg.type === 'NOTIFICATION').length).toBeGreaterThan(0);
    expect(r.state).toMatchObject({ state: 'LOOKING', zabState: 'ELECTION', leader: null, learner: null });
  });

  it('§3.4 an observer that loses its leader waits a random [0, observerElectionDelayMs) before it looks (Observer.observeLeader\'s finally)', () => {
    const { sim } = ensemble();
    const r = step(sim.cfg, sim.server(4).state, { kind: 'roleFailed', reason: 'test' });
    expect(r.effects).toEqual([
      { kind: 'note', text: 'going LOOKING: test' },
      { kind: 'disconnect', peer: 3 },
      { kind: 'cancelTimer', timer: 'learner.readTimeout' },
      { kind: 'cancelTimer', timer: 'learner.connectRetry' },
      { kind: 'setTimer', timer: 'observer.electionDelay', delayMs: 0, jitterMs: 200 },
    ]);
    expect(r.state.fle.running).toBe(false);
  });
});

describe('packets where no handler expects them (QuorumPeer routes by role; Learner and LearnerHandler log and drop)', () => {
  it('a learner packet at a server that is not leading, or from a learner with no handler, is dropped with a note', () => {
    const { sim } = ensemble();
    const ack = { type: 'ACK', zxid: 0 } as const;
    const r = step(sim.cfg, sim.server(2).state, { kind: 'message', from: 1, msg: ack });
    expect(r.effects).toEqual([{ kind: 'note', text: 'ignored ACK from s1: no learner handler' }]);
    expect(r.state).toBe(sim.server(2).state);
  });

  it('LearnerHandler.run in broadcast: a packet other than ACK, PING and REQUEST is logged and dropped', () => {
    const { sim } = ensemble();
    const r = step(sim.cfg, sim.server(3).state, { kind: 'message', from: 1, msg: { type: 'ACKEPOCH', zxid: 0, currentEpoch: 1 } });
    expect(notesOf(r.effects)).toEqual(['ignored ACKEPOCH from learner s1']);
    expect(r.effects.filter((e) => e.kind === 'send' || e.kind === 'persist')).toEqual([]);
  });

  it('a packet from a server other than the learner\'s leader is dropped (it reads only its leader\'s socket)', () => {
    const { sim } = ensemble();
    const r = step(sim.cfg, sim.server(1).state, { kind: 'message', from: 2, msg: { type: 'COMMIT', zxid: 0 } });
    expect(r.effects).toEqual([{ kind: 'note', text: 'ignored COMMIT from s2: not my leader' }]);
  });

  it('Follower.processPacket takes PROPOSAL and COMMIT, Observer.processPacket INFORM: each drops the other\'s, and a packet of another phase in broadcast', () => {
    const { sim } = ensemble();
    const inform: TxnPacket = { type: 'INFORM', zxid: z(2, 9), txn: txnFor(z(2, 9)) };
    const f = step(sim.cfg, sim.server(1).state, { kind: 'message', from: 3, msg: inform });
    expect(notesOf(f.effects)).toEqual(['ignored INFORM: followers get PROPOSAL and COMMIT']);
    const o = step(sim.cfg, sim.server(4).state, { kind: 'message', from: 3, msg: { ...inform, type: 'PROPOSAL' } });
    expect(notesOf(o.effects)).toEqual(['ignored PROPOSAL: observers get INFORM']);
    const li = step(sim.cfg, sim.server(1).state, { kind: 'message', from: 3, msg: { type: 'LEADERINFO', zxid: 0 } });
    expect(notesOf(li.effects)).toEqual(['ignored LEADERINFO from the leader in broadcast']);
  });
});

describe('ZooKeeperServer.shutdown flushes the log writer before the peer looks for a leader (I8)', () => {
  it('a follower with an append in flight goes LOOKING without voting; once the write is durable it starts FLE, and the ACK of the ended role is never sent', () => {
    const { sim } = ensemble();
    const n = new Node(sim.cfg, sim.server(1).state);
    n.msg(3, { type: 'PROPOSAL', zxid: z(2, 1), txn: txnFor(z(2, 1)) });
    expect(n.pending).toHaveLength(1);
    n.feed({ kind: 'roleFailed', reason: 'test' });
    expect(n.notes()).toEqual(['going LOOKING: test', 'flushing 1 pending writes before looking for a leader']);
    expect(n.notificationsSent()).toEqual([]);
    expect(n.state).toMatchObject({ state: 'LOOKING', flushing: true });
    expect(n.state.fle.running).toBe(false);
    n.flush();
    expect(n.sends().filter((s) => s.msg.type === 'ACK')).toEqual([]);
    expect(n.notificationsSent().map((x) => x.n.zxid)).toContain(z(2, 1));
    expect(n.state).toMatchObject({ state: 'LOOKING', flushing: false, durableToken: n.state.nextToken - 1 });
    expect(n.state.fle.running).toBe(true);
  });
});

describe('Learner: the protocol thread reads the next packet only after its synchronous write (unblock)', () => {
  it('a DIFF that arrives while acceptedEpoch is being written waits in the inbox; it is read right after the ACKEPOCH, in the same step', () => {
    const n = blockedOnAcceptedEpoch();
    n.msg(5, { type: 'DIFF', zxid: z(1, 2) });
    expect(n.effects.filter((e) => e.kind !== 'cancelTimer' && e.kind !== 'setTimer')).toEqual([]);
    expect(n.state.learner?.inbox.length).toBe(1);
    expect(n.state.learner?.sync.mode).toBeNull();
    n.flush();
    expect(n.sends().map((s) => s.msg.type)).toEqual(['ACKEPOCH']);
    expect(n.state.learner).toMatchObject({ phase: 'sync', blocked: null });
    expect(n.state.learner?.sync.mode).toBe('DIFF');
    expect(n.state.learner?.inbox.length).toBe(0);
  });

  it('a completion whose token is not the one the thread waits for does not unblock it', () => {
    const n = blockedOnAcceptedEpoch();
    const token = n.state.learner?.blocked?.token as number;
    n.feed({ kind: 'fsyncDone', token: token + 1 });
    expect(n.sends()).toEqual([]);
    expect(n.state.learner?.blocked?.on).toBe('ackepoch');
  });
});

describe('storage faults at start-up (QuorumPeer.loadDataBase: "Unable to load database on disk")', () => {
  it('FileTxnSnapLog.restore writes the empty snapshot.0 of a fresh data directory; if that write fails, the process stops', () => {
    const fresh = image([], 0, { snapshots: [], acceptedEpoch: null, currentEpoch: null });
    const n = Node.start(makeClusterConfig(3, 0), 1, fresh);
    const snap = n.effects.find((e) => e.kind === 'persist' && e.write.op === 'snapshot');
    if (snap?.kind !== 'persist') throw new Error('no snapshot.0 written');
    n.feed({ kind: 'writeFailed', token: snap.token, write: snap.write, durable: fresh });
    expect(n.effects).toEqual([{ kind: 'halt', reason: 'Unable to load database on disk: writing snapshot.0 failed' }]);
    expect(n.state.up).toBe(false);
  });
});

describe('blankState: a server not yet started reads as QuorumPeer\'s initial fields', () => {
  it('LOOKING in ELECTION (QuorumPeer.state, zabState), voting for itself with Vote(myid, 0, 0)\'s electionEpoch -1, FLE neither running nor finalizing', () => {
    const b = blankState(2);
    expect(b).toMatchObject({ sid: 2, up: false, state: 'LOOKING', zabState: 'ELECTION', currentVote: { leader: 2, zxid: 0, electionEpoch: -1, peerEpoch: 0 } });
    expect(b.fle).toMatchObject({ finalizing: false, running: false, logicalclock: 0 });
  });
});

describe('QuorumPeer.loadDataBase at start-up', () => {
  it('FileTxnSnapLog.restore with zookeeper.snapshot.trust.empty: a txn log without a snapshot loads, with the upgrade warning', () => {
    const n = Node.start(makeClusterConfig(3, 0, { snapshotTrustEmpty: 1 }), 1, image([z(1, 1)], 1, { snapshots: [] }));
    expect(n.state.up).toBe(true);
    expect(n.notes()).toContain('No snapshot found, but there are log entries. This should only be allowed during upgrading. (zookeeper.snapshot.trust.empty)');
    const m = Node.start(makeClusterConfig(3, 0, { snapshotTrustEmpty: 1 }), 1, image([z(1, 1)], 1));
    expect(m.notes().filter((t) => t.startsWith('No snapshot found'))).toEqual([]);
  });

  it('3.4.6 (ZOOKEEPER-1653): the updatingEpoch marker sets currentEpoch to the last zxid\'s epoch and is deleted; if that delete fails, the process stops', () => {
    const durable = image([z(2, 1)], 1, { acceptedEpoch: 2, updatingEpoch: true });
    const n = Node.start(makeClusterConfig(3, 0), 1, durable);
    const writes = n.effects.flatMap((e) => (e.kind === 'persist' ? [e] : []));
    expect(writes.map((e) => e.write)).toEqual([
      { op: 'writeEpoch', file: 'currentEpoch', value: 2 },
      { op: 'updatingEpoch', exists: false },
    ]);
    const del = writes[1];
    if (del === undefined) throw new Error('no delete');
    n.feed({ kind: 'writeFailed', token: del.token, write: del.write, durable });
    expect(n.effects).toEqual([{ kind: 'halt', reason: 'Unable to load database on disk: writing the updatingEpoch marker failed' }]);
  });
});

describe('QuorumPeer.run: goLooking under the flaws it models', () => {
  it('ZOOKEEPER-4712 (shutdown_leaves_log_writer_running): the note of a writer left running names queued txns only; with none queued there is none', () => {
    const { sim } = established({ voters: 3, observers: 1, images: e1([1, 2, 3, 4]), flaws: { shutdown_leaves_log_writer_running: true } }, 3);
    const r = step(sim.cfg, sim.server(1).state, { kind: 'roleFailed', reason: 'test' });
    expect(notesOf(r.effects)).toEqual(['going LOOKING: test']);
  });

  it('ZOOKEEPER-2355 (learner_sets_lastzxid_on_diff_header): only a DIFF sync cut short before its txns claims the header; one whose txns all arrived, or a role past sync, claims nothing', () => {
    const { sim } = established({ voters: 3, observers: 1, images: e1([1, 2, 3, 4]), flaws: { learner_sets_lastzxid_on_diff_header: true } }, 3);
    const r = step(sim.cfg, sim.server(1).state, { kind: 'roleFailed', reason: 'test' });
    expect(notesOf(r.effects)).toEqual(['going LOOKING: test']);
    expect(r.state.db.lastProcessedZxid).toBe(sim.server(1).state.db.lastProcessedZxid);

    // s3 at <1,2> gets DIFF <1,2>: nothing to read after the header.
    const at = awaitingSync({ learner_sets_lastzxid_on_diff_header: true });
    at.msg(5, { type: 'DIFF', zxid: z(1, 2) });
    at.feed({ kind: 'roleFailed', reason: 'test' });
    expect(at.notes().filter((t) => t.startsWith('DIFF sync cut short'))).toEqual([]);
    expect(at.state.db.lastProcessedZxid).toBe(z(1, 2));

    const cut = awaitingSync({ learner_sets_lastzxid_on_diff_header: true });
    cut.msg(5, { type: 'DIFF', zxid: z(1, 4) });
    cut.feed({ kind: 'roleFailed', reason: 'test' });
    expect(cut.notes()).toContain('DIFF sync cut short: lastProcessedZxid stays at the DIFF header <1,4>');
    expect(cut.state.db.lastProcessedZxid).toBe(z(1, 4));
  });
});

describe('Learner.registerWithLeader: the first packet must be LEADERINFO', () => {
  it('any other packet from the leader in discovery ends the role ("First packet should have been NEWLEADER" in 3.9)', () => {
    const n = s3FollowingS5();
    expect(n.state.learner?.phase).toBe('discovery');
    n.msg(5, { type: 'DIFF', zxid: z(1, 2) });
    expect(n.notes()[0]).toBe('going LOOKING: expected LEADERINFO from leader s5, got DIFF');
    expect(n.state).toMatchObject({ state: 'LOOKING', learner: null });
  });
});

describe('a write that fails after its role ended (QuorumPeer.writeLongToFile while the peer shuts down)', () => {
  it('the acceptedEpoch write of a learner that timed out fails during the flush: memory keeps the durable epoch, no second goLooking, and FLE starts', () => {
    const n = blockedOnAcceptedEpoch();
    const w = n.effects.find((e) => e.kind === 'persist');
    if (w?.kind !== 'persist') throw new Error('no acceptedEpoch write');
    n.timer(TIMER_LEARNER_READ);
    expect(n.state).toMatchObject({ state: 'LOOKING', flushing: true, acceptedEpoch: 2 });
    const role = n.state.role;
    n.feed({ kind: 'writeFailed', token: w.token, write: w.write, durable: image([z(1, 1), z(1, 2)], 1) });
    expect(n.notes()).toEqual(['writing acceptedEpoch := 2 failed; no role to end']);
    expect(n.state).toMatchObject({ state: 'LOOKING', flushing: false, acceptedEpoch: 1, role });
    expect(n.notificationsSent().length).toBeGreaterThan(0);
  });
});

describe('connection closes (onDisconnected)', () => {
  it('LearnerHandler: a CLOSE ends the learner\'s handler once; a second CLOSE for it, or a CLOSE at a follower from a server other than its leader, changes nothing', () => {
    const { sim } = ensemble();
    const a = step(sim.cfg, sim.server(3).state, { kind: 'disconnected', peer: 1 });
    expect(a.effects).toEqual([
      { kind: 'note', text: 'learner handler for s1: connection closed' },
      { kind: 'cancelTimer', timer: 'handler.readTimeout.1' },
    ]);
    expect(a.state.leader?.learners[1]).toBeUndefined();
    const b = step(sim.cfg, a.state, { kind: 'disconnected', peer: 1 });
    expect(b.effects).toEqual([]);
    expect(b.state).toBe(a.state);
    const f = step(sim.cfg, sim.server(1).state, { kind: 'disconnected', peer: 2 });
    expect(f.effects).toEqual([]);
    expect(f.state).toBe(sim.server(1).state);
  });
});

describe('Learner.syncWithLeader reads one packet at a time: a packet that blocks it again stops the inbox', () => {
  it('DIFF, NEWLEADER and UPTODATE queued behind the acceptedEpoch write: after it, the ACKEPOCH and the DIFF, then NEWLEADER\'s writes block the thread and UPTODATE waits for them', () => {
    const n = blockedOnAcceptedEpoch();
    const epochWrite = n.pending.shift() as number;
    n.msg(5, { type: 'DIFF', zxid: z(1, 2) });
    n.msg(5, { type: 'NEWLEADER', zxid: z(2, 0) });
    n.msg(5, { type: 'UPTODATE' });
    expect(n.state.learner?.inbox.length).toBe(3);
    n.feed({ kind: 'fsyncDone', token: epochWrite });
    expect(n.sends().map((s) => s.msg.type)).toEqual(['ACKEPOCH']);
    expect(n.state.learner?.blocked).not.toBeNull();
    expect(n.state.learner?.inbox.length).toBe(1);
    expect(n.state.learner?.inbox.first()).toEqual({ type: 'UPTODATE' });
    expect(n.state.zabState).toBe('SYNCHRONIZATION');
    n.flush();
    expect(n.state.learner?.inbox.length).toBe(0);
    expect(n.state.zabState).toBe('BROADCAST');
  });
});

describe('LearnerHandler.run before broadcast: what a handler reads at each stage', () => {
  const LOG5 = [z(1, 1), z(1, 2), z(1, 3), z(1, 4), z(1, 5)];
  /** s5 (log <1,1>..<1,5>, epoch 1) leads after votes from s3, s4 and itself; its snapshot is durable. */
  function s5Leading(): Node {
    const n = Node.start(makeClusterConfig(5, 0), 5, image(LOG5, 1));
    n.nFrom([5, 4, 3], note('LOOKING', 5, z(1, 5), 1, 1));
    n.timer(TIMER_FINALIZE);
    n.flush();
    expect(n.state.state).toBe('LEADING');
    return n;
  }
  const ping: Message = { type: 'PING', zxid: 0 };

  it('a handler waiting for the epoch (getEpochToPropose) reads nothing: a packet from its learner is noted and dropped', () => {
    const n = s5Leading();
    n.msg(3, { type: 'FOLLOWERINFO', zxid: z(1, 0) });
    expect(n.state.leader?.learners[3]?.stage).toBe('epoch');
    n.msg(3, { type: 'ACK', zxid: z(1, 5) });
    expect(n.notes()).toEqual(['ignored ACK from s3: its handler is waiting for the epoch']);
    expect(n.sends()).toEqual([]);
  });

  it('a handler that sent LEADERINFO reads ACKEPOCH next; any other packet is noted and dropped', () => {
    const n = s5Leading();
    n.msg(3, { type: 'FOLLOWERINFO', zxid: z(1, 0) });
    n.msg(4, { type: 'FOLLOWERINFO', zxid: z(1, 0) });
    n.flush();
    expect(n.state.leader?.learners[3]?.stage).toBe('ackepoch');
    n.msg(3, ping);
    expect(n.notes()).toEqual(['ignored PING from s3: waiting for ACKEPOCH']);
    expect(n.state.leader?.learners[3]?.stage).toBe('ackepoch');
    // Its ACKEPOCH read, the handler waits in waitForEpochAck for a quorum of them: it reads nothing.
    n.msg(3, { type: 'ACKEPOCH', zxid: z(1, 5), currentEpoch: 1 });
    expect(n.state.leader?.learners[3]?.stage).toBe('epoch-quorum');
    n.msg(3, ping);
    expect(n.notes()).toEqual(['ignored PING from s3: its handler is waiting for the epoch']);
  });

  it('a syncing handler reads the NEWLEADER ACK next: any other packet drops the learner ("Next packet was supposed to be an ACK")', () => {
    const n = s5Leading();
    n.msg(3, { type: 'FOLLOWERINFO', zxid: z(1, 0) });
    n.msg(4, { type: 'FOLLOWERINFO', zxid: z(1, 0) });
    n.flush();
    n.msg(3, { type: 'ACKEPOCH', zxid: z(1, 5), currentEpoch: 1 });
    n.msg(4, { type: 'ACKEPOCH', zxid: z(1, 5), currentEpoch: 1 });
    n.flush();
    expect(n.state.leader?.learners[3]?.stage).toBe('sync');
    n.msg(3, ping);
    expect(n.notes()[0]).toBe('Next packet was supposed to be an ACK, but received PING from s3; dropping it');
    expect(n.state.leader?.learners[3]).toBeUndefined();
    expect(n.effects).toContainEqual({ kind: 'disconnect', peer: 3 });
  });
});

describe('SessionTracker expiry at a leader whose zxid counter is spent (Leader.propose: XidRolloverException)', () => {
  it('the closeSession of an expired session cannot get a zxid: the leader gives up leading ("zxid lower 32 bits have rolled over"), no PROPOSAL leaves', () => {
    const entries: LogEntry[] = [{ zxid: z(1, 1), txn: { type: 'createSession', session: 7, timeoutMs: 6000 } }];
    const img = () => ({ acceptedEpoch: 1, currentEpoch: 1, log: [...entries] });
    // zxidCounterLimit 2 (the least allowed): a write takes <2,1>, the last zxid of epoch 2.
    const { sim, trace } = established({ voters: 3, images: { 1: img(), 2: img(), 3: img() }, params: { zxidCounterLimit: 2 } }, 3);
    const t0 = one(notes(trace, 3, /^established epoch 2/), 'established').t;
    write(sim, 3, '/a');
    sim.runUntil(t0 + 6000);
    expect(sends(trace, 'PROPOSAL', 3).map((e) => e.msg.zxid)).toEqual([z(2, 1), z(2, 1)]);
    const after = notes(trace, 3, /./).filter((e) => e.t >= t0 + 6000).map((e) => e.text);
    expect(after.slice(0, 2)).toEqual(['session 7 expired', 'going LOOKING: zxid lower 32 bits have rolled over (counter 2), forcing re-election, and therefore new epoch start']);
    expect(sends(trace, 'PROPOSAL', 3).filter((e) => e.msg.txn.type === 'closeSession')).toEqual([]);
  });
});

/**
 * s3, syncing with s5 by a DIFF at <1,2>, has just read NEWLEADER: its updatingEpoch marker
 * create is in flight.
 */
function newLeaderAfterDiff(): { n: Node; marker: Extract<Effect, { kind: 'persist' }> } {
  const n = awaitingSync({});
  n.msg(5, { type: 'DIFF', zxid: z(1, 2) });
  n.msg(5, { type: 'NEWLEADER', zxid: z(2, 0) });
  const marker = n.effects.find((e) => e.kind === 'persist' && e.write.op === 'updatingEpoch');
  if (marker?.kind !== 'persist') throw new Error('no updatingEpoch marker after NEWLEADER');
  return { n, marker };
}

describe('3.4.6\'s updatingEpoch marker (ZOOKEEPER-1653): its delete after NEWLEADER fails', () => {
  it('Learner.syncWithLeader: "Failed to delete" ends the role; currentEpoch, already written, stays in memory', () => {
    const { n } = newLeaderAfterDiff();
    // The writes complete in order until the delete is issued (it is then in flight).
    const all = [...n.effects];
    while (n.pending.length > 0 && !all.some((e) => e.kind === 'persist' && e.write.op === 'updatingEpoch' && !e.write.exists)) {
      all.push(...n.feed({ kind: 'fsyncDone', token: n.pending.shift() as number }));
    }
    const unmark = all.find((e) => e.kind === 'persist' && e.write.op === 'updatingEpoch' && !e.write.exists);
    if (unmark?.kind !== 'persist') throw new Error(`no marker delete: ${JSON.stringify(all.filter((e) => e.kind === 'persist').map((e) => e.kind === 'persist' && e.write))}`);
    expect(n.state.currentEpoch).toBe(2);
    expect(n.pending).toContain(unmark.token);
    n.feed({ kind: 'writeFailed', token: unmark.token, write: unmark.write, durable: image([z(1, 1), z(1, 2)], 2, { acceptedEpoch: 2, updatingEpoch: true }) });
    expect(n.notes()[0]).toBe('going LOOKING: writing the updatingEpoch marker failed (IOException)');
    expect(n.state).toMatchObject({ state: 'LOOKING', currentEpoch: 2, acceptedEpoch: 2 });
  });
});

describe('§5.2 an aborted SNAP sync under ZOOKEEPER-3642 (learner_retains_partial_snap_on_abort): the trace says what memory kept', () => {
  it('the note names the zxid of the snapshot held in memory and not on disk; without the flaw there is none', () => {
    const run = (flaws: Partial<Flaws>): Node => {
      const n = awaitingSync(flaws);
      n.msg(5, { type: 'SNAP', zxid: z(1, 5), tree: n.state.db.tree, lastTxn: z(1, 5) });
      n.feed({ kind: 'disconnected', peer: 5 });
      return n;
    };
    expect(run({ learner_retains_partial_snap_on_abort: true }).notes()).toContain('kept the SNAP loaded in memory at <1,5>, though it is not on disk');
    expect(run({}).notes().filter((t) => t.startsWith('kept the SNAP'))).toEqual([]);
  });
});

describe('a failed updatingEpoch marker (Storage faults, "Failing updatingEpoch marker"): the next role still flushes before looking', () => {
  it('after the failed create every write of that role is accounted for; an acceptedEpoch write of the next role, in flight when that role ends, is flushed before FLE starts', () => {
    const { n, marker } = newLeaderAfterDiff();
    n.feed({ kind: 'writeFailed', token: marker.token, write: marker.write, durable: image([z(1, 1), z(1, 2)], 1, { acceptedEpoch: 2 }) });
    expect(n.effects).toContainEqual({ kind: 'dropWrites', afterToken: marker.token });
    expect(n.state.state).toBe('LOOKING');
    n.pending = []; // the disk dropped the writes behind the marker
    // s5 is elected again in round 2; its LEADERINFO for epoch 3 makes s3 write acceptedEpoch 3.
    n.nFrom([4, 5, 3], note('LOOKING', 5, z(1, 5), n.state.fle.logicalclock, 2));
    n.timer(TIMER_FINALIZE);
    expect(n.state.state).toBe('FOLLOWING');
    n.msg(5, { type: 'LEADERINFO', zxid: z(3, 0) });
    expect(n.pending).toHaveLength(1);
    n.timer(TIMER_LEARNER_READ);
    expect(n.notes()).toEqual(['going LOOKING: read timeout: nothing from leader s5', 'flushing 1 pending writes before looking for a leader']);
    expect(n.notificationsSent()).toEqual([]);
  });
});

describe('a failed updatingEpoch create that arrives after the learner\'s role ended', () => {
  it('the read timeout ended the role while the create was in flight: the failure has no role to end and no marker to undo; the flush then completes', () => {
    const { n, marker } = newLeaderAfterDiff();
    n.timer(TIMER_LEARNER_READ);
    expect(n.state).toMatchObject({ state: 'LOOKING', learner: null, flushing: true });
    n.feed({ kind: 'writeFailed', token: marker.token, write: marker.write, durable: image([z(1, 1), z(1, 2)], 1, { acceptedEpoch: 2 }) });
    expect(n.notes()).toEqual(['writing the updatingEpoch marker failed; no role to end']);
    expect(n.effects.filter((e) => e.kind === 'dropWrites')).toEqual([]);
    expect(n.state).toMatchObject({ state: 'LOOKING', flushing: true });
  });
});
