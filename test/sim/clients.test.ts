import { describe, expect, it } from 'vitest';
import { applyTxn, EMPTY_TREE } from '../../src/protocol/datatree.ts';
import { zxid } from '../../src/protocol/zxid.ts';
import type { TraceEvent } from '../../src/sim/events.ts';
import { createRun } from '../../src/run/run.ts';

describe('clients and sessions', () => {
  it('a client whose server is down gets CONNECTIONLOSS and moves on: no operation hangs', () => {
    const run = createRun({ seed: 5, voters: 3, untilMs: 30_000, startSpreadMs: 0, workload: { clients: 6, opsPerSecPerClient: 20, startMs: 2000, stopMs: 25_000 } });
    run.sim.at(1000, () => run.sim.crash(3));
    run.sim.runUntil(30_000);
    const history = run.clients.history;
    const refused = history.filter((op) => op.server === 3 && op.error === 'CONNECTIONLOSS');
    expect(refused.length).toBeGreaterThan(0);
    expect(history.filter((op) => op.outcome === null)).toEqual([]);
    // Every client kept working on the live servers.
    for (let c = 1; c <= 6; c++) expect(history.some((op) => op.client === c && op.outcome === 'ok' && op.server !== 3)).toBe(true);
  });

  it('§6 sessions: a new leader tracks every session of its database, and one nobody touches expires', () => {
    const session = 4242;
    const tree = applyTxn(EMPTY_TREE, zxid(1, 1), { type: 'createSession', session, timeoutMs: 6000 }).tree;
    const trace: TraceEvent[] = [];
    const run = createRun({ seed: 1, voters: 3, untilMs: 20_000, startSpreadMs: 0 }, (e) => trace.push(e));
    for (const sid of run.sim.sids) {
      const img = run.sim.server(sid).disk.image;
      img.snapshots.push({ zxid: zxid(1, 1), data: tree });
      img.currentEpoch = 1;
      img.acceptedEpoch = 1;
    }
    run.sim.runUntil(20_000);
    expect(trace.some((e) => e.type === 'note' && e.text === `session ${session} expired`)).toBe(true);
    const closes = trace.filter((e) => e.type === 'send' && e.msg.type === 'PROPOSAL' && e.msg.txn.type === 'closeSession' && e.msg.txn.session === session);
    expect(closes.length).toBeGreaterThan(0);
    for (const sid of run.sim.sids) expect(run.sim.server(sid).state.db.tree.sessions[session]).toBeUndefined();
  });
});
