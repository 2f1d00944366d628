/**
 * Seeded fault injection for a run: crashes and restarts (of at most a minority of voters at a
 * time unless asked otherwise), partitions of several shapes (symmetric or one-way), and halted
 * processes restarted like crashed ones (message loss, duplication and reordering are network
 * settings, also stopped at the end of the faulty period). Crashes draw from the `crashes` stream and partitions
 * from the `partitions` stream, so enabling one never changes the other's schedule. After `untilMs` no
 * new fault starts; at that instant every partition heals and every down server restarts, so the
 * rest of the run shows whether the cluster converges (the liveness phase).
 */
import { isVoter, serverName, type Sid } from '../protocol/config.ts';
import { PROBE } from '../protocol/probes.ts';
import type { Message, PersistOp } from '../protocol/types.ts';
import { counterOf, epochOf, formatZxid } from '../protocol/zxid.ts';
import type { DiskStage } from './disk.ts';
import type { InFlight, KernelControl, Simulation } from './kernel.ts';
import { drawMs, formatDist, type DelayDist, type Rng } from './rng.ts';

export type PartitionShape = 'isolate-one' | 'split' | 'isolate-leader';

/**
 * The crash points: where ZooKeeper's durability orders matter and a crash at a random time
 * rarely lands. `newleader-ack`: a learner has just sent its NEWLEADER ACK; `epoch-durable`: a
 * server's currentEpoch write has just become durable; `commit`: a leader has just sent a COMMIT;
 * `log-durable`: a learner's synced txns have just become durable at NEWLEADER, before its
 * currentEpoch write; `resync-commit`: a leader has just sent the COMMIT of a proposal that it
 * re-sent, in a sync, to a learner that had ACKed it before (the learner re-synced, a TRUNC may
 * have cut the txn from its log, and it has not necessarily logged it again: the window of the
 * re-sync ACK finding, `leader_keeps_acks_across_resync`). The last two only for a scheduled
 * crash: `--crash-points` draws among the first three, so that seeds keep their trajectories;
 * a run that opens the re-sync window (`--ack-resets`) crashes at half its `resync-commit` points.
 */
export const CRASH_POINTS = ['newleader-ack', 'epoch-durable', 'commit', 'log-durable', 'resync-commit'] as const;
/** The points `--crash-points` draws at. */
const RANDOM_CRASH_POINTS: ReadonlySet<CrashPointName> = new Set(['newleader-ack', 'epoch-durable', 'commit']);
/** The coverage cell of each crash point. */
const CRASH_POINT_PROBE: Readonly<Record<CrashPointName, number>> = {
  'newleader-ack': PROBE['crashpoint.newleader-ack'],
  'epoch-durable': PROBE['crashpoint.epoch-durable'],
  commit: PROBE['crashpoint.commit'],
  'log-durable': PROBE['crashpoint.log-durable'],
  'resync-commit': PROBE['crashpoint.resync-commit'],
};
export type CrashPointName = (typeof CRASH_POINTS)[number];

/**
 * One step of an explicit fault schedule (the form fast-check generates and shrinks): at a
 * virtual time, crash or restart a server, cut the links between two groups (both ways, or
 * from `side` to `rest` only), or heal every partition. A crash with `after` is armed at its
 * time and happens at the server's next such crash point, right after it.
 */
export type ScheduledFault =
  | { readonly atMs: number; readonly kind: 'crash'; readonly sid: Sid; readonly after?: CrashPointName }
  | { readonly atMs: number; readonly kind: 'restart'; readonly sid: Sid }
  | { readonly atMs: number; readonly kind: 'partition'; readonly side: readonly Sid[]; readonly rest: readonly Sid[]; readonly oneWay: boolean }
  | { readonly atMs: number; readonly kind: 'heal' };

/** Prints a schedule in the syntax of `zabsim run --schedule` (parseSchedule reads it back). */
export function formatSchedule(steps: readonly ScheduledFault[]): string {
  return steps
    .map((f) => {
      const at = `${f.atMs}ms`;
      switch (f.kind) {
        case 'crash':
          return `${at} crash ${serverName(f.sid)}${f.after === undefined ? '' : ` after ${f.after}`}`;
        case 'restart':
          return `${at} restart ${serverName(f.sid)}`;
        case 'partition':
          return `${at} partition ${f.side.map(serverName).join(',')}${f.oneWay ? '->' : '|'}${f.rest.map(serverName).join(',')}`;
        case 'heal':
          return `${at} heal`;
      }
    })
    .join('; ');
}

