/**
 * The client-history checker: ZooKeeper's client guarantees, judged as each operation completes,
 * in constant time per operation (a binary search for reads) using zxids and the ghost's
 * committed sequence instead of a search over interleavings:
 *
 * - linearizable writes: a write's zxid exceeds that of every write completed before it began;
 * - FIFO client order: each client's successful writes have increasing zxids;
 * - sequentially consistent reads: a read's value is the committed value of its path as of the
 *   zxid the server answered at, and that zxid is not older than anything its client saw (across
 *   reconnects too: the server refuses a client that saw newer state, as ZooKeeper does);
 * - sync then read: a sync answers at a zxid no older than every write completed before it began;
 * - an acknowledged write is committed, as that client's request, at the zxid it was told;
 * - a request becomes at most one committed txn (checked as txns join the committed sequence).
 */
import { serverName } from '../protocol/config.ts';
import type { Txn } from '../protocol/datatree.ts';
import { formatZxid, type Zxid } from '../protocol/zxid.ts';
import type { ClientListener, HistoryOp } from '../sim/clients.ts';
import type { Ghost } from './ghost.ts';
import type { PropertyName } from './properties.ts';

type Report = (p: PropertyName, servers: number[], zxids: Zxid[], message: string, facts?: string[]) => void;

interface ClientMemo {
  /** Zxid of the client's last successful write. */
  lastWrite: Zxid;
  /** The newest zxid the client has seen in any successful reply. */
  seen: Zxid;
  /** The operation that showed it. */
  seenBy: HistoryOp | null;
}

const f = formatZxid;

/** One client's committed requests: cxids ascending from `start`, with their zxids. */
interface Origins {
  cxids: number[];
  zs: Zxid[];
  start: number;
}

/** A client's operation in flight (null: none) and what had completed when it began. */
interface InFlight {
  op: HistoryOp | null;
  z: Zxid;
  by: HistoryOp | null;
}

function isWrite(op: HistoryOp): boolean {
  return op.op !== 'read' && op.op !== 'sync' && op.op !== 'ping';
}

function describe(op: HistoryOp): string {
  const what = op.op === 'read' ? `read ${op.path}` : op.op === 'sync' ? 'sync' : `${op.op}${op.path !== '' ? ` ${op.path}` : ''}${op.data !== undefined ? `=${op.data}` : ''}`;
  const end = op.completeMs === null ? 'pending' : `${op.outcome} at ${op.completeMs}ms${op.zxid !== undefined ? ` zxid ${f(op.zxid)}` : ''}${op.value !== undefined ? ` value ${JSON.stringify(op.value)}` : ''}`;
  return `client ${op.client} #${op.cxid} ${what} via ${serverName(op.server)}, invoked ${op.invokeMs}ms, ${end}`;
}

export class ClientChecker implements ClientListener {
  /** The newest zxid of any successful write completed so far, and that write. */
  private maxCompleted: Zxid = 0;
  private maxCompletedBy: HistoryOp | null = null;
  /**
   * Per client, its operation in flight and maxCompleted (and that write) when it was invoked: a
   * client has one operation in flight at a time (sim/clients.ts), so one record per client,
   * written in place, instead of map entries made and deleted per operation (docs/scaling.md,
   * "Ninth session").
   */
  private readonly inflight = new Map<number, InFlight>();
  private readonly memo = new Map<number, ClientMemo>();

  /**
   * Syncs answered through a leader that a newer one had replaced: ZooKeeper's sync is not a
   * quorum operation, so an isolated leader (or its followers) may answer with stale state
   * (zab-bugs.md S7). Counted and shown, not a violation.
   */
  staleSyncs = 0;

  constructor(
    private readonly ghost: Ghost,
    private readonly report: Report,
    private readonly staleServer: (sid: number) => boolean = () => false,
  ) {
    ghost.onCommit = (z, txn) => this.committed(z, txn);
    ghost.onCompact = (floor) => this.compact(floor);
  }

  /** The run is over: drops the operations and committed requests it holds (run.ts releaseRun says why). */
  release(): void {
    this.inflight.clear();
    this.memo.clear();
    this.origins.clear();
    this.maxCompletedBy = null;
  }

  invoked(op: HistoryOp): void {
    let r = this.inflight.get(op.client);
    if (r === undefined) {
      r = { op: null, z: 0, by: null };
      this.inflight.set(op.client, r);
    }
    if (r.op !== null) throw new Error(`ClientChecker: client ${op.client} invoked #${op.cxid} with #${r.op.cxid} still in flight (a client has one operation in flight)`);
    r.op = op;
    r.z = this.maxCompleted;
    r.by = this.maxCompletedBy;
  }

