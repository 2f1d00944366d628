/**
 * Simulated ZooKeeper clients and their history. Each client holds one session and is connected
 * to one server; it issues one operation at a time (a closed loop with exponential think time),
 * drawn from a seeded mix over a small key space: writes (create, setData, delete, ephemeral
 * sequential create, and now and then closing its session and opening a new one, which deletes
 * its ephemeral nodes and keeps the tree's size bounded), local reads and `sync`. When its server crashes, stops serving, or answers
 * CONNECTIONLOSS, the client's outstanding operation completes as `unknown` (a write may or may
 * not have been applied) or `error`, and the client reconnects to another server after a delay.
 *
 * Every operation goes into the history: invoke and completion times, the server, the outcome,
 * and the zxid the server reported, so a checker can judge the clients' view of consistency.
 * Clients draw only from the `workload` stream.
 */
import type { Sid } from '../protocol/config.ts';
import type { ClientReply, ClientRequest } from '../protocol/types.ts';
import type { Zxid } from '../protocol/zxid.ts';
import type { Simulation } from './kernel.ts';
import { drawMs, type Rng } from './rng.ts';

export interface WorkloadConfig {
  /** Number of clients; 0 for none. */
  readonly clients: number;
  /** Mean operations per second per client (think time is exponential). */
  readonly opsPerSecPerClient: number;
  /** Share of operations that are writes (the rest are reads and syncs). */
  readonly writeRatio: number;
  /** Share of operations that are `sync` (taken from the non-writes). */
  readonly syncRatio: number;
  /** Keys /k0 .. /k(n-1). */
  readonly keys: number;
  /** Session timeout clients ask for. */
  readonly sessionTimeoutMs: number;
  /** Clients start issuing operations at this time (the ensemble needs a leader first). */
  readonly startMs: number;
  /** Clients stop issuing new operations at this time. */
  readonly stopMs: number;
  /** Delay before a client reconnects after losing its server. */
  readonly reconnectMs: number;
  /**
   * Keep every operation in `Clients.history` (memory grows with the run: tests and short runs).
   * Without it the clients keep only counts and their outstanding operations; a sink that needs
   * each operation (`--json`) takes it from `Clients.onCompleted` as it completes.
   */
  readonly keepHistory: boolean;
}

export const NO_CLIENTS: WorkloadConfig = Object.freeze({
  clients: 0,
  opsPerSecPerClient: 10,
  writeRatio: 0.6,
  syncRatio: 0.05,
  keys: 8,
  sessionTimeoutMs: 30_000,
  startMs: 0,
  stopMs: Infinity,
  reconnectMs: 1000,
  keepHistory: false,
});

export type Outcome = 'ok' | 'error' | 'unknown';

/**
 * One operation of the history: the request as the client sent it (client, cxid, session, op,
 * path, and for create/setData the value written), then what became of it.
 */
export interface HistoryOp extends Pick<ClientRequest, 'client' | 'cxid' | 'session' | 'op' | 'path' | 'data'> {
  /** The operation's number, in invocation order over all clients (from 0). */
  readonly n: number;
  /** The server the client was connected to. */
  readonly server: Sid;
  readonly invokeMs: number;
  completeMs: number | null;
  outcome: Outcome | null;
  /** Error code name for `error` (and CONNECTIONLOSS for `unknown`). */
  error?: string;
  /** Reads: the value seen (null: no node). */
  value?: string | null;
  /** Creates: the path created. */
  createdPath?: string;
  /** Writes: the txn's zxid; reads and syncs: the zxid the server had applied. */
  zxid?: Zxid;
}

interface ClientState {
  readonly id: number;
  server: Sid | null;
  session: number;
  sessions: number;
  nextCxid: number;
  outstanding: HistoryOp | null;
  /** The newest zxid any reply showed this client; a server behind it refuses the client. */
  lastZxidSeen: Zxid;
  /** Bumped on every (re)connection, so stale timers and replies are ignored. */
  epoch: number;
}

/** Counts of outcomes, for summaries. */
export interface HistoryCounts {
  ok: number;
  error: number;
  unknown: number;
  pending: number;
}

