/**
 * The viewer's model of a trace: the messages (send, deliver, drop) joined by id, the fault
 * periods, and every server's state at any record, reconstructed from the records alone (docs/
 * viewer.md lists the rules). Used by the HTML viewer (bundled into the page), the exports and the
 * plots. Pure: no DOM, no Node.
 */
import type { PersistOp } from '../protocol/types.ts';
import type { TraceEvent } from '../sim/events.ts';

const EPOCH_SHIFT = 2 ** 32;
const epochOf = (z: number): number => Math.floor(z / EPOCH_SHIFT);

/** One message: where it left and where it ended. */
export interface MessageInfo {
  readonly id: number;
  readonly from: number;
  readonly to: number;
  readonly type: string;
  /** Index of its `send` record (-1: no send record, which the kernel never does). */
  sendI: number;
  /** Index of its first `deliver` or of its `drop` record; -1 while in flight at the end. */
  endI: number;
  /** Index of a second delivery (a duplicated message), or -1. */
  dupI: number;
  /** The drop reason, or null. */
  dropped: string | null;
}

/** A fault period: a crash (server down) or a partition, from record `fromI` to `toI` (-1: the end). */
export interface FaultPeriod {
  readonly kind: 'down' | 'partition';
  readonly sid: number;
  readonly fromI: number;
  toI: number;
  readonly desc: string;
}

export interface PendingWrite {
  readonly token: number;
  readonly text: string;
  /** 'tmp' once an epoch file's tmp copy is durable. */
  stage: 'submitted' | 'tmp';
}

/** What the state panel shows of one server at one record. */
export interface ServerView {
  up: boolean;
  role: string;
  phase: string;
  leader: number | null;
  acceptedEpoch: number | null;
  currentEpoch: number | null;
  vote: { round: number; leader: number; zxid: number; peerEpoch: number } | null;
  /** The in-memory log (zxids, page cache included), oldest first. */
  log: number[];
  /** The durable txn log, oldest first. */
  durableLog: number[];
  /** The zxid of the snapshot the in-memory log continues from (0: none). */
  logBase: number;
  /** lastProcessedZxid: the applied (committed) prefix. */
  applied: number;
  pending: PendingWrite[];
  /** A learner in SYNCHRONIZATION: the sync mode (first packet), whether NEWLEADER came, and the newest COMMIT held before and after NEWLEADER (0: none). */
  sync: { mode: string | null; newLeaderSeen: boolean; heldBefore: number; heldAfter: number };
  /** A leader: the learners whose connection it accepted; a learner: its leader, when connected. */
  connections: number[];
  /** Durable image facts used at restart. */
  disk: DiskView;
}

interface DiskView {
  acceptedEpoch: number | null;
  currentEpoch: number | null;
  acceptedTmp: number | null;
  currentTmp: number | null;
  updatingEpoch: boolean;
  /**
   * The durable snapshots, ascending by label, as the disk lists them (FileSnap, sim/disk.ts
   * putSnapshot): a snapshot written under a label already there replaces it; a file that fails
   * its CRC stays listed (it counts for the purge) until an operator removes it (`snapfile`).
   */
  snapshots: SnapshotMark[];
}

/**
 * A durable snapshot file: its label, the newest txn its data reflects (a fuzzy SNAP's can be past
 * the label), and whether it fails its CRC (a storage fault: the server skips it at start).
 */
interface SnapshotMark {
  readonly zxid: number;
  readonly lastTxn: number;
  readonly corrupt: boolean;
}

/**
 * The snapshot a start loads: the newest that reads back (FileSnap.deserialize skips the ones that
 * fail their CRC; protocol/db.ts validSnapshotIndex). Its label, or 0 when there is none (no
 * snapshot, or none readable: then the start is refused and a halt follows).
 */
function loadedSnapshot(d: DiskView): number {
  for (let i = d.snapshots.length - 1; i >= 0; i--) {
    const s = d.snapshots[i] as SnapshotMark;
    if (!s.corrupt) return s.zxid;
  }
  return 0;
}

/** How many snapshots a disk keeps (protocol/db.ts KEPT_SNAPSHOTS; the page imports no protocol code). */
export const VIEW_KEPT_SNAPSHOTS = 8;

