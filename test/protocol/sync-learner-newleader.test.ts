/**
 * The learner's NEWLEADER in src/protocol/sync.ts (zab-protocol.md §1.3, §5.2; Learner.syncWithLeader)
 * where the tests before it did not reach (issue 12 §2, docs/checkers.md, "sync.ts, learner side"):
 * the COMMITs a SNAP's learner reads before NEWLEADER over the SNAP's tree (ZOOKEEPER-3104), the
 * writes the protocol thread waits for and the probes that count them, ZOOKEEPER-4646's and
 * ZOOKEEPER-4394's NEWLEADER, and ZOOKEEPER-4685's yield. Step level: s3 (log <1,1> <1,2>, epoch 1)
 * follows s5 of five voters into epoch 2, or observer s4 follows s3; every step runs with a probe
 * sink. No wall-clock time.
 */
import { describe, expect, it } from 'vitest';
import { makeClusterConfig, type Flaws } from '../../src/protocol/config.ts';
import { applyTxn, type DataTree, type Txn } from '../../src/protocol/datatree.ts';
import { step } from '../../src/protocol/peer.ts';
import { PROBE } from '../../src/protocol/probes.ts';
import type { Effect, Input, LogEntry, Snapshot } from '../../src/protocol/types.ts';
import { formatZxid } from '../../src/protocol/zxid.ts';
import { awaitingSync, image, Node, note, z } from './driver.ts';
import { writeName } from './harness.ts';

/** A Node whose steps run with a probe sink; `wakes` false leaves the threads a step wakes to the test. */
class Probed extends Node {
  readonly seen: number[] = [];
  wakes = true;

  override feed(input: Input): readonly Effect[] {
    const sink = (id: number): void => void this.seen.push(id);
    const r = step(this.cfg, this.state, input, sink);
    this.state = r.state;
    let effects = r.effects;
    for (const e of r.effects) {
      if (e.kind !== 'wake' || !this.wakes) continue;
      const w = step(this.cfg, this.state, { kind: 'stage', stage: e.stage }, sink);
      this.state = w.state;
      effects = [...effects, ...w.effects];
    }
    this.effects = effects;
    for (const e of effects) if (e.kind === 'persist') this.pending.push(e.token);
    return effects;
  }

  /** Reports the oldest pending write as durable. */
  fsyncNext(): readonly Effect[] {
    const token = this.pending.shift();
    if (token === undefined) throw new Error('no write pending');
    return this.feed({ kind: 'fsyncDone', token });
  }

  count(p: keyof typeof PROBE): number {
    return this.seen.filter((x) => x === PROBE[p]).length;
  }

  writes(): string[] {
    return this.effects.flatMap((e) => (e.kind === 'persist' ? [writeName(e.write)] : []));
  }

  acks(): string[] {
    return this.sends().flatMap((e) => (e.msg.type === 'ACK' ? [formatZxid(e.msg.zxid)] : []));
  }
}

/** s3 waiting for s5's sync stream of epoch 2. */
function learner(flaws: Partial<Flaws> = {}): Probed {
  const n = awaitingSync(flaws);
  return new Probed(n.cfg, n.state);
}

/** Observer s4 of three voters, following s3 into epoch 2 and waiting for its sync stream. */
function observer(flaws: Partial<Flaws>): Probed {
  const base = Node.start(makeClusterConfig(3, 1, {}, flaws), 4, image([z(1, 1)], 1));
  base.n(3, note('LEADING', 3, z(1, 1), 1, 1));
  base.n(1, note('FOLLOWING', 3, z(1, 1), 1, 1));
  base.msg(3, { type: 'LEADERINFO', zxid: z(2, 0) });
  base.flush();
  if (base.state.learner?.phase !== 'sync') throw new Error(`s4 is ${base.state.state}, not waiting for the sync stream`);
  return new Probed(base.cfg, base.state);
}

