/**
 * Bounded memory (docs/architecture.md, "Bounded memory"), by structure rather than by RSS or
 * wall clock: under steady load, what the servers, their disks, the clients and the checkers
 * retain stays under a constant while the committed history grows past several times it. Each
 * bound fails if the piece it names grows with the run (no purge, no compaction, a kept history).
 */
import { describe, expect, it } from 'vitest';
import { setAutoFreeze } from 'immer';
import { createRun } from '../../src/run/run.ts';
import { budget } from '../budget.ts';

interface Retained {
  readonly committed: number;
  /** Per server, the largest of: its log view, committedLog, disk log, snapshots held. */
  readonly serverLog: number;
  readonly diskLog: number;
  readonly committedLog: number;
  readonly snapshots: number;
  readonly ghost: number;
  readonly origins: number;
  readonly sessions: number;
  readonly history: number;
}

describe('bounded memory under load', () => {
  it('servers, disks, clients and checkers retain a bounded number of entries however many txns commit', () => {
    setAutoFreeze(false);
    const target = budget(8000, 60_000);
    // Purge every 2 s of virtual time; ~430 txns/s: a purge period is ~900 txns.
    const run = createRun({
      seed: 3,
      voters: 5,
      untilMs: Infinity,
      startSpreadMs: 300,
      params: { purgeIntervalMs: 2000, snapCount: 100, commitLogCount: 500 },
      workload: { clients: 30, opsPerSecPerClient: 50, writeRatio: 0.8, keys: 16, startMs: 2000 },
    });
    const samples: Retained[] = [];
    const sim = run.sim;
    const checkers = run.checkers;
    if (checkers === null) throw new Error('checkers expected');
    while (checkers.safety.ghost.committedCount < target) {
      sim.runUntil(sim.now + 1000);
      let serverLog = 0;
      let diskLog = 0;
      let committedLog = 0;
      let snapshots = 0;
      for (const sid of sim.sids) {
        const rt = sim.server(sid);
        const db = rt.state.db;
        serverLog = Math.max(serverLog, db.log.length + db.olderLog.length);
        committedLog = Math.max(committedLog, db.committed.length);
        diskLog = Math.max(diskLog, rt.disk.image.log.length);
        snapshots = Math.max(snapshots, rt.disk.image.snapshots.length, db.snapshots.length);
      }
      const r = checkers.safety.retained();
      samples.push({
        committed: checkers.safety.ghost.committedCount,
        serverLog,
        diskLog,
        committedLog,
        snapshots,
        ghost: Math.max(r.ghost.assigned, r.ghost.committed, r.ghost.digests, r.ghost.pathValues),
        origins: checkers.clients?.retainedOrigins ?? 0,
        sessions: r.sessions,
        history: run.clients.history.length,
      });
    }
    expect(checkers.verdict().ok).toBe(true);
    const max = (k: keyof Retained): number => Math.max(...samples.map((x) => x[k]));
    // The history grew well past every bound below.
    expect(max('committed')).toBeGreaterThanOrEqual(target);
    // A purge period (~900 txns) plus the files the retained snapshots need.
    expect(max('serverLog')).toBeLessThan(2000);
    expect(max('diskLog')).toBeLessThan(2000);
    // commitLogCount after each purge, plus a period's growth.
    expect(max('committedLog')).toBeLessThan(2000);
    // Snapshots: at most zabsim's cap between purges.
    expect(max('snapshots')).toBeLessThanOrEqual(8);
    // The ghost: what servers held one compaction (1,024 commits) ago, plus a compaction period.
    expect(max('ghost')).toBeLessThan(5000);
    expect(max('origins')).toBeLessThan(5000);
    expect(max('sessions')).toBeLessThan(350);
    // No history kept without keepHistory.
    expect(max('history')).toBe(0);
    expect(run.clients.stats.invoked).toBeGreaterThan(target);
  });
});