/** Client errors that are the application's answer (NONODE...), not a failure of the service. */
export const APPLICATION_RESULTS: ReadonlySet<string> = new Set(['NONODE', 'NODEEXISTS', 'BADVERSION', 'NOTEMPTY', 'NOCHILDRENFOREPHEMERALS']);

/**
 * What the clients' summary needs of the history, kept as operations complete so that no run has
 * to keep its history: outcomes, error codes split into application results and failures, and
 * the acknowledged writes.
 */
export class HistoryStats {
  /** Operations invoked. */
  invoked = 0;
  ok = 0;
  unknown = 0;
  /** Successful create, setData and delete operations. */
  writesOk = 0;
  /** Error outcomes by code: application results (NONODE...) and failures (CONNECTIONLOSS...). */
  readonly app = new Map<string, number>();
  readonly failed = new Map<string, number>();

  /** Counts one completed operation. */
  add(op: HistoryOp): void {
    if (op.outcome === 'ok') {
      this.ok++;
      if (op.op === 'create' || op.op === 'setData' || op.op === 'delete') this.writesOk++;
    } else if (op.outcome === 'unknown') this.unknown++;
    else if (op.outcome === 'error') {
      const code = op.error ?? 'ERROR';
      const m = APPLICATION_RESULTS.has(code) ? this.app : this.failed;
      m.set(code, (m.get(code) ?? 0) + 1);
    }
  }

  /** Operations that completed with an error (application results and failures). */
  get errors(): number {
    let n = 0;
    for (const v of this.app.values()) n += v;
    for (const v of this.failed.values()) n += v;
    return n;
  }

  /** Operations not completed yet. */
  get pending(): number {
    return this.invoked - this.ok - this.unknown - this.errors;
  }
}

/** Told of every operation as it is invoked and as it completes (the client-history checker). */
export interface ClientListener {
  invoked(op: HistoryOp): void;
  completed(op: HistoryOp): void;
}

export class Clients {
  /** Every operation, in invocation order, when `cfg.keepHistory`; otherwise empty. */
  readonly history: HistoryOp[] = [];
  /** Outcome counts over every operation, kept whether or not the history is. */
  readonly stats = new HistoryStats();
  listener: ClientListener | null = null;
  /** Told of each operation as it completes (after the listener): a sink that streams the history. */
  onCompleted: ((op: HistoryOp) => void) | null = null;
  private readonly clients: ClientState[] = [];
  private readonly rng: Rng;
  /**
   * The keys' paths (`/k0`, `/k1`, ...) and their ephemeral children's, built once: every map
   * keyed by path (the checkers' value histories, the kernel's data tree lookups) then meets the
   * same string, whose hash it computed once, instead of a new string per operation.
   */
  private readonly keyPaths: readonly string[];
  private readonly ephemeralPaths: readonly string[];

  constructor(
    private readonly sim: Simulation,
    readonly cfg: WorkloadConfig,
  ) {
    this.rng = sim.rng.stream('workload');
    this.keyPaths = Array.from({ length: cfg.keys }, (_, i) => `/k${i}`);
    this.ephemeralPaths = this.keyPaths.map((p) => `${p}-e`);
    for (let i = 1; i <= cfg.clients; i++) this.clients.push({ id: i, server: null, session: 0, sessions: 0, nextCxid: 1, outstanding: null, lastZxidSeen: 0, epoch: 0 });
  }

  /** Schedules every client's first connection and hooks the kernel's client callbacks. */
  install(): void {
    if (this.cfg.clients === 0) return;
    this.sim.onReply = (sid, reply) => this.onReply(sid, reply);
    this.sim.onStopServing = (sid) => this.onServerLost(sid);
    for (const c of this.clients) this.sim.at(Math.max(this.sim.now, this.cfg.startMs), this.connect, this, c);
  }

  counts(): HistoryCounts {
    const st = this.stats;
    return { ok: st.ok, error: st.errors, unknown: st.unknown, pending: st.pending };
  }