/**
 * Parses `1200ms crash s1; 3s restart s1; 4s partition s1,s2|s3; 5s partition s1->s2,s3; 9s heal`
 * and `2s crash s2 after newleader-ack`.
 * Returns the schedule, or a sentence saying which step is wrong and what was expected.
 */
export function parseSchedule(text: string, servers: number): ScheduledFault[] | string {
  const out: ScheduledFault[] = [];
  const sidOf = (t: string): Sid | null => {
    const m = /^s(\d+)$/.exec(t);
    const sid = m === null ? NaN : Number(m[1]);
    return Number.isInteger(sid) && sid >= 1 && sid <= servers ? sid : null;
  };
  // One ';' may end the text; an empty step anywhere else (';;', a leading ';') is a typo.
  const parts = text.split(';').map((x) => x.trim());
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  const empty = parts.findIndex((x) => x === '');
  if (parts.length === 1 && empty === 0) return "expected at least one step, such as '2s crash s1; 5s restart s1', got an empty text";
  if (empty >= 0) return `step ${empty + 1} is empty: expected a step between two ';'`;
  for (let i = 0; i < parts.length; i++) {
    const step = parts[i] as string;
    const where = `step ${i + 1} ('${step}')`;
    const m = /^(\d+(?:\.\d+)?)(ms|s)\s+(crash|restart|partition|heal)\s*(.*)$/.exec(step);
    if (m === null) return `${where}: expected '<time> crash sN [after POINT]', '<time> restart sN', '<time> partition A|B' (or A->B) or '<time> heal', with a time such as 1500ms or 2s`;
    const atMs = Math.round(Number(m[1]) * (m[2] === 's' ? 1000 : 1));
    const kind = m[3] as ScheduledFault['kind'];
    const arg = (m[4] ?? '').trim();
    if (out.length > 0 && atMs < (out[out.length - 1] as ScheduledFault).atMs) return `${where}: times must not decrease`;
    if (kind === 'heal') {
      if (arg !== '') return `${where}: heal takes no argument`;
      out.push({ atMs, kind });
    } else if (kind === 'crash') {
      const words = arg.split(/\s+/);
      const sid = sidOf(words[0] ?? '');
      if (sid === null) return `${where}: expected a server s1..s${servers}`;
      if (words.length === 1) {
        out.push({ atMs, kind, sid });
      } else {
        const after = words[2] as CrashPointName;
        if (words.length !== 3 || words[1] !== 'after' || !CRASH_POINTS.includes(after)) return `${where}: expected 'crash sN' or 'crash sN after POINT' with POINT one of ${CRASH_POINTS.join(', ')}`;
        out.push({ atMs, kind, sid, after });
      }
    } else if (kind === 'restart') {
      const sid = sidOf(arg);
      if (sid === null) return `${where}: expected a server s1..s${servers}`;
      out.push({ atMs, kind, sid });
    } else {
      const oneWay = arg.includes('->');
      const halves = arg.split(oneWay ? '->' : '|');
      const groups = halves.map((h) => h.split(',').map((x) => sidOf(x.trim())));
      if (groups.length !== 2 || groups.some((g) => g.length === 0 || g.some((x) => x === null))) return `${where}: expected two groups of servers s1..s${servers} such as s1,s2|s3 or s1->s2,s3`;
      const [side, rest] = groups as [Sid[], Sid[]];
      if (side.some((x) => rest.includes(x))) return `${where}: a server cannot be on both sides`;
      out.push({ atMs, kind, side, rest, oneWay });
    }
  }
  return out;
}