function emptyView(): ServerView {
  return {
    up: false,
    role: 'DOWN',
    phase: '-',
    leader: null,
    acceptedEpoch: null,
    currentEpoch: null,
    vote: null,
    log: [],
    durableLog: [],
    logBase: 0,
    applied: 0,
    pending: [],
    sync: { mode: null, newLeaderSeen: false, heldBefore: 0, heldAfter: 0 },
    connections: [],
    disk: { acceptedEpoch: null, currentEpoch: null, acceptedTmp: null, currentTmp: null, updatingEpoch: false, snapshots: [] },
  };
}

function cloneView(v: ServerView): ServerView {
  return {
    ...v,
    vote: v.vote === null ? null : { ...v.vote },
    sync: { ...v.sync },
    log: v.log.slice(),
    durableLog: v.durableLog.slice(),
    pending: v.pending.map((p) => ({ ...p })),
    connections: v.connections.slice(),
    disk: { ...v.disk, snapshots: v.disk.snapshots.slice() },
  };
}

/** A snapshot made durable: put in label order, replacing one of the same label; the oldest go past VIEW_KEPT_SNAPSHOTS. */
function putSnapshot(d: DiskView, mark: SnapshotMark): void {
  const list = d.snapshots;
  let i = list.length;
  while (i > 0 && (list[i - 1] as SnapshotMark).zxid >= mark.zxid) i--;
  list.splice(i, list[i]?.zxid === mark.zxid ? 1 : 0, mark);
  keepNewest(d, VIEW_KEPT_SNAPSHOTS);
}

/** Keeps the newest `n` snapshots (a purge, or the disk's cap). */
function keepNewest(d: DiskView, n: number): void {
  if (d.snapshots.length > n) d.snapshots.splice(0, d.snapshots.length - n);
}

/** Keeps a sorted zxid list cut after `z`. */
function cutAfter(log: number[], z: number): void {
  let n = log.length;
  while (n > 0 && (log[n - 1] as number) > z) n--;
  log.length = n;
}

/** A purge: the zxids below z go. */
function cutBefore(log: number[], z: number): void {
  let k = 0;
  while (k < log.length && (log[k] as number) < z) k++;
  if (k > 0) log.splice(0, k);
}

function last(log: readonly number[], dflt: number): number {
  return log.length > 0 ? (log[log.length - 1] as number) : dflt;
}

/**
 * A pending write as the state panel lists it: protocol/format.ts formatWrite's short form. Not
 * that function: the page imports no protocol code, and in the page a snapshot write carries
 * only its label, lastTxn and node count (html.ts), not the tree formatWrite counts.
 */
function writeText(w: PersistOp): string {
  switch (w.op) {
    case 'appendLog':
      return `appendLog ${fmtZxid(w.entry.zxid)}`;
    case 'truncateLog':
      return `truncateLog to ${fmtZxid(w.zxid)}`;
    case 'snapshot':
      return `snapshot ${fmtZxid(w.snapshot.zxid)}`;
    case 'writeEpoch':
      return `${w.file} := ${w.value}`;
    case 'updatingEpoch':
      return w.exists ? 'create updatingEpoch' : 'delete updatingEpoch';
    case 'purge':
      return `purge from ${fmtZxid(w.logFrom)}`;
  }
}

export function fmtZxid(z: number): string {
  if (z < 0) return String(z);
  return `<${epochOf(z)},${z - epochOf(z) * EPOCH_SHIFT}>`;
}

function addConn(v: ServerView, sid: number): void {
  if (!v.connections.includes(sid)) {
    v.connections.push(sid);
    v.connections.sort((a, b) => a - b);
  }
}

function removeConn(v: ServerView, sid: number): void {
  const k = v.connections.indexOf(sid);
  if (k >= 0) v.connections.splice(k, 1);
}