// The leader's history above the learner's <1,2>: /n created, then set three times.
const TXNS: Record<number, Txn> = {
  3: { type: 'create', path: '/n', data: 'v3', ephemeral: false, sequential: false, session: 0 },
  4: { type: 'setData', path: '/n', data: 'v4', version: -1 },
  5: { type: 'setData', path: '/n', data: 'v5', version: -1 },
  6: { type: 'setData', path: '/n', data: 'v6', version: -1 },
};
const txn = (c: number): LogEntry => ({ zxid: z(1, c), txn: TXNS[c] as Txn });

/** The leader's tree once it applied <1,3> to <1,c> over what the learner holds. */
function treeAt(n: Node, c: number): DataTree {
  let tree = n.state.db.tree;
  for (let i = 3; i <= c; i++) tree = applyTxn(tree, z(1, i), TXNS[i] as Txn).tree;
  return tree;
}

/** SNAP labelled <1,label> whose content reaches <1,content> (a fuzzy SNAP when content > label). */
function snap(n: Probed, label: number, content: number): void {
  n.msg(5, { type: 'SNAP', zxid: z(1, label), tree: treeAt(n, content), lastTxn: z(1, content) });
}

/** PROPOSAL then COMMIT of <1,c>, before NEWLEADER; returns the notes of the COMMIT. */
function commit(n: Probed, c: number): string[] {
  n.msg(5, { type: 'PROPOSAL', ...txn(c) });
  n.msg(5, { type: 'COMMIT', zxid: z(1, c) });
  return n.notes();
}

/** /n as a tree holds it: data and version. */
const nodeN = (tree: DataTree): string => `${tree.get('/n')?.data ?? '-'} v${tree.get('/n')?.version ?? '-'}`;

/** The snapshots written among `effects`, as `<label> /n=data vN`. */
function snapshots(effects: readonly Effect[]): string[] {
  return effects.flatMap((e) => (e.kind === 'persist' && e.write.op === 'snapshot' ? [`${formatZxid(e.write.snapshot.zxid)} /n=${nodeN((e.write.snapshot as Snapshot).data)}`] : []));
}

/** Every effect until each pending write is durable. */
function flushAll(n: Probed): Effect[] {
  const all: Effect[] = [];
  while (n.pending.length > 0) all.push(...n.fsyncNext());
  return all;
}

describe('§5.2 Learner.syncWithLeader, SNAP mode: the COMMITs before NEWLEADER are applied over the SNAP\'s tree (zk.processTxn)', () => {
  it('a COMMIT at or below the SNAP\'s label is passed over, with the reason in the trace: lastProcessedZxid and the tree stay', () => {
    const n = learner();
    snap(n, 4, 4);
    const before = n.state.db;
    expect(commit(n, 3)).toEqual(['skipped <1,3>: already applied']);
    expect(commit(n, 4)).toEqual(['skipped <1,4>: already applied']);
    expect(n.state.db.lastProcessedZxid).toBe(z(1, 4));
    expect(n.state.db.tree).toBe(before.tree);
    // The replay reached the SNAP's content: NEWLEADER writes that tree as it is.
    n.msg(5, { type: 'NEWLEADER', zxid: z(2, 0) });
    expect(snapshots(n.effects)).toEqual(['<1,4> /n=v4 v1']);
  });

  it('a txn above the SNAP\'s content is applied once, as any apply: no fuzzy-SNAP note, no replay at NEWLEADER', () => {
    const n = learner();
    snap(n, 3, 3);
    expect(commit(n, 4)).toEqual([]);
    expect(commit(n, 5)).toEqual([]);
    expect(nodeN(n.state.db.tree)).toBe('v5 v2');
    n.msg(5, { type: 'NEWLEADER', zxid: z(2, 0) });
    expect(n.notes().filter((t) => t.startsWith('NEWLEADER before the replay'))).toEqual([]);
    expect(snapshots(n.effects)).toEqual(['<1,5> /n=v5 v2']);
  });

  it('a fuzzy SNAP (label <1,3>, content up to <1,6>): the COMMITs of <1,4>, <1,5> move lastProcessedZxid on and leave the tree', () => {
    const n = learner();
    snap(n, 3, 6);
    expect(commit(n, 4)).toEqual(["<1,4> is in the SNAP's content already (a fuzzy SNAP, up to <1,6>): lastProcessedZxid moves on, the tree stays"]);
    commit(n, 5);
    expect(n.state.db.lastProcessedZxid).toBe(z(1, 5));
    expect(nodeN(n.state.db.tree)).toBe('v6 v3');
  });

  /** A fuzzy SNAP (label <1,3>, content up to <1,6>), the COMMITs of <1,4> and <1,5>, then NEWLEADER. */
  function newLeaderBeforeContent(): Probed {
    const n = learner();
    snap(n, 3, 6);
    commit(n, 4);
    commit(n, 5);
    n.msg(5, { type: 'NEWLEADER', zxid: z(2, 0) });
    return n;
  }

  it('ZOOKEEPER-3104 (B7): NEWLEADER read before the replay reached the content (<1,6>): <1,4> and <1,5> are applied again over its tree, and the snapshot labelled <1,5> holds /n = v5', () => {
    const n = newLeaderBeforeContent();
    expect(n.notes()).toContain('NEWLEADER before the replay over the SNAP reached <1,6>: <1,4> <1,5> applied again over its tree');
    expect(snapshots(n.effects)).toEqual(['<1,5> /n=v5 v5']);
  });

  it('the replay is applied once: a second NEWLEADER (a scenario\'s inject) writes the same tree again, with nothing re-applied', () => {
    const n = newLeaderBeforeContent();
    const first = snapshots(n.effects);
    flushAll(n);
    n.msg(5, { type: 'NEWLEADER', zxid: z(2, 0) });
    expect(n.notes().filter((t) => t.startsWith('NEWLEADER before the replay'))).toEqual([]);
    expect(snapshots(n.effects)).toEqual(first);
  });
});

