/**
 * Storage faults (issue 13 §2; docs/protocol.md "Storage faults"), each checked against what
 * ZooKeeper 3.9.3 does after it: a torn tail (FileTxnIterator stops at the partial record), a
 * corrupt record (CRC check failed: the server refuses to start), a failing epoch-file write
 * (QuorumPeer.writeLongToFile: the role ends, memory keeps the durable epoch; at start-up the
 * process stops), a full disk and a failing fsync of a log append or a snapshot (the process
 * exits). And the checkers' side: losing an unsynced write is allowed, losing a synced one is
 * a violation.
 */
import { describe, expect, it } from 'vitest';
import { attachCheckers } from '../../src/check/index.ts';
import { durableTipOf } from '../../src/check/safety.ts';
import { Simulation } from '../../src/sim/kernel.ts';
import { EMPTY_SNAPSHOT } from '../../src/protocol/db.ts';
import { zxid } from '../../src/protocol/zxid.ts';
import type { TraceEvent } from '../../src/sim/events.ts';
import { boot, durableZxids, epochWrite, established, excerpt, FIXED, leaderOf, notes, one, persists, sends, when, write } from './harness.ts';

const E0 = { acceptedEpoch: 0, currentEpoch: 0 };
const halts = (trace: readonly TraceEvent[], sid: number): string[] => trace.flatMap((e) => (e.type === 'halt' && e.sid === sid ? [e.reason] : []));
const diskfails = (trace: readonly TraceEvent[], sid: number) => trace.filter((e): e is Extract<TraceEvent, { type: 'diskfail' }> => e.type === 'diskfail' && e.sid === sid);

/** An established 3-voter ensemble (s3 leads) on a bare kernel: no fault injector restarts a halted server. */
function bare(): { sim: Simulation; trace: TraceEvent[] } {
  const trace: TraceEvent[] = [];
  const sim = new Simulation({ ...FIXED, seed: 1, voters: 3 }, (e) => void trace.push(e));
  for (const sid of sim.sids) Object.assign(sim.server(sid).disk.image, E0);
  sim.startAll();
  sim.runUntil(1000);
  expect(leaderOf(sim), excerpt(trace)).toBe(3);
  return { sim, trace };
}

/** A write through the leader; s1 crashes (with `damage`) while its append of the txn is unsynced. */
function crashMidAppend(sim: Simulation, damage: 'torn' | 'corrupt'): number {
  const before = durableZxids(sim, 1).length;
  write(sim, 3, '/a');
  let z = 0;
  when(
    sim,
    () => sim.server(1).disk.pendingWrites().some((p) => p.write.op === 'appendLog'),
    () => {
      const p = sim.server(1).disk.pendingWrites().find((x) => x.write.op === 'appendLog');
      z = p?.write.op === 'appendLog' ? p.write.entry.zxid : 0;
      sim.crash(1, damage);
    },
  );
  sim.runUntil(sim.now + 100);
  expect(z).toBe(zxid(1, 1));
  expect(durableZxids(sim, 1)).toHaveLength(before);
  expect(sim.server(1).disk.image.damagedTail).toBe(damage);
  return z;
}