export interface FaultConfig {
  /** Mean time between crash attempts (exponential); 0 disables crashes. */
  readonly crashMeanIntervalMs: number;
  /** Which server a crash hits: any running one, or the current leader when there is one. */
  readonly crashTarget: 'any' | 'leader';
  /** How long a crashed or halted server stays down. */
  readonly restartDelay: DelayDist;
  /** At most this many voters down at once; default: a minority, floor((voters - 1) / 2). */
  readonly maxVotersDown: number | null;
  /** Mean time between partitions (exponential, counted from the previous heal); 0 disables them. */
  readonly partitionMeanIntervalMs: number;
  readonly partitionDuration: DelayDist;
  readonly partitionShapes: readonly PartitionShape[];
  /** Probability that a partition blocks one direction only. */
  readonly oneWayProb: number;
  /** No new faults from this time on; then heal and restart everything. Infinity: never stop. */
  readonly untilMs: number;
  /** Explicit faults, applied at their times (before untilMs), besides the random ones. */
  readonly schedule: readonly ScheduledFault[];
  /**
   * Probability of a crash at each crash point, where ZooKeeper's durability orders matter: a
   * learner that just sent its NEWLEADER ACK, a server whose currentEpoch write just became
   * durable, a leader that just sent a COMMIT. Random crash times rarely land in those windows
   * of a few milliseconds; crash points do (FoundationDB's BUGGIFY idea). 0 disables them.
   */
  readonly crashPointProb: number;
  /**
   * Storage fault: mean time between full disks (exponential, counted from the previous one's
   * end); 0 disables them. A full disk hits one running server, drawn from the `storage` stream.
   */
  readonly diskFullMeanIntervalMs: number;
  /** How long a disk stays full. */
  readonly diskFullDuration: DelayDist;
  /**
   * PCT-style priority scheduling (Burckhardt et al.; Coyote, P): with depth d > 0 the servers get
   * random priorities, and d - 1 priority-change points are drawn in the faulty period; each
   * server's inputs arrive `rank x PCT_QUANTUM_MS` late (rank 0: the highest priority), so a
   * high-priority server runs ahead of the others; at a change point the highest goes lowest.
   * Drawn from the `pct` stream; 0 disables it.
   */
  readonly pctDepth: number;
  /**
   * Probability that a learner's quorum connection resets right after its leader counted the
   * learner's NEWLEADER ACK, while the leader still waits for a quorum of them (a loss aimed at
   * that window, drawn from the `resets` stream): the learner syncs again with the same leader
   * and ACKs NEWLEADER a second time (issue 12 §2, one learner counted twice). 0 disables it.
   */
  readonly newLeaderAckResetProb: number;
  /**
   * Probability that a follower's quorum connection resets right after its leader counted the
   * follower's ACK of a proposal still short of a quorum, while the other servers' disks stall
   * until the follower has synced again with the same leader (or for one syncLimit at most), and
   * then go on one at a time: a biased delay aimed at the re-sync window, where a learner is
   * re-sent a proposal it had ACKed and a TRUNC may just have cut from its log. Such a run also
   * crashes a leader at half its `resync-commit` points (the COMMIT of a re-sent proposal). Drawn
   * from the `ackResets` stream; 0 disables it.
   */
  readonly ackResetProb: number;
}

/** The latency one priority rank adds to the messages a server receives (PCT). */
export const PCT_QUANTUM_MS = 4;

export const NO_FAULTS: FaultConfig = Object.freeze({
  crashMeanIntervalMs: 0,
  crashTarget: 'any',
  restartDelay: Object.freeze({ kind: 'uniform', minMs: 1000, maxMs: 10_000 }) as DelayDist,
  maxVotersDown: null,
  partitionMeanIntervalMs: 0,
  partitionDuration: Object.freeze({ kind: 'uniform', minMs: 1000, maxMs: 20_000 }) as DelayDist,
  partitionShapes: Object.freeze(['isolate-one', 'split', 'isolate-leader']) as readonly PartitionShape[],
  oneWayProb: 0.25,
  untilMs: Infinity,
  schedule: Object.freeze([]) as readonly ScheduledFault[],
  crashPointProb: 0,
  diskFullMeanIntervalMs: 0,
  diskFullDuration: Object.freeze({ kind: 'uniform', minMs: 1000, maxMs: 10_000 }) as DelayDist,
  pctDepth: 0,
  newLeaderAckResetProb: 0,
  ackResetProb: 0,
});

/** Blocks the links from `side` to `rest` (and back, unless one-way), traced as a partition. */
function cut(sim: Simulation, side: readonly Sid[], rest: readonly Sid[], oneWay: boolean): void {
  const links: [Sid, Sid][] = [];
  for (const a of side) {
    for (const b of rest) {
      links.push([a, b]);
      if (!oneWay) links.push([b, a]);
    }
  }
  const names = (xs: readonly Sid[]): string => `{${xs.map(serverName).join(',')}}`;
  sim.partition(links, oneWay ? `${names(side)} -/-> ${names(rest)}` : `${names(side)} | ${names(rest)}`);
}

/**
 * What the `resync-commit` crash point needs to see from the messages alone: the proposal zxids
 * each server ACKed (a zxid names one txn, so a leader sending a PROPOSAL of a zxid its receiver
 * already ACKed is re-sending it, in a sync), and the zxids so re-sent, until their COMMIT.
 */
class ResyncWatch {
  private readonly acks = new Map<Sid, Set<number>>();
  private readonly resent = new Set<number>();

  acked(sid: Sid, zxid: number): void {
    if (counterOf(zxid) === 0) return;
    let s = this.acks.get(sid);
    if (s === undefined) this.acks.set(sid, (s = new Set()));
    s.add(zxid);
  }

