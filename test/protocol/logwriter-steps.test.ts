/**
 * The learner's log writer (SyncRequestProcessor, zab-protocol.md §6; docs/protocol.md "Threads
 * and queues") at step level: s3 of five voters follows s5 in epoch 2 and is in broadcast. Each
 * input is fed through `step` alone, so the writer's own step runs only when a test says so; with
 * the ZOOKEEPER-4712 flaw the writer's step can then come after the role that woke it has ended.
 * These were surviving mutants of `npm run mutate -- --mutate src/protocol/logwriter.ts`
 * (docs/checkers.md, "Mutation testing").
 */
import { describe, expect, it } from 'vitest';
import type { Flaws } from '../../src/protocol/config.ts';
import { TIMER_FINALIZE } from '../../src/protocol/election.ts';
import { step } from '../../src/protocol/peer.ts';
import { PROBE } from '../../src/protocol/probes.ts';
import type { Effect, Input } from '../../src/protocol/types.ts';
import { awaitingSync, note, txnFor, z, type Node } from './driver.ts';
import { appendOf, boot, leaderOf, log, notes, persists, write } from './harness.ts';
import { formatZxid } from '../../src/protocol/zxid.ts';

function broadcasting(flaws: Partial<Flaws> = {}): Node {
  const n = awaitingSync(flaws);
  n.msg(5, { type: 'DIFF', zxid: z(1, 2) });
  n.msg(5, { type: 'NEWLEADER', zxid: z(2, 0) });
  n.flush();
  n.msg(5, { type: 'UPTODATE' });
  n.flush();
  if (n.state.learner?.phase !== 'broadcast') throw new Error(`s3 is not in broadcast: ${n.state.learner?.phase ?? n.state.state}`);
  return n;
}

/** One step of `n` without running the writer it wakes. */
function only(n: Node, input: Input): readonly Effect[] {
  const r = step(n.cfg, n.state, input);
  n.state = r.state;
  return r.effects;
}

const proposal = (c: number): Input => ({ kind: 'message', from: 5, msg: { type: 'PROPOSAL', zxid: z(2, c), txn: txnFor(z(2, c)) } });
const wakes = (es: readonly Effect[]): number => es.filter((e) => e.kind === 'wake').length;

describe('§6 the follower log writer, step by step', () => {
  it('SyncRequestProcessor.processRequest wakes the writer once: a second PROPOSAL queued before it runs wakes nothing', () => {
    const n = broadcasting();
    expect(wakes(only(n, proposal(1)))).toBe(1);
    expect(n.state.logWriter.woken).toBe(true);
    expect(wakes(only(n, proposal(2)))).toBe(0);
    expect(n.state.logWriter.queue.items.map((q) => q.entry.zxid)).toEqual([z(2, 1), z(2, 2)]);
    // Its step takes the whole queue as one group, and it sleeps until woken again.
    const run = only(n, { kind: 'stage', stage: 'logWriter' });
    expect(run.flatMap((e) => (e.kind === 'persist' && e.write.op === 'appendLog' ? [e.write.entry.zxid] : []))).toEqual([z(2, 1), z(2, 2)]);
    expect(n.state.logWriter.woken).toBe(false);
    expect(n.state.logWriter.queue.length).toBe(0);
    expect(wakes(only(n, proposal(3)))).toBe(1);
  });

  it('a PROPOSAL the writer still holds is a duplicate: a second copy (the channel duplicated it) is ignored, not queued twice', () => {
    const n = broadcasting();
    only(n, proposal(1));
    only(n, proposal(2));
    const dup = only(n, proposal(1));
    expect(dup.flatMap((e) => (e.kind === 'note' ? [e.text] : []))).toContain('ignored duplicate PROPOSAL <2,1>');
    expect(n.state.logWriter.queue.items.map((q) => q.entry.zxid)).toEqual([z(2, 1), z(2, 2)]);
    expect(n.state.learner?.pendingTxns.items.map((e) => e.zxid)).toEqual([z(2, 1), z(2, 2)]);
    // The newest queued one too, and one the writer has already written.
    only(n, proposal(2));
    expect(n.state.logWriter.queue.length).toBe(2);
    only(n, { kind: 'stage', stage: 'logWriter' });
    only(n, proposal(2));
    expect(n.state.logWriter.queue.length).toBe(0);
    expect(n.state.learner?.pendingTxns.items.map((e) => e.zxid)).toEqual([z(2, 1), z(2, 2)]);
  });
});