  completed(op: HistoryOp): void {
    const r = this.inflight.get(op.client);
    // For writes and syncs: what had completed when it began.
    // (The record itself: its z and by stay as they are until the client's next invocation.)
    const floor = r !== undefined && r.op === op && (isWrite(op) || op.op === 'sync') ? r : undefined;
    if (r !== undefined && r.op === op) r.op = null;
    if (op.outcome !== 'ok' || op.zxid === undefined) return;
    const z = op.zxid;
    let m = this.memo.get(op.client);
    if (m === undefined) {
      m = { lastWrite: 0, seen: 0, seenBy: null };
      this.memo.set(op.client, m);
    }
    const g = this.ghost;
    if (isWrite(op)) {
      const a = g.assigned.get(z);
      if (!g.committed.has(z)) {
        this.report('Client.AckedWriteCommitted', [op.server], [z], `${describe(op)}: acknowledged, but ${f(z)} is not committed`, [`committed up to ${f(g.cmax)}`]);
      } else if (a !== undefined && (a.txn.origin?.client !== op.client || a.txn.origin.cxid !== op.cxid)) {
        this.report('Client.AckedWriteCommitted', [op.server], [z], `${describe(op)}: acknowledged with ${f(z)}, but that txn is another request's`, [`${f(z)} came from client ${a.txn.origin?.client ?? '-'} #${a.txn.origin?.cxid ?? '-'}`]);
      }
      if (floor !== undefined && z <= floor.z) {
        this.report('Client.LinearizableWrites', [op.server], [z, floor.z], `${describe(op)}: its zxid is not after ${f(floor.z)}, a write that completed before it began`, floor.by === null ? [] : [describe(floor.by)]);
      }
      if (z <= m.lastWrite) {
        this.report('Client.FifoOrder', [op.server], [z, m.lastWrite], `${describe(op)}: takes effect before the client's previous write ${f(m.lastWrite)}`);
      }
      m.lastWrite = z;
      if (z > this.maxCompleted) {
        this.maxCompleted = z;
        this.maxCompletedBy = op;
      }
    } else if (op.op === 'read') {
      if (z < m.seen) {
        this.report('Client.SequentialReads', [op.server], [z, m.seen], `${describe(op)}: reads state as of ${f(z)}, older than ${f(m.seen)} the client already saw`, m.seenBy === null ? [] : [describe(m.seenBy)]);
      }
      const want = g.valueAt(op.path, z);
      if ((op.value ?? null) !== want) {
        this.report('Client.SequentialReads', [op.server], [z], `${describe(op)}: the committed value of ${op.path} as of ${f(z)} is ${JSON.stringify(want)}`);
      }
    } else if (op.op === 'sync' && floor !== undefined && z < floor.z) {
      if (this.staleServer(op.server)) this.staleSyncs++;
      else this.report('Client.SyncThenRead', [op.server], [z, floor.z], `${describe(op)}: answers at ${f(z)}, before ${f(floor.z)}, a write completed before the sync began`, floor.by === null ? [] : [describe(floor.by)]);
    }
    if (z > m.seen) {
      m.seen = z;
      m.seenBy = op;
    }
  }

  /**
   * Each committed request's zxid, per client: its cxids ascending and their zxids, from `start`
   * on. A client's requests commit in cxid order but for one retried across a reconnection, so a
   * commit is nearly always a push at the end, and a lookup a comparison with the last cxid (a
   * map per client, or one keyed by a `client:cxid` string built per commit, cost about 2 % of
   * the broadcast workload: docs/scaling.md, "Ninth session").
   */
  private readonly origins = new Map<number, Origins>();

  /**
   * The ghost forgot every txn below `floor`: so do the origins, each client's from the front
   * while they are below it (one committed out of cxid order may stay a little longer). A request
   * committed below the floor and again above it is no longer caught (docs/checkers.md, "Bounded
   * memory").
   */
  private compact(floor: Zxid): void {
    for (const r of this.origins.values()) {
      const n = r.cxids.length;
      while (r.start < n && (r.zs[r.start] as Zxid) < floor) r.start++;
      if (r.start * 2 >= n) {
        r.cxids = r.cxids.slice(r.start);
        r.zs = r.zs.slice(r.start);
        r.start = 0;
      }
    }
  }

  /** How many committed requests the checker remembers (bounded-memory tests). */
  get retainedOrigins(): number {
    let n = 0;
    for (const r of this.origins.values()) n += r.cxids.length - r.start;
    return n;
  }

  private committed(z: Zxid, txn: Txn): void {
    const o = txn.origin;
    if (o === undefined) return;
    let r = this.origins.get(o.client);
    if (r === undefined) {
      r = { cxids: [], zs: [], start: 0 };
      this.origins.set(o.client, r);
    }
    const { cxids, zs } = r;
    const n = cxids.length;
    if (n === r.start || (cxids[n - 1] as number) < o.cxid) {
      cxids.push(o.cxid);
      zs.push(z);
      return;
    }
    let lo = r.start;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cxids[mid] as number) < o.cxid) lo = mid + 1;
      else hi = mid;
    }
    if (lo < n && cxids[lo] === o.cxid) {
      const before = zs[lo] as Zxid;
      if (before !== z) this.report('Client.AppliedOnce', [o.server], [before, z], `client ${o.client} request #${o.cxid} was committed twice, as ${f(before)} and ${f(z)}`);
      return;
    }
    cxids.splice(lo, 0, o.cxid);
    zs.splice(lo, 0, z);
  }

  /** The oldest operation still in flight, if any. */
  oldestOutstanding(): HistoryOp | undefined {
    let oldest: HistoryOp | undefined;
    for (const r of this.inflight.values()) if (r.op !== null && (oldest === undefined || r.op.n < oldest.n)) oldest = r.op;
    return oldest;
  }
}
