/**
 * The safety checker: the kernel's monitor, told after every server step and every crash. Each check looks only at what that event changed (the old and new state of one server,
 * the step's effects), so its cost per event does not grow with the run:
 *
 * - a log that changed: only its new entries are registered or compared with the ghost;
 * - a leader that changed: establishment and each commit walk the ghost from the new commit down
 *   to the previous one (each txn is walked once);
 * - a database that changed: one digest comparison, and links of the newly applied txns;
 * - a crash: the durable image's epoch files and one binary search per voter.
 *
 * docs/checkers.md lists every property with where it is checked.
 */
import { isQuorum, isVoter, serverName, type Sid } from '../protocol/config.ts';
import { validSnapshotIndex, type Db } from '../protocol/db.ts';
import type { Txn } from '../protocol/datatree.ts';
import { formatDigest, formatTxn, formatWrite } from '../protocol/format.ts';
import type { Fifo } from '../protocol/fifo.ts';
import type { ClientRequest, CommitItem, Effect, Input, LogEntry, Message, ServerState } from '../protocol/types.ts';
import { lowerBoundOf } from '../protocol/txnlog.ts';
import { counterOf, epochOf, formatZxid, MIN_VALUE, zxid, type Zxid } from '../protocol/zxid.ts';
import type { MutableDurableImage } from '../sim/disk.ts';
import type { ServerRuntime, SimMonitor, Simulation } from '../sim/kernel.ts';
import { Ghost } from './ghost.ts';
import { kindOf, type PropertyName, type Violation } from './properties.ts';

const f = formatZxid;
const n = serverName;

/** How often (in commits) the ghost forgets what no server holds any more. */
const COMPACT_EVERY_COMMITS = 1024;

/** What a learner's disk held when it sent a NEWLEADER ACK: what was missing, if anything. */
interface NewLeaderAckRecord {
  readonly missing: readonly string[];
  readonly tip: Zxid | null;
}

/** What a leader's session tracker should know: when it last heard from each session's client. */
interface LeaderHeard {
  readonly role: number;
  /** When it was established: every session of its database starts then. */
  readonly since: number;
  readonly at: Map<number, number>;
}

/** Per server: what the checker remembers across its lives. */
interface ServerMemo {
  /** The newest committed txn it applied while serving, over all its lives. */
  served: Zxid;
}

export class SafetyChecker implements SimMonitor {
  readonly ghost = new Ghost();
  readonly violations: Violation[] = [];
  /** Leader established for each epoch. */
  private readonly epochLeader = new Map<number, Sid>();
  private readonly memo = new Map<Sid, ServerMemo>();
  /**
   * Per server: its FLE proposal was adopted from a notification (FLE's updateProposal(n.leader,
   * n.zxid, ...)), not made from its own state. Such a vote may name the server itself with a
   * zxid it no longer holds (a stale notification of its own, after a TRUNC): ZooKeeper does so.
   */
  private readonly adopted: boolean[] = [];
  /** NEWLEADER ACKs sent, by `learner/leader/epoch`: what the learner's disk held when it ACKed. */
  private readonly newLeaderAcks = new Map<string, NewLeaderAckRecord>();
  /** Per leader: when it heard from each session's client (SessionExpiry), for its current role. */
  private readonly heard = new Map<Sid, LeaderHeard>();
  /** Per learner: sessions it served since its last PING echo, for its current role. */
  private readonly touched = new Map<Sid, { role: number; sessions: Set<number> }>();
  /** The sessions each PING echo reports, as the checker saw them served (not as the message says). */
  private readonly pingSessions = new WeakMap<Message, readonly number[]>();
  /** When each session's createSession was committed (virtual ms). */
  private readonly sessionBorn = new Map<number, number>();
  /** How each closed session was first closed: by its client's request or by expiry. */
  private readonly sessionClosed = new Map<number, { readonly z: Zxid; readonly byClient: boolean }>();
  /** Called with each new violation (the run stops at the first, if asked). */
  onViolation: ((v: Violation) => void) | null = null;
  /** The ghost compacts when its commit count reaches this ({@link compactGhost}). */
  private nextCompaction = COMPACT_EVERY_COMMITS;
  /** The oldest zxid any server held at the last compaction: the floor of the next one. */
  private heldAtLastCompaction: Zxid = 0;

  constructor(private readonly sim: Simulation) {
    for (const sid of sim.sids) this.memo.set(sid, { served: 0 });
    this.ghost.onSession = (z, txn, live) => this.onSessionCommitted(z, txn, live);
  }

  /** The newest epoch any leader was established in (0 before any). */
  newestEpoch = 0;

  /**
   * True when `sid` serves under a leader older than the newest established one (an isolated
   * leader that has not abdicated yet, or its followers).
   */
  servesStaleEpoch(sid: Sid): boolean {
    const rt = this.sim.server(sid);
    if (!rt.up) return true;
    const s = rt.state;
    const epoch = s.leader !== null ? s.leader.epoch : s.learner !== null ? s.learner.newEpoch : -1;
    return epoch < this.newestEpoch;
  }

  /** Later violations of a property already reported (kept out of `violations`, counted). */
  repeats = 0;
  private readonly reported = new Set<PropertyName>();

  /** Records a violation; only the first of each property is kept, later ones are counted. */
  report(property: PropertyName, servers: Sid[], zxids: Zxid[], message: string, facts: string[] = []): void {
    if (this.reported.has(property)) {
      this.repeats++;
      return;
    }
    this.reported.add(property);
    const v: Violation = { property, kind: kindOf(property), i: Math.max(0, this.sim.traceCount - 1), t: this.sim.now, servers, zxids, message, facts };
    this.violations.push(v);
    this.onViolation?.(v);
  }