describe('ZOOKEEPER-4646 (follower_newleader_persist_async): the DIFF txns handed to the writer at NEWLEADER', () => {
  /**
   * ZooKeeper 3.8.0-3.9.1 (Learner.syncWithLeader at NEWLEADER): `zk.startupWithoutServing()`
   * builds the follower's SyncRequestProcessor → SendAckRequestProcessor chain, then
   * `fzk.logRequest` hands it each buffered txn. That is the path of a broadcast PROPOSAL, so the
   * writer ACKs each after its flush (zab-protocol.md §1.3, §6). The leader ignores those ACKs:
   * their zxids are at or below lastCommitted, or nothing is outstanding yet (processAck).
   */
  it('the writer ACKs each after its flush, as it ACKs a broadcast PROPOSAL; with this step order the NEWLEADER ACK leaves first', () => {
    const n = awaitingSync({ follower_newleader_persist_async: true });
    n.msg(5, { type: 'DIFF', zxid: z(1, 4) });
    for (const c of [3, 4]) {
      n.msg(5, { type: 'PROPOSAL', zxid: z(1, c), txn: txnFor(z(1, c)) });
      n.msg(5, { type: 'COMMIT', zxid: z(1, c) });
    }
    const acks = (es: readonly Effect[]): string[] => es.flatMap((e) => (e.kind === 'send' && e.msg.type === 'ACK' ? [formatZxid(e.msg.zxid)] : []));
    // The committed DIFF txns go to the writer (the driver runs it at once, after the NEWLEADER
    // step has submitted currentEpoch); the NEWLEADER ACK waits for currentEpoch alone.
    const atNewLeader = n.msg(5, { type: 'NEWLEADER', zxid: z(2, 0) });
    expect(atNewLeader.flatMap((e) => (e.kind === 'persist' && e.write.op === 'appendLog' ? [formatZxid(e.write.entry.zxid)] : []))).toEqual(['<1,3>', '<1,4>']);
    expect(acks(atNewLeader)).toEqual([]);
    // The disk completes writes in order: currentEpoch (then the NEWLEADER ACK), then each txn
    // (then its ACK).
    expect(acks(n.flush())).toEqual(['<2,0>', '<1,3>', '<1,4>']);
    expect(acks(n.msg(5, { type: 'UPTODATE' }))).toEqual(['<2,0>']);
    n.flush();
    n.msg(5, { type: 'PROPOSAL', zxid: z(2, 1), txn: txnFor(z(2, 1)) });
    expect(acks(n.flush())).toEqual(['<2,1>']);
  });
});

describe('ZOOKEEPER-4712 (shutdown_leaves_log_writer_running): the writer\'s step after its role ended', () => {
  it('a stray txn that the next role logged as the newest txn of its DIFF is skipped when the old writer runs, not written a second time', () => {
    const n = broadcasting({ shutdown_leaves_log_writer_running: true });
    const oldRole = n.state.role;
    only(n, proposal(1)); // <2,1> queued; its writer is woken but does not run
    n.feed({ kind: 'disconnected', peer: 5 });
    expect(n.notes()).toContain('log writer left running with 1 queued txns');
    // The fast-forward did not see the queued <2,1>: s3 votes with <1,2>. s4, which logged <2,1>,
    // leads epoch 3 and syncs s3 by DIFF with <2,1> committed before NEWLEADER.
    expect(n.state.db.lastProcessedZxid).toBe(z(1, 2));
    n.nFrom([1, 2, 4], note('LOOKING', 4, z(2, 1), 2, 2));
    n.timer(TIMER_FINALIZE);
    n.msg(4, { type: 'LEADERINFO', zxid: z(3, 0) });
    n.flush();
    n.msg(4, { type: 'DIFF', zxid: z(2, 1) });
    n.msg(4, { type: 'PROPOSAL', zxid: z(2, 1), txn: txnFor(z(2, 1)) });
    n.msg(4, { type: 'COMMIT', zxid: z(2, 1) });
    n.msg(4, { type: 'NEWLEADER', zxid: z(3, 0) });
    n.flush();
    n.msg(4, { type: 'UPTODATE' });
    n.flush();
    // §1.3: the new role appended and applied <2,1> on the protocol thread at NEWLEADER, so it is
    // the newest txn of both its log and its database; the old role's copy still waits.
    expect(n.state.learner?.phase).toBe('broadcast');
    expect(n.state.role).toBeGreaterThan(oldRole);
    expect(n.state.db.log.slice(0).map((e) => e.zxid)).toEqual([z(1, 1), z(1, 2), z(2, 1)]);
    expect(n.state.db.lastProcessedZxid).toBe(z(2, 1));
    expect(n.state.logWriter.queue.items.map((q) => [q.entry.zxid, q.role])).toEqual([[z(2, 1), oldRole]]);
    // The old writer's step: the stray <2,1> is at (not below) what the log reaches. Skipped: no
    // append, no second copy in the log, no ACK.
    const run = only(n, { kind: 'stage', stage: 'logWriter' });
    expect(run).toEqual([{ kind: 'note', text: 'log writer: skipped <2,1>, the log already reaches <2,1>' }]);
    expect(n.state.db.log.slice(0).map((e) => e.zxid)).toEqual([z(1, 1), z(1, 2), z(2, 1)]);
    expect(n.state.logWriter.queue.length).toBe(0);
  });
});

