import { describe, expect, it } from 'vitest';
import { applyTxn, EMPTY_TREE } from '../../src/protocol/datatree.ts';
import { zxid } from '../../src/protocol/zxid.ts';
import type { TraceEvent } from '../../src/sim/events.ts';
import { createRun } from '../../src/run/run.ts';

describe('clients and sessions', () => {
  it('a client whose server is down gets CONNECTIONLOSS and moves on: no operation hangs', () => {
    const run = createRun({ seed: 5, voters: 3, untilMs: 30_000, startSpreadMs: 0, workload: { clients: 6, opsPerSecPerClient: 20, startMs: 2000, stopMs: 25_000, keepHistory: true } });
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

  /** s3 leads a fresh 3-voter ensemble with fixed delays; session `id` is created through `sid` at 2 s. */
  function sessionAt(sid: number, id: number, timeoutMs: number): { run: ReturnType<typeof createRun>; trace: TraceEvent[] } {
    const trace: TraceEvent[] = [];
    const run = createRun({ seed: 1, voters: 3, untilMs: Infinity, startSpreadMs: 0, network: { delay: { kind: 'constant', ms: 5 } }, disk: { fsyncLatency: { kind: 'constant', ms: 2 } } }, (e) => trace.push(e));
    run.sim.runUntil(2000);
    expect(run.sim.server(3).state.leader?.established).toBe(true);
    run.sim.clientRequest(sid, { client: 7, cxid: 1, session: id, op: 'createSession', path: '', timeoutMs });
    run.sim.runUntil(2100);
    return { run, trace };
  }

  const closeProposals = (trace: readonly TraceEvent[], id: number): string[] =>
    trace.flatMap((e) => (e.type === 'send' && e.to === 1 && e.msg.type === 'PROPOSAL' && e.msg.txn.type === 'closeSession' && e.msg.txn.session === id ? [e.msg.txn.origin === undefined ? 'expiry' : 'client'] : []));

  it('§6 sessions: a session its client closed leaves the leader\'s tracker once the closeSession commits (SessionTrackerImpl.removeSession): it is never expired afterwards', () => {
    const id = 7_000_001;
    const { run, trace } = sessionAt(1, id, 6000);
    expect(run.sim.server(3).state.leader?.sessionExpiry[id]).toBeDefined();
    run.sim.clientRequest(1, { client: 7, cxid: 2, session: id, op: 'closeSession', path: '' });
    run.sim.runUntil(2200);
    expect(run.sim.server(3).state.db.tree.sessions[id]).toBeUndefined();
    expect(run.sim.server(3).state.leader?.sessionExpiry[id]).toBeUndefined();
    run.sim.runUntil(40_000);
    expect(closeProposals(trace, id)).toEqual(['client']);
    expect(trace.some((e) => e.type === 'note' && e.text === `session ${id} expired`)).toBe(false);
    expect(run.checkers?.verdict().ok).toBe(true);
  });

  it('§6 sessions: a new session is tracked from its createSession\'s commit (commitSession): created at the leader and left untouched, it expires one timeout later', () => {
    // At the leader no touch can track it before the commit (the session is not in its tree yet).
    const id = 7_000_002;
    const { run, trace } = sessionAt(3, id, 6000);
    const committedAt = trace.find((e) => e.type === 'send' && e.msg.type === 'COMMIT' && e.from === 3)?.t as number;
    run.sim.runUntil(20_000);
    const expired = trace.filter((e) => e.type === 'note' && e.text === `session ${id} expired`).map((e) => e.t);
    expect(expired).toHaveLength(1);
    // The leader clock counts ping wake-ups: within one wake-up (tickTime/2) of the timeout.
    expect(expired[0]).toBeGreaterThanOrEqual(committedAt + 6000 - 1000);
    expect(expired[0]).toBeLessThanOrEqual(committedAt + 6000 + 1000);
    expect(closeProposals(trace, id)).toEqual(['expiry']);
  });
});