describe('storage faults: damaged tails left by a crash', () => {
  it('torn tail: FileTxnLog reads up to the partial record ("Last transaction was partial"), the server starts with the prefix and syncs the txn again', () => {
    const { sim, trace } = bare();
    const z = crashMidAppend(sim, 'torn');
    expect(trace.some((e) => e.type === 'note' && e.sid === 1 && /crash left a torn record after <0,0> in the txn log/.test(e.text))).toBe(true);
    sim.start(1);
    sim.runUntil(sim.now + 3000);
    expect(notes(trace, 1, /Last transaction was partial: the txn log ends at/)).toHaveLength(1);
    expect(halts(trace, 1)).toEqual([]);
    expect(sim.server(1).state).toMatchObject({ state: 'FOLLOWING', zabState: 'BROADCAST' });
    // The leader syncs the txn again (here a SNAP, its log starting at <1,1>); the next write goes past the torn tail.
    expect(durableTipOf(sim.server(1).disk.image)).toBe(z);
    // The torn record stays where it was, unread; the next append goes to a new log file after it.
    expect(sim.server(1).disk.image.damagedTail).toBe('torn');
    write(sim, 3, '/b');
    sim.runUntil(sim.now + 100);
    expect(durableZxids(sim, 1)).toEqual([zxid(1, 2)]);
    expect(sim.server(1).disk.image.damagedTail).toBeNull();
  });

  it('corrupt record: "CRC check failed" stops the process at every start (Unable to load database on disk) until an operator removes the record', () => {
    const { sim, trace } = bare();
    const z = crashMidAppend(sim, 'corrupt');
    sim.start(1);
    sim.runUntil(sim.now + 100);
    sim.start(1);
    sim.runUntil(sim.now + 100);
    expect(halts(trace, 1)).toEqual([
      'Unable to load database on disk: CRC check failed on the txn log record after <0,0>',
      'Unable to load database on disk: CRC check failed on the txn log record after <0,0>',
    ]);
    expect(sim.server(1).up).toBe(false);
    expect(sim.repairDisk(1)).toBe(true);
    expect(sim.repairDisk(1)).toBe(false);
    sim.start(1);
    sim.runUntil(sim.now + 3000);
    expect(sim.server(1).state).toMatchObject({ state: 'FOLLOWING', zabState: 'BROADCAST' });
    expect(durableTipOf(sim.server(1).disk.image)).toBe(z);
  });

  it('only an append right after the durable log can be damaged: a crash with nothing unsynced leaves the log clean', () => {
    const { sim } = bare();
    sim.crash(1, 'corrupt');
    expect(sim.server(1).disk.image.damagedTail).toBeNull();
  });

  it('a halt (the process exits) never damages the tail: only a machine crash loses part of the page cache', () => {
    const disk = bare().sim.server(2).disk;
    disk.submit(5000, 99, { op: 'appendLog', entry: { zxid: zxid(1, 9), txn: { type: 'create', path: '/x', data: '', ephemeral: false, sequential: false, session: 0 } } });
    disk.crash(5000, 'none');
    expect(disk.image.damagedTail).toBeNull();
  });
});

describe('storage faults: failing epoch-file writes (QuorumPeer.writeLongToFile)', () => {
  it("a learner's acceptedEpoch write fails: no ACKEPOCH, memory keeps the durable epoch, the role ends (LOOKING) and the next round syncs it", () => {
    const { sim, trace } = boot({ voters: 3, images: { 1: E0, 2: E0, 3: E0 } });
    sim.failNextWrite(1, 'acceptedEpoch');
    sim.runUntil(600);
    const fail = one(diskfails(trace, 1), 'diskfail');
    expect(fail.write).toMatchObject({ op: 'writeEpoch', file: 'acceptedEpoch', value: 1 });
    const after = trace.filter((e) => e.i > fail.i);
    expect(after.find((e) => e.type === 'note' && e.sid === 1)).toMatchObject({ text: 'going LOOKING: writing acceptedEpoch := 1 failed (IOException)' });
    // The ACKEPOCH that would have followed the write never left before s1 went LOOKING.
    const looking = after.find((e) => e.type === 'state' && e.sid === 1) as TraceEvent;
    expect(sends(trace, 'ACKEPOCH', 1).filter((e) => e.i < looking.i)).toEqual([]);
    sim.runUntil(20_000);
    expect(leaderOf(sim)).not.toBeNull();
    expect(sim.server(1).state.zabState).toBe('BROADCAST');
    expect(sim.server(1).disk.image.acceptedEpoch).toBe(sim.server(1).state.acceptedEpoch);
    expect(halts(trace, 1)).toEqual([]);
  });

  it('the in-memory epoch stays at the durable value when the write fails (setAcceptedEpoch sets the field after writing)', () => {
    const { sim, trace } = boot({ voters: 3, images: { 1: E0, 2: E0, 3: E0 } });
    sim.failNextWrite(1, 'acceptedEpoch');
    let seen: number | null = null;
    when(
      sim,
      () => diskfails(trace, 1).length > 0,
      () => {
        seen = sim.server(1).state.acceptedEpoch;
      },
    );
    sim.runUntil(600);
    expect(seen).toBe(0);
  });

  it("a learner's currentEpoch write at NEWLEADER fails: no NEWLEADER ACK from it in that round, the role ends, currentEpoch stays durable", () => {
    const { sim, trace } = boot({ voters: 3, images: { 1: E0, 2: E0, 3: E0 } });
    sim.failNextWrite(1, 'currentEpoch');
    sim.runUntil(600);
    const fail = one(diskfails(trace, 1), 'diskfail');
    expect(fail.write).toMatchObject({ op: 'writeEpoch', file: 'currentEpoch' });
    expect(notes(trace, 1, /going LOOKING: writing currentEpoch := 1 failed/)).toHaveLength(1);
    expect(sends(trace, 'ACK', 1).filter((e) => e.i < fail.i && e.msg.zxid === zxid(1, 0))).toEqual([]);
    sim.runUntil(20_000);
    expect(sim.server(1).state.zabState).toBe('BROADCAST');
    expect(sim.server(1).disk.image.currentEpoch).toBe(sim.server(1).state.currentEpoch);
  });

  it("the leader's acceptedEpoch write fails: it abdicates before any LEADERINFO, and the ensemble elects again", () => {
    const { sim, trace } = boot({ voters: 3, images: { 1: E0, 2: E0, 3: E0 } });
    sim.failNextWrite(3, 'acceptedEpoch');
    sim.runUntil(600);
    const fail = one(diskfails(trace, 3), 'diskfail');
    expect(notes(trace, 3, /going LOOKING: writing acceptedEpoch := 1 failed/)).toHaveLength(1);
    expect(sends(trace, 'LEADERINFO', 3).filter((e) => e.i < fail.i)).toEqual([]);
    sim.runUntil(20_000);
    expect(leaderOf(sim)).not.toBeNull();
  });

  it('at start-up (a fresh data directory writes its epoch files) a failing write stops the process: "Unable to load database on disk"', () => {
    const { sim, trace } = boot({ voters: 3 });
    sim.failNextWrite(2, 'currentEpoch');
    sim.runUntil(500);
    expect(halts(trace, 2)).toEqual(['Unable to load database on disk: writing currentEpoch := 0 failed']);
  });
});

