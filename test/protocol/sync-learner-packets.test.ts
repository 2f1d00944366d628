/**
 * The learner's sync packets (src/protocol/sync.ts `onSyncPacket` and `truncate`; Learner.syncWithLeader,
 * zab-protocol.md §5.2), written against the StrykerJS survivors of the learner side (issue 12 §2,
 * docs/checkers.md, "sync.ts, learner side"): the first packet and the mode it sets, PROPOSAL,
 * INFORM and COMMIT before and after NEWLEADER, UPTODATE's unmatched COMMIT, packets the sync
 * loop ignores, the TRUNC's reload and its write, and the coverage probes of each (the coverage
 * map counts them). Step level: one learner of voters s1..s5 and observer s6, fed the leader s5's
 * packets by hand; no wall-clock time.
 */
import { describe, expect, it } from 'vitest';
import { makeClusterConfig, type Flaws, type ProtocolParams } from '../../src/protocol/config.ts';
import { EMPTY_SNAPSHOT, loadDatabase } from '../../src/protocol/db.ts';
import { TIMER_FINALIZE } from '../../src/protocol/election.ts';
import { TIMER_LEARNER_READ } from '../../src/protocol/heartbeat.ts';
import { PROBE } from '../../src/protocol/probes.ts';
import type { DurableImage, Effect, Message, PersistOp, Snapshot } from '../../src/protocol/types.ts';
import { formatZxid, type Zxid } from '../../src/protocol/zxid.ts';
import { DEFAULT_DISK, Disk } from '../../src/sim/disk.ts';
import { Rng } from '../../src/sim/rng.ts';
import { image, Node, note, txnFor, z } from './driver.ts';

const LEADER = 5;
const FOLLOWER = 3;
const OBSERVER = 6;

interface Setup {
  readonly observer?: boolean;
  readonly flaws?: Partial<Flaws>;
  readonly params?: Partial<ProtocolParams>;
  /** The learner's disk at start (default: log <1,1> <1,2>, both epochs 1, snapshot.0). */
  readonly durable?: DurableImage;
}

/**
 * Follower s3 (or observer s6) of voters s1..s5 and observer s6 has followed s5 through Discovery:
 * it read LEADERINFO for epoch 2, wrote acceptedEpoch 2, sent ACKEPOCH and waits for the sync
 * stream. Probes are counted from here on.
 */
function syncing(o: Setup = {}): Node {
  const cfg = makeClusterConfig(5, 1, o.params ?? {}, o.flaws ?? {});
  const n = Node.start(cfg, o.observer === true ? OBSERVER : FOLLOWER, o.durable ?? image([z(1, 1), z(1, 2)], 1));
  n.nFrom([1, 2, LEADER], note('LOOKING', LEADER, z(1, 5), 1, 1));
  n.timer(TIMER_FINALIZE);
  n.msg(LEADER, { type: 'LEADERINFO', zxid: z(2, 0) });
  n.flush();
  if (n.state.learner?.phase !== 'sync') throw new Error(`syncing: s${n.sid} is ${n.state.state} in phase ${n.state.learner?.phase ?? '-'}, not waiting for the sync stream`);
  n.probes = [];
  return n;
}

/** The leader's packets, in order, each one step at the learner. */
function from(n: Node, ...msgs: Message[]): void {
  for (const m of msgs) n.msg(LEADER, m);
}

const proposal = (zx: Zxid): Message => ({ type: 'PROPOSAL', zxid: zx, txn: txnFor(zx) });
const inform = (zx: Zxid): Message => ({ type: 'INFORM', zxid: zx, txn: txnFor(zx) });
const commit = (zx: Zxid): Message => ({ type: 'COMMIT', zxid: zx });
const NEWLEADER: Message = { type: 'NEWLEADER', zxid: z(2, 0) };
const UPTODATE: Message = { type: 'UPTODATE' };

/** The SNAP of a leader whose tree holds <1,1>..<1,c>, labelled <1,c>. */
function snap(c: number): Message {
  const zxids = Array.from({ length: c }, (_, i) => z(1, i + 1));
  return { type: 'SNAP', zxid: z(1, c), tree: loadDatabase(image(zxids, 1)).tree };
}

/** The node txn `zx` creates (txnFor makes one per zxid). */
function pathOf(zx: Zxid): string {
  const t = txnFor(zx);
  if (t.type !== 'create') throw new Error('txnFor makes creates');
  return t.path;
}

