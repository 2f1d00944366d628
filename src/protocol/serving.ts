/**
 * Serving clients. Reads are answered locally from the server's tree (possibly stale: ZooKeeper
 * reads are not quorum operations); writes are forwarded to the leader as REQUEST (a leader
 * proposes its own); `sync` goes to the leader and is answered once the leader's last proposal at
 * request time has committed. The reply to a write comes from the server the client is connected
 * to, when that server applies the txn (FinalRequestProcessor). A server that is not serving
 * (not in BROADCAST) closes the client's connection: CONNECTIONLOSS.
 */
import { note, send, type StepContext } from './context.ts';
import { own, ownLearner } from './cow.ts';
import { getData, type Txn, type TxnOrigin, type TxnResult } from './datatree.ts';
import type { ClientReply, ClientRequest, LogEntry, ServerState } from './types.ts';
import { propose, processSync } from './broadcast.ts';
import { touchSession } from './heartbeat.ts';
import { formatZxid } from './zxid.ts';

type S = ServerState;

export function reply(ctx: StepContext, r: ClientReply): void {
  ctx.effects.push({ kind: 'reply', reply: r });
}

/** The txn a client write asks for, stamped with where it came from. */
export function txnOf(req: ClientRequest, origin: TxnOrigin): Txn | null {
  switch (req.op) {
    case 'createSession':
      return { type: 'createSession', session: req.session, timeoutMs: req.timeoutMs ?? 30_000, origin };
    case 'closeSession':
      return { type: 'closeSession', session: req.session, origin };
    case 'create':
      return { type: 'create', path: req.path, data: req.data ?? '', ephemeral: req.ephemeral ?? false, sequential: req.sequential ?? false, session: req.session, origin };
    case 'setData':
      return { type: 'setData', path: req.path, data: req.data ?? '', version: req.version ?? -1, origin };
    case 'delete':
      return { type: 'delete', path: req.path, version: req.version ?? -1, origin };
    default:
      return null;
  }
}

/** A client operation arriving at this server. Returns a reason for a leader to give up, or null. */
export function onClientRequest(s: S, ctx: StepContext, req: ClientRequest): string | null {
  if (s.zabState !== 'BROADCAST' || (s.leader === null && s.learner === null)) {
    reply(ctx, { client: req.client, cxid: req.cxid, ok: false, error: 'CONNECTIONLOSS', zxid: s.db.lastProcessedZxid });
    return null;
  }
  if (req.lastZxidSeen !== undefined && req.lastZxidSeen > s.db.lastProcessedZxid) {
    // ZooKeeperServer.processConnectRequest: a client must never see older state than it saw.
    note(ctx, `Refusing session request for client ${req.client} as it has seen zxid ${formatZxid(req.lastZxidSeen)} our last zxid is ${formatZxid(s.db.lastProcessedZxid)}`);
    reply(ctx, { client: req.client, cxid: req.cxid, ok: false, error: 'CONNECTIONLOSS', zxid: s.db.lastProcessedZxid });
    return null;
  }
  touch(s, ctx, req.session);
  const origin: TxnOrigin = { server: s.sid, client: req.client, cxid: req.cxid };
  switch (req.op) {
    case 'ping':
      reply(ctx, { client: req.client, cxid: req.cxid, ok: true, zxid: s.db.lastProcessedZxid });
      return null;
    case 'read':
      reply(ctx, { client: req.client, cxid: req.cxid, ok: true, value: getData(s.db.tree, req.path), zxid: s.db.lastProcessedZxid });
      return null;
    case 'sync':
      if (s.leader !== null) processSync(s, ctx, origin);
      else if (s.learner !== null) send(ctx, s.learner.leader, { type: 'REQUEST', request: { kind: 'sync', origin } });
      return null;
    default: {
      const txn = txnOf(req, origin);
      if (txn === null) throw new Error(`s${s.sid}: no txn for client op ${req.op}`);
      if (s.leader !== null) return propose(s, ctx, txn);
      if (s.learner !== null) send(ctx, s.learner.leader, { type: 'REQUEST', request: { kind: 'write', txn } });
      return null;
    }
  }
}

/** A client was heard from: the leader refreshes its session, a learner reports it in PING. */
function touch(s: S, ctx: StepContext, session: number): void {
  if (session === 0) return;
  if (s.leader !== null) {
    touchSession(s, ctx, session);
    return;
  }
  const lr = s.learner;
  if (lr !== null && !lr.touched.includes(session)) own(ctx, ownLearner(ctx, s), 'touched').push(session);
}

/** A txn was applied here: if its client is connected to this server, answer it. */
export function replyForApplied(s: S, ctx: StepContext, e: LogEntry, result: TxnResult): void {
  const o = e.txn.origin;
  if (o === undefined || o.server !== s.sid) return;
  if (result.ok) reply(ctx, result.path !== undefined ? { client: o.client, cxid: o.cxid, ok: true, zxid: e.zxid, path: result.path } : { client: o.client, cxid: o.cxid, ok: true, zxid: e.zxid });
  else reply(ctx, { client: o.client, cxid: o.cxid, ok: false, error: result.error, zxid: e.zxid });
}