describe('storage faults: full disk and failing fsync', () => {
  it('a full disk fails the follower\'s log append (ENOSPC): the process exits, the txn is not on its disk, the leader still commits with the others; with space again it syncs', () => {
    const { sim, trace } = established({ voters: 3, images: { 1: E0, 2: E0, 3: E0 } }, 3);
    sim.fillDisk(1);
    write(sim, 3, '/a');
    sim.runUntil(sim.now + 100);
    const fail = one(diskfails(trace, 1), 'diskfail');
    expect(fail).toMatchObject({ reason: 'full', write: { op: 'appendLog', entry: { zxid: zxid(1, 1) } } });
    expect(halts(trace, 1)).toEqual(['the txn log append of <1,1> failed: exiting']);
    expect(durableZxids(sim, 1)).toEqual([]);
    expect(sends(trace, 'COMMIT', 3, 2).map((e) => e.msg.zxid)).toEqual([zxid(1, 1)]);
    sim.freeDisk(1);
    sim.start(1);
    sim.runUntil(sim.now + 3000);
    expect(sim.server(1).state.zabState, excerpt(trace, fail.t)).toBe('BROADCAST');
    expect(durableTipOf(sim.server(1).disk.image), excerpt(trace, fail.t)).toBe(zxid(1, 1));
  });

  it('a truncate needs no space: it succeeds on a full disk', () => {
    const { sim } = bare();
    const disk = sim.server(2).disk;
    disk.fill(Infinity);
    const p = disk.submit(sim.now, 1000, { op: 'truncateLog', zxid: 0 });
    expect(p.fails).toBeUndefined();
    const q = disk.submit(sim.now, 1001, { op: 'writeEpoch', file: 'acceptedEpoch', value: 9 });
    expect(q.fails).toBe('full');
    expect(q.stages).toHaveLength(1);
  });

  it("a failing fsync of a follower's log append (EIO): the process exits; after a restart the txn comes back by sync", () => {
    const { sim, trace } = established({ voters: 3, images: { 1: E0, 2: E0, 3: E0 } }, 3);
    sim.failNextWrite(1, 'appendLog');
    write(sim, 3, '/a');
    sim.runUntil(sim.now + 100);
    expect(one(diskfails(trace, 1), 'diskfail')).toMatchObject({ reason: 'io' });
    expect(halts(trace, 1)).toEqual(['the txn log append of <1,1> failed: exiting']);
    // The injector of `established` restarts a halted server after its restart delay.
    sim.runUntil(sim.now + 15_000);
    expect(sim.server(1).state.zabState).toBe('BROADCAST');
    expect(durableTipOf(sim.server(1).disk.image)).toBe(zxid(1, 1));
  });

  it("a failing snapshot write: ZooKeeperServer.takeSnapshot's \"Severe unrecoverable error, exiting\"", () => {
    // Disks that already hold snapshot.0, so that the first snapshot written is Leader.lead's.
    const started = { ...E0, snapshots: [EMPTY_SNAPSHOT] };
    const { sim, trace } = boot({ voters: 3, images: { 1: started, 2: started, 3: started } });
    sim.failNextWrite(3, 'snapshot');
    sim.runUntil(600);
    expect(halts(trace, 3)).toEqual([expect.stringMatching(/^Severe unrecoverable error, exiting: the snapshot at /)]);
  });
});