/** Applies one record to the server views (index = sid). */
export function applyRecord(views: ServerView[], ev: TraceEvent): void {
  switch (ev.type) {
    case 'start': {
      const v = views[ev.sid] as ServerView;
      const d = v.disk;
      const snap = loadedSnapshot(d);
      v.up = true;
      v.role = 'LOOKING';
      v.phase = 'ELECTION';
      v.leader = null;
      v.logBase = snap;
      v.log = v.durableLog.filter((z) => z > snap);
      v.applied = last(v.log, snap);
      // QuorumPeer.loadDataBase: the epoch files; where it picks another value (a missing file,
      // a tmp file, the updatingEpoch marker) it writes it, and that persist record follows.
      v.acceptedEpoch = d.acceptedEpoch;
      v.currentEpoch = d.currentEpoch;
      v.pending = [];
      v.sync = { mode: null, newLeaderSeen: false, heldBefore: 0, heldAfter: 0 };
      v.connections = [];
      v.vote = null;
      return;
    }
    case 'snapfile': {
      const d = (views[ev.sid] as ServerView).disk;
      if (ev.change === 'removed') d.snapshots = d.snapshots.filter((x) => x.zxid !== ev.zxid);
      // A file already listed now fails its CRC; or a crash left the one being written, failing it.
      else putSnapshot(d, { zxid: ev.zxid, lastTxn: ev.lastTxn, corrupt: true });
      return;
    }
    case 'crash': {
      const v = views[ev.sid] as ServerView;
      v.up = false;
      v.role = 'DOWN';
      v.phase = '-';
      v.leader = null;
      v.pending = [];
      v.log = [];
      v.connections = [];
      for (const o of views) if (o !== undefined) removeConn(o, ev.sid);
      return;
    }
    case 'state': {
      const v = views[ev.sid] as ServerView;
      if (ev.state === 'LOOKING' && v.role !== 'LOOKING') {
        // fastForwardDataBase: every logged txn is applied when a role ends.
        v.applied = Math.max(v.applied, last(v.log, v.applied));
      }
      if (ev.state !== 'LEADING' && ev.zabState === 'BROADCAST' && v.phase === 'SYNCHRONIZATION') {
        // UPTODATE: the commits held during the sync are applied.
        v.applied = Math.max(v.applied, v.sync.heldBefore, v.sync.heldAfter);
      }
      if (ev.zabState !== 'SYNCHRONIZATION') v.sync = { mode: null, newLeaderSeen: false, heldBefore: 0, heldAfter: 0 };
      if (ev.state === 'LEADING' && ev.zabState === 'BROADCAST' && v.currentEpoch !== null) {
        // Leader.startZkServer: the established leader's lastProcessedZxid becomes (e,0).
        v.applied = v.currentEpoch * EPOCH_SHIFT;
      }
      v.role = ev.state;
      v.phase = ev.zabState;
      v.leader = ev.leader;
      // A learner's connection is to its leader; a leader keeps the learners it accepted.
      if (ev.state !== 'LEADING') v.connections = ev.leader !== null && ev.leader !== ev.sid ? [ev.leader] : [];
      return;
    }
    case 'vote': {
      const v = views[ev.sid] as ServerView;
      v.vote = { round: ev.round, leader: ev.leader, zxid: ev.zxid, peerEpoch: ev.peerEpoch };
      return;
    }
    case 'persist': {
      const v = views[ev.sid] as ServerView;
      const w = ev.write;
      v.pending.push({ token: ev.token, text: writeText(w), stage: 'submitted' });
      if (w.op === 'appendLog') {
        if (w.entry.zxid > last(v.log, -Infinity)) v.log.push(w.entry.zxid);
        // A log writer drained at a role change logs after the state record; the fast-forward
        // that follows it applies those txns too.
        if (v.role === 'LOOKING') v.applied = Math.max(v.applied, w.entry.zxid);
      } else if (w.op === 'truncateLog') {
        cutAfter(v.log, w.zxid);
        v.applied = w.zxid;
      } else if (w.op === 'purge') {
        cutBefore(v.log, w.logFrom);
      } else if (w.op === 'writeEpoch') {
        if (w.file === 'acceptedEpoch') v.acceptedEpoch = w.value;
        else v.currentEpoch = w.value;
      }
      return;
    }
    case 'fsync':
    case 'diskfail': {
      const v = views[ev.sid] as ServerView;
      const k = v.pending.findIndex((p) => p.token === ev.token);
      if (ev.type === 'fsync' && ev.stage === 'tmp') {
        if (k >= 0) (v.pending[k] as PendingWrite).stage = 'tmp';
        if (ev.write.op === 'writeEpoch') {
          if (ev.write.file === 'acceptedEpoch') v.disk.acceptedTmp = ev.write.value;
          else v.disk.currentTmp = ev.write.value;
        }
        return;
      }
      if (k >= 0) v.pending.splice(k, 1);
      if (ev.type === 'diskfail') return;
      const w = ev.write;
      const d = v.disk;
      switch (w.op) {
        case 'appendLog':
          if (w.entry.zxid > last(v.durableLog, -Infinity)) v.durableLog.push(w.entry.zxid);
          return;
        case 'truncateLog':
          cutAfter(v.durableLog, w.zxid);
          // Snapshots reflecting txns after the cut go too, unless the ZOOKEEPER-1549 flaw keeps them.
          if (w.keepNewerSnapshots !== true) d.snapshots = d.snapshots.filter((x) => x.lastTxn <= w.zxid);
          return;
        case 'snapshot':
          putSnapshot(d, { zxid: w.snapshot.zxid, lastTxn: w.snapshot.lastTxn ?? w.snapshot.zxid, corrupt: false });
          return;
        case 'writeEpoch':
          if (w.file === 'acceptedEpoch') {
            d.acceptedEpoch = w.value;
            d.acceptedTmp = null;
          } else {
            d.currentEpoch = w.value;
            d.currentTmp = null;
          }
          return;
        case 'updatingEpoch':
          d.updatingEpoch = w.exists;
          return;
        case 'purge':
          cutBefore(v.durableLog, w.logFrom);
          keepNewest(d, w.snapRetainCount);
          return;
      }
      return;
    }
    case 'deliver': {
      const v = views[ev.to] as ServerView;
      const m = ev.msg;
      const y = v.sync;
      if (v.phase === 'SYNCHRONIZATION' && v.role !== 'LEADING') {
        // Learner.syncWithLeader (src/protocol/sync.ts): before NEWLEADER a COMMIT is applied at
        // once after SNAP or TRUNC and held after DIFF; after NEWLEADER every COMMIT is held
        // until UPTODATE. At NEWLEADER a follower logs and applies the ones held after DIFF.
        if (m.type === 'DIFF' || m.type === 'SNAP' || m.type === 'TRUNC') {
          if (y.mode === null) y.mode = m.type;
        } else if (m.type === 'COMMIT' || m.type === 'INFORM') {
          if (!y.newLeaderSeen && y.mode !== 'DIFF') v.applied = Math.max(v.applied, m.zxid);
          else if (!y.newLeaderSeen) y.heldBefore = Math.max(y.heldBefore, m.zxid);
          else y.heldAfter = Math.max(y.heldAfter, m.zxid);
          return;
        } else if (m.type === 'NEWLEADER') {
          y.newLeaderSeen = true;
          if (y.mode === 'DIFF' && v.role === 'FOLLOWING') {
            v.applied = Math.max(v.applied, y.heldBefore);
            y.heldBefore = 0;
          }
          return;
        }
      }
      if (m.type === 'COMMIT' || m.type === 'INFORM') v.applied = Math.max(v.applied, m.zxid);
      else if (m.type === 'SNAP') {
        v.log = [];
        v.logBase = m.zxid;
        v.applied = m.zxid;
      } else if ((m.type === 'FOLLOWERINFO' || m.type === 'OBSERVERINFO') && v.role === 'LEADING') addConn(v, ev.from);
      else if (m.type === 'CLOSE') {
        if (v.role === 'LEADING') removeConn(v, ev.from);
      }
      return;
    }
    case 'send': {
      const v = views[ev.from] as ServerView;
      const m = ev.msg;
      if ((m.type === 'COMMIT' || m.type === 'INFORM') && v.role === 'LEADING') v.applied = Math.max(v.applied, m.zxid);
      else if (m.type === 'CLOSE' && v.role === 'LEADING') removeConn(v, ev.to);
      return;
    }
    case 'reply': {
      const v = views[ev.sid] as ServerView;
      if (ev.reply.ok && ev.reply.zxid > v.applied && v.log.includes(ev.reply.zxid)) v.applied = ev.reply.zxid;
      return;
    }
    default:
      return;
  }
}