  proposed(to: Sid, zxid: number): void {
    if (this.acks.get(to)?.has(zxid) === true) this.resent.add(zxid);
  }

  /** Whether a COMMIT of `zxid` commits a re-sent proposal (once per zxid). */
  committed(zxid: number): boolean {
    return this.resent.delete(zxid);
  }
}

/**
 * The re-sync window fault (`FaultConfig.ackResetProb`): when a leader has counted a follower's
 * ACK of a proposal that still lacks a quorum, the follower's connection resets, and the disks of
 * every other server stall (their completions are held) until the follower's TRUNC is durable
 * (the proposal is gone from its log, and it will log it again only after UPTODATE), or the
 * leader counts its NEWLEADER ACK (a sync without TRUNC), or one syncLimit has passed. Then each
 * stalled disk goes on after its own short delay (0-20 ms, drawn), so the other copies of the
 * proposal become durable, and are ACKed, one server at a time. One window at a time.
 */
class AckStall {
  private readonly rng: Rng;
  private open: { readonly leader: Sid; readonly learner: Sid; readonly stalled: readonly Sid[]; readonly id: number } | null = null;
  private windows = 0;

  constructor(
    private readonly sim: Simulation,
    private readonly p: number,
    private readonly faults: FaultInjector,
  ) {
    this.rng = sim.rng.stream('ackResets');
  }

  received(m: InFlight): void {
    if (m.msg.type !== 'ACK') return;
    const w = this.open;
    if (w !== null) {
      // The follower synced again: the leader counted its NEWLEADER ACK.
      if (m.from === w.learner && m.to === w.leader && counterOf(m.msg.zxid) === 0) this.close(w.id);
      return;
    }
    if (counterOf(m.msg.zxid) === 0 || this.faults.over) return;
    const sim = this.sim;
    const s = sim.server(m.to).state;
    const l = s.leader;
    if (s.state !== 'LEADING' || l === null || !l.established) return;
    const zxid = m.msg.zxid;
    const prop = l.outstanding.items.find((x) => x.zxid === zxid);
    if (prop === undefined || !prop.acks.includes(m.from) || !this.rng.chance(this.p)) return;
    const leader = m.to;
    const learner = m.from;
    const id = ++this.windows;
    const stalled = sim.sids.filter((x) => x !== learner && sim.server(x).up);
    this.open = { leader, learner, stalled, id };
    sim.probe?.(PROBE['fault.ack-reset']);
    for (const x of stalled) sim.holdFsyncs(x, true);
    sim.at(sim.now, () => {
      if (sim.server(leader).up && sim.server(learner).up) sim.resetQuorum(learner, leader, `right after its ACK of ${formatZxid(zxid)} was counted, short of a quorum; the other disks stall while it syncs again`);
    });
    const { tickTimeMs, syncLimitTicks } = sim.cfg.params;
    sim.at(sim.now + tickTimeMs * syncLimitTicks, () => this.close(id));
  }

  /** At the COMMIT of a proposal re-sent to a learner that had ACKed it: whether its leader crashes there (one in two). */
  crashHere(): boolean {
    return this.rng.chance(0.5);
  }

  /** The follower's TRUNC is durable: the proposal it had ACKed is gone from its log, and the window is open. */
  truncated(sid: Sid): void {
    const w = this.open;
    if (w !== null && sid === w.learner) this.close(w.id);
  }

  /** Ends window `id` (if it is still the open one): each stalled disk goes on after its own delay. */
  private close(id: number): void {
    const w = this.open;
    if (w === null || w.id !== id) return;
    this.open = null;
    const sim = this.sim;
    for (const x of w.stalled) sim.at(sim.now + this.rng.int(0, 20), this.resume, this, x);
  }

  /** A stalled disk goes on. */
  private resume(sid: Sid): void {
    this.sim.holdFsyncs(sid, false);
  }
}

/**
 * The kernel's control hook while crash points are watched (FaultInjector.installCrashPoints):
 * tells the injector when a server reaches a crash point, feeds the re-sync window (AckStall) and
 * the ResyncWatch, and resets a connection right after a counted NEWLEADER ACK (--newleader-ack-
 * resets). Methods, not closures made per run: see Simulation.at.
 */
class CrashPoints implements KernelControl {
  private readonly sim: Simulation;
  /** The re-sync window (--ack-resets), or null. */
  private readonly stall: AckStall | null;
  /**
   * resync-commit is watched only when a scheduled crash arms it or the re-sync window is opened
   * (--ack-resets): it remembers every proposal ACK (per learner), and the proposals a leader
   * sent again to a learner that had ACKed them.
   */
  private readonly resync: ResyncWatch | null;
  private readonly resetP: number;
  private readonly resetRng: Rng | null;

