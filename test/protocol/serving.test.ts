/**
 * Serving clients (docs/protocol.md "Clients (serving.ts)", zab-protocol.md §6): who answers, with
 * what, and which session a request touches. These were surviving mutants of `npm run mutate --
 * --mutate src/protocol/serving.ts` (docs/checkers.md, "Mutation testing"). s3 leads epoch 2 of
 * three voters whose logs hold <1,1>; fixed delays (test/protocol/harness.ts).
 */
import { describe, expect, it } from 'vitest';
import { makeClusterConfig } from '../../src/protocol/config.ts';
import { onClientRequest, txnOf } from '../../src/protocol/serving.ts';
import type { ClientRequest } from '../../src/protocol/types.ts';
import { awaitingSync, z } from './driver.ts';
import { boot, established, log, notes, replies } from './harness.ts';

const E1 = { acceptedEpoch: 1, currentEpoch: 1 };
const ORIGIN = { server: 1, client: 7, cxid: 3 };

function ensemble() {
  return established({ voters: 3, images: { 1: { ...E1, log: log([1, 1]) }, 2: { ...E1, log: log([1, 1]) }, 3: { ...E1, log: log([1, 1]) } } }, 3);
}

let cx = 1000;
function req(over: Partial<ClientRequest> & Pick<ClientRequest, 'op'>): ClientRequest {
  return { client: 1, cxid: ++cx, session: 0, path: '/a', ...over };
}

describe('§6 txnOf: a client write becomes a txn stamped with its origin', () => {
  it('fills what the request leaves out: session timeout 30 s, empty data, a plain node, version -1 (any)', () => {
    expect(txnOf(req({ op: 'createSession', session: 5 }), ORIGIN)).toEqual({ type: 'createSession', session: 5, timeoutMs: 30_000, origin: ORIGIN });
    expect(txnOf(req({ op: 'createSession', session: 5, timeoutMs: 4000 }), ORIGIN)).toEqual({ type: 'createSession', session: 5, timeoutMs: 4000, origin: ORIGIN });
    expect(txnOf(req({ op: 'closeSession', session: 5 }), ORIGIN)).toEqual({ type: 'closeSession', session: 5, origin: ORIGIN });
    expect(txnOf(req({ op: 'create', session: 5 }), ORIGIN)).toEqual({ type: 'create', path: '/a', data: '', ephemeral: false, sequential: false, session: 5, origin: ORIGIN });
    expect(txnOf(req({ op: 'create', session: 5, data: 'x', ephemeral: true, sequential: true }), ORIGIN)).toEqual({ type: 'create', path: '/a', data: 'x', ephemeral: true, sequential: true, session: 5, origin: ORIGIN });
    expect(txnOf(req({ op: 'setData' }), ORIGIN)).toEqual({ type: 'setData', path: '/a', data: '', version: -1, origin: ORIGIN });
    expect(txnOf(req({ op: 'setData', data: 'y', version: 2 }), ORIGIN)).toEqual({ type: 'setData', path: '/a', data: 'y', version: 2, origin: ORIGIN });
    expect(txnOf(req({ op: 'delete' }), ORIGIN)).toEqual({ type: 'delete', path: '/a', version: -1, origin: ORIGIN });
    expect(txnOf(req({ op: 'delete', version: 0 }), ORIGIN)).toEqual({ type: 'delete', path: '/a', version: 0, origin: ORIGIN });
  });

  it('reads, pings and syncs are not txns', () => {
    for (const op of ['read', 'ping', 'sync'] as const) expect(txnOf(req({ op }), ORIGIN)).toBeNull();
  });

  it('a write op without a txn is a bug inside zabsim, and says which op', () => {
    const n = ensemble().sim.server(3).state;
    expect(() => onClientRequest(structuredClone(n), { cfg: makeClusterConfig(3, 0), sid: 3, effects: [], probe: null, owned: [] }, req({ op: 'bogus' as ClientRequest['op'] }))).toThrow('s3: no txn for client op bogus');
  });
});

