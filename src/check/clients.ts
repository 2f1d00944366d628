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
  /** For writes and syncs in flight, by operation number: maxCompleted when they were invoked. */
  private readonly floors = new Map<number, { z: Zxid; by: HistoryOp | null }>();
  private readonly memo = new Map<number, ClientMemo>();
  /**
   * Operations not yet completed, by their number, oldest first (a Map keeps insertion order, and
   * numbers are given in invocation order). Keyed by number, not by the operation: an object key
   * costs an identity hash made and looked up per operation (docs/scaling.md, "Ninth session").
   */
  readonly outstanding = new Map<number, HistoryOp>();

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

  invoked(op: HistoryOp): void {
    this.outstanding.set(op.n, op);
    if (isWrite(op) || op.op === 'sync') this.floors.set(op.n, { z: this.maxCompleted, by: this.maxCompletedBy });
  }

  completed(op: HistoryOp): void {
    this.outstanding.delete(op.n);
    const floor = this.floors.get(op.n);
    this.floors.delete(op.n);
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
   * Each committed request's zxid, by client and then cxid, in commit order (so compaction cuts a
   * prefix of each client's). Numbers as keys: a `client:cxid` string built per commit measured
   * at 2 % of the broadcast workload (docs/scaling.md, "Ninth session").
   */
  private readonly origins = new Map<number, Map<number, Zxid>>();
  private originCount = 0;

  /**
   * The ghost forgot every txn below `floor`: so do the origins. A request committed below the
   * floor and again above it is no longer caught (docs/checkers.md, "Bounded memory").
   */
  private compact(floor: Zxid): void {
    for (const [client, byCxid] of this.origins) {
      for (const [cxid, z] of byCxid) {
        if (z >= floor) break;
        byCxid.delete(cxid);
        this.originCount--;
      }
      if (byCxid.size === 0) this.origins.delete(client);
    }
  }

  /** How many committed requests the checker remembers (bounded-memory tests). */
  get retainedOrigins(): number {
    return this.originCount;
  }

  private committed(z: Zxid, txn: Txn): void {
    const o = txn.origin;
    if (o === undefined) return;
    let byCxid = this.origins.get(o.client);
    if (byCxid === undefined) {
      byCxid = new Map();
      this.origins.set(o.client, byCxid);
    }
    const before = byCxid.get(o.cxid);
    if (before !== undefined && before !== z) {
      this.report('Client.AppliedOnce', [o.server], [before, z], `client ${o.client} request #${o.cxid} was committed twice, as ${f(before)} and ${f(z)}`);
      return;
    }
    if (before === undefined) this.originCount++;
    byCxid.set(o.cxid, z);
  }

  /** The oldest operation still in flight, if any. */
  oldestOutstanding(): HistoryOp | undefined {
    for (const op of this.outstanding.values()) return op;
    return undefined;
  }
}