  constructor(private readonly faults: FaultInjector) {
    const sim = faults.sim;
    const cfg = faults.cfg;
    this.sim = sim;
    this.stall = cfg.ackResetProb > 0 ? new AckStall(sim, cfg.ackResetProb, faults) : null;
    this.resync = cfg.ackResetProb > 0 || cfg.schedule.some((f) => f.kind === 'crash' && f.after === 'resync-commit') ? new ResyncWatch() : null;
    this.resetP = cfg.newLeaderAckResetProb;
    this.resetRng = this.resetP > 0 ? sim.rng.stream('resets') : null;
  }

  arriving(): boolean {
    return false;
  }

  received(m: InFlight): void {
    this.stall?.received(m);
    // The NEWLEADER ACK window: counted, and the leader still waits for more.
    if (this.resetRng === null || this.faults.over || m.msg.type !== 'ACK' || counterOf(m.msg.zxid) !== 0) return;
    const l = this.sim.server(m.to).state.leader;
    if (l === null || l.established || !this.resetRng.chance(this.resetP)) return;
    this.sim.at(this.sim.now, this.resetAfterNewLeaderAck, this, { from: m.from, to: m.to });
  }

  private resetAfterNewLeaderAck(link: { readonly from: Sid; readonly to: Sid }): void {
    const sim = this.sim;
    if (!this.faults.over && sim.server(link.to).up && sim.server(link.from).up) sim.resetQuorum(link.from, link.to, 'right after its NEWLEADER ACK was counted');
  }

  sent(from: Sid, to: Sid, msg: Message): void {
    const sim = this.sim;
    const resync = this.resync;
    if (msg.type === 'ACK' && counterOf(msg.zxid) === 0 && sim.server(from).state.learner?.phase === 'sync') this.reached(from, 'newleader-ack');
    else if (msg.type === 'COMMIT') {
      this.reached(from, 'commit');
      if (resync?.committed(msg.zxid) === true) this.reached(from, 'resync-commit');
    } else if (resync !== null) {
      if (msg.type === 'ACK') resync.acked(from, msg.zxid);
      // Only a proposal of the sender's own epoch: it is re-sending what it proposed (startForwarding),
      // not a new leader's DIFF of an older epoch.
      else if (msg.type === 'PROPOSAL' && sim.server(from).state.leader?.epoch === epochOf(msg.zxid)) resync.proposed(to, msg.zxid);
    }
  }

  written(sid: Sid, write: PersistOp, stage: DiskStage | 'failed'): void {
    if (this.stall !== null && write.op === 'truncateLog' && stage === 'done') this.stall.truncated(sid);
    if (write.op === 'writeEpoch' && write.file === 'currentEpoch' && stage === 'done') this.reached(sid, 'epoch-durable');
    else if (write.op === 'appendLog' && stage === 'done' && this.sim.server(sid).state.learner?.blocked?.on === 'newleader-log') this.reached(sid, 'log-durable');
  }

  private reached(sid: Sid, point: CrashPointName): void {
    this.faults.reachedCrashPoint(sid, point, this.stall);
  }
}

export class FaultInjector {
  private readonly crashRng: Rng;
  private readonly partitionRng: Rng;
  private readonly storageRng: Rng;
  /**
   * The restart delays of servers that halted (a failed log write, a corrupt record at start-up):
   * their own stream, so that a run with its drawn crashes switched off (a shrinker's replay, with
   * the crashes as an explicit schedule) restarts them at the same instants.
   */
  private readonly haltRng: Rng;
  private stopped = false;
  /** Scheduled crashes whose time has come, waiting for their server's crash point. */
  private readonly armed: { readonly sid: Sid; readonly point: CrashPointName }[] = [];
  /**
   * Every crash, restart, partition and heal this injector made, drawn or scheduled, in the order
   * made, as schedule steps (a crash at a crash point with its `after`): what a shrinker replays
   * in place of the drawn faults (src/run/shrink.ts). Restarts of halted servers are not in it
   * (the halt comes again with the same storage faults). One push per fault, none per event.
   */
  readonly injected: ScheduledFault[] = [];

  constructor(
    readonly sim: Simulation,
    readonly cfg: FaultConfig,
  ) {
    this.crashRng = sim.rng.stream('crashes');
    this.partitionRng = sim.rng.stream('partitions');
    this.storageRng = sim.rng.stream('storage');
    this.haltRng = sim.rng.stream('halts');
  }