/** Whether the learner's tree holds the node of txn `zx`. */
const applied = (n: Node, zx: Zxid): boolean => n.state.db.tree.get(pathOf(zx)) !== undefined;

const count = (n: Node, p: keyof typeof PROBE): number => (n.probes ?? []).filter((x) => x === PROBE[p]).length;
const buffered = (n: Node): string[] => (n.state.learner?.sync.packetsNotLogged.items ?? []).map((e) => formatZxid(e.zxid));
const held = (n: Node): string[] => (n.state.learner?.sync.packetsCommitted ?? []).map(formatZxid);
const writesOf = (es: readonly Effect[]): PersistOp[] => es.flatMap((e) => (e.kind === 'persist' ? [e.write] : []));
const appends = (es: readonly Effect[]): string[] => writesOf(es).flatMap((w) => (w.op === 'appendLog' ? [formatZxid(w.entry.zxid)] : []));

describe('§5.2 Learner.syncWithLeader: the first packet sets the sync mode', () => {
  it('DIFF, SNAP and TRUNC each set their mode, and each counts its own coverage probe once', () => {
    const d = syncing();
    from(d, { type: 'DIFF', zxid: z(1, 2) });
    expect(d.state.learner?.sync).toMatchObject({ mode: 'DIFF', diffZxid: z(1, 2) });
    const s = syncing();
    from(s, snap(3));
    expect(s.state.learner?.sync.mode).toBe('SNAP');
    expect(s.state.db.lastProcessedZxid).toBe(z(1, 3));
    const t = syncing();
    from(t, { type: 'TRUNC', zxid: z(1, 1) });
    expect(t.state.learner?.sync.mode).toBe('TRUNC');
    const modes = ['learner.diff', 'learner.snap', 'learner.trunc'] as const;
    expect([d, s, t].map((n) => modes.map((p) => count(n, p)))).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
  });

  it('a PING before the first packet (which LearnerHandler.ping never sends, a stray one) is read and dropped, as docs/protocol.md D13 records: no exit, no mode, no echo; the DIFF after it still sets the mode', () => {
    const n = syncing();
    from(n, { type: 'PING', zxid: z(2, 0) });
    expect(n.effects).toEqual([{ kind: 'setTimer', timer: TIMER_LEARNER_READ, delayMs: 20000 }]);
    expect(n.state.up).toBe(true);
    expect(n.state.learner?.sync.mode).toBeNull();
    expect(count(n, 'learner.bad-first')).toBe(0);
    from(n, { type: 'DIFF', zxid: z(1, 2) });
    expect(n.state.learner?.sync.mode).toBe('DIFF');
  });

  it('any other first packet makes the process exit (ServiceUtils.requestSystemExit: "Got unexpected packet from leader"), counted as learner.bad-first', () => {
    const n = syncing();
    from(n, commit(z(1, 3)));
    expect(n.effects.filter((e) => e.kind === 'halt')).toEqual([{ kind: 'halt', reason: 'Learner expected DIFF, SNAP or TRUNC first, got COMMIT' }]);
    expect(n.state.up).toBe(false);
    expect(count(n, 'learner.bad-first')).toBe(1);
  });
});

describe('§5.2 Learner.syncWithLeader: PROPOSAL during sync (packetsNotCommitted.add)', () => {
  it('a PROPOSAL is buffered, neither logged nor applied, and counted as learner.proposal', () => {
    const n = syncing();
    from(n, { type: 'DIFF', zxid: z(1, 2) }, proposal(z(1, 3)));
    expect(buffered(n)).toEqual(['<1,3>']);
    expect(writesOf(n.effects)).toEqual([]);
    expect(applied(n, z(1, 3))).toBe(false);
    expect(count(n, 'learner.proposal')).toBe(1);
  });
});