  /** The operations still in flight, in invocation order. */
  pending(): HistoryOp[] {
    const ops: HistoryOp[] = [];
    for (const c of this.clients) if (c.outstanding !== null) ops.push(c.outstanding);
    return ops.sort((a, b) => a.n - b.n);
  }

  /** Every operation's end passes here: counted, then told to the checker and to the sink. */
  private done(op: HistoryOp): void {
    this.stats.add(op);
    this.listener?.completed(op);
    this.onCompleted?.(op);
  }

  private connect(c: ClientState): void {
    const ids = this.sim.sids;
    c.server = this.rng.pick(ids);
    c.epoch++;
    if (c.session === 0) this.startSession(c);
    else this.scheduleNext(c);
  }

  /** A client↔server hop: clients sit outside partitions and loss, and draw from `workload`. */
  private clientDelay(): number {
    return Math.max(1, drawMs(this.rng, this.sim.network.delay));
  }

  private startSession(c: ClientState): void {
    if (this.sim.now >= this.cfg.stopMs) return;
    c.sessions++;
    c.session = c.id * 1_000_000 + c.sessions;
    this.issue(c, { op: 'createSession', path: '', timeoutMs: this.cfg.sessionTimeoutMs });
  }

  private scheduleNext(c: ClientState): void {
    const epoch = c.epoch;
    const think = this.rng.exponentialMs(1000 / this.cfg.opsPerSecPerClient);
    const at = this.sim.now + think;
    if (at >= this.cfg.stopMs) return;
    this.sim.at(at, this.issueNext, this, { c, epoch });
  }

  /** The think time is over: the next operation, unless the client reconnected or waits for a reply. */
  private issueNext(t: { readonly c: ClientState; readonly epoch: number }): void {
    const c = t.c;
    if (c.epoch !== t.epoch || c.outstanding !== null) return;
    this.issue(c, this.pickOp(c));
  }

  private pickOp(c: ClientState): Omit<ClientRequest, 'client' | 'cxid' | 'session'> {
    const r = this.rng;
    const k = r.int(0, this.cfg.keys - 1);
    const path = this.keyPaths[k] as string;
    const data = `c${c.id}.${c.nextCxid}`;
    if (r.chance(this.cfg.writeRatio)) {
      const w = r.next();
      if (w < 0.5) return { op: 'setData', path, data, version: -1 };
      if (w < 0.7) return { op: 'create', path, data };
      if (w < 0.85) return { op: 'delete', path, version: -1 };
      if (w < 0.97) return { op: 'create', path: this.ephemeralPaths[k] as string, data, ephemeral: true, sequential: true };
      return { op: 'closeSession', path: '' };
    }
    if (r.chance(this.cfg.syncRatio / Math.max(1e-9, 1 - this.cfg.writeRatio))) return { op: 'sync', path: '/' };
    return { op: 'read', path };
  }

  private issue(c: ClientState, body: Omit<ClientRequest, 'client' | 'cxid' | 'session'>): void {
    const server = c.server;
    if (server === null) return;
    // One shape for every request (absent fields undefined, which JSON leaves out as before): a
    // spread of the ops' seven shapes made this site, and every reader of a request (serving,
    // txnOf, the trace), see seven shapes.
    const req: ClientRequest = {
      op: body.op,
      path: body.path,
      data: body.data,
      version: body.version,
      ephemeral: body.ephemeral,
      sequential: body.sequential,
      timeoutMs: body.timeoutMs,
      client: c.id,
      cxid: c.nextCxid++,
      session: c.session,
      lastZxidSeen: c.lastZxidSeen,
    };
    const op: HistoryOp = {
      n: this.stats.invoked++,
      client: c.id,
      cxid: req.cxid,
      session: c.session,
      op: req.op,
      path: req.path,
      // Undefined for ops without data, which JSON leaves out as before: one shape for every op.
      data: req.data,
      server,
      invokeMs: this.sim.now,
      completeMs: null,
      outcome: null,
    };
    if (this.cfg.keepHistory) this.history.push(op);
    c.outstanding = op;
    this.listener?.invoked(op);
    this.sim.at(this.sim.now + this.clientDelay(), this.arrive, this, { c, epoch: c.epoch, server, req, op });
  }