  /** Schedules the first faults and the end of the faulty period. */
  install(): void {
    this.sim.onHalt = (sid) => {
      // A server that refused to start on a corrupt txn log record gets it removed by an operator
      // before its next start (ZooKeeper needs that: it refuses at every start until then).
      this.sim.repairDisk(sid);
      this.scheduleRestart(sid, false);
    };
    if (this.cfg.diskFullMeanIntervalMs > 0) this.sim.at(this.sim.now + this.storageRng.exponentialMs(this.cfg.diskFullMeanIntervalMs), this.diskFullTick, this, undefined);
    if (this.cfg.crashMeanIntervalMs > 0) this.sim.atFirst(this.sim.now + this.crashRng.exponentialMs(this.cfg.crashMeanIntervalMs), this.crashTick, this, undefined);
    if (this.cfg.partitionMeanIntervalMs > 0) this.sim.atFirst(this.sim.now + this.partitionRng.exponentialMs(this.cfg.partitionMeanIntervalMs), this.partitionTick, this, undefined);
    if (this.cfg.crashPointProb > 0 || this.cfg.newLeaderAckResetProb > 0 || this.cfg.ackResetProb > 0 || this.cfg.schedule.some((f) => f.kind === 'crash' && f.after !== undefined)) this.installCrashPoints();
    for (const f of this.cfg.schedule) this.sim.atFirst(Math.max(this.sim.now, f.atMs), this.scheduled, this, f);
    if (this.cfg.untilMs !== Infinity) this.sim.at(Math.max(this.sim.now, this.cfg.untilMs), this.quiesce, this, undefined);
    if (this.cfg.pctDepth > 0) this.installPct();
  }

  /**
   * Watches the crash points (through the kernel's control hook): a scheduled crash armed for the
   * point fires there; otherwise, with crashPointProb, a random one does (and restarts later).
   */
  private installCrashPoints(): void {
    this.sim.control = new CrashPoints(this);
  }

  /** Whether the faulty period is over (after {@link quiesce}). */
  get over(): boolean {
    return this.stopped;
  }

  /**
   * `sid` reached crash point `point`: crash it there if a scheduled crash is armed for it, or
   * (with crashPointProb, or in the re-sync window) at random, and restart it later.
   */
  reachedCrashPoint(sid: Sid, point: CrashPointName, stall: AckStall | null): void {
    if (this.stopped) return;
    // The re-sync window's own point, in a run that opens that window (--ack-resets): half the
    // COMMITs of a re-sent proposal crash their leader. Drawn before a scheduled crash is looked
    // for, so that a replay of the recorded crashes (src/run/shrink.ts) draws the same.
    const windowCrash = point === 'resync-commit' && stall !== null && stall.crashHere();
    const k = this.armed.findIndex((a) => a.sid === sid && a.point === point);
    if (k >= 0) {
      this.armed.splice(k, 1);
      this.crashAtPoint(sid, false, point);
      return;
    }
    const p = this.cfg.crashPointProb;
    const drawn = point === 'resync-commit' ? windowCrash : p > 0 && RANDOM_CRASH_POINTS.has(point) && this.crashRng.chance(p);
    if (!drawn) return;
    if (isVoter(this.sim.cfg, sid) && this.votersDown() >= this.maxVotersDown()) return;
    this.crashAtPoint(sid, true, point);
  }

  /** Crashes `sid` right after the current event, at the same instant (restarting it later if `restart`). */
  private crashAtPoint(sid: Sid, restart: boolean, point: CrashPointName): void {
    this.sim.at(this.sim.now, this.crashNow, this, { sid, restart, point });
  }

  private crashNow(c: { readonly sid: Sid; readonly restart: boolean; readonly point: CrashPointName }): void {
    const sim = this.sim;
    if (this.stopped || !sim.server(c.sid).up) return;
    sim.probe?.(CRASH_POINT_PROBE[c.point]);
    this.injected.push({ atMs: sim.now, kind: 'crash', sid: c.sid, after: c.point });
    sim.crash(c.sid);
    if (c.restart) this.scheduleRestart(c.sid);
  }

  /** How many voters are down now. */
  private votersDown(): number {
    const sim = this.sim;
    let n = 0;
    for (const v of sim.cfg.voters) if (!sim.server(v).up) n++;
    return n;
  }

  /** Scheduled crashes armed for a crash point that has not come (yet), as schedule text. */
  unfiredCrashPoints(): string[] {
    return this.armed.map((a) => `crash ${serverName(a.sid)} after ${a.point}`);
  }