describe('§5.2, §6 Learner.syncWithLeader: INFORM at an observer during sync (writeToTxnLog decides)', () => {
  it('after a SNAP, before NEWLEADER (writeToTxnLog false): zk.processTxn applies it at once, and the NEWLEADER snapshot holds it; counted as learner.inform', () => {
    const n = syncing({ observer: true });
    from(n, snap(2), inform(z(1, 3)));
    expect(applied(n, z(1, 3))).toBe(true);
    expect(n.state.db.lastProcessedZxid).toBe(z(1, 3));
    expect(buffered(n)).toEqual([]);
    expect(count(n, 'learner.inform')).toBe(1);
    from(n, NEWLEADER);
    expect(writesOf(n.effects).flatMap((w) => (w.op === 'snapshot' ? [formatZxid(w.snapshot.zxid)] : []))).toEqual(['<1,3>']);
  });

  it('after a DIFF, before NEWLEADER (writeToTxnLog true): it is buffered with its COMMIT, then logged with its txn and applied at UPTODATE', () => {
    const n = syncing({ observer: true });
    from(n, { type: 'DIFF', zxid: z(1, 2) }, inform(z(1, 3)));
    expect(applied(n, z(1, 3))).toBe(false);
    expect(n.state.db.lastProcessedZxid).toBe(z(1, 2));
    expect(buffered(n)).toEqual(['<1,3>']);
    expect(held(n)).toEqual(['<1,3>']);
    from(n, NEWLEADER);
    n.flush();
    from(n, UPTODATE);
    expect(n.state.up).toBe(true);
    expect(writesOf(n.effects).filter((w) => w.op === 'appendLog')).toEqual([{ op: 'appendLog', entry: { zxid: z(1, 3), txn: txnFor(z(1, 3)) } }]);
    expect(applied(n, z(1, 3))).toBe(true);
    expect(n.state.db.lastProcessedZxid).toBe(z(1, 3));
  });

  it('after a SNAP and NEWLEADER (writeToTxnLog true): it is buffered, not applied into the snapshotted tree, and logged at UPTODATE', () => {
    const n = syncing({ observer: true });
    from(n, snap(2), NEWLEADER);
    n.flush();
    from(n, inform(z(1, 3)));
    expect(applied(n, z(1, 3))).toBe(false);
    expect(buffered(n)).toEqual(['<1,3>']);
    from(n, UPTODATE);
    expect(appends(n.effects)).toEqual(['<1,3>']);
    expect(applied(n, z(1, 3))).toBe(true);
  });
});

describe('§5.2 Learner.syncWithLeader: COMMIT during sync', () => {
  it('after a SNAP, before NEWLEADER: the COMMIT of the buffered head applies it at once (zk.processTxn), counted as learner.commit-applied and not as the NEWLEADER-UPTODATE window', () => {
    const n = syncing();
    from(n, snap(2), proposal(z(1, 3)), commit(z(1, 3)));
    expect(applied(n, z(1, 3))).toBe(true);
    expect(n.state.db.lastProcessedZxid).toBe(z(1, 3));
    expect(buffered(n)).toEqual([]);
    expect(count(n, 'learner.commit-applied')).toBe(1);
    expect(count(n, 'window.commit-between-newleader-uptodate')).toBe(0);
  });

  it('after a SNAP, before NEWLEADER: a COMMIT that is not of the buffered head is logged ("Committing 0x.., but next proposal is 0x..") and applies nothing; the head waits for its own', () => {
    const n = syncing();
    from(n, snap(2), proposal(z(1, 3)), commit(z(1, 4)));
    expect(n.notes()).toEqual(['Committing <1,4>, but next proposal is <1,3>']);
    expect(applied(n, z(1, 3))).toBe(false);
    expect(buffered(n)).toEqual(['<1,3>']);
    from(n, commit(z(1, 3)));
    expect(applied(n, z(1, 3))).toBe(true);
  });

  it('after a SNAP, before NEWLEADER: a COMMIT with nothing buffered is logged with "none" and ignored (ZooKeeper: a NullPointerException; docs/protocol.md, D13)', () => {
    const n = syncing();
    from(n, snap(2), commit(z(1, 3)));
    expect(n.notes()).toEqual(['Committing <1,3>, but next proposal is none']);
    expect(n.state.up).toBe(true);
    expect(n.state.db.lastProcessedZxid).toBe(z(1, 2));
  });

  it('after a DIFF: a COMMIT before NEWLEADER is held (packetsCommitted), counted as learner.commit-held; one after NEWLEADER is held and counted in the NEWLEADER-UPTODATE window; UPTODATE commits it', () => {
    const n = syncing();
    from(n, { type: 'DIFF', zxid: z(1, 2) }, proposal(z(1, 3)), commit(z(1, 3)));
    expect(applied(n, z(1, 3))).toBe(false);
    expect(held(n)).toEqual(['<1,3>']);
    expect(count(n, 'learner.commit-held')).toBe(1);
    expect(count(n, 'window.commit-between-newleader-uptodate')).toBe(0);
    from(n, proposal(z(1, 4)), NEWLEADER);
    n.flush();
    expect(applied(n, z(1, 3))).toBe(true);
    from(n, commit(z(1, 4)));
    expect(held(n)).toEqual(['<1,4>']);
    expect(count(n, 'learner.commit-held')).toBe(2);
    expect(count(n, 'window.commit-between-newleader-uptodate')).toBe(1);
    from(n, UPTODATE);
    n.flush();
    expect(applied(n, z(1, 4))).toBe(true);
  });

  it('ZOOKEEPER-4394 (B13, follower_newleader_clears_pending): NEWLEADER empties a follower\'s buffer, so a COMMIT after it fails the role; an observer\'s NEWLEADER empties nothing, and a COMMIT with nothing buffered (a stray one) is held as without the flaw (docs/protocol.md, D13)', () => {
    const flaws = { follower_newleader_clears_pending: true };
    const f = syncing({ flaws });
    from(f, { type: 'DIFF', zxid: z(1, 2) }, proposal(z(1, 3)), NEWLEADER);
    f.flush();
    from(f, commit(z(1, 3)));
    expect(f.notes()[0]).toBe('going LOOKING: NullPointerException: COMMIT <1,3> after NEWLEADER, and no proposal is buffered (Learner.syncWithLeader)');
    expect(f.state.state).toBe('LOOKING');
    for (const o of [syncing({ observer: true, flaws }), syncing({ observer: true })]) {
      from(o, { type: 'DIFF', zxid: z(1, 2) }, NEWLEADER);
      o.flush();
      from(o, commit(z(1, 3)));
      expect(o.state.state).toBe('OBSERVING');
      expect(held(o)).toEqual(['<1,3>']);
    }
  });
});

