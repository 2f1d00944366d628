/**
 * The leader's LearnerHandler thread during a SNAP sync (docs/protocol.md "Threads and queues",
 * §5.1; zab-bugs.md B7): kernel-driven runs with fixed delays (5 ms one way, 2 ms fsync) and every
 * thread descheduled for 100 ms, so that the leader commits while the handler has not yet
 * serialised the snapshot.
 */
import { describe, expect, it } from 'vitest';
import { getData } from '../../src/protocol/datatree.ts';
import type { Flaws } from '../../src/protocol/config.ts';
import { formatZxid } from '../../src/protocol/zxid.ts';
import { established, excerpt, notes, request, when, type SendEv } from './harness.ts';

/**
 * s3 leads s2 and commits /n = "1"; every thread waits 100 ms; s1 starts with an empty disk, so
 * s3's handler for it decides SNAP. `onDecide` runs when it has (the handler's snapSync is set).
 */
function snapSyncOfS1(flaws: Partial<Flaws>, onDecide: ((sim: ReturnType<typeof established>['sim']) => void) | null, forMs: number) {
  const b = established({ voters: 3, startAt: { 1: null }, stageDelay: { kind: 'constant', ms: 100 }, flaws }, 3);
  const { sim } = b;
  request(sim, 3, 'create', '/n', '1');
  sim.runUntil(sim.now + 500);
  const t0 = sim.now;
  sim.start(1);
  if (onDecide !== null) when(sim, () => sim.server(3).state.leader?.learners[1]?.snapSync != null, () => onDecide(sim));
  sim.runUntil(t0 + forMs);
  return { ...b, t0 };
}

/** The same, with /n = "2" written as s3's handler for s1 decides: the packets s3 sends s1. */
function snapWhileCommitting(flaws: Partial<Flaws>) {
  const b = snapSyncOfS1(flaws, (sim) => request(sim, 3, 'setData', '/n', '2'), 3000);
  const toS1 = b.trace.filter((e): e is SendEv => e.type === 'send' && e.from === 3 && e.to === 1 && e.msg.type !== 'NOTIFICATION' && e.msg.type !== 'PING');
  const shown = toS1.map((e) => `${e.msg.type}${'zxid' in e.msg ? ` ${formatZxid(e.msg.zxid)}` : ''}`);
  return { ...b, toS1, shown };
}

describe('LearnerHandler: the SNAP is serialised on the handler thread (§5.1)', () => {
  it('§5.1 LearnerHandler (3.5.5+): startForwarding first; a commit made before the snapshot is serialised waits in queuedPackets, follows the SNAP, and NEWLEADER comes last', () => {
    const { sim, trace, t0, toS1, shown } = snapWhileCommitting({});
    // The label (getDataTreeLastProcessedZxid) is read on the handler's first step, <1,1>; <1,2> is
    // applied before the tree is serialised on the next: a fuzzy SNAP, its content up to <1,2>.
    expect(shown, excerpt(trace, t0)).toEqual(['LEADERINFO <1,0>', 'SNAP <1,1>', 'PROPOSAL <1,2>', 'COMMIT <1,2>', 'NEWLEADER <1,0>', 'UPTODATE']);
    const fuzzy = toS1.find((e) => e.msg.type === 'SNAP')?.msg as { zxid: number; lastTxn?: number };
    expect(formatZxid(fuzzy.lastTxn ?? -1)).toBe('<1,2>');
    expect(getData((fuzzy as unknown as { tree: Parameters<typeof getData>[0] }).tree, '/n')).toBe('2');
    // s1 passes over <1,2> when its COMMIT comes: lastProcessedZxid moves on, the tree stays.
    expect(notes(trace, 1, /^<1,2> is in the SNAP's content already \(a fuzzy SNAP, up to <1,2>\)/), excerpt(trace, t0)).toHaveLength(1);
    // The handler thread ran two steps of its own, each 100 ms after the one before, after the
    // step that decided SNAP; everything it queued left with the SNAP, in order, at that instant.
    const decided = notes(trace, 3, /^sync s1: rule 5/)[0];
    expect(decided, excerpt(trace, t0)).toBeDefined();
    const snap = toS1.find((e) => e.msg.type === 'SNAP') as SendEv;
    expect(snap.t - (decided?.t ?? 0)).toBe(200);
    expect(toS1.filter((e) => e.msg.type === 'PROPOSAL' || e.msg.type === 'COMMIT' || e.msg.type === 'NEWLEADER').map((e) => e.t)).toEqual([snap.t, snap.t, snap.t]);
    // s1 replays <1,2> over the snapshot that already holds it, and agrees with the leader.
    expect(getData(sim.server(1).state.db.tree, '/n')).toBe('2');
    expect(sim.server(1).state.db.tree.digest).toBe(sim.server(3).state.db.tree.digest);
  });

  it('§5.1 LearnerHandler before 3.5.5 (leader_queues_newleader_before_snapshot, ZOOKEEPER-3104): NEWLEADER is queued on the first step, so a COMMIT made before the snapshot follows NEWLEADER', () => {
    const { trace, t0, shown } = snapWhileCommitting({ leader_queues_newleader_before_snapshot: true });
    // The label is read after NEWLEADER is queued, with the tree (the window of the bug).
    expect(shown, excerpt(trace, t0)).toEqual(['LEADERINFO <1,0>', 'SNAP <1,2>', 'PROPOSAL <1,2>', 'NEWLEADER <1,0>', 'COMMIT <1,2>', 'UPTODATE']);
  });

  it('§5.1 a SNAP with no commit between its label and its serialisation is not fuzzy: its content ends at its label', () => {
    const { sim, trace, t0 } = snapSyncOfS1({}, null, 3000);
    const snap = trace.find((e): e is SendEv => e.type === 'send' && e.from === 3 && e.to === 1 && e.msg.type === 'SNAP');
    const m = snap?.msg as { zxid: number; lastTxn?: number } | undefined;
    expect(m === undefined ? null : [formatZxid(m.zxid), formatZxid(m.lastTxn ?? m.zxid)], excerpt(trace, t0)).toEqual(['<1,1>', '<1,1>']);
    expect(notes(trace, 1, /is in the SNAP's content already/)).toEqual([]);
    expect(getData(sim.server(1).state.db.tree, '/n')).toBe('1');
    expect(sim.server(1).state.db.lastProcessedZxid).toBe(sim.server(3).state.db.lastProcessedZxid);
  });

  it('a crash of the leader loses what the handler queued: nothing of it is sent', () => {
    const { trace, t0 } = snapSyncOfS1(
      {},
      (sim) => {
        request(sim, 3, 'setData', '/n', '2');
        sim.at(sim.now + 150, () => sim.crash(3));
      },
      1000,
    );
    const after = trace.filter((e) => e.t >= t0 && e.type === 'send' && e.from === 3 && e.to === 1 && (e.msg.type === 'SNAP' || e.msg.type === 'NEWLEADER' || e.msg.type === 'COMMIT'));
    expect(after, excerpt(trace, t0)).toEqual([]);
  });
});