describe('§6 who serves: only a server in BROADCAST, and never older state than the client saw', () => {
  it('a learner that is still syncing (SYNCHRONIZATION, its learner role set) answers CONNECTIONLOSS with its lastProcessedZxid', () => {
    const n = awaitingSync({});
    expect(n.state.learner).not.toBeNull();
    expect(n.state.zabState).not.toBe('BROADCAST');
    n.feed({ kind: 'clientRequest', request: req({ op: 'read' }) });
    expect(n.effects.filter((e) => e.kind === 'reply').map((e) => e.kind === 'reply' && e.reply)).toEqual([{ client: 1, cxid: cx, ok: false, error: 'CONNECTIONLOSS', zxid: z(1, 2) }]);
  });

  it('a LOOKING server answers CONNECTIONLOSS; the leader and a follower in BROADCAST serve a read', () => {
    const { sim, trace } = ensemble();
    const atLeader = req({ op: 'read' });
    sim.clientRequest(3, atLeader);
    const atFollower = req({ op: 'read' });
    sim.clientRequest(1, atFollower);
    sim.runUntil(sim.now + 1);
    // A server still electing (the ensemble has just started).
    const fresh = boot({ voters: 3, images: { 1: { ...E1, log: log([1, 1]) } } });
    fresh.sim.runUntil(1);
    expect(fresh.sim.server(1).state.state).toBe('LOOKING');
    const whileLooking = req({ op: 'read' });
    fresh.sim.clientRequest(1, whileLooking);
    expect(replies(fresh.trace, 1, whileLooking.cxid)).toEqual([{ client: 1, cxid: whileLooking.cxid, ok: false, error: 'CONNECTIONLOSS', zxid: z(1, 1) }]);
    expect(replies(trace, 3, atLeader.cxid)).toEqual([{ client: 1, cxid: atLeader.cxid, ok: true, value: null, zxid: z(2, 0) }]);
    expect(replies(trace, 1, atFollower.cxid)).toEqual([{ client: 1, cxid: atFollower.cxid, ok: true, value: null, zxid: z(1, 1) }]);
  });

  it('ZooKeeperServer.processConnectRequest: a client that has seen a newer zxid than the server is refused; one that saw exactly its zxid is served', () => {
    const { sim, trace } = ensemble();
    const newer = req({ op: 'read', lastZxidSeen: z(1, 2) });
    const same = req({ op: 'read', lastZxidSeen: z(1, 1) });
    sim.clientRequest(1, newer);
    sim.clientRequest(1, same);
    sim.runUntil(sim.now + 1);
    expect(replies(trace, 1, newer.cxid)).toEqual([{ client: 1, cxid: newer.cxid, ok: false, error: 'CONNECTIONLOSS', zxid: z(1, 1) }]);
    expect(notes(trace, 1, /Refusing session/).map((e) => e.text)).toEqual(['Refusing session request for client 1 as it has seen zxid <1,2> our last zxid is <1,1>']);
    expect(replies(trace, 1, same.cxid)).toEqual([{ client: 1, cxid: same.cxid, ok: true, value: null, zxid: z(1, 1) }]);
  });
});

describe('§6 sessions: every operation touches its session', () => {
  /** Session 77 (timeout 6 s) created through s3 and committed everywhere. */
  function withSession() {
    const b = ensemble();
    b.sim.clientRequest(3, req({ op: 'createSession', session: 77, timeoutMs: 6000 }));
    b.sim.runUntil(b.sim.now + 100);
    expect(b.sim.server(1).state.db.tree.sessions[77]?.timeoutMs).toBe(6000);
    return b;
  }

  it('at the leader: the expiry becomes leader clock + timeout (the leader clock is wake-ups · tickTime/2)', () => {
    const { sim } = withSession();
    sim.runUntil(sim.now + 3000);
    const l = sim.server(3).state.leader;
    const before = l?.sessionExpiry[77];
    sim.clientRequest(3, req({ op: 'read', session: 77 }));
    const after = sim.server(3).state.leader;
    const clock = (after?.wakeups ?? 0) * (sim.cfg.params.tickTimeMs / 2);
    expect(after?.sessionExpiry[77]).toBe(clock + 6000);
    expect(after?.sessionExpiry[77]).toBeGreaterThan(before ?? Infinity);
  });

  it('at the leader, a second operation within the same half tick finds the expiry already set: the table is not copied', () => {
    const { sim } = withSession();
    sim.runUntil(sim.now + 3000);
    sim.clientRequest(3, req({ op: 'read', session: 77 }));
    const once = sim.server(3).state.leader;
    sim.clientRequest(3, req({ op: 'read', session: 77 }));
    const twice = sim.server(3).state.leader;
    expect(twice?.wakeups).toBe(once?.wakeups);
    expect(twice?.sessionExpiry[77]).toBe(once?.sessionExpiry[77]);
    expect(twice?.sessionExpiry).toBe(once?.sessionExpiry);
  });

  it('at a follower: the session is recorded once in `touched` for the next PING, however often it is used; session 0 is none', () => {
    const { sim } = withSession();
    const touched = () => sim.server(1).state.learner?.touched;
    sim.clientRequest(1, req({ op: 'read', session: 0 }));
    expect(touched()).toEqual([]);
    sim.clientRequest(1, req({ op: 'read', session: 77 }));
    sim.clientRequest(1, req({ op: 'read', session: 77 }));
    expect(touched()).toEqual([77]);
  });

  it('at the leader, a session it does not know (session 0, or none in its tree) gets no expiry', () => {
    const { sim } = ensemble();
    sim.clientRequest(3, req({ op: 'read', session: 0 }));
    sim.clientRequest(3, req({ op: 'read', session: 99 }));
    expect(sim.server(3).state.leader?.sessionExpiry).toEqual({});
  });
});

