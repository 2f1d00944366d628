/**
 * The leader's broadcast (zab-protocol.md §6, src/protocol/broadcast.ts) at function level:
 * Leader.propose, processAck, tryToCommit, processSync and sendSync, fed one call at a time to s5, the
 * established leader of five voters and one observer (s6) in epoch 2 (and the observer's onInform). The leader's own writer
 * never runs here, so the leader's own ACK counts only when a test sends it. Written against the
 * surviving mutants of `npx stryker run --mutate 'src/protocol/broadcast.ts:74-143'` and from
 * reading the rest of the file (docs/checkers.md, "`broadcast.ts` and `txnlog.ts`"). Two cases
 * run the kernel itself, against the survivors of the whole file: propose's guard against a zxid
 * its own log holds (a later leader of an epoch ZOOKEEPER-1277 carried into), and an observer
 * whose history is a SNAP alone, on a stray INFORM (docs/checkers.md, "Mutation testing").
 */
import { own, ownHandler, ownLeader, writeStep } from '../../src/protocol/cow.ts';
import { describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../src/protocol/config.ts';
import type { StepContext } from '../../src/protocol/context.ts';
import type { TxnOrigin } from '../../src/protocol/datatree.ts';
import { onInform, processAck, processSync, propose } from '../../src/protocol/broadcast.ts';
import type { Effect, ServerState } from '../../src/protocol/types.ts';
import { formatZxid } from '../../src/protocol/zxid.ts';
import { txnFor, z } from './driver.ts';
import { boot, durableZxids, established, leaderOf, log, notes, one, sends, write } from './harness.ts';

/**
 * Each server's image: <1,1> logged, epoch 1. One object per server: boot() hands the image's log
 * array to that server's disk, which appends to it in place.
 */
const e1 = (sids: readonly number[]) => Object.fromEntries(sids.map((sid) => [sid, { acceptedEpoch: 1, currentEpoch: 1, log: log([1, 1]) }]));

class Server {
  constructor(
    readonly cfg: ClusterConfig,
    public state: ServerState,
  ) {}

  /** Runs `fn` on a draft of the leader's state, as one step would; returns its effects. */
  run(fn: (s: ServerState, ctx: StepContext) => void): Effect[] {
    const ctx: StepContext = { cfg: this.cfg, sid: this.state.sid, effects: [], probe: null, owned: [] };
    this.state = writeStep(ctx, this.state, (d) => fn(d, ctx));
    return ctx.effects;
  }

  propose(c: number): Effect[] {
    return this.run((s, ctx) => {
      expect(propose(s, ctx, txnFor(z(2, c)))).toBeNull();
    });
  }

  ack(sid: number, zx: number): Effect[] {
    return this.run((s, ctx) => processAck(s, ctx, sid, zx));
  }

  sync(origin: TxnOrigin): Effect[] {
    return this.run((s, ctx) => processSync(s, ctx, origin));
  }

  get outstanding(): string[] {
    return this.state.leader?.outstanding.items.map((p) => `${formatZxid(p.zxid)} [${p.acks.join(',')}]`) ?? [];
  }
}

function leading(sid = 5): Server {
  const { sim } = established({ voters: 5, observers: 1, images: e1([1, 2, 3, 4, 5, 6]) }, 5);
  if (sid !== 5) return new Server(sim.cfg, sim.server(sid).state);
  const l = sim.server(5).state.leader;
  if (l === null || !l.established || l.outstanding.length !== 0) throw new Error('s5 is not an idle established leader');
  for (const sid of [1, 2, 3, 4, 6]) if (l.learners[sid]?.forwarding !== true) throw new Error(`s${sid} is not forwarding`);
  return new Server(sim.cfg, sim.server(5).state);
}

/** Learner `sid`'s handler is still in its sync: not yet in the leader's forwarding set. */
function stillSyncing(l: Server, sid: number): void {
  l.run((s, ctx) => {
    if (s.leader?.learners[sid] === undefined) throw new Error(`no handler for s${sid}`);
    ownHandler(ctx, s, sid).forwarding = false;
  });
}

const sent = (es: readonly Effect[]): string[] =>
  es.flatMap((e) => (e.kind === 'send' && e.msg.type !== 'PING' ? [`${e.msg.type}${'zxid' in e.msg ? ` ${formatZxid(e.msg.zxid)}` : ''} → s${e.to}`] : []));

describe('§6 Leader.processAck counts each voter once', () => {
  it('a repeated ACK from the same follower is one ACK (Proposal.addAck adds the sid to a set): three copies from s1 are not a quorum of five', () => {
    const l = leading();
    l.propose(1);
    for (let i = 0; i < 3; i++) expect(sent(l.ack(1, z(2, 1)))).toEqual([]);
    expect(l.outstanding).toEqual(['<2,1> [1]']);
    expect(sent(l.ack(2, z(2, 1)))).toEqual([]);
    // The third distinct voter (the leader itself) makes the quorum.
    const es = l.ack(5, z(2, 1));
    expect(sent(es)).toEqual(['COMMIT <2,1> → s1', 'COMMIT <2,1> → s2', 'COMMIT <2,1> → s3', 'COMMIT <2,1> → s4', 'INFORM <2,1> → s6']);
    expect(l.outstanding).toEqual([]);
  });

  it('an observer\'s ACK is not counted: only voting members make a quorum (QuorumMaj.containsQuorum)', () => {
    const l = leading();
    l.propose(1);
    l.ack(1, z(2, 1));
    l.ack(2, z(2, 1));
    expect(sent(l.ack(6, z(2, 1)))).toEqual([]);
    expect(l.outstanding).toEqual(['<2,1> [1,2]']);
  });

  it('the ACK of an already committed proposal is dropped quietly ("proposal has already been committed"); one of an unknown proposal is reported ("Trying to commit future proposal")', () => {
    const l = leading();
    l.propose(1);
    for (const sid of [1, 2, 5]) l.ack(sid, z(2, 1));
    expect(l.state.leader?.lastCommitted).toBe(z(2, 1));
    const late = l.ack(3, z(2, 1)); // exactly lastCommitted
    expect(late).toEqual([]);
    expect(l.ack(3, z(2, 7))).toEqual([{ kind: 'note', text: 'ACK <2,7> from s3 for an unknown proposal' }]);
  });

  it('an ACK of a new-epoch zxid (e,0), the learner\'s answer to UPTODATE, is ignored quietly', () => {
    const l = leading();
    expect(l.ack(3, z(2, 0))).toEqual([]);
    expect(l.ack(3, z(3, 0))).toEqual([]);
  });

  it('the learner\'s ACK clears its syncLimit check (LearnerHandler.run: syncLimitCheck.updateAck)', () => {
    const l = leading();
    l.propose(1);
    const check = () => l.state.leader?.learners[3]?.syncCheck;
    expect(check()?.currentZxid).toBe(z(2, 1));
    l.ack(3, z(2, 1));
    expect(check()?.currentZxid).toBe(0);
  });
});

describe('§6 tryToCommit commits the longest quorate prefix, in zxid order', () => {
  it('a later proposal with a quorum waits for the earlier one; then both commit, in order', () => {
    const l = leading();
    l.propose(1);
    l.propose(2);
    for (const sid of [1, 2, 5]) expect(sent(l.ack(sid, z(2, 2)))).toEqual([]);
    expect(l.outstanding).toEqual(['<2,1> []', '<2,2> [1,2,5]']);
    l.ack(1, z(2, 1));
    l.ack(2, z(2, 1));
    const es = l.ack(5, z(2, 1));
    expect(sent(es).filter((x) => x.endsWith('s1'))).toEqual(['COMMIT <2,1> → s1', 'COMMIT <2,2> → s1']);
    expect(l.state.leader?.toBeApplied.items.map((p) => p.zxid)).toEqual([z(2, 1), z(2, 2)]);
    expect(l.state.leader?.lastCommitted).toBe(z(2, 2));
  });

  it('COMMIT and INFORM go only to forwarding learners (Leader.sendPacket over forwardingFollowers); a learner still syncing gets none', () => {
    const l = leading();
    stillSyncing(l, 4);
    l.propose(1);
    const es = [...l.ack(1, z(2, 1)), ...l.ack(2, z(2, 1)), ...l.ack(5, z(2, 1))];
    expect(sent(es)).toEqual(['COMMIT <2,1> → s1', 'COMMIT <2,1> → s2', 'COMMIT <2,1> → s3', 'INFORM <2,1> → s6']);
  });
});

describe('§6 Leader.processSync and sendSync', () => {
  const from1 = (cxid: number): TxnOrigin => ({ server: 1, client: 1, cxid });

  it('with nothing outstanding a learner\'s sync is answered at once; otherwise it waits for lastProposed to commit', () => {
    const l = leading();
    expect(sent(l.sync(from1(1)))).toEqual(['SYNC → s1']);
    l.propose(1);
    expect(sent(l.sync(from1(2)))).toEqual([]);
    expect(l.state.leader?.pendingSyncs.items.map((x) => x.waitFor)).toEqual([z(2, 1)]);
  });

  it('each pending sync is answered once, when the proposal it waits for commits: not before, not again', () => {
    const l = leading();
    l.propose(1);
    l.sync(from1(1)); // waits for <2,1>
    l.propose(2);
    l.sync(from1(2)); // waits for <2,2>
    const c1 = [...l.ack(1, z(2, 1)), ...l.ack(2, z(2, 1)), ...l.ack(5, z(2, 1))];
    expect(c1.filter((e) => e.kind === 'send' && e.msg.type === 'SYNC')).toEqual([{ kind: 'send', to: 1, msg: { type: 'SYNC', origin: from1(1) } }]);
    expect(l.state.leader?.pendingSyncs.items.map((x) => x.waitFor)).toEqual([z(2, 2)]);
    const c2 = [...l.ack(1, z(2, 2)), ...l.ack(2, z(2, 2)), ...l.ack(5, z(2, 2))];
    expect(c2.filter((e) => e.kind === 'send' && e.msg.type === 'SYNC')).toEqual([{ kind: 'send', to: 1, msg: { type: 'SYNC', origin: from1(2) } }]);
    expect(l.state.leader?.pendingSyncs.length).toBe(0);
  });

  it('the SYNC of a learner whose handler is gone is not sent (LearnerSyncRequest.fh.queuePacket on a dead handler reaches no one)', () => {
    const l = leading();
    l.propose(1);
    l.sync(from1(1));
    l.run((s, ctx) => {
      delete own(ctx, ownLeader(ctx, s), 'learners')[1];
    });
    const es = [...l.ack(2, z(2, 1)), ...l.ack(3, z(2, 1)), ...l.ack(5, z(2, 1))];
    expect(sent(es)).toEqual(['COMMIT <2,1> → s2', 'COMMIT <2,1> → s3', 'COMMIT <2,1> → s4', 'INFORM <2,1> → s6']);
    expect(l.state.leader?.pendingSyncs.length).toBe(0);
  });
});

describe('§6 Leader.propose', () => {
  it('PROPOSAL goes to the forwarding followers only: not to an observer (it gets INFORM at commit) nor to a learner still syncing', () => {
    const l = leading();
    stillSyncing(l, 4);
    expect(sent(l.propose(1))).toEqual(['PROPOSAL <2,1> → s1', 'PROPOSAL <2,1> → s2', 'PROPOSAL <2,1> → s3']);
    expect(l.outstanding).toEqual(['<2,1> []']);
    expect(l.state.leader?.lastProposed).toBe(z(2, 1));
  });

  it('a leader not yet established (before Leader.startZkServer) proposes nothing', () => {
    const l = leading();
    l.run((s, ctx) => {
      ownLeader(ctx, s).established = false;
    });
    const es = l.run((s, ctx) => {
      expect(propose(s, ctx, txnFor(z(2, 1)))).toBeNull();
    });
    expect(es).toEqual([{ kind: 'note', text: 'dropped a write: not an established leader' }]);
    expect(l.outstanding).toEqual([]);
  });

  it('ZOOKEEPER-1277 (zxid_counter_overflow_carries_into_epoch): the next leader of the carried epoch would assign <2,1> again, which its own log holds; it gives up leading ("a repeated zxid") instead of logging a second txn under that zxid', () => {
    // zxidCounterLimit 3 stands for 0xffffffff (as in bugflaws.test.ts B16): s3, leader of epoch
    // 1, proposes <1,3> and then carries into <2,0> and <2,1>, which nobody established; they
    // never commit (the ACK of <2,0> looks like a NEWLEADER ACK), but every server logs them.
    const { sim, trace } = established({ voters: 3, flaws: { zxid_counter_overflow_carries_into_epoch: true }, params: { zxidCounterLimit: 3 } }, 3);
    for (let i = 0; i < 5; i++) sim.at(1000 + 50 * i, () => write(sim, 3, `/w${i}`));
    sim.runUntil(1300);
    expect(durableZxids(sim, 2).map(formatZxid)).toEqual(['<1,1>', '<1,2>', '<1,3>', '<2,0>', '<2,1>']);
    // s3 dies; s1 and s2 elect s2, whose epoch is 1 + the greatest acceptedEpoch (1): epoch 2 again.
    sim.crash(3);
    expect(sim.runUntilTrue(30_000, () => leaderOf(sim) === 2)).toBe(true);
    expect(sim.server(2).state.leader?.lastProposed).toBe(z(2, 0));
    const t = sim.now;
    write(sim, 2, '/again');
    sim.runUntil(t + 100);
    expect(one(notes(trace, 2, /repeated zxid/), 'the guard').text).toBe('going LOOKING: zxid <2,1> is already in my log (the counter carried into the epoch earlier): a repeated zxid');
    expect(sends(trace, 'PROPOSAL', 2)).toEqual([]);
    // The log keeps the one txn of <2,1>, the carried /w4.
    const logged = sim.server(2).disk.image.log.filter((e) => e.zxid === z(2, 1));
    expect(logged.map((e) => (e.txn.type === 'create' ? e.txn.path : e.txn.type))).toEqual(['/w4']);
  });
});

describe('§6 an observer on INFORM (ObserverZooKeeperServer.commitRequest)', () => {
  it('hands the txn to its log writer and its CommitProcessor; a second copy, still queued and not applied, is ignored', () => {
    const o = leading(6); // the observer s6, in broadcast; its own state, driven the same way
    expect(o.state.state).toBe('OBSERVING');
    const inform = { type: 'INFORM' as const, zxid: z(2, 1), txn: txnFor(z(2, 1)) };
    o.run((s, ctx) => onInform(s, ctx, inform));
    expect(o.state.logWriter.queue.items.map((q) => q.entry.zxid)).toEqual([z(2, 1)]);
    expect(o.state.commitProcessor.queue.items.map((q) => q.entry?.zxid)).toEqual([z(2, 1)]);
    const again = o.run((s, ctx) => onInform(s, ctx, inform));
    expect(again).toEqual([{ kind: 'note', text: 'ignored INFORM <2,1>: already applied' }]);
    expect(o.state.logWriter.queue.length).toBe(1);
    expect(o.state.commitProcessor.queue.length).toBe(1);
  });

  it('an INFORM at or below what the observer applied is ignored even where its log lacks the txn: after a SNAP its history is the snapshot alone', () => {
    // The observer s6 starts with an empty disk after <2,1> committed: SNAP <2,1>, so it has
    // applied <2,1> (lastProcessedZxid) with nothing in its log. The leader never INFORMs it of
    // <2,1> (committed before s6 was forwarding); a stray copy, as a scenario's `inject` delivers
    // it, is ignored, not logged and applied a second time.
    const { sim, trace } = boot({ voters: 5, observers: 1, images: e1([1, 2, 3, 4, 5]), startAt: { 6: null } });
    sim.runUntil(1000);
    expect(leaderOf(sim)).toBe(5);
    write(sim, 5, '/x');
    sim.runUntil(1100);
    sim.start(6);
    sim.runUntil(3000);
    expect(sends(trace, 'SNAP', 5, 6).map((e) => formatZxid(e.msg.zxid))).toEqual(['<2,1>']);
    expect(sends(trace, 'INFORM', 5, 6)).toEqual([]);
    const o = sim.server(6);
    expect([o.state.state, o.state.zabState, o.state.db.lastProcessedZxid, o.state.db.log.length]).toEqual(['OBSERVING', 'BROADCAST', z(2, 1), 0]);
    const committed = one(sim.server(5).disk.image.log.filter((e) => e.zxid === z(2, 1)), '<2,1> at the leader');
    sim.inject(5, 6, { type: 'INFORM', zxid: z(2, 1), txn: committed.txn });
    sim.runUntil(3100);
    expect(one(notes(trace, 6, /INFORM/), 'the INFORM at s6').text).toBe('ignored INFORM <2,1>: already applied');
    expect(o.disk.image.log).toEqual([]);
    expect(o.state.db.lastProcessedZxid).toBe(z(2, 1));
  });
});