describe('§1.3 the learner\'s NEWLEADER: the protocol thread waits for its writes (Learner.syncWithLeader, 3.9.3+)', () => {
  /** DIFF <1,3> with PROPOSAL+COMMIT <1,3>, then NEWLEADER. */
  function diffNewLeader(flaws: Partial<Flaws> = {}): Probed {
    const n = learner(flaws);
    n.msg(5, { type: 'DIFF', zxid: z(1, 3) });
    commit(n, 3);
    n.msg(5, { type: 'NEWLEADER', zxid: z(2, 0) });
    return n;
  }

  it('DIFF: the committed <1,3> is logged and the thread waits for it (newleader-log), then for currentEpoch (newleader-epoch), then ACKs; each wait and the ACK is counted once', () => {
    const n = diffNewLeader();
    expect(n.count('learner.newleader')).toBe(1);
    expect(n.writes()).toEqual(['create updatingEpoch', 'appendLog <1,3>']);
    expect(n.state.learner?.blocked?.on).toBe('newleader-log');
    expect([n.count('learner.await-log'), n.count('learner.await-epoch')]).toEqual([1, 0]);
    n.fsyncNext();
    n.fsyncNext();
    expect(n.writes()).toEqual(['currentEpoch := 2']);
    expect(n.state.learner?.blocked?.on).toBe('newleader-epoch');
    expect([n.count('learner.await-log'), n.count('learner.await-epoch')]).toEqual([1, 1]);
    expect(n.acks()).toEqual([]);
    n.fsyncNext();
    expect(n.acks()).toEqual(['<2,0>']);
    expect(n.count('learner.newleader-ack')).toBe(1);
    // Nothing of the log is on its way to the disk when the ACK leaves.
    expect(n.count('window.newleader-ack-log-pending')).toBe(0);
  });

  it('ZOOKEEPER-4394 (follower_newleader_clears_pending, 3.9.2): every buffered proposal, committed or not, is appended, and currentEpoch is written only once they are durable', () => {
    const n = learner({ follower_newleader_clears_pending: true });
    n.msg(5, { type: 'DIFF', zxid: z(1, 3) });
    commit(n, 3);
    n.msg(5, { type: 'PROPOSAL', ...txn(4) });
    n.msg(5, { type: 'NEWLEADER', zxid: z(2, 0) });
    expect(n.writes()).toEqual(['create updatingEpoch', 'appendLog <1,3>', 'appendLog <1,4>']);
    expect(n.state.learner?.blocked?.on).toBe('newleader-log');
    n.fsyncNext();
    n.fsyncNext();
    expect(n.writes()).toEqual([]);
    n.fsyncNext();
    expect(n.writes()).toEqual(['currentEpoch := 2']);
  });
});