describe('storage faults and the checkers', () => {
  it('a lost unsynced write is allowed (no violation); a lost synced write fires CommittedDurability', () => {
    const trace: TraceEvent[] = [];
    const sim = new Simulation({ ...FIXED, seed: 1, voters: 3 }, (e) => void trace.push(e));
    const checkers = attachCheckers(sim);
    for (const sid of sim.sids) Object.assign(sim.server(sid).disk.image, E0);
    sim.startAll();
    sim.runUntil(1000);
    write(sim, 3, '/a');
    sim.runUntil(1100);
    write(sim, 3, '/b');
    // A crash with the append of <1,2> unsynced on s1, leaving a torn record: allowed.
    when(
      sim,
      () => sim.server(1).disk.pendingWrites().some((p) => p.write.op === 'appendLog'),
      () => sim.crash(1, 'torn'),
    );
    sim.runUntil(1200);
    sim.start(1);
    sim.runUntil(4000);
    expect(checkers.violations, excerpt(trace)).toEqual([]);
    expect(durableZxids(sim, 1)).toEqual([zxid(1, 1), zxid(1, 2)]);
    // A disk that loses writes it had reported synced: <1,2> goes from s1 and s2.
    for (const sid of [1, 2]) sim.server(sid).disk.image.log.pop();
    sim.crash(2);
    expect(checkers.violations.map((v) => v.property)).toContain('CommittedDurability');
  });
});

/**
 * s2 and s3 hold epoch 1's <1,1>..<1,3> (acceptedEpoch = currentEpoch = 1); s1 holds `s1Log` of
 * those txns (0: a fresh disk, no epoch files) and its next write of `failing` fails. With
 * `snap`, s1 joins once s3 leads (so its SNAP carries the leader's label <2,0>); else all start
 * together. Returns once s3 has synced s1.
 */
function epoch1Cluster(failing: 'currentEpoch' | 'updatingEpoch', s1Log: number, snap: boolean): { sim: Simulation; trace: TraceEvent[]; checkers: ReturnType<typeof attachCheckers> } {
  const trace: TraceEvent[] = [];
  const sim = new Simulation({ ...FIXED, seed: 1, voters: 3, ...(snap ? { params: { commitLogCount: 1 } } : {}) }, (e) => void trace.push(e));
  const checkers = attachCheckers(sim);
  const full = { log: [1, 2, 3].map((c) => ({ zxid: zxid(1, c), txn: { type: 'create' as const, path: `/t${c}`, data: '', ephemeral: false, sequential: false, session: 0 } })), snapshots: [EMPTY_SNAPSHOT], acceptedEpoch: 1, currentEpoch: 1 };
  Object.assign(sim.server(2).disk.image, full);
  Object.assign(sim.server(3).disk.image, full);
  Object.assign(sim.server(1).disk.image, s1Log === 0 ? E0 : { ...full, log: full.log.slice(0, s1Log) });
  sim.failNextWrite(1, failing);
  if (snap) {
    sim.start(2);
    sim.start(3);
    sim.runUntil(1500);
    sim.start(1);
    sim.runUntil(3000);
    expect(sends(trace, 'SNAP', 3, 1).length, excerpt(trace)).toBeGreaterThan(0);
  } else {
    sim.startAll();
    sim.runUntil(1500);
  }
  return { sim, trace, checkers };
}