describe('the log writer\'s coverage probes (issue 12 §3) count what happened', () => {
  it('one wake and one run per group; no empty run, drain, skip or stale-role write in a plain broadcast', () => {
    const { sim } = boot({
      voters: 3,
      coverage: true,
      stageDelay: { kind: 'constant', ms: 20 },
      images: Object.fromEntries([1, 2, 3].map((sid) => [sid, { acceptedEpoch: 1, currentEpoch: 1, log: log([1, 1]) }])),
    });
    sim.runUntil(1000);
    expect(leaderOf(sim)).toBe(3);
    const at = (name: keyof typeof PROBE): number => sim.coverage?.[PROBE[name]] ?? -1;
    const before = { wake: at('logwriter.wake'), run: at('logwriter.run') };
    write(sim, 3, '/a');
    write(sim, 3, '/b');
    sim.runUntil(1100);
    // The leader (its SyncRequestProcessor) and two followers, each woken once for both
    // proposals and running once.
    expect(at('logwriter.wake') - before.wake).toBe(3);
    expect(at('logwriter.run') - before.run).toBe(3);
    expect([at('logwriter.run-empty'), at('logwriter.drain'), at('logwriter.skip'), at('logwriter.stale-role')]).toEqual([0, 0, 0, 0]);
  });

  /** s3 leads; s1's writer is descheduled for 15 s with <2,1> queued when s3 crashes. */
  function roleEndsWithQueue(flaws: Partial<Flaws>) {
    const { sim, trace } = boot({
      voters: 3,
      flaws,
      coverage: true,
      stageDelay: { kind: 'constant', ms: 15_000 },
      images: Object.fromEntries([1, 2, 3].map((sid) => [sid, { acceptedEpoch: 1, currentEpoch: 1, log: log([1, 1]) }])),
    });
    sim.runUntil(1000);
    expect(leaderOf(sim)).toBe(3);
    write(sim, 3, '/a');
    sim.runUntil(1006);
    sim.crash(3);
    sim.runUntil(40_000);
    const at = (name: keyof typeof PROBE): number => sim.coverage?.[PROBE[name]] ?? -1;
    return Object.assign(at, { sim, trace });
  }

  it('ZooKeeper 3.9.3: a role change drains the queue (logwriter.drain); the writer woken before it then runs on an empty queue (logwriter.run-empty)', () => {
    const at = roleEndsWithQueue({});
    expect(at('logwriter.drain')).toBeGreaterThan(0);
    expect(at('logwriter.run-empty')).toBeGreaterThan(0);
    expect(at('logwriter.stale-role')).toBe(0);
  });

  it('ZOOKEEPER-4712 (shutdown_leaves_log_writer_running): no drain; the writer writes what the ended role queued (logwriter.stale-role)', () => {
    const at = roleEndsWithQueue({ shutdown_leaves_log_writer_running: true });
    expect(at('logwriter.drain')).toBe(0);
    expect(at('logwriter.stale-role')).toBeGreaterThan(0);
  });

  it('ZOOKEEPER-4712: a stray write the new role already holds is skipped (a new leader has applied past it; zabsim keeps the log sorted)', () => {
    const at = roleEndsWithQueue({ shutdown_leaves_log_writer_running: true });
    const leader = leaderOf(at.sim);
    expect(leader).not.toBeNull();
    const l = at.sim.server(leader as number).state;
    expect(l.db.lastProcessedZxid).toBeGreaterThan(z(2, 1));
    expect(notes(at.trace, leader, /log writer: skipped/).map((e) => e.text)).toEqual([`log writer: skipped <2,1>, the log already reaches ${formatZxid(l.db.lastProcessedZxid)}`]);
    expect(at('logwriter.skip')).toBe(1);
    expect(persists(at.trace, leader as number, appendOf(z(2, 1)))).toEqual([]);
  });
});

