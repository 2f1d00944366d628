/**
 * The learner's log writer as a thread of its own (docs/protocol.md "Threads and queues";
 * SyncRequestProcessor + SendAckRequestProcessor, zab-protocol.md §6) and the flaws that live in
 * its interleavings with the protocol thread: ZOOKEEPER-4646 (B10) and ZOOKEEPER-4712 (B14).
 * s3 leads epoch 1 over logs holding <1,1>; fixed delays (5 ms one way, 2 ms fsync, 1 ms rename)
 * and a log writer that runs `threads` ms after it is woken.
 */
import { describe, expect, it } from 'vitest';
import type { Flaws } from '../../src/protocol/config.ts';
import { zxid } from '../../src/protocol/zxid.ts';
import { appendOf, boot, delivers, first, fsyncs, leaderOf, log, notes, one, persists, sends, write, writeSteps } from './harness.ts';

const E1 = { acceptedEpoch: 1, currentEpoch: 1 };
/** The first txn of epoch 2, which s3 establishes. */
const Z21 = zxid(2, 1);

function ensemble(threadsMs: number, flaws: Partial<Flaws> = {}) {
  const b = boot({
    voters: 3,
    flaws,
    stageDelay: { kind: 'constant', ms: threadsMs },
    images: { 1: { ...E1, log: log([1, 1]) }, 2: { ...E1, log: log([1, 1]) }, 3: { ...E1, log: log([1, 1]) } },
  });
  b.sim.runUntil(1000);
  expect(leaderOf(b.sim)).toBe(3);
  return b;
}

describe('§6 the follower log writer (SyncRequestProcessor, then SendAckRequestProcessor)', () => {
  it('a PROPOSAL is queued to the writer, which writes it when it runs; the ACK follows its fsync', () => {
    const { sim, trace } = ensemble(20);
    write(sim, 3, '/a');
    sim.runUntil(1100);
    const arrived = one(delivers(trace, 'PROPOSAL', 3, 1), 'PROPOSAL to s1');
    const p = one(persists(trace, 1, appendOf(Z21)), 'append <2,1> on s1');
    expect(p.t).toBe(arrived.t + 20);
    const done = one(fsyncs(trace, 1, appendOf(Z21)), 'fsync <2,1> on s1');
    const ack = first(sends(trace, 'ACK', 1, 3).filter((e) => e.msg.zxid === Z21), 'ACK <2,1>');
    expect(done.t).toBe(p.t + 2);
    expect(ack.t).toBe(done.t);
    expect(ack.i).toBeGreaterThan(done.i);
  });

  it('proposals queued while the writer waits are written in one step (a group), in zxid order', () => {
    const { sim, trace } = ensemble(20);
    write(sim, 3, '/a');
    write(sim, 3, '/b');
    sim.runUntil(1100);
    const ps = persists(trace, 1, (w) => w.op === 'appendLog');
    expect(ps.map((e) => e.write.op === 'appendLog' && e.write.entry.zxid)).toEqual([zxid(2, 1), zxid(2, 2)]);
    expect(ps[0]?.t).toBe(ps[1]?.t);
    expect((ps[1]?.i ?? 0) - (ps[0]?.i ?? 0)).toBe(1);
  });

  it('a crash loses what is queued: the restarted server has not logged it', () => {
    const { sim, trace } = ensemble(20);
    write(sim, 3, '/a');
    const arrivedAt = 1000 + 5;
    sim.runUntil(arrivedAt + 1);
    expect(delivers(trace, 'PROPOSAL', 3, 1)).toHaveLength(1);
    expect(sim.server(1).state.logWriter.queue.length).toBe(1);
    sim.crash(1);
    sim.runUntil(arrivedAt + 50);
    expect(persists(trace, 1, appendOf(Z21))).toEqual([]);
    expect(sim.server(1).disk.image.log.map((e) => e.zxid)).toEqual([zxid(1, 1)]);
  });

  it('ZooKeeper 3.9.3: a role change writes what the writer holds before the fast-forward, so the server votes with it', () => {
    // The writer is descheduled for 15 s: s1's read timeout (syncLimit·tickTime, 10 s) ends its
    // role first.
    const { sim, trace } = ensemble(15_000);
    write(sim, 3, '/a');
    sim.runUntil(1006);
    expect(sim.server(1).state.logWriter.queue.length).toBe(1);
    sim.crash(3);
    sim.runUntil(40_000);
    const drained = one(notes(trace, 1, /log writer shut down: writing 1 queued txns first/), 'drain note');
    const p = one(persists(trace, 1, appendOf(Z21)), 'append <2,1> on s1');
    expect(p.t).toBe(drained.t);
    expect(p.i).toBeGreaterThan(drained.i);
    // It then votes with <2,1>: the zxid of its own proposal.
    const votes = sends(trace, 'NOTIFICATION', 1).filter((e) => e.t >= drained.t && e.msg.leader === 1);
    expect(votes.length).toBeGreaterThan(0);
    expect(votes.every((v) => v.msg.zxid === Z21)).toBe(true);
  });
});