describe('storage faults: a SNAP-synced learner whose currentEpoch write fails', () => {
  it("keeps the SNAP's (e,0) label with currentEpoch e-1 and votes with it, as ZooKeeper does: HonestAdvertisement accepts it (found by exploration, swarm seed 332)", () => {
    // s1 has an empty disk: it needs a SNAP (rule 5), which carries the leader's label (2,0).
    const { sim, trace, checkers } = epoch1Cluster('currentEpoch', 0, true);
    const fail = one(diskfails(trace, 1), 'diskfail');
    expect(fail.write).toMatchObject({ op: 'writeEpoch', file: 'currentEpoch', value: 2 });
    // The vote right after: the SNAP's label <2,0>, with peerEpoch its durable currentEpoch, 0.
    const vote = trace.find((e) => e.i > fail.i && e.type === 'vote' && e.sid === 1);
    expect(vote).toMatchObject({ zxid: zxid(2, 0), peerEpoch: 0 });
    sim.runUntil(20_000);
    expect(sim.server(1).state.zabState).toBe('BROADCAST');
    expect(checkers.violations, excerpt(trace)).toEqual([]);
  });
});

// docs/protocol.md, Storage faults, "Failing updatingEpoch marker": in ZooKeeper 3.4.6
// `updating.createNewFile()` is synchronous and throws before anything else of NEWLEADER runs.
describe('storage faults: a failing updatingEpoch marker at NEWLEADER (Storage faults, §1.3 marker)', () => {
  it('DIFF: the synced txns queued behind the marker never reach the disk, memory goes back to before NEWLEADER, the vote carries the old zxid, and the next round syncs', () => {
    // s1 holds only <1,1>: it gets a DIFF of <1,2>, <1,3> from s3.
    const { sim, trace, checkers } = epoch1Cluster('updatingEpoch', 1, false);
    const fail = one(diskfails(trace, 1), 'diskfail');
    expect(fail.write).toEqual({ op: 'updatingEpoch', exists: true });
    // The synced txns were submitted behind the marker (zabsim does not wait for it) ...
    const behind = trace.filter((e) => e.type === 'persist' && e.sid === 1 && e.i < fail.i && e.token > fail.token);
    expect(behind.map((e) => (e.type === 'persist' ? e.write.op : '')), excerpt(trace)).toEqual(['appendLog', 'appendLog']);
    expect(notes(trace, 1, /Failed to create updatingEpoch: dropping the 2 writes queued behind it/)).toHaveLength(1);
    // ... and none of them lands: no fsync of a token after the marker's in this role.
    const vote = trace.find((e) => e.i > fail.i && e.type === 'vote' && e.sid === 1);
    expect(vote, excerpt(trace)).toMatchObject({ zxid: zxid(1, 1), peerEpoch: 1 });
    expect(trace.filter((e) => e.type === 'fsync' && e.sid === 1 && e.i > fail.i && e.i < (vote?.i ?? 0))).toEqual([]);
    // No NEWLEADER ACK in that round.
    expect(sends(trace, 'ACK', 1).filter((e) => e.i < fail.i && e.msg.zxid === zxid(2, 0))).toEqual([]);
    sim.runUntil(20_000);
    expect(sim.server(1).state.zabState).toBe('BROADCAST');
    expect(durableZxids(sim, 1)).toEqual([1, 2, 3].map((c) => zxid(1, c)));
    expect(checkers.violations, excerpt(trace)).toEqual([]);
  });

  it('SNAP: the snapshot behind the marker never lands, the database before the SNAP comes back (ZOOKEEPER-3642), and the currentEpoch write is never issued', () => {
    const { sim, trace, checkers } = epoch1Cluster('updatingEpoch', 0, true);
    const fail = one(diskfails(trace, 1), 'diskfail');
    expect(fail.write).toEqual({ op: 'updatingEpoch', exists: true });
    const vote = trace.find((e) => e.i > fail.i && e.type === 'vote' && e.sid === 1);
    // The vote right after: the empty database s1 had before the SNAP, not the SNAP's <2,0>.
    expect(vote, excerpt(trace)).toMatchObject({ zxid: 0, peerEpoch: 0 });
    // Until the next NEWLEADER no snapshot of s1 lands (before the fix, the SNAP's did).
    const next = trace.find((e) => e.i > fail.i && e.type === 'deliver' && e.to === 1 && e.msg.type === 'NEWLEADER');
    expect(next, excerpt(trace)).toBeDefined();
    expect(trace.filter((e) => e.type === 'fsync' && e.sid === 1 && e.write.op === 'snapshot' && e.i > fail.i && e.i < (next?.i ?? 0))).toEqual([]);
    expect(persists(trace, 1, epochWrite('currentEpoch', 2)).filter((e) => e.i < fail.i)).toEqual([]);
    sim.runUntil(20_000);
    expect(sim.server(1).state.zabState).toBe('BROADCAST');
    expect(checkers.violations, excerpt(trace)).toEqual([]);
  });
});