  /** A request reaches its server (unless the client has reconnected since). */
  private arrive(a: { readonly c: ClientState; readonly epoch: number; readonly server: Sid; readonly req: ClientRequest; readonly op: HistoryOp }): void {
    const c = a.c;
    if (c.epoch !== a.epoch) return;
    if (!this.sim.server(a.server).up) {
      // Nobody listens there: the connection is refused, nothing was applied.
      const op = a.op;
      op.completeMs = this.sim.now;
      op.outcome = 'error';
      op.error = 'CONNECTIONLOSS';
      c.outstanding = null;
      this.done(op);
      this.reconnect(c);
      return;
    }
    this.sim.clientRequest(a.server, a.req);
  }

  private onReply(sid: Sid, reply: ClientReply): void {
    const c = this.clients[reply.client - 1];
    if (c === undefined) return;
    this.sim.at(this.sim.now + this.clientDelay(), this.replyArrives, this, { c, epoch: c.epoch, sid, reply });
  }

  /** A reply reaches its client: it completes the operation in flight, if it is still that one's. */
  private replyArrives(r: { readonly c: ClientState; readonly epoch: number; readonly sid: Sid; readonly reply: ClientReply }): void {
    const c = r.c;
    const op = c.outstanding;
    if (c.epoch !== r.epoch || op === null || op.cxid !== r.reply.cxid || c.server !== r.sid) return;
    this.complete(c, op, r.reply);
  }

  private complete(c: ClientState, op: HistoryOp, reply: ClientReply): void {
    op.completeMs = this.sim.now;
    op.zxid = reply.zxid;
    c.outstanding = null;
    if (reply.error !== 'CONNECTIONLOSS' && reply.zxid > c.lastZxidSeen) c.lastZxidSeen = reply.zxid;
    if (reply.ok) {
      op.outcome = 'ok';
      if (reply.value !== undefined) op.value = reply.value;
      if (reply.path !== undefined) op.createdPath = reply.path;
    } else if (reply.error === 'CONNECTIONLOSS') {
      // Refused before processing: nothing was applied.
      op.outcome = 'error';
      op.error = reply.error;
      this.done(op);
      this.reconnect(c);
      return;
    } else {
      op.outcome = 'error';
      op.error = reply.error ?? 'ERROR';
      if (reply.error === 'SESSIONEXPIRED') c.session = 0;
    }
    this.done(op);
    if (op.op === 'createSession' && !reply.ok) c.session = 0;
    if (c.session === 0) {
      this.reconnect(c);
      return;
    }
    if (op.op === 'closeSession' && reply.ok) {
      // The session is over; the client opens a new one on the same connection.
      c.session = 0;
      this.startSession(c);
      return;
    }
    this.scheduleNext(c);
  }

  /** The client's server crashed or stopped serving: its outstanding op is in doubt. */
  private onServerLost(sid: Sid): void {
    for (const c of this.clients) {
      if (c.server !== sid) continue;
      const op = c.outstanding;
      if (op !== null) {
        op.completeMs = this.sim.now;
        const isWrite = op.op !== 'read' && op.op !== 'sync';
        op.outcome = isWrite ? 'unknown' : 'error';
        op.error = 'CONNECTIONLOSS';
        c.outstanding = null;
        this.done(op);
      }
      this.reconnect(c);
    }
  }

  private reconnect(c: ClientState): void {
    c.server = null;
    c.epoch++;
    const at = this.sim.now + this.cfg.reconnectMs;
    if (at >= this.cfg.stopMs) return;
    this.sim.at(at, this.connectAgain, this, { c, epoch: c.epoch });
  }

  /** The reconnect delay is over: connects, unless something else reconnected the client meanwhile. */
  private connectAgain(t: { readonly c: ClientState; readonly epoch: number }): void {
    if (t.c.epoch === t.epoch) this.connect(t.c);
  }
}