const CHECKPOINT_EVERY = 2048;

/**
 * A trace with its indexes, and the servers' states at any record: replays forward from the
 * nearest checkpoint (one every 2048 records), so a jump costs at most that many steps.
 */
export class TraceModel {
  readonly messages: MessageInfo[] = [];
  /** Message by id. */
  readonly byId = new Map<number, MessageInfo>();
  /** For each record, the message it belongs to (send, deliver, drop), or null. */
  readonly recordMessage: (MessageInfo | null)[];
  readonly faults: FaultPeriod[] = [];
  /** Message types seen, sorted. */
  readonly messageTypes: string[];
  /** The longest flight (ms) of any message that arrived or was dropped, to find the ones crossing a window. */
  readonly maxFlightMs: number;
  /** Messages still in flight when the trace ends (each crosses every window after its send). */
  readonly unended: readonly MessageInfo[];
  private readonly checkpoints: ServerView[][] = [];
  private cursor: ServerView[];
  private cursorI = -1;

  constructor(
    readonly records: readonly TraceEvent[],
    readonly sids: readonly number[],
  ) {
    this.recordMessage = new Array<MessageInfo | null>(records.length).fill(null);
    const types = new Set<string>();
    const down = new Map<number, FaultPeriod>();
    let partition: FaultPeriod | null = null;
    let maxFlight = 0;
    for (const ev of records) {
      if (ev.type === 'send') {
        const m: MessageInfo = { id: ev.id, from: ev.from, to: ev.to, type: ev.msg.type, sendI: ev.i, endI: -1, dupI: -1, dropped: null };
        this.messages.push(m);
        this.byId.set(ev.id, m);
        this.recordMessage[ev.i] = m;
        types.add(m.type);
      } else if (ev.type === 'deliver' || ev.type === 'drop') {
        const m = this.byId.get(ev.id);
        if (m === undefined) continue;
        this.recordMessage[ev.i] = m;
        if (m.endI < 0) {
          m.endI = ev.i;
          if (ev.type === 'drop') m.dropped = ev.reason;
          maxFlight = Math.max(maxFlight, ev.t - (records[m.sendI] as TraceEvent).t);
        } else if (ev.type === 'deliver') m.dupI = ev.i;
      } else if (ev.type === 'crash') {
        const p: FaultPeriod = { kind: 'down', sid: ev.sid, fromI: ev.i, toI: -1, desc: `s${ev.sid} down` };
        this.faults.push(p);
        down.set(ev.sid, p);
      } else if (ev.type === 'start' && ev.restart) {
        const p = down.get(ev.sid);
        if (p !== undefined) p.toI = ev.i;
        down.delete(ev.sid);
      } else if (ev.type === 'partition') {
        if (partition !== null) partition.toI = ev.i;
        partition = { kind: 'partition', sid: 0, fromI: ev.i, toI: -1, desc: ev.desc };
        this.faults.push(partition);
      } else if (ev.type === 'heal') {
        if (partition !== null) partition.toI = ev.i;
        partition = null;
      }
    }
    this.maxFlightMs = maxFlight;
    this.unended = this.messages.filter((m) => m.endI < 0);
    this.messageTypes = [...types].sort();
    this.cursor = this.initial();
  }