describe('§5.2 UPTODATE (Learner.syncWithLeader, then FollowerZooKeeperServer.commit)', () => {
  it('UPTODATE is counted as learner.uptodate; a held COMMIT that does not name the oldest pending txn makes the process exit (UNMATCHED_TXN_COMMIT)', () => {
    const n = syncing();
    from(n, { type: 'DIFF', zxid: z(1, 2) }, proposal(z(1, 3)), proposal(z(1, 4)), NEWLEADER);
    n.flush();
    from(n, commit(z(1, 4)), UPTODATE);
    expect(count(n, 'learner.uptodate')).toBe(1);
    expect(n.effects.filter((e) => e.kind === 'halt')).toEqual([{ kind: 'halt', reason: 'Committing zxid <1,4> but next pending txn <1,3>' }]);
    expect(n.state.up).toBe(false);
  });
});

describe('§5.2, §7 packets the sync loop has no case for', () => {
  it('a PING during sync is read (the read timeout re-armed) and nothing else: Learner.syncWithLeader neither echoes nor logs it', () => {
    const n = syncing();
    from(n, { type: 'DIFF', zxid: z(1, 2) }, { type: 'PING', zxid: z(2, 0) });
    expect(n.effects).toEqual([{ kind: 'setTimer', timer: TIMER_LEARNER_READ, delayMs: 20000 }]);
  });

  it('any other packet is dropped with a note naming it', () => {
    const n = syncing();
    from(n, { type: 'DIFF', zxid: z(1, 2) }, { type: 'LEADERINFO', zxid: z(2, 0) });
    expect(n.notes()).toEqual(['ignored LEADERINFO during sync']);
    expect(n.state.learner?.sync.mode).toBe('DIFF');
  });
});

/** A snapshot file of the tree of <1,1>..<1,c>. */
function snapshotAt(c: number): Snapshot {
  return { zxid: z(1, c), data: loadDatabase(image(Array.from({ length: c }, (_, i) => z(1, i + 1)), 1)).tree };
}