  // -------------------------------------------------------------------------------------------
  // Monitor hooks

  step(rt: ServerRuntime, prev: ServerState, input: Input, effects: readonly Effect[]): void {
    const next = rt.state;
    if (input.kind === 'message') this.checkMessage(rt.sid, prev, input.from, input.msg);
    else if (input.kind === 'clientRequest') this.onClientRequest(rt.sid, prev, input.request);
    if (this.ghost.committedCount >= this.nextCompaction) this.compactGhost();
    if (!next.up) return; // halted in this step: crashed() saw it
    const lr = prev.learner;
    if (lr !== null && lr.phase !== 'discovery' && next.role !== prev.role && prev.up && (input.kind === 'fsyncDone' || input.kind === 'stage' || (input.kind === 'message' && input.from === lr.leader))) this.checkLeftLeader(rt.sid, lr.leader, effects);
    if (prev.fle !== next.fle) this.onProposal(rt.sid, prev, next, input);
    if (input.kind === 'start' && next.db.olderLog.length > 0) this.onOlderLog(rt.sid, next.db);
    if (prev.db.log !== next.db.log) this.onLog(rt.sid, prev, next);
    if (next.leader !== null && prev.leader !== next.leader) this.onLeader(rt.sid, prev, next);
    if (prev.db !== next.db) this.onDb(rt.sid, prev.db, next);
    if (next.zabState === 'BROADCAST' && (prev.zabState !== 'BROADCAST' || prev.role !== next.role || !prev.up)) this.onServe(rt.sid, next);
    for (const e of effects) {
      if (e.kind === 'send') {
        const m = e.msg;
        // Its own proposal, sent to voters only: a notification to an observer is always a reply
        // carrying the last decided vote (§3), which may name it with a zxid of an older role.
        // And only while lookForLeader runs: a server gone LOOKING that still flushes its writes
        // answers a notification with the proposal of its last election (WorkerReceiver's
        // getVote()), made from its state back then, until lookForLeader makes a new one.
        if (m.type === 'NOTIFICATION') {
          if (isVoter(this.sim.cfg, e.to) && m.leader === rt.sid && next.state === 'LOOKING' && next.fle.running && next.fle.proposedLeader === rt.sid && m.zxid === next.fle.proposedZxid && m.zxid !== MIN_VALUE && this.adopted[rt.sid] !== true) this.checkAdvertised(rt, 'vote', m.zxid);
        } else if (m.type === 'ACKEPOCH') {
          this.checkAdvertised(rt, 'ACKEPOCH', m.zxid);
          this.checkEpochPromise(rt, next);
        } else if (m.type === 'TRUNC') this.checkTrunc(rt.sid, e.to, m.zxid);
        else if (m.type === 'ACK') {
          if (counterOf(m.zxid) !== 0) this.checkDurableAck(rt, e.to, m.zxid);
          else if (next.learner !== null && next.learner.phase === 'sync') this.recordNewLeaderAck(rt, e.to, epochOf(m.zxid));
        }
        else if (m.type === 'PING' && next.learner !== null) this.onPingEcho(rt.sid, next, m);
      }
    }
  }

  crashed(rt: ServerRuntime): void {
    this.checkEpochFiles(rt.sid, rt.disk.image);
    this.checkDurability(rt.sid);
    // What its session tracker heard and its touch table held were volatile; the role counter
    // starts again at 0 in the next life, so a per-role entry kept here would match that life.
    this.heard.delete(rt.sid);
    this.touched.delete(rt.sid);
  }

  // -------------------------------------------------------------------------------------------
  // Bounded memory

  /**
   * Every COMPACT_EVERY_COMMITS commits: the ghost (and the client checker) forget the txns below
   * the oldest zxid any server held at the previous compaction. A zxid older than that was held by
   * no server then, so none can present it again; waiting one period more covers what was in
   * flight (messages, queues, a leader's sync stream) when it was measured. Servers hold what
   * their purges leave them (--purge-interval), so this keeps the ghost bounded by the purge
   * period; with purges off nothing is ever forgotten.
   */
  private compactGhost(): void {
    const g = this.ghost;
    this.nextCompaction = g.committedCount + COMPACT_EVERY_COMMITS;
    const held = this.oldestHeld();
    const floor = Math.min(this.heldAtLastCompaction, held, g.cmax);
    if (floor > g.floor) {
      g.compact(floor);
      for (const [session, c] of this.sessionClosed) {
        if (c.z >= floor) break;
        this.sessionClosed.delete(session);
        this.sessionBorn.delete(session);
      }
    }
    this.heldAtLastCompaction = held;
  }

  /** The oldest zxid any server holds: in its disk's log and snapshots, and in memory when up. */
  private oldestHeld(): Zxid {
    let m = Infinity;
    for (const sid of this.sim.sids) {
      const rt = this.sim.server(sid);
      const img = rt.disk.image;
      const first = img.log[0];
      if (first !== undefined) m = Math.min(m, first.zxid);
      const snap = img.snapshots[0];
      if (snap !== undefined) m = Math.min(m, snap.zxid, snap.lastTxn ?? snap.zxid);
      for (const p of rt.disk.pendingWrites()) if (p.write.op === 'snapshot') m = Math.min(m, p.write.snapshot.zxid, p.write.snapshot.lastTxn ?? p.write.snapshot.zxid);
      if (!rt.up) continue;
      const db = rt.state.db;
      if (db.olderLog.length > 0) m = Math.min(m, (db.olderLog[0] as LogEntry).zxid);
      if (db.log.length > 0) m = Math.min(m, db.log.at(0).zxid);
      const s0 = db.snapshots[0];
      if (s0 !== undefined) m = Math.min(m, s0.zxid, s0.lastTxn ?? s0.zxid);
      m = Math.min(m, db.lastProcessedZxid, db.lastTxn);
    }
    return m === Infinity ? 0 : m;
  }