  private initial(): ServerView[] {
    const views: ServerView[] = [];
    for (const s of this.sids) views[s] = emptyView();
    return views;
  }

  /** The servers' states just after record `i` (-1: before the first), indexed by sid. */
  stateAt(i: number): readonly ServerView[] {
    const target = Math.min(Math.max(i, -1), this.records.length - 1);
    if (target < this.cursorI) {
      const k = Math.floor((target + 1) / CHECKPOINT_EVERY);
      const cp = k > 0 ? this.checkpoints[k - 1] : undefined;
      if (cp !== undefined) {
        this.cursor = cp.map(cloneView);
        this.cursorI = k * CHECKPOINT_EVERY - 1;
      } else {
        this.cursor = this.initial();
        this.cursorI = -1;
      }
    }
    while (this.cursorI < target) {
      this.cursorI++;
      applyRecord(this.cursor, this.records[this.cursorI] as TraceEvent);
      if ((this.cursorI + 1) % CHECKPOINT_EVERY === 0) {
        const k = (this.cursorI + 1) / CHECKPOINT_EVERY;
        if (this.checkpoints[k - 1] === undefined) this.checkpoints[k - 1] = this.cursor.map(cloneView);
      }
    }
    return this.cursor;
  }

  /** First record index with t >= `t` (binary search; records are in time order). */
  indexAtTime(t: number): number {
    let lo = 0;
    let hi = this.records.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.records[mid] as TraceEvent).t < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Messages whose arrow crosses the time window [t0, t1], in send order. */
  messagesInWindow(t0: number, t1: number): MessageInfo[] {
    const from = this.indexAtTime(t0 - this.maxFlightMs);
    const to = this.indexAtTime(t1 + 1);
    const out: MessageInfo[] = [];
    for (const m of this.unended) if (m.sendI < from) out.push(m);
    for (let i = from; i < to; i++) {
      const m = this.recordMessage[i];
      if (m !== null && m !== undefined && m.sendI === i) {
        const end = m.endI < 0 ? Infinity : (this.records[m.endI] as TraceEvent).t;
        if (end >= t0) out.push(m);
      }
    }
    return out;
  }
}