describe('log-writer flaw switches', () => {
  it('ZOOKEEPER-4712 (shutdown_leaves_log_writer_running): the server votes without the queued txn, and the writer appends it afterwards, with no ACK', () => {
    const { sim, trace } = ensemble(15_000, { shutdown_leaves_log_writer_running: true });
    write(sim, 3, '/a');
    sim.runUntil(1006);
    expect(sim.server(1).state.logWriter.queue.length).toBe(1);
    sim.crash(3);
    sim.runUntil(40_000);
    expect(notes(trace, 1, /log writer shut down/)).toEqual([]);
    const left = one(notes(trace, 1, /log writer left running with 1 queued txns/), 'left-running note');
    const stray = one(notes(trace, 1, /log writer: writing <2,1>, queued by the role that ended/), 'stray write note');
    const p = one(persists(trace, 1, appendOf(Z21)), 'append <2,1> on s1');
    expect(p.t).toBeGreaterThan(left.t);
    expect(p.i).toBeGreaterThan(stray.i);
    const votesBefore = sends(trace, 'NOTIFICATION', 1).filter((e) => e.t >= left.t && e.t < p.t && e.msg.leader === 1);
    expect(votesBefore.length).toBeGreaterThan(0);
    expect(votesBefore.every((v) => v.msg.zxid === zxid(1, 1))).toBe(true);
    expect(sends(trace, 'ACK', 1).filter((e) => e.msg.zxid === Z21)).toEqual([]);
  });

  /** The follower's writes from NEWLEADER on, and where its NEWLEADER ACK falls among them. */
  function newLeaderWrites(flaws: Partial<Flaws>, threadsMs: number): { steps: string[]; ackAt: number } {
    const { sim, trace } = boot({
      voters: 3,
      flaws,
      stageDelay: { kind: 'constant', ms: threadsMs },
      disk: { fsyncLatency: { kind: 'constant', ms: 10 }, renameLatency: { kind: 'constant', ms: 3 } },
      images: { 1: { ...E1, log: log([1, 1]) }, 2: { ...E1, log: log([1, 1]) }, 3: { ...E1, log: log([1, 1], [1, 2], [1, 3]) } },
    });
    sim.runUntil(1000);
    expect(leaderOf(sim)).toBe(3);
    const newLeader = one(delivers(trace, 'NEWLEADER', 3, 1), 'NEWLEADER');
    const ack = first(sends(trace, 'ACK', 1, 3).filter((e) => e.msg.zxid === zxid(2, 0)), 'ACK(NEWLEADER)');
    const mine = trace.filter((e) => e.i >= newLeader.i && e.t <= newLeader.t + 200 && 'sid' in e && e.sid === 1);
    return { steps: writeSteps(mine), ackAt: writeSteps(mine.filter((e) => e.i < ack.i)).length };
  }

  it('default (3.9.3): the DIFF txns are appended on the protocol thread and durable before the NEWLEADER ACK, however late the writer runs', () => {
    const { steps, ackAt } = newLeaderWrites({}, 100);
    expect(steps.slice(0, ackAt)).toEqual(expect.arrayContaining(['fsync appendLog <1,2>', 'fsync appendLog <1,3>', 'fsync currentEpoch := 2']));
  });

  it('ZOOKEEPER-4646 (follower_newleader_persist_async): the DIFF txns go to the writer and the ACK leaves once currentEpoch is durable, before they are even written', () => {
    const { steps, ackAt } = newLeaderWrites({ follower_newleader_persist_async: true }, 100);
    const before = steps.slice(0, ackAt);
    expect(before).toContain('fsync currentEpoch := 2');
    expect(before.filter((x) => x.includes('appendLog'))).toEqual([]);
    expect(steps.slice(ackAt)).toEqual(expect.arrayContaining(['persist appendLog <1,2>', 'persist appendLog <1,3>', 'fsync appendLog <1,2>', 'fsync appendLog <1,3>']));
  });

  it('ZOOKEEPER-4685 (follower_starts_processors_before_newleader_ack): the DIFF proposals go to the writer, which ACKs them; the NEWLEADER ACK waits for the protocol thread to run again', () => {
    const run = (flaws: Partial<Flaws>) => {
      const { sim, trace } = boot({
        voters: 3,
        flaws,
        stageDelay: { kind: 'constant', ms: 20 },
        images: { 1: { ...E1, log: log([1, 1]) }, 2: { ...E1, log: log([1, 1]) }, 3: { ...E1, log: log([1, 1], [1, 2], [1, 3]) } },
      });
      sim.runUntil(1000);
      expect(leaderOf(sim)).toBe(3);
      const epochDone = one(fsyncs(trace, 1, (w) => w.op === 'writeEpoch' && w.file === 'currentEpoch' && w.value === 2), 'currentEpoch := 2 on s1');
      const ack = first(sends(trace, 'ACK', 1, 3).filter((e) => e.msg.zxid === zxid(2, 0)), 'ACK(NEWLEADER)');
      const proposalAcks = sends(trace, 'ACK', 1, 3).filter((e) => e.msg.zxid === zxid(1, 2) || e.msg.zxid === zxid(1, 3));
      return { epochDone, ack, proposalAcks, writes: persists(trace, 1, (w) => w.op === 'appendLog') };
    };
    const fixed = run({});
    expect(fixed.proposalAcks).toEqual([]);
    expect(fixed.ack.t).toBe(fixed.epochDone.t);
    const flawed = run({ follower_starts_processors_before_newleader_ack: true });
    expect(flawed.ack.t).toBe(flawed.epochDone.t + 20);
    expect(flawed.proposalAcks.map((e) => e.msg.zxid)).toEqual([zxid(1, 2), zxid(1, 3)]);
    expect(flawed.writes.map((e) => e.t)).toEqual([flawed.epochDone.t + 20, flawed.epochDone.t + 20]);
  });
});