  /** What the checkers retain, for tests that bound it. */
  retained(): { ghost: ReturnType<Ghost['retained']>; sessions: number; heard: number } {
    let heard = 0;
    for (const h of this.heard.values()) heard = Math.max(heard, h.at.size);
    return { ghost: this.ghost.retained(), sessions: this.sessionBorn.size + this.sessionClosed.size, heard };
  }

  // -------------------------------------------------------------------------------------------
  // Logs: registration, zxid uniqueness, history links

  private onLog(sid: Sid, prev: ServerState, next: ServerState): void {
    const b = next.db.log;
    // A purge cuts the front of the log: compare with what the old log held from there on.
    const d = b.length > 0 && prev.db.log.length > 0 && b.at(0) !== prev.db.log.at(0) ? prev.db.log.indexOf(b.at(0).zxid) : 0;
    const a = d > 0 && prev.db.log.at(d) === b.at(0) ? prev.db.log.dropBefore(b.at(0).zxid) : prev.db.log;
    const k = commonPrefix(a, b);
    const g = this.ghost;
    for (let j = k; j < b.length; j++) {
      const e = b.at(j);
      const predZ = j > 0 ? b.at(j - 1).zxid : null;
      const known = g.assigned.get(e.zxid);
      if (known === undefined) {
        const base = next.leader !== null ? next.db.lastTxn : newestSnapshotTxn(next.db);
        g.assign(e.zxid, e.txn, predZ ?? base, sid);
        if (e.txn.type === 'closeSession' && e.txn.origin === undefined && next.leader !== null) this.checkExpiry(sid, next, e.zxid, e.txn.session);
        continue;
      }
      if (known.txn !== e.txn && !sameTxn(known.txn, e.txn)) {
        this.report('ZxidUniqueness', [sid, known.by], [e.zxid], `${n(sid)} logged ${f(e.zxid)} as a different txn than ${n(known.by)} proposed under that zxid`, [`first: ${formatTxn(known.txn)}`, `now: ${formatTxn(e.txn)}`]);
      } else if (predZ !== null && known.pred !== predZ && known.pred !== snapshotBetween(next.db, predZ, e.zxid)) {
        this.report('HistoryConsistency', [sid], [e.zxid, predZ, known.pred], `${n(sid)} logged ${f(e.zxid)} right after ${f(predZ)}, but it was proposed after ${f(known.pred)}: its log is not a prefix of any history`, [`${n(known.by)} proposed ${f(e.zxid)}`]);
      }
    }
  }