describe('§6 FinalRequestProcessor: the server the client is connected to answers its write', () => {
  it('a create through a follower is answered by the follower alone, with its zxid and the created path', () => {
    const { sim, trace } = ensemble();
    const c = req({ op: 'create', path: '/w', data: 'v' });
    sim.clientRequest(1, c);
    sim.runUntil(sim.now + 100);
    const r = replies(trace, 1, c.cxid);
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ client: 1, cxid: c.cxid, ok: true, path: '/w' });
    expect(r[0]?.zxid).toBe(z(2, 1));
    expect([2, 3].flatMap((sid) => replies(trace, sid, c.cxid))).toEqual([]);
  });

  it('a failed write is answered with its error and the zxid it consumed, and no path', () => {
    const { sim, trace } = ensemble();
    const c = req({ op: 'delete', path: '/missing' });
    sim.clientRequest(1, c);
    sim.runUntil(sim.now + 100);
    expect(replies(trace, 1, c.cxid)).toEqual([{ client: 1, cxid: c.cxid, ok: false, error: 'NONODE', zxid: z(2, 1) }]);
  });
});

describe('§6 a client ping (FinalRequestProcessor, OpCode.ping)', () => {
  // ZooKeeper answers a ping with the server's last processed zxid (ReplyHeader(PING_XID,
  // lastZxid, 0)) and nothing else; the request touched the client's session on the way in
  // (ZooKeeperServer.touch), so a follower reports it in its next PING to the leader.
  it('a follower in BROADCAST answers a ping with its lastProcessedZxid alone, and records the session for its next PING', () => {
    const { sim, trace } = ensemble();
    const p = req({ op: 'ping', session: 55 });
    sim.clientRequest(1, p);
    sim.runUntil(sim.now + 1);
    expect(replies(trace, 1, p.cxid)).toStrictEqual([{ client: 1, cxid: p.cxid, ok: true, zxid: z(1, 1) }]);
    expect(sim.server(1).state.learner?.touched).toEqual([55]);
  });

  it('the leader answers a ping the same way, with its own lastProcessedZxid', () => {
    const { sim, trace } = ensemble();
    const p = req({ op: 'ping' });
    sim.clientRequest(3, p);
    sim.runUntil(sim.now + 1);
    expect(replies(trace, 3, p.cxid)).toStrictEqual([{ client: 1, cxid: p.cxid, ok: true, zxid: z(2, 0) }]);
  });
});

describe('§6 FinalRequestProcessor: what an applied write\'s answer carries', () => {
  // The answer carries the path of the txn's result (DataTree.ProcessTxnResult.path: the created
  // node for a create, the txn's path for setData and delete); a session txn has no path, and its
  // answer no path field at all (ZooKeeper answers createSession with a ConnectResponse and
  // closeSession with an empty reply).
  it('a createSession and a closeSession through a follower are answered with their zxids and no path field', () => {
    const { sim, trace } = ensemble();
    const open = req({ op: 'createSession', session: 66 });
    sim.clientRequest(1, open);
    sim.runUntil(sim.now + 100);
    const close = req({ op: 'closeSession', session: 66 });
    sim.clientRequest(1, close);
    sim.runUntil(sim.now + 100);
    expect(replies(trace, 1, open.cxid)).toStrictEqual([{ client: 1, cxid: open.cxid, ok: true, zxid: z(2, 1) }]);
    expect(replies(trace, 1, close.cxid)).toStrictEqual([{ client: 1, cxid: close.cxid, ok: true, zxid: z(2, 2) }]);
  });

  it('a setData through a follower is answered with its zxid and its path', () => {
    const { sim, trace } = ensemble();
    const c = req({ op: 'setData', path: '/', data: 'x' });
    sim.clientRequest(1, c);
    sim.runUntil(sim.now + 100);
    expect(replies(trace, 1, c.cxid)).toStrictEqual([{ client: 1, cxid: c.cxid, ok: true, zxid: z(2, 1), path: '/' }]);
  });
});