describe('§1.3 ZOOKEEPER-4646 (follower_newleader_persist_async): the NEWLEADER ACK may leave with the synced txns not yet on disk (probe window.newleader-ack-log-pending)', () => {
  /** DIFF <1,3>, PROPOSAL+COMMIT <1,3>, NEWLEADER: <1,3> goes to the log writer's queue. */
  function asyncNewLeader(writerRuns: boolean): Probed {
    const n = learner({ follower_newleader_persist_async: true });
    n.msg(5, { type: 'DIFF', zxid: z(1, 3) });
    commit(n, 3);
    n.wakes = writerRuns;
    n.msg(5, { type: 'NEWLEADER', zxid: z(2, 0) });
    return n;
  }

  it('the writer ran first: <1,3>\'s append is submitted after currentEpoch, so the ACK leaves with it still pending', () => {
    const n = asyncNewLeader(true);
    expect(n.writes()).toEqual(['create updatingEpoch', 'currentEpoch := 2', 'appendLog <1,3>']);
    n.fsyncNext();
    n.fsyncNext();
    expect(n.acks()).toEqual(['<2,0>']);
    expect(n.state.logWriter.queue.length).toBe(0);
    expect(n.count('window.newleader-ack-log-pending')).toBe(1);
    // Its flush ACKs <1,3> after the NEWLEADER ACK.
    n.fsyncNext();
    expect(n.acks()).toEqual(['<1,3>']);
  });

  it('the writer has not run yet when currentEpoch is durable: the ACK leaves with <1,3> still in its queue', () => {
    const n = asyncNewLeader(false);
    expect(n.writes()).toEqual(['create updatingEpoch', 'currentEpoch := 2']);
    n.fsyncNext();
    n.fsyncNext();
    expect(n.acks()).toEqual(['<2,0>']);
    expect(n.state.logWriter.queue.items.map((q) => formatZxid(q.entry.zxid))).toEqual(['<1,3>']);
    expect(n.count('window.newleader-ack-log-pending')).toBe(1);
  });
});

describe('§1.3 ZOOKEEPER-4685 (follower_starts_processors_before_newleader_ack): the protocol thread may lose the CPU before its NEWLEADER ACK', () => {
  const flaws = { follower_starts_processors_before_newleader_ack: true };

  it('a follower hands <1,4> to its log writer and yields: the ACK of NEWLEADER leaves in the protocol thread\'s next step', () => {
    const n = learner(flaws);
    n.msg(5, { type: 'DIFF', zxid: z(1, 3) });
    commit(n, 3);
    n.msg(5, { type: 'PROPOSAL', ...txn(4) });
    n.wakes = false;
    n.msg(5, { type: 'NEWLEADER', zxid: z(2, 0) });
    n.fsyncNext();
    n.fsyncNext();
    expect(n.acks()).toEqual([]);
    expect(n.state.learner?.blocked?.on).toBe('yield');
    expect(n.effects.filter((e) => e.kind === 'wake').map((e) => (e.kind === 'wake' ? e.stage : ''))).toEqual(['logWriter', 'protocol']);
    n.feed({ kind: 'stage', stage: 'protocol' });
    expect(n.acks()).toEqual(['<2,0>']);
    expect(n.state.learner?.blocked).toBeNull();
  });

  it('an observer logs nothing at NEWLEADER (it has no SendAckRequestProcessor): it does not yield, its ACK leaves once currentEpoch is durable', () => {
    const n = observer(flaws);
    n.wakes = false;
    n.msg(3, { type: 'DIFF', zxid: z(1, 1) });
    n.msg(3, { type: 'NEWLEADER', zxid: z(2, 0) });
    n.fsyncNext();
    n.fsyncNext();
    expect(n.acks()).toEqual(['<2,0>']);
    expect(n.effects.filter((e) => e.kind === 'wake')).toEqual([]);
    expect(n.state.learner?.blocked).toBeNull();
  });
});