  /**
   * At start-up, the txn log entries a snapshot already covers (kept aside, `Db.olderLog`): a
   * pre-loaded image (`--history`) may hold txns no server ever logged in this run, and a leader
   * established on them must find them in the ghost.
   */
  private onOlderLog(sid: Sid, db: Db): void {
    const g = this.ghost;
    let pred: Zxid = 0;
    for (const e of db.olderLog) {
      if (!g.assigned.has(e.zxid)) g.assign(e.zxid, e.txn, pred, sid);
      pred = e.zxid;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Leaders: establishment, commits, proposals

  private onLeader(sid: Sid, prev: ServerState, next: ServerState): void {
    const l = next.leader;
    if (l === null) return;
    const pl = prev.role === next.role ? prev.leader : null;
    const g = this.ghost;
    if (l.established && pl?.established !== true) {
      const other = this.epochLeader.get(l.epoch);
      if (other !== undefined) {
        this.report('Leadership', other === sid ? [sid] : [other, sid], [zxid(l.epoch, 0)], other === sid ? `${n(sid)} established epoch ${l.epoch} a second time` : `two leaders established epoch ${l.epoch}: ${n(other)} and ${n(sid)}`, [`NEWLEADER acks from ${l.newLeaderAcks.map(n).join(', ')}`]);
      }
      this.epochLeader.set(l.epoch, sid);
      if (l.epoch > this.newestEpoch) this.newestEpoch = l.epoch;
      this.checkEstablishment(sid, next);
      this.onEstablished(sid, next);
      const tip = historyTip(next.db);
      const cmax = g.cmax;
      // A tip below cmax is committed or not, but either way the history lacks cmax.
      const out = tip < cmax ? { ok: false as const, at: tip } : g.commitThrough(tip);
      if (!out.ok) {
        this.report('CommittedNeverLost', [sid], [cmax, tip], `${n(sid)} established epoch ${l.epoch} with a history up to ${f(tip)} that lacks committed txn ${f(cmax)}`, [
          `its history ${out.at === tip ? `ends at ${f(tip)}, below ${f(cmax)}` : `leaves the committed sequence after ${f(out.at)}`}`,
          `NEWLEADER acks from ${l.newLeaderAcks.map(n).join(', ')}`,
        ]);
      }
    }
    if (!l.established || pl === null || !pl.established) return;
    if (l.lastProposed !== pl.lastProposed) {
      if (epochOf(l.lastProposed) !== l.epoch || counterOf(l.lastProposed) <= counterOf(pl.lastProposed)) {
        this.report('LocalPrimaryOrder', [sid], [pl.lastProposed, l.lastProposed], `${n(sid)}, leader of epoch ${l.epoch}, proposed ${f(l.lastProposed)} after ${f(pl.lastProposed)}`);
      }
      const want = g.lastCommittedBefore(l.epoch);
      if (counterOf(pl.lastProposed) === 0 && (next.db.lastTxn < want || !g.isCommitted(next.db.lastTxn))) {
        this.report('PrimaryIntegrity', [sid], [next.db.lastTxn, want], `${n(sid)} began proposing in epoch ${l.epoch} having applied up to ${f(next.db.lastTxn)}, but ${f(want)} was committed in an earlier epoch`);
      }
    }
    if (l.lastCommitted > pl.lastCommitted) {
      const z = l.lastCommitted;
      const cmax = g.cmax;
      const out = g.commitThrough(z);
      if (!out.ok) {
        const p: PropertyName = z < cmax ? 'GlobalPrimaryOrder' : 'CommittedNeverLost';
        this.report(p, [sid], [z, cmax], `${n(sid)} committed ${f(z)} whose history ${z < cmax ? 'is not the committed sequence' : `lacks committed txn ${f(cmax)}`}`, [`its history leaves the committed sequence after ${f(out.at)}`]);
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Applied state: total order, agreement, integrity

  private onDb(sid: Sid, before: Db, next: ServerState): void {
    const db = next.db;
    const g = this.ghost;
    // Newly applied txns, when the step applied (not reloaded): links in history order.
    const c0 = before.committed;
    const c1 = db.committed;
    if (c1 !== c0 && c1.entries === c0.entries && c1.length > c0.length) {
      // Where the server stands in the history: its last applied txn, or, when its tree is ahead of
      // lastProcessedZxid (a fuzzy SNAP's content), lastProcessedZxid: the txns up to the tree's
      // last are then passed over in order (db.ts applyCommitted).
      let last = Math.min(before.lastTxn, before.lastProcessedZxid);
      for (let j = c0.length; j < c1.length; j++) {
        const e = c1.at(j);
        const a = g.assigned.get(e.zxid);
        if (a !== undefined && last !== 0 && a.pred !== last && g.assigned.has(last)) {
          this.report('TotalOrder', [sid], [e.zxid, last, a.pred], `${n(sid)} applied ${f(e.zxid)} right after ${f(last)}, but ${f(e.zxid)} follows ${f(a.pred)}`);
        }
        last = e.zxid;
      }
    }
    if (next.leader !== null && db.tree.sessionList !== before.tree.sessionList) this.forgetGoneSessions(sid, next);
    const L = db.lastTxn;
    if (L === before.lastTxn && db.tree === before.tree) return;
    if (g.isCommitted(L)) {
      const want = g.digestAfter(L);
      if (want !== undefined && want !== db.tree.digest) {
        this.report('Agreement', [sid], [L], `${n(sid)} has applied up to committed ${f(L)} but its data tree differs from the committed sequence's`, [`digest ${formatDigest(db.tree.digest)}, expected ${formatDigest(want)}`, `it holds ${db.log.length} log entries and ${db.snapshots.length} snapshots`]);
      }
    }
    if (next.zabState === 'BROADCAST') this.checkServing(sid, next);
  }

  private checkServing(sid: Sid, s: ServerState): void {
    const L = s.db.lastTxn;
    const g = this.ghost;
    if (L !== 0 && !g.isCommitted(L)) {
      const why = g.assigned.has(L) ? 'which was never committed' : 'which no primary proposed';
      this.report('Integrity', [sid], [L], `${n(sid)} serves clients having applied ${f(L)}, ${why}`, [`committed up to ${f(g.cmax)}`]);
      return;
    }
    const m = this.memo.get(sid) as ServerMemo;
    if (L > m.served) m.served = L;
  }

  /** A server begins serving (BROADCAST). */
  private onServe(sid: Sid, s: ServerState): void {
    const m = this.memo.get(sid) as ServerMemo;
    // Txns already handed to its CommitProcessor count: UPTODATE commits the held ones that way,
    // and they are applied before anything queued after them (a `sync`, a write's reply).
    const L = Math.max(s.db.lastTxn, lastQueuedCommit(s));
    if (L < m.served) {
      this.report('RestartStability', [sid], [L, m.served], `${n(sid)} serves again having applied only up to ${f(L)}, but it had served ${f(m.served)} before`);
    }
    this.checkServing(sid, s);
    const lr = s.learner;
    if (lr === null) return;
    const leader = this.sim.server(lr.leader);
    if (!leader.up || leader.state.leader === null || !leader.state.leader.established) return;
    const mine = historyTip(s.db);
    // The leader's history includes what it has proposed and not yet logged: its log writer is a
    // stage of its own (ProposalRequestProcessor sends the PROPOSAL before SyncRequestProcessor
    // logs it), so a learner synced with a proposal in flight may log it first.
    const theirs = Math.max(historyTip(leader.state.db), leader.state.leader.lastProposed);
    if (!this.ghost.isAncestor(mine, theirs)) {
      this.report('HistoryConsistency', [sid, lr.leader], [mine, theirs], `${n(sid)} entered broadcast with a history up to ${f(mine)} that is not a prefix of its leader ${n(lr.leader)}'s (up to ${f(theirs)})`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Messages, advertisements, TRUNC

  /**
   * I9's reading side: a learner past Discovery leaves its leader on a timeout or a closed
   * connection, or exits the process on an illegal packet; it never drops out of the role while
   * reading what a live leader, still serving it, sent (ZOOKEEPER-4394's NullPointerException on a
   * COMMIT between NEWLEADER and UPTODATE).
   */
  private checkLeftLeader(sid: Sid, leader: Sid, effects: readonly Effect[]): void {
    const rt = this.sim.server(leader);
    if (!rt.up || rt.state.leader === null || rt.state.leader.learners[sid] === undefined) return;
    let why = '';
    for (const e of effects) if (e.kind === 'note' && e.text.startsWith('going LOOKING: ')) why = e.text.slice(15);
    this.report('MessageLegality', [sid, leader], [], `${n(sid)} left its leader ${n(leader)}, which still serves it, while reading the packets ${n(leader)} sent`, [`the reason it gave: ${why}`]);
  }

  private checkMessage(sid: Sid, prev: ServerState, from: Sid, msg: Message): void {
    if (!prev.up) return;
    if (msg.type === 'COMMIT') {
      const lr = prev.learner;
      if (lr === null || lr.leader !== from || !isVoter(this.sim.cfg, sid)) return;
      if (!holds(prev, msg.zxid)) {
        this.report('MessageLegality', [from, sid], [msg.zxid], `${n(from)} sent COMMIT ${f(msg.zxid)} to ${n(sid)}, which does not hold that txn`, [`its log ends at ${f(prev.db.log.lastZxid(0))}, applied ${f(prev.db.lastTxn)}`]);
      }
    } else if (msg.type === 'ACK') {
      const l = prev.leader;
      const h = l?.learners[from];
      if (l === null || h === undefined || h.stage !== 'sync') return;
      const expected = zxid(l.epoch, 0);
      if (msg.zxid !== expected) {
        this.report('MessageLegality', [from, sid], [msg.zxid], `the first ACK ${n(sid)} read from ${n(from)} in SYNC acknowledges ${f(msg.zxid)}, not NEWLEADER ${f(expected)}`);
      }
    } else if (msg.type === 'PING') this.onPingRead(sid, prev, from, msg);
  }

  private checkAdvertised(rt: ServerRuntime, what: string, z: Zxid): void {
    const s = rt.state;
    const tip = historyTip(s.db);
    const durableTip = durableTipOf(rt.disk.image);
    // Leader.startZkServer's (e,0) label, which a SNAP carries to the learner too. A learner whose
    // currentEpoch write at NEWLEADER failed (a storage fault) holds that label with currentEpoch
    // still e-1, as ZooKeeper's does; its acceptedEpoch and its newest snapshot vouch for it.
    const quirk = counterOf(z) === 0 && z > tip && (epochOf(z) <= s.currentEpoch || (epochOf(z) <= s.acceptedEpoch && s.db.snapshots[s.db.snapshots.length - 1]?.zxid === z));
    if (z !== tip && !quirk) {
      this.report('HonestAdvertisement', [rt.sid], [z, tip], `${n(rt.sid)} advertised ${f(z)} in its ${what}, but the last txn it holds is ${f(tip)}`);
    } else if (tip > durableTip) {
      this.report('HonestAdvertisement', [rt.sid], [z, durableTip], `${n(rt.sid)} advertised ${f(z)} in its ${what}, but only up to ${f(durableTip)} is durable`);
    }
  }

  /**
   * A leader decides TRUNC(z) for a learner: none of the txns the learner holds after z may be
   * committed. Judged at the decision: a proposal of the leader's that commits while the TRUNC is
   * in flight is re-sent right after it (startForwarding, §5.1), and whether it stays durable on a
   * quorum is CommittedDurability's to judge.
   */
  private checkTrunc(leader: Sid, to: Sid, z: Zxid): void {
    const target = this.sim.server(to);
    if (!target.up) return;
    const log = target.state.db.log;
    const g = this.ghost;
    // What the TRUNC removes (with the FileTxnLog flaw, the first txn above an absent z stays).
    for (let i = log.truncateLength(z, this.sim.cfg.flaws.trunc_keeps_first_txn_above_target); i < log.length; i++) {
      const e = log.at(i);
      if (g.committed.has(e.zxid)) {
        this.report('TruncSafety', [leader, to], [z, e.zxid], `${n(leader)} told ${n(to)} to TRUNC to ${f(z)}, which removes committed txn ${f(e.zxid)}`, [`committed up to ${f(g.cmax)}`, `${n(to)}'s log ends at ${f(log.lastZxid(0))}`]);
        return;
      }
    }
  }


  // -------------------------------------------------------------------------------------------
  // Establishment and epochs

  /**
   * A learner ACKs NEWLEADER: remember whether its disk then held currentEpoch >= e and the
   * leader's initial history (the leader's history tip; nothing is proposed before
   * establishment, so it is the tip the leader is established with).
   */
  private recordNewLeaderAck(rt: ServerRuntime, leader: Sid, epoch: number): void {
    const img = rt.disk.image;
    const ls = this.sim.server(leader).state;
    const tip = ls.leader !== null && ls.leader.epoch === epoch ? historyTip(ls.db) : null;
    const missing: string[] = [];
    if ((img.currentEpoch ?? -1) < epoch) missing.push(`currentEpoch ${img.currentEpoch ?? 'none'} on disk, not ${epoch}`);
    if (tip !== null && tip !== 0 && !this.holdsDurably(img, tip)) missing.push(`the leader's initial history up to ${f(tip)} is not durable (durable up to ${f(durableTipOf(img))})`);
    this.newLeaderAcks.set(`${rt.sid}/${leader}/${epoch}`, { missing, tip });
  }

  /** At establishment: a quorum of distinct voters, each of whose NEWLEADER ACK was backed by its disk. */
  private checkEstablishment(sid: Sid, s: ServerState): void {
    const l = s.leader as NonNullable<ServerState['leader']>;
    const cfg = this.sim.cfg;
    const acks = l.newLeaderAcks;
    const distinct: Sid[] = [];
    const bad: string[] = [];
    for (const a of acks) {
      if (!isVoter(cfg, a)) bad.push(`${n(a)} is not a voter`);
      else if (distinct.includes(a)) bad.push(`${n(a)} is counted twice`);
      else distinct.push(a);
    }
    const e = l.epoch;
    const tip = historyTip(s.db);
    const bad2: string[] = [];
    const involved: Sid[] = [sid];
    for (const a of distinct) {
      if (a === sid) {
        const img = this.sim.server(sid).disk.image;
        if ((img.currentEpoch ?? -1) < e) bad2.push(`${n(sid)} (the leader) has currentEpoch ${img.currentEpoch ?? 'none'} on disk, not ${e}`);
        else if (tip !== 0 && !this.holdsDurably(img, tip)) bad2.push(`${n(sid)} (the leader) holds its history up to ${f(tip)}, but only up to ${f(durableTipOf(img))} durably`);
        continue;
      }
      const r = this.newLeaderAcks.get(`${a}/${sid}/${e}`);
      if (r === undefined) bad2.push(`${n(a)} never sent ${n(sid)} a NEWLEADER ACK for epoch ${e}`);
      else if (r.missing.length > 0) bad2.push(`${n(a)} ACKed NEWLEADER with ${r.missing.join(' and ')}`);
      else continue;
      involved.push(a);
    }
    if (!isQuorum(cfg, distinct.length) || bad.length > 0 || bad2.length > 0) {
      const what = !isQuorum(cfg, distinct.length) || bad.length > 0 ? `on NEWLEADER ACKs from ${distinct.length} distinct voter(s) of ${cfg.voters.length}` : 'on NEWLEADER ACKs its learners\' disks did not back';
      for (const a of acks) if (!involved.includes(a)) involved.push(a);
      this.report('Establishment', involved, [zxid(e, 0), tip], `${n(sid)} established epoch ${e} ${what}`, [`NEWLEADER acks counted: [${acks.map(n).join(', ')}]`, ...bad, ...bad2]);
    }
  }

  /** ACKEPOCH leaves only once the epoch of LEADERINFO is the learner's durable acceptedEpoch. */
  private checkEpochPromise(rt: ServerRuntime, s: ServerState): void {
    const lr = s.learner;
    if (lr === null) return;
    const e = lr.newEpoch;
    const durable = rt.disk.image.acceptedEpoch;
    if (durable === e) return;
    const below = durable !== null && durable > e;
    this.report('EpochPromise', [rt.sid, lr.leader], [zxid(e, 0)], below ? `${n(rt.sid)} ACKed epoch ${e} of ${n(lr.leader)}, below its durable acceptedEpoch ${durable}` : `${n(rt.sid)} ACKed epoch ${e} of ${n(lr.leader)} before acceptedEpoch ${e} was durable (on disk: ${durable ?? 'none'})`, [`in memory: acceptedEpoch ${s.acceptedEpoch}`]);
  }

  /**
   * A proposal's ACK (zxid counter not 0; the NEWLEADER ACK is Establishment's) leaves only once
   * the txn is in the learner's durable txn log: zab-protocol.md §1.1, "ACK only after the fsync"
   * (SendAckRequestProcessor follows SyncRequestProcessor's flush). CommittedDurability sees a
   * broken rule only at a crash, if ever; this sees it at the send.
   */
  private checkDurableAck(rt: ServerRuntime, to: Sid, z: Zxid): void {
    const log = rt.disk.image.log;
    if (inDurableLog(log, z)) return;
    const end = log.length > 0 ? f((log[log.length - 1] as LogEntry).zxid) : 'nothing';
    const pending = rt.disk.pendingWrites().map((p) => formatWrite(p.write));
    this.report('DurableAck', [rt.sid, to], [z], `${n(rt.sid)} ACKed ${f(z)} to ${n(to)} before ${f(z)} was durable in its txn log`, [`its durable txn log ends at ${end}`, `pending writes: ${pending.length === 0 ? 'none' : pending.join(', ')}`]);
  }

  /** A new FLE proposal: made from the server's own state, or adopted from the notification it read. */
  private onProposal(sid: Sid, prev: ServerState, next: ServerState, input: Input): void {
    const a = prev.fle;
    const b = next.fle;
    if (input.kind === 'start') {
      this.adopted[sid] = false;
      return;
    }
    if (a.proposedLeader === b.proposedLeader && a.proposedZxid === b.proposedZxid && a.proposedEpoch === b.proposedEpoch) return;
    const m = input.kind === 'message' ? input.msg : null;
    this.adopted[sid] = m !== null && m.type === 'NOTIFICATION' && m.leader === b.proposedLeader && m.zxid === b.proposedZxid && m.peerEpoch === b.proposedEpoch;
  }

  // -------------------------------------------------------------------------------------------
  // Sessions: what each leader heard from the clients, expiry, closing

  /** A leader is established: its tracker starts every session of its database afresh. */
  private onEstablished(sid: Sid, s: ServerState): void {
    const at = new Map<number, number>();
    const now = this.sim.now;
    for (const key in s.db.tree.sessions) at.set(Number(key), now);
    this.heard.set(sid, { role: s.role, since: now, at });
  }

  /**
   * A leader's sessions changed: once it holds entries for more sessions than its tree has, it
   * forgets those of the sessions its tree lost (closeSession applied), as its session tracker
   * does (SessionTrackerImpl.removeSession). Nothing reads the entry of a session its tree does
   * not hold, and a long-lived leader under session churn would otherwise keep one for every
   * session it ever heard from; this keeps them to about as many as its tree holds. (The session
   * list also changes at every ephemeral create and delete: pruning each time measured 1.3 % of
   * the broadcast workload's instructions.)
   */
  private forgetGoneSessions(sid: Sid, s: ServerState): void {
    const h = this.heard.get(sid);
    const tree = s.db.tree;
    if (h === undefined || h.role !== s.role || h.at.size <= tree.sessionList.length) return;
    for (const id of h.at.keys()) if (tree.session(id) === undefined) h.at.delete(id);
  }

  /** A client request served here refreshes its session: on a leader at once, on a learner at its next PING echo. */
  private onClientRequest(sid: Sid, prev: ServerState, req: ClientRequest): void {
    if (req.session === 0 || !prev.up || prev.zabState !== 'BROADCAST') return;
    if (req.lastZxidSeen !== undefined && req.lastZxidSeen > prev.db.lastProcessedZxid) return; // refused
    if (prev.leader !== null) {
      const h = this.heard.get(sid);
      if (h !== undefined && h.role === prev.role && prev.db.tree.session(req.session) !== undefined) h.at.set(req.session, this.sim.now);
      return;
    }
    if (prev.learner === null) return;
    let t = this.touched.get(sid);
    if (t === undefined || t.role !== prev.role) {
      t = { role: prev.role, sessions: new Set() };
      this.touched.set(sid, t);
    }
    t.sessions.add(req.session);
  }

  /** A learner echoes a PING: it carries, as far as the checker knows, every session served since the last one. */
  private onPingEcho(sid: Sid, s: ServerState, m: Message): void {
    const t = this.touched.get(sid);
    if (t === undefined || t.role !== s.role || t.sessions.size === 0) return;
    this.pingSessions.set(m, [...t.sessions]);
    t.sessions.clear();
  }

  /** A PING echo read by an established leader from a synced learner refreshes the sessions it reports. */
  private onPingRead(sid: Sid, prev: ServerState, from: Sid, m: Message): void {
    const l = prev.leader;
    const stage = l?.learners[from]?.stage;
    if (l === null || !l.established || (stage !== 'synced' && stage !== 'broadcast')) return;
    const sessions = this.pingSessions.get(m);
    const h = this.heard.get(sid);
    if (sessions === undefined || h === undefined || h.role !== prev.role) return;
    for (const id of sessions) if (prev.db.tree.session(id) !== undefined) h.at.set(id, this.sim.now);
  }

  /** A leader proposes a closeSession of its own: an expiry. */
  private checkExpiry(sid: Sid, s: ServerState, z: Zxid, session: number): void {
    const info = s.db.tree.session(session);
    const h = this.heard.get(sid);
    if (info === undefined || h === undefined || h.role !== s.role) return; // SessionClosedOnce judges unknown sessions
    const last = Math.max(h.at.get(session) ?? h.since, this.sessionBorn.get(session) ?? 0);
    const resolution = Math.floor(this.sim.cfg.params.tickTimeMs / 2);
    const now = this.sim.now;
    if (now + resolution < last + info.timeoutMs) {
      this.report('SessionExpiry', [sid], [z], `${n(sid)} expired session ${session} at ${now}ms, ${now - last}ms after it last heard from its client (at ${last}ms), before its timeout of ${info.timeoutMs}ms`, [`the leader clock's resolution is ${resolution}ms`]);
    }
  }

  /** A createSession or closeSession joins the committed sequence. */
  private onSessionCommitted(z: Zxid, txn: Txn, live: boolean): void {
    if (txn.type === 'createSession') {
      if (!this.sessionBorn.has(txn.session)) this.sessionBorn.set(txn.session, this.sim.now);
      return;
    }
    if (txn.type !== 'closeSession') return;
    const byClient = txn.origin !== undefined;
    const first = this.sessionClosed.get(txn.session);
    if (first === undefined) {
      this.sessionClosed.set(txn.session, { z, byClient });
      return;
    }
    // Only an expiry is judged: zabsim's clients re-attach a session without revalidation
    // (docs/protocol.md), so one that lost the reply to its closeSession, or whose session
    // expired, may send closeSession again; ZooKeeper's client would be told SESSIONEXPIRED.
    if (!live && !byClient) {
      this.report('SessionClosedOnce', [this.ghost.assigned.get(z)?.by ?? 0], [first.z, z], `session ${txn.session} expired at ${f(z)}, after ${first.byClient ? 'its client closed it' : 'it had expired'} at ${f(first.z)}`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Crashes: epoch files, durability of the committed sequence

  private checkEpochFiles(sid: Sid, img: MutableDurableImage): void {
    const last = durableTipOf(img);
    // QuorumPeer.loadDataBase: a missing epoch file is created from the last zxid's epoch; when
    // the last zxid is newer than currentEpoch, a leftover currentEpoch.tmp is used, or else the
    // updatingEpoch marker (3.4.6) authorises taking the last zxid's epoch.
    let cur = img.currentEpoch ?? epochOf(last);
    if (epochOf(last) > cur) cur = img.currentEpochTmp ?? (img.updatingEpoch ? epochOf(last) : cur);
    const acc = img.acceptedEpoch ?? epochOf(last);
    if (epochOf(last) > cur || cur > acc) {
      this.report('EpochFileSanity', [sid], [last], `${n(sid)} crashed leaving epoch(${f(last)}) = ${epochOf(last)}, currentEpoch = ${img.currentEpoch ?? 'none'}${img.currentEpochTmp !== null ? ` (tmp ${img.currentEpochTmp})` : ''}${img.updatingEpoch ? ' (updatingEpoch marker)' : ''}, acceptedEpoch = ${img.acceptedEpoch ?? 'none'} on disk`, [
        epochOf(last) > cur ? 'ZooKeeper refuses to start: "The current epoch is older than the last zxid"' : 'ZooKeeper refuses to start: acceptedEpoch is less than currentEpoch',
      ]);
    }
  }

  private checkDurability(crashed: Sid): void {
    const g = this.ghost;
    const z = g.cmax;
    if (z === 0) return;
    const holders: Sid[] = [];
    for (const sid of this.sim.cfg.voters) if (this.holdsDurably(this.sim.server(sid).disk.image, z)) holders.push(sid);
    if (!isQuorum(this.sim.cfg, holders.length)) {
      this.report('CommittedDurability', [crashed, ...holders], [z], `after ${n(crashed)} crashed, committed txn ${f(z)} is durable on ${holders.length === 0 ? 'no voter' : holders.map(n).join(', ')} only, not a quorum`);
    }
  }

  private holdsDurably(img: MutableDurableImage, z: Zxid): boolean {
    if (inDurableLog(img.log, z)) return true;
    for (let i = img.snapshots.length - 1; i >= 0; i--) {
      const s = img.snapshots[i];
      if (s === undefined) continue;
      const t = s.lastTxn ?? s.zxid;
      if (t === z || (t > z && this.ghost.isAncestor(z, t))) return true;
    }
    return false;
  }
}

// ---------------------------------------------------------------------------------------------

/** Whether a durable txn log (in zxid order) holds `z`. */
function inDurableLog(log: readonly LogEntry[], z: Zxid): boolean {
  const i = lowerBoundOf(log, z);
  return i < log.length && (log[i] as LogEntry).zxid === z;
}

/** The newest txn a server holds: its log's last entry, or what its tree reflects. */
export function historyTip(db: Db): Zxid {
  return Math.max(db.log.lastZxid(0), db.lastTxn);
}

/**
 * The newest txn of a snapshot taken between two adjacent log entries (after `a`, before `b`), or
 * null. A learner synced by TRUNC applies the txns committed during the sync without logging them
 * and snapshots them at NEWLEADER (Learner.syncWithLeader: snapshotNeeded, writeToTxnLog false),
 * so its log goes on after that snapshot: the snapshot, not the log entry before, precedes `b`.
 */
function snapshotBetween(db: Db, a: Zxid, b: Zxid): Zxid | null {
  for (let i = db.snapshots.length - 1; i >= 0; i--) {
    const s = db.snapshots[i] as Db['snapshots'][number];
    const t = s.lastTxn ?? s.zxid;
    if (t > a && t < b) return t;
  }
  return null;
}

function newestSnapshotTxn(db: Db): Zxid {
  const s = db.snapshots[db.snapshots.length - 1];
  return s === undefined ? 0 : (s.lastTxn ?? s.zxid);
}

/** The newest txn on disk: the log's last entry or the last txn of the newest snapshot that reads back. */
export function durableTipOf(img: MutableDurableImage): Zxid {
  const last = img.log[img.log.length - 1]?.zxid ?? 0;
  // The snapshot start-up loads (FileSnap.deserialize passes over one that fails its CRC).
  const i = validSnapshotIndex(img.snapshots);
  const s = i === null || i < 0 ? undefined : img.snapshots[i];
  return Math.max(last, s === undefined ? 0 : (s.lastTxn ?? s.zxid));
}

/** Length of the common prefix of two logs (entries are shared objects, so identity decides). */
function commonPrefix(a: Db['log'], b: Db['log']): number {
  const m = Math.min(a.length, b.length);
  if (a.entries === b.entries) return m;
  if (m === 0 || a.at(0) !== b.at(0)) return 0;
  if (a.at(m - 1) === b.at(m - 1)) return m;
  let lo = 1; // a[0, lo) shared
  let hi = m - 1; // a[hi] differs
  while (hi - lo > 0) {
    const mid = (lo + hi) >> 1;
    if (a.at(mid) === b.at(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function holds(s: ServerState, z: Zxid): boolean {
  if (z <= s.db.lastTxn || s.db.log.indexOf(z) >= 0) return true;
  const lr = s.learner;
  if (lr === null) return false;
  if (holdsZxid(lr.sync.packetsNotLogged, z)) return true;
  // Handed to the log writer and not yet written (FollowerZooKeeperServer.pendingTxns).
  if (holdsZxid(lr.pendingTxns, z)) return true;
  return lr.inbox.some((m) => (m.type === 'PROPOSAL' || m.type === 'INFORM') && m.zxid === z);
}

/** Whether `entries` holds zxid z (a loop: see docs/scaling.md, "Eleventh session", on closures). */
function holdsZxid(entries: Fifo<LogEntry>, z: Zxid): boolean {
  for (let i = 0; i < entries.length; i++) if ((entries.at(i) as LogEntry).zxid === z) return true;
  return false;
}

/** The newest txn waiting in the server's CommitProcessor, or 0. */
function lastQueuedCommit(s: ServerState): Zxid {
  const queue = s.commitProcessor.queue;
  for (let i = queue.length - 1; i >= 0; i--) {
    const e = (queue.at(i) as CommitItem).entry;
    if (e !== null) return e.zxid;
  }
  return 0;
}

function sameTxn(a: Txn, b: Txn): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