/** Applies the learner's last truncateLog write to a disk holding `durable`; returns the disk's image. */
function truncatedDisk(n: Node, durable: DurableImage): Disk['image'] {
  const w = n.effects.find((e) => e.kind === 'persist' && e.write.op === 'truncateLog');
  if (w?.kind !== 'persist') throw new Error('no truncateLog write');
  const disk = new Disk(DEFAULT_DISK, new Rng('trunc'));
  Object.assign(disk.image, { ...durable, log: [...durable.log], snapshots: [...durable.snapshots] });
  disk.submit(0, w.token, w.write);
  disk.complete(w.token);
  return disk.image;
}

describe('§5.2 TRUNC (ZKDatabase.truncateLog: cut the log, then loadDataBase)', () => {
  // The learner's only snapshot reflects <1,2>; a TRUNC to <1,1> deletes it (zabsim's cut) and
  // leaves a txn log with no snapshot: FileTxnSnapLog.restore refuses it unless
  // zookeeper.snapshot.trust.empty is set.
  const noSnapshotLeft = image([z(1, 1), z(1, 2), z(1, 3)], 1, { snapshots: [snapshotAt(2)] });

  it('a cut that leaves a log and no snapshot: restore refuses it ("No snapshot found, but there are log entries"), nothing is written and the server halts', () => {
    const n = syncing({ durable: noSnapshotLeft });
    from(n, { type: 'TRUNC', zxid: z(1, 1) });
    expect(n.notes()).toEqual(['TRUNC to <1,1>: the reload finds nothing to load (No snapshot found, but there are log entries. Something is broken!)']);
    expect(writesOf(n.effects)).toEqual([]);
    expect(n.effects.filter((e) => e.kind === 'halt')).toEqual([{ kind: 'halt', reason: 'Unable to load database on disk: No snapshot found, but there are log entries. Something is broken!' }]);
  });

  it('the same cut with zookeeper.snapshot.trust.empty: the log alone is reloaded up to the cut; the thread blocks on the truncate, and a packet meanwhile waits for its fsync', () => {
    const n = syncing({ durable: noSnapshotLeft, params: { snapshotTrustEmpty: 1 } });
    from(n, { type: 'TRUNC', zxid: z(1, 1) });
    expect(n.state.up).toBe(true);
    const w = n.effects.find((e) => e.kind === 'persist');
    expect(w).toMatchObject({ kind: 'persist', write: { op: 'truncateLog', zxid: z(1, 1) } });
    expect(n.state.learner?.blocked).toEqual({ on: 'trunc', token: w?.kind === 'persist' ? w.token : -1 });
    expect(n.state.db.lastProcessedZxid).toBe(z(1, 1));
    expect([z(1, 1), z(1, 2), z(1, 3)].map((zx) => applied(n, zx))).toEqual([true, false, false]);
    from(n, proposal(z(2, 1)));
    expect(buffered(n)).toEqual([]);
    n.flush();
    expect(n.state.learner?.blocked).toBeNull();
    expect(buffered(n)).toEqual(['<2,1>']);
  });

  it('ZOOKEEPER-1549 (trunc_reload_newest_snapshot): the reload keeps the snapshot of <1,3> above the cut, and so does the write: a restart from the disk loads the tree memory holds', () => {
    const durable = image([z(1, 1), z(1, 2), z(1, 3)], 1, { snapshots: [EMPTY_SNAPSHOT, snapshotAt(3)] });
    const n = syncing({ durable, flaws: { trunc_reload_newest_snapshot: true } });
    from(n, { type: 'TRUNC', zxid: z(1, 2) });
    expect(applied(n, z(1, 3))).toBe(true);
    const disk = truncatedDisk(n, durable);
    expect(disk.snapshots.map((s) => formatZxid(s.zxid))).toEqual(['<0,0>', '<1,3>']);
    expect(loadDatabase(disk).tree.get(pathOf(z(1, 3)))).toBeDefined();
  });

  it('trunc_keeps_first_txn_above_target (FileTxnLog.truncate): a TRUNC to <1,0>, which the log lacks, keeps <1,1> in memory and in the write: the disk\'s log is the one memory reloaded', () => {
    const durable = image([z(1, 1)], 1);
    const n = syncing({ durable, flaws: { trunc_keeps_first_txn_above_target: true } });
    from(n, { type: 'TRUNC', zxid: z(1, 0) });
    expect(n.state.db.log.lastZxid(0)).toBe(z(1, 1));
    expect(truncatedDisk(n, durable).log.map((e) => formatZxid(e.zxid))).toEqual(['<1,1>']);
  });
});