  /** One step of the explicit schedule; a step that cannot apply (crash a down server) is skipped. */
  private scheduled(f: ScheduledFault): void {
    if (this.stopped) return;
    const sim = this.sim;
    switch (f.kind) {
      case 'crash':
        if (f.after !== undefined) this.armed.push({ sid: f.sid, point: f.after });
        else if (sim.server(f.sid).up) {
          this.injected.push({ atMs: sim.now, kind: 'crash', sid: f.sid });
          sim.crash(f.sid);
        }
        return;
      case 'restart':
        if (!sim.server(f.sid).up) {
          this.injected.push({ atMs: sim.now, kind: 'restart', sid: f.sid });
          sim.start(f.sid);
        }
        return;
      case 'partition':
        this.injected.push({ ...f, atMs: sim.now });
        cut(sim, f.side, f.rest, f.oneWay);
        return;
      case 'heal':
        this.injected.push({ atMs: sim.now, kind: 'heal' });
        sim.heal();
        return;
    }
  }

  /**
   * PCT: a random priority order of the servers, and depth - 1 change points in the faulty period
   * at which the highest-priority server drops to the lowest.
   */
  private installPct(): void {
    const sim = this.sim;
    const r = sim.rng.stream('pct');
    const order = [...sim.sids];
    for (let i = order.length - 1; i > 0; i--) {
      const j = r.int(0, i);
      [order[i], order[j]] = [order[j] as Sid, order[i] as Sid];
    }
    const horizon = this.cfg.untilMs === Infinity ? 60_000 : this.cfg.untilMs;
    const changes = Array.from({ length: this.cfg.pctDepth - 1 }, () => r.int(0, Math.max(0, horizon - 1))).sort((a, b) => a - b);
    sim.at(sim.now, () => this.applyPriorities(order));
    for (const t of changes) {
      sim.at(Math.max(sim.now, t), () => {
        if (this.stopped) return;
        order.push(order.shift() as Sid);
        this.applyPriorities(order);
      });
    }
  }

  /** Slows every link into each server by its rank (null: no priorities, every link at full speed). */
  private applyPriorities(order: readonly Sid[] | null): void {
    const sim = this.sim;
    for (const to of sim.sids) {
      const extra = order === null ? 0 : order.indexOf(to) * PCT_QUANTUM_MS;
      for (const from of sim.sids) if (from !== to) sim.slow(from, to, extra);
    }
  }

  /** One-line description of the fault parameters, printed before a run. */
  describe(): string {
    const c = this.cfg;
    const parts: string[] = [];
    parts.push(c.crashMeanIntervalMs > 0 ? `crashes every ~${c.crashMeanIntervalMs}ms (${c.crashTarget}, max ${this.maxVotersDown()} voters down, restart after ${formatDist(c.restartDelay)})` : 'no crashes');
    parts.push(c.partitionMeanIntervalMs > 0 ? `partitions every ~${c.partitionMeanIntervalMs}ms (${c.partitionShapes.join('/')}, one-way ${c.oneWayProb}, lasting ${formatDist(c.partitionDuration)})` : 'no partitions');
    if (c.schedule.length > 0) parts.push(`schedule: ${formatSchedule(c.schedule)}`);
    if (c.crashPointProb > 0) parts.push(`crash points with probability ${c.crashPointProb}`);
    if (c.diskFullMeanIntervalMs > 0) parts.push(`full disks every ~${c.diskFullMeanIntervalMs}ms (lasting ${formatDist(c.diskFullDuration)})`);
    if (c.newLeaderAckResetProb > 0) parts.push(`a learner's connection resets after its NEWLEADER ACK with probability ${c.newLeaderAckResetProb}`);
    if (c.ackResetProb > 0) parts.push(`a follower's connection resets after its ACK of an outstanding proposal, the other disks stalled while it re-syncs, with probability ${c.ackResetProb}`);
    if (c.pctDepth > 0) parts.push(`PCT priorities, depth ${c.pctDepth} (${PCT_QUANTUM_MS}ms a rank)`);
    parts.push(c.untilMs === Infinity ? 'faults never stop' : `faults stop at ${c.untilMs}ms`);
    return parts.join('; ');
  }

  private maxVotersDown(): number {
    return this.cfg.maxVotersDown ?? Math.floor((this.sim.cfg.voters.length - 1) / 2);
  }

