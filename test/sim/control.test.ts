/**
 * The kernel's scenario hooks: a failing truncate (storage fault), held fsyncs, and messages a
 * control holds and hands back. The scenario runner (test/scenario) exercises them end to end.
 */
import { describe, expect, it } from 'vitest';
import type { LogEntry, Message, PersistOp } from '../../src/protocol/types.ts';
import { zxid } from '../../src/protocol/zxid.ts';
import { DEFAULT_DISK, Disk } from '../../src/sim/disk.ts';
import type { TraceEvent } from '../../src/sim/events.ts';
import { Simulation, type InFlight, type KernelControl } from '../../src/sim/kernel.ts';
import { Rng } from '../../src/sim/rng.ts';

const entry = (c: number): LogEntry => ({ zxid: zxid(1, c), txn: { type: 'setData', path: '/k', data: String(c), version: -1 } });

describe('Disk storage faults', () => {
  it('failNext(truncateLog): the next truncate completes as failed and leaves the image as it was; others are unaffected', () => {
    const disk = new Disk({ ...DEFAULT_DISK, fsyncLatency: { kind: 'constant', ms: 1 } }, new Rng('d'));
    for (const [t, c] of [[1, 1], [2, 2]] as const) {
      disk.submit(0, t, { op: 'appendLog', entry: entry(c) });
      disk.complete(t);
    }
    disk.failNext('truncateLog');
    const p = disk.submit(0, 3, { op: 'truncateLog', zxid: zxid(1, 1) });
    expect(p.fails).toBe('io');
    expect(disk.complete(3)).toBe(true);
    expect(disk.image.log.map((e) => e.zxid)).toEqual([zxid(1, 1), zxid(1, 2)]);
    expect(disk.pendingCount).toBe(0);
    // Armed once: the next truncate works.
    expect(disk.submit(0, 4, { op: 'truncateLog', zxid: zxid(1, 1) }).fails).toBeUndefined();
    disk.complete(4);
    expect(disk.image.log.map((e) => e.zxid)).toEqual([zxid(1, 1)]);
  });
});

/** Three servers, 5 ms hops, 2 ms fsyncs, recording the trace. */
function cluster(): { sim: Simulation; trace: TraceEvent[] } {
  const trace: TraceEvent[] = [];
  const sim = new Simulation({ seed: 1, voters: 3, network: { delay: { kind: 'constant', ms: 5 } }, disk: { fsyncLatency: { kind: 'constant', ms: 2 }, renameLatency: { kind: 'constant', ms: 1 } } }, (e) => void trace.push(e));
  for (const sid of sim.sids) sim.at(0, () => sim.start(sid));
  return { sim, trace };
}

describe('KernelControl', () => {
  it('holdFsyncs: a server\'s writes stay pending while held and complete in order when released', () => {
    const { sim, trace } = cluster();
    sim.holdFsyncs(2, true);
    sim.runUntil(5000);
    expect(sim.server(2).disk.pendingCount).toBeGreaterThan(0);
    expect(trace.some((e) => e.type === 'fsync' && e.sid === 2)).toBe(false);
    sim.holdFsyncs(2, false);
    sim.runUntil(5000);
    expect(sim.server(2).disk.pendingCount).toBe(0);
    const tokens = trace.filter((e): e is Extract<TraceEvent, { type: 'fsync' }> => e.type === 'fsync' && e.sid === 2 && e.stage === 'done').map((e) => e.token);
    expect(tokens).toEqual([...tokens].sort((a, b) => a - b));
  });

  it('holdFsyncs: completions given back wait in order with a later one that comes due at the same instant, so the disk never completes out of order', () => {
    // s2's disk is held 1 ms and free 1 ms, over and over, while it writes: a completion given back
    // at an instant where the next write's own completion is already queued must still go first.
    const { sim, trace } = cluster();
    const toggle = (t: number): void => {
      sim.at(t, () => sim.holdFsyncs(2, true));
      sim.at(t + 1, () => sim.holdFsyncs(2, false));
    };
    for (let t = 0; t < 3000; t += 2) toggle(t);
    sim.runUntil(3000);
    const tokens = trace.filter((e): e is Extract<TraceEvent, { type: 'fsync' }> => e.type === 'fsync' && e.sid === 2 && e.stage === 'done').map((e) => e.token);
    expect(tokens.length).toBeGreaterThan(3);
    expect(tokens).toEqual([...tokens].sort((a, b) => a - b));
  });

  it('a held message is neither delivered nor dropped until handed back; lose() resets its connection like a loss', () => {
    const { sim, trace } = cluster();
    const held: InFlight[] = [];
    const seen: string[] = [];
    const control: KernelControl = {
      arriving: (m) => (m.msg.type === 'LEADERINFO' && m.to === 1 ? (held.push(m), true) : false),
      received: (m) => void seen.push(`recv ${m.msg.type}`),
      sent: (_f, _t, msg: Message) => void seen.push(`sent ${msg.type}`),
      written: (_sid, w: PersistOp, stage) => void seen.push(`wrote ${w.op} ${stage}`),
    };
    sim.control = control;
    sim.runUntil(1000);
    expect(held).toHaveLength(1);
    expect(trace.some((e) => e.type === 'deliver' && e.msg.type === 'LEADERINFO' && e.to === 1)).toBe(false);
    expect(sim.server(1).state.zabState).toBe('DISCOVERY');
    expect(seen).toContain('sent FOLLOWERINFO');
    expect(seen).toContain('recv FOLLOWERINFO');
    expect(seen).toContain('wrote writeEpoch tmp');
    const before = trace.length;
    sim.lose(held[0] as InFlight);
    const after = trace.slice(before);
    expect(after[0]).toMatchObject({ type: 'drop', from: 3, to: 1, reason: 'loss', msg: { type: 'LEADERINFO' } });
    // Both ends are told the quorum connection is gone: a CLOSE notice each way.
    expect(after.slice(1).map((e) => (e.type === 'send' ? `${e.from}->${e.to} ${e.msg.type}` : e.type))).toEqual(['1->3 CLOSE', '3->1 CLOSE']);
    sim.control = null;
    sim.runUntil(30_000);
    expect(sim.server(1).state).toMatchObject({ state: 'FOLLOWING', zabState: 'BROADCAST' });
  });
});