  private crashTick(): void {
    if (this.stopped) return;
    const sim = this.sim;
    const votersDown = this.votersDown();
    const candidates: Sid[] = [];
    for (const sid of sim.sids) if (sim.server(sid).up && (!isVoter(sim.cfg, sid) || votersDown < this.maxVotersDown())) candidates.push(sid);
    let target: Sid | null = null;
    if (this.cfg.crashTarget === 'leader') {
      for (const sid of candidates) {
        if (sim.server(sid).state.state === 'LEADING') {
          target = sid;
          break;
        }
      }
    }
    if (target === null && candidates.length > 0 && this.cfg.crashTarget === 'any') target = this.crashRng.pick(candidates);
    if (target !== null) {
      this.injected.push({ atMs: sim.now, kind: 'crash', sid: target });
      sim.crash(target);
      this.scheduleRestart(target);
    }
    sim.atFirst(sim.now + this.crashRng.exponentialMs(this.cfg.crashMeanIntervalMs), this.crashTick, this, undefined);
  }

  /** Restarts `sid` after a drawn delay; `record`: a restart of a crash (not of a halt), kept in `injected`. */
  private scheduleRestart(sid: Sid, record = true): void {
    const sim = this.sim;
    sim.atFirst(sim.now + drawMs(record ? this.crashRng : this.haltRng, this.cfg.restartDelay), record ? this.restartCrashed : this.restartHalted, this, sid);
  }

  /** The restart of a crash, kept in `injected`. */
  private restartCrashed(sid: Sid): void {
    if (this.sim.server(sid).up) return;
    this.injected.push({ atMs: this.sim.now, kind: 'restart', sid });
    this.sim.start(sid);
  }

  /** The restart of a halt (not in `injected`: the halt comes again with the same storage faults). */
  private restartHalted(sid: Sid): void {
    if (!this.sim.server(sid).up) this.sim.start(sid);
  }

  private partitionTick(): void {
    if (this.stopped) return;
    const sim = this.sim;
    const shape = this.partitionRng.pick(this.cfg.partitionShapes);
    const ids = sim.sids;
    let side: Sid[];
    if (shape === 'isolate-leader') {
      const leader = ids.find((sid) => sim.server(sid).state.state === 'LEADING' && sim.server(sid).up);
      side = [leader ?? this.partitionRng.pick(ids)];
    } else if (shape === 'isolate-one') {
      side = [this.partitionRng.pick(ids)];
    } else {
      side = ids.filter(() => this.partitionRng.chance(0.5));
      if (side.length === 0 || side.length === ids.length) side = [this.partitionRng.pick(ids)];
    }
    const rest = ids.filter((sid) => !side.includes(sid));
    const oneWay = this.partitionRng.chance(this.cfg.oneWayProb);
    this.injected.push({ atMs: sim.now, kind: 'partition', side, rest, oneWay });
    cut(sim, side, rest, oneWay);
    const healAt = sim.now + drawMs(this.partitionRng, this.cfg.partitionDuration);
    sim.atFirst(healAt, this.healTick, this, undefined);
  }

  /** The end of a drawn partition; the next comes after a drawn interval. */
  private healTick(): void {
    if (this.stopped) return;
    const sim = this.sim;
    this.injected.push({ atMs: sim.now, kind: 'heal' });
    sim.heal();
    sim.atFirst(sim.now + this.partitionRng.exponentialMs(this.cfg.partitionMeanIntervalMs), this.partitionTick, this, undefined);
  }

  /** A storage fault: one running server's disk is full for a drawn time; the next comes after. */
  private diskFullTick(): void {
    if (this.stopped) return;
    const sim = this.sim;
    const up: Sid[] = [];
    for (const sid of sim.sids) if (sim.server(sid).up) up.push(sid);
    const endAt = sim.now + drawMs(this.storageRng, this.cfg.diskFullDuration);
    if (up.length > 0) sim.fillDisk(this.storageRng.pick(up), endAt);
    sim.at(endAt, this.diskFullEnd, this, undefined);
  }

  /** The end of a disk-full period: the next comes after a drawn interval. */
  private diskFullEnd(): void {
    if (this.stopped) return;
    this.sim.at(this.sim.now + this.storageRng.exponentialMs(this.cfg.diskFullMeanIntervalMs), this.diskFullTick, this, undefined);
  }

  /**
   * End of the faulty period: no more loss, every partition healed, no more storage faults (disks
   * have space, corrupt records are removed), every down server restarted.
   */
  private quiesce(): void {
    this.stopped = true;
    const sim = this.sim;
    sim.network.calm();
    sim.heal();
    if (this.cfg.pctDepth > 0) this.applyPriorities(null);
    for (const sid of sim.sids) {
      sim.server(sid).disk.calm();
      if (!sim.server(sid).up) {
        sim.repairDisk(sid);
        sim.start(sid);
      }
    }
  }
}
