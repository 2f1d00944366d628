/**
 * The simulation kernel: virtual time, the event queue, the network and disks, and the servers'
 * pure state machines. It is the only place that applies effects. Everything random is drawn from
 * the seeded streams of one RngRoot, so a seed and the options determine the run byte for byte.
 *
 * Data flow of one event: pop (time, seq) → turn it into a server Input (or a kernel action) →
 * `step` (as `stepWith`, in a context the kernel reuses) → trace state/vote changes → apply each effect (send: network decides and schedules a
 * delivery; persist: disk schedules the fsync; timers; close) → trace records to the sink.
 */
import { allServers, makeClusterConfig, serverName, type ClusterConfig, type Flaws, type ProtocolParams, type Sid } from '../protocol/config.ts';
import { blankState, leaderOf, stepWith } from '../protocol/peer.ts';
import type { StepContext } from '../protocol/context.ts';
import { validSnapshotIndex } from '../protocol/db.ts';
import { PROBE, PROBES, stepCell, type ProbeSink } from '../protocol/probes.ts';
import { laneOf, opensConnection, type StageName, type ClientReply, type ClientRequest, type Effect, type Input, type Lane, type Message, type PersistOp, type ServerState } from '../protocol/types.ts';
import { Disk, DEFAULT_DISK, type DiskConfig, type DiskStage, type FailingOp } from './disk.ts';
import type { DamagedTail } from '../protocol/types.ts';
import { formatZxid } from '../protocol/zxid.ts';
import type { TraceBody, TraceEvent, TraceSink } from './events.ts';
import { Network, DEFAULT_NETWORK, type DropReason, type NetworkConfig } from './network.ts';
import { EventQueue } from './queue.ts';
import { drawMs, RngRoot, type DelayDist } from './rng.ts';

/** Time stopped advancing: too many events at one virtual instant (see MAX_EVENTS_PER_INSTANT). */
export class LivelockError extends Error {
  constructor(
    readonly atMs: number,
    message: string,
  ) {
    super(message);
  }
}

/** The coverage cell of each drop reason. */
const DROP_PROBE: Readonly<Record<DropReason, number>> = {
  loss: PROBE['fault.drop.loss'],
  partition: PROBE['fault.drop.partition'],
  'connection-broken': PROBE['fault.drop.connection-broken'],
  'connection-reset': PROBE['fault.drop.connection-reset'],
  'receiver-down': PROBE['fault.drop.receiver-down'],
};

/** More events than this at one virtual instant means time has stopped advancing. */
const MAX_EVENTS_PER_INSTANT = 100_000;

export interface SimOptions {
  readonly seed: number;
  readonly voters: number;
  readonly observers?: number;
  readonly params?: Partial<ProtocolParams>;
  readonly flaws?: Partial<Flaws>;
  readonly network?: Partial<NetworkConfig>;
  readonly disk?: Partial<DiskConfig>;
  /** Servers start at uniformly drawn times in [0, startSpreadMs]. */
  readonly startSpreadMs?: number;
  /** Parameters of single servers that differ from `params` (a scenario's `set s2 tickTimeMs 500`). */
  readonly serverParams?: Readonly<Record<Sid, Partial<ProtocolParams>>>;
  /**
   * How long a server's thread waits, once work is queued for it, before its step runs (a thread
   * descheduled): drawn per wake-up from the `threads` stream. Default 0: the step runs at the
   * same instant, after the events already queued for it.
   */
  readonly stageDelay?: DelayDist;
  /** Count the coverage probes (src/protocol/probes.ts) into {@link Simulation.coverage}. */
  readonly coverage?: boolean;
  /**
   * How long a server's CommitProcessor thread waits, once a committed request is queued for it,
   * before it applies (drawn per wake-up from the `commitThreads` stream). Default 0: it runs
   * right after the step that queued the request, before any other event, so commit and apply
   * are one instant apart only in the trace of steps.
   */
  readonly commitDelay?: DelayDist;
}

/** The default thread delay: none. */
export const NO_STAGE_DELAY: DelayDist = Object.freeze({ kind: 'constant', ms: 0 });

type SimEvent =
  | { kind: 'deliver'; time: number; seq: number; from: Sid; to: Sid; lane: Lane; gen: number; msg: Message; id: number }
  | { kind: 'close'; time: number; seq: number; from: Sid; to: Sid; gen: number; id: number }
  | { kind: 'timer'; time: number; seq: number; sid: Sid; inc: number; name: string; gen: number }
  | { kind: 'disk'; time: number; seq: number; sid: Sid; inc: number; token: number }
  | { kind: 'stage'; time: number; seq: number; sid: Sid; inc: number; stage: StageName }
  | { kind: 'call'; time: number; seq: number; fn: (this: unknown, arg: unknown) => void; self: unknown; arg: unknown };

type DeliverEv = Extract<SimEvent, { kind: 'deliver' }>;
type DiskEv = Extract<SimEvent, { kind: 'disk' }>;

/** A message on its way to `to`, as a {@link KernelControl} sees it when it arrives. */
export interface InFlight {
  readonly from: Sid;
  readonly to: Sid;
  readonly id: number;
  readonly msg: Message;
  readonly lane: Lane;
}

/**
 * Steers a run at precise points (the scenario runner, src/scenario): it may hold a message on
 * arrival and hand it back later, and act (crash a server, say) right after a send, a delivery
 * or a disk write. The kernel calls it only when one is installed, so an ordinary run pays one
 * null check per event.
 */
export interface KernelControl {
  /**
   * A message is due at its receiver, before any arrival check. Returning true keeps it: the
   * kernel neither delivers nor drops it until it is given back through {@link Simulation.redeliver}
   * or {@link Simulation.lose}. The control may also crash the receiver here.
   */
  arriving(m: InFlight): boolean;
  /** After the receiver processed a delivered message and its effects were applied. */
  received(m: InFlight): void;
  /** After a server's send effect was handed to the network (whatever the message's fate). */
  sent(from: Sid, to: Sid, msg: Message): void;
  /** After a write reached `stage` on `sid`'s disk, or failed, before the server is told. */
  written(sid: Sid, write: PersistOp, stage: DiskStage | 'failed'): void;
}

interface TimerRec {
  /** When it should fire; null when cancelled or fired. */
  deadline: number | null;
  /** Identity of the one live queue event for this timer. */
  gen: number;
  /** Time of that queue event, or null when none is queued. */
  queuedAt: number | null;
}

/** One server as the kernel sees it: the pure state plus what the kernel keeps for it. */
export interface ServerRuntime {
  readonly sid: Sid;
  state: ServerState;
  /** Process is running. */
  up: boolean;
  /** Incremented at every crash, so events of a previous life are ignored. */
  incarnation: number;
  readonly disk: Disk;
  timers: Map<string, TimerRec>;
  /**
   * With coverage on: the currentEpoch on disk when the server last entered SYNCHRONIZATION, so a
   * crash counts as the flaws' epoch-before-log window only when this sync wrote the epoch (a
   * re-sync with the leader of the epoch it already holds has it on disk from the first sync).
   */
  epochAtSync: number | null;
}

/**
 * Watches a run from inside the kernel (the checkers of src/check): told after every server
 * step and every crash or halt. A monitor only reads.
 */
export interface SimMonitor {
  /** After `input` moved the server from `prev` to `rt.state` and its effects were applied. */
  step(rt: ServerRuntime, prev: ServerState, input: Input, effects: readonly Effect[]): void;
  /** After a crash or halt: the volatile state is gone, `rt.disk.image` is what survived. */
  crashed(rt: ServerRuntime): void;
}

export class Simulation {
  readonly cfg: ClusterConfig;
  readonly rng: RngRoot;
  readonly network: Network;
  readonly servers: ServerRuntime[] = [];
  now = 0;
  /** Queue events processed so far. */
  eventCount = 0;
  /** Trace records emitted so far (the next record's index). */
  traceCount = 0;
  /** Called when a server goes down by itself (halt), so a fault policy can restart it. */
  onHalt: ((sid: Sid) => void) | null = null;
  /** Called with every client reply a server emits. */
  onReply: ((sid: Sid, reply: ClientReply) => void) | null = null;
  /** Called when a server stops serving clients (leaves BROADCAST, crashes or halts). */
  onStopServing: ((sid: Sid) => void) | null = null;
  /** The checkers, when attached. */
  monitor: SimMonitor | null = null;
  /** Set by {@link stop}: runUntil returns after the current event. */
  private stopRequested = false;
  /** Hits per coverage cell (index: probe id of src/protocol/probes.ts), or null when coverage is off. */
  readonly coverage: Uint32Array | null;
  /** Counts a probe into `coverage`; null when coverage is off (every probe site is then one null check). */
  readonly probe: ProbeSink | null;
  /** A scenario's delivery control and fault points, when installed. */
  control: KernelControl | null = null;
  private readonly queue = new EventQueue<SimEvent>();
  /** Per sid: the disk completions held while its fsyncs are held, or null (not held). */
  private readonly heldDisk: (DiskEv[] | null)[] = [];
  /**
   * Held completions given back and not yet processed: a server's later completion that comes due
   * before them waits behind them, as a disk completes its writes in order.
   */
  private readonly releasedDisk = new Set<DiskEv>();
  private eventsThisInstant = 0;
  private nextMsgId = 1;
  /** Per sid, the configuration its steps see: `cfg`, or a copy with the server's own parameters. */
  private readonly cfgs: ClusterConfig[] = [];
  private readonly timerRng;
  private readonly threadRng;
  private readonly stageDelay: DelayDist;
  /** The delay is always 0: nothing is drawn (the default). */
  private readonly stageDelayZero: boolean;
  private readonly commitRng;
  private readonly commitDelay: DelayDist;
  private readonly commitDelayZero: boolean;
  /** The leader's LearnerHandler threads (`handler.<sid>`): the stage delay, drawn from a stream of their own. */
  private readonly handlerRng;
  /** The log writers of leaders and observers: the stage delay, drawn from a stream of their own. */
  private readonly writerRng;
  /** The step contexts `input` reuses, one per level of nesting (a step's effects, or a stage it woke, can start another step). */
  private readonly frames: StepFrame[] = [];
  private depth = 0;

  constructor(
    readonly options: SimOptions,
    private readonly sink: TraceSink | null = null,
  ) {
    this.cfg = makeClusterConfig(options.voters, options.observers ?? 0, options.params, options.flaws);
    for (const sid of allServers(this.cfg)) {
      const own = options.serverParams?.[sid];
      this.cfgs[sid] = own === undefined ? this.cfg : Object.freeze({ ...this.cfg, params: Object.freeze({ ...this.cfg.params, ...own }) });
    }
    this.rng = new RngRoot(options.seed);
    const netCfg = { ...DEFAULT_NETWORK, ...options.network };
    const diskCfg = { ...DEFAULT_DISK, ...options.disk };
    const ids = allServers(this.cfg);
    this.network = new Network(ids.length, netCfg, this.rng.stream('network'));
    const diskRng = this.rng.stream('disk');
    const storageRng = this.rng.stream('storage');
    this.timerRng = this.rng.stream('timers');
    this.threadRng = this.rng.stream('threads');
    this.stageDelay = options.stageDelay ?? NO_STAGE_DELAY;
    const d = this.stageDelay;
    this.stageDelayZero = d.kind === 'constant' ? d.ms === 0 : d.kind === 'uniform' && d.maxMs === 0;
    if (options.coverage === true) {
      const counts = new Uint32Array(PROBES.length);
      this.coverage = counts;
      this.probe = (id: number): void => {
        counts[id] = (counts[id] as number) + 1;
      };
    } else {
      this.coverage = null;
      this.probe = null;
    }
    this.network.probe = this.probe;
    this.commitRng = this.rng.stream('commitThreads');
    this.handlerRng = this.rng.stream('handlerThreads');
    this.writerRng = this.rng.stream('writerThreads');
    this.commitDelay = options.commitDelay ?? NO_STAGE_DELAY;
    const c = this.commitDelay;
    this.commitDelayZero = c.kind === 'constant' ? c.ms === 0 : c.kind === 'uniform' && c.maxMs === 0;
    this.servers.push(undefined as unknown as ServerRuntime); // sids start at 1
    for (const sid of ids) {
      this.servers.push({ sid, state: blankState(sid), up: false, incarnation: 0, disk: new Disk(diskCfg, diskRng, storageRng), timers: new Map(), epochAtSync: null });
    }
  }

  /** Every server id, voters first. */
  get sids(): Sid[] {
    return allServers(this.cfg);
  }

  server(sid: Sid): ServerRuntime {
    const rt = this.servers[sid];
    if (rt === undefined) throw new Error(`no server s${sid} (ensemble has ${this.servers.length - 1})`);
    return rt;
  }

  /** Schedules every server's first start at a time drawn from the startup stream. */
  startAll(): void {
    const spread = this.options.startSpreadMs ?? 0;
    const rng = this.rng.stream('startup');
    for (const sid of this.sids) {
      const at = spread > 0 ? rng.int(0, spread) : 0;
      this.at(at, this.startIfDown, this, sid);
    }
  }

  /** A server's first start, unless a fault schedule has started it already. */
  private startIfDown(sid: Sid): void {
    if (!this.server(sid).up) this.start(sid);
  }

  /**
   * Runs a kernel action at virtual time `time` (>= now): `fn()`, or `fn.call(self, arg)`. The
   * second form serves actions scheduled over and over, run after run: given a method (one
   * function for the whole process) rather than a closure made at each call, their optimised
   * code is not lost when a full collection finds no closure of theirs alive, and not compiled
   * again (docs/scaling.md, "Eleventh session").
   */
  at(time: number, fn: () => void): void;
  at<T, A>(time: number, fn: (this: T, arg: A) => void, self: T, arg: A): void;
  at(time: number, fn: (this: unknown, arg: unknown) => void, self?: unknown, arg?: unknown): void {
    if (time < this.now) throw new Error(`cannot schedule at ${time}, now is ${this.now}`);
    this.queue.push({ kind: 'call', time, seq: 0, fn, self, arg });
  }

  /**
   * Like {@link at}, but ahead of every other event of that instant except the earlier `atFirst`
   * ones. The fault injector's crashes, restarts, partitions and heals, drawn or scheduled, go
   * here, so a drawn fault and the same fault replayed from a schedule (src/run/shrink.ts) meet
   * the events of their millisecond in the same order.
   */
  atFirst(time: number, fn: () => void): void;
  atFirst<T, A>(time: number, fn: (this: T, arg: A) => void, self: T, arg: A): void;
  atFirst(time: number, fn: (this: unknown, arg: unknown) => void, self?: unknown, arg?: unknown): void {
    if (time < this.now) throw new Error(`cannot schedule at ${time}, now is ${this.now}`);
    this.queue.pushFirst({ kind: 'call', time, seq: 0, fn, self, arg });
  }

  /** Processes events until the queue is empty or the next one is after `limit`. */
  runUntil(limit: number): void {
    this.loop(limit, null);
  }

  /**
   * Like {@link runUntil}, but stops right after the first event after which `stop()` holds.
   * Returns true if it stopped for that reason (`now` is then that event's time).
   */
  runUntilTrue(limit: number, stop: () => boolean): boolean {
    if (stop()) return true;
    return this.loop(limit, stop);
  }

  /** Ends the run after the current event (a checker found what it looked for). */
  stop(): void {
    this.stopRequested = true;
  }

  /**
   * Ends the simulation for good, once its results are read: drops the servers (their states and
   * disks), the queued events, and the checkers and callbacks it calls, and stops it (src/run/
   * run.ts `releaseRun` says why). Reading its servers or stepping it afterwards fails.
   */
  release(): void {
    this.stopRequested = true;
    this.servers.length = 0;
    this.queue.clear();
    this.heldDisk.length = 0;
    this.releasedDisk.clear();
    this.monitor = null;
    this.onHalt = null;
    this.onReply = null;
    this.onStopServing = null;
    this.control = null;
  }

  /** True once {@link stop} was called. */
  get stopped(): boolean {
    return this.stopRequested;
  }

  /** The event loop: true when `until` held after an event. */
  private loop(limit: number, until: (() => boolean) | null): boolean {
    const q = this.queue;
    while (!this.stopRequested && q.peekTime() <= limit) {
      const ev = q.pop() as SimEvent;
      if (ev.time === this.now) {
        if (++this.eventsThisInstant > MAX_EVENTS_PER_INSTANT) {
          throw new LivelockError(this.now, `livelock: more than ${MAX_EVENTS_PER_INSTANT} events at virtual time ${this.now}ms without time advancing (a zero-delay message loop, e.g. votes that never settle, or a bug in zabsim)`);
        }
      } else {
        this.eventsThisInstant = 0;
      }
      this.now = ev.time;
      this.eventCount++;
      this.dispatch(ev);
      if (until !== null && until()) return true;
    }
    if (!this.stopRequested && limit !== Infinity && limit > this.now) this.now = limit;
    return false;
  }

  /** Time of the next pending event (Infinity when none). */
  nextEventTime(): number {
    return this.queue.peekTime();
  }

  // -------------------------------------------------------------------------------------------
  // Process control: used by fault injection, scenarios and tests.

  /** Starts (or restarts) a server from its durable image. */
  start(sid: Sid): void {
    const rt = this.server(sid);
    if (rt.up) throw new Error(`s${sid} is already up`);
    rt.up = true;
    rt.state = blankState(sid);
    if (rt.incarnation > 0) this.probe?.(PROBE['fault.restart']);
    this.emit({ type: 'start', sid, restart: rt.incarnation > 0 });
    this.input(rt, { kind: 'start', durable: rt.disk.image });
  }

  /**
   * Crashes a server: volatile state, timers, pending writes and connections are lost. `damage`
   * (a storage fault): the first unsynced log append survives as a torn or corrupt record; by
   * default drawn from the disk's probabilities (none unless they are set).
   */
  crash(sid: Sid, damage: DamagedTail | 'draw' = 'draw'): void {
    const rt = this.server(sid);
    if (!rt.up) throw new Error(`s${sid} is already down`);
    if (this.probe !== null) this.probeCrash(rt, this.probe);
    this.down(rt);
    const before = rt.disk.image.damagedTail;
    const lostWrites = this.diskCrash(rt, damage);
    const tail = rt.disk.image.damagedTail;
    this.emit({ type: 'crash', sid, lostWrites });
    const file = rt.disk.leftCorrupt;
    if (file !== null) this.emit({ type: 'snapfile', sid, zxid: file.zxid, lastTxn: file.lastTxn ?? file.zxid, change: 'corrupt' });
    if (tail !== before && tail !== null) this.emit({ type: 'note', sid, text: `storage fault: the crash left a ${tail} record after ${formatZxid(rt.disk.image.log[rt.disk.image.log.length - 1]?.zxid ?? 0)} in the txn log` });
    this.monitor?.crashed(rt);
  }

  /** The crash cells: a crash, of a leader, and the windows of a learner's sync it lands in. */
  private probeCrash(rt: ServerRuntime, probe: ProbeSink): void {
    const st = rt.state;
    probe(PROBE['fault.crash']);
    if (st.state === 'LEADING') probe(PROBE['fault.crash-leader']);
    const img = rt.disk.image;
    if (img.updatingEpoch) probe(PROBE['window.crash-updating-epoch-marker']);
    const l = st.learner;
    if (l === null || l.phase !== 'sync') return;
    probe(PROBE['window.crash-in-sync']);
    if (l.blocked?.on === 'newleader-epoch') probe(PROBE['window.crash-log-durable-epoch-pending']);
    if (l.sync.newLeaderSeen && img.currentEpoch === l.sync.newEpoch && rt.epochAtSync !== l.sync.newEpoch && (l.blocked?.on === 'newleader-log' || rt.disk.pendingWrites().some((w) => w.write.op === 'appendLog'))) {
      probe(PROBE['window.crash-epoch-durable-log-pending']);
    }
  }

  /** The disk loses its unsynced writes; returns how many. */
  private diskCrash(rt: ServerRuntime, damage: DamagedTail | 'draw' | 'none'): number {
    const lost = rt.disk.crash(this.now, damage);
    if (lost > 0) this.probe?.(PROBE['fault.torn-write']);
    return lost;
  }

  private down(rt: ServerRuntime): void {
    const wasServing = rt.state.up && rt.state.zabState === 'BROADCAST';
    rt.up = false;
    rt.incarnation++;
    rt.timers = new Map();
    rt.state = blankState(rt.sid);
    this.network.crash(rt.sid);
    if (wasServing) this.onStopServing?.(rt.sid);
  }

  /** Blocks the given directed links. */
  partition(links: [Sid, Sid][], desc: string): void {
    for (const [a, b] of links) this.network.setBlocked(a, b, true);
    if (this.probe !== null) this.probe(links.every(([a, b]) => links.some(([c, d]) => c === b && d === a)) ? PROBE['fault.partition'] : PROBE['fault.partition-one-way']);
    this.emit({ type: 'partition', desc, links });
  }

  /** Removes every partition. */
  heal(): void {
    this.network.healAll();
    this.probe?.(PROBE['fault.heal']);
    this.emit({ type: 'heal' });
  }

  /** Adds a fixed delay to one direction of a link. */
  slow(from: Sid, to: Sid, extraMs: number): void {
    this.network.setSlow(from, to, extraMs);
    this.emit({ type: 'slow', from, to, extraMs });
  }

  /**
   * Holds (or releases) the completions of a server's disk: while held, its writes stay pending
   * however long they take; releasing completes those that came due, in order, now.
   */
  holdFsyncs(sid: Sid, held: boolean): void {
    this.server(sid);
    const waiting = this.heldDisk[sid] ?? null;
    if (held) {
      if (waiting === null) this.heldDisk[sid] = [];
      return;
    }
    this.heldDisk[sid] = null;
    for (const ev of waiting ?? []) {
      ev.time = this.now;
      this.releasedDisk.add(ev);
      this.queue.push(ev);
    }
  }

  /** Whether completions of `sid`'s disk that were held are given back and not yet processed. */
  private releasing(sid: Sid): boolean {
    for (const ev of this.releasedDisk) if (ev.sid === sid && this.server(sid).incarnation === ev.inc) return true;
    return false;
  }

  /** A storage fault: the next write of kind `op` that `sid` submits fails (the server is told `writeFailed`). */
  failNextWrite(sid: Sid, op: FailingOp): void {
    this.server(sid).disk.failNext(op);
  }

  /** A storage fault: `sid`'s disk is full (until `untilMs`, or until {@link freeDisk}). */
  fillDisk(sid: Sid, untilMs = Infinity): void {
    this.server(sid).disk.fill(untilMs);
    this.emit({ type: 'note', sid, text: untilMs === Infinity ? 'storage fault: the disk is full' : `storage fault: the disk is full until ${untilMs}ms` });
  }

  /** `sid`'s disk has space again. */
  freeDisk(sid: Sid): void {
    this.server(sid).disk.free();
    this.emit({ type: 'note', sid, text: 'the disk has space again' });
  }

  /**
   * An operator removes the corrupt record at the end of a down server's txn log (the one that
   * fails its CRC), so that it can start. Returns whether there was one.
   */
  repairDisk(sid: Sid): boolean {
    const rt = this.server(sid);
    if (rt.up) throw new Error(`s${sid} is up: repair its disk while it is down`);
    // No snapshot reads back ("Not able to find valid snapshots"): the operator deletes them.
    const gone = validSnapshotIndex(rt.disk.image.snapshots) === -1 ? rt.disk.removeCorruptSnapshots() : [];
    for (const file of gone) this.emit({ type: 'snapfile', sid, zxid: file.zxid, lastTxn: file.lastTxn ?? file.zxid, change: 'removed' });
    if (!rt.disk.repairTail()) return gone.length > 0;
    this.emit({ type: 'note', sid, text: 'operator: removed the corrupt record at the end of the txn log' });
    return true;
  }

  /**
   * A storage fault: the newest snapshot file on `sid`'s disk that still reads back (or the one
   * labelled `zxid`, or `all` of them) fails its CRC from now on. Returns its label (the newest's
   * for `all`), or null when the disk holds no such snapshot.
   */
  corruptSnapshot(sid: Sid, zxid?: number | 'all'): number | null {
    const r = this.server(sid).disk.corruptSnapshot(zxid);
    if (r === null) return null;
    for (const file of r.corrupted) this.emit({ type: 'snapfile', sid, zxid: file.zxid, lastTxn: file.lastTxn ?? file.zxid, change: 'corrupt' });
    return r.zxid;
  }

  /**
   * Hands a message held by the control back: it arrives now, at once (the arrival checks apply:
   * a reset connection or a down receiver drops it). Call between events, not from a hook.
   */
  redeliver(m: InFlight): void {
    this.arrive(m as DeliverEv);
  }

  /**
   * A fault: the quorum connection between learner `a` and leader `b` resets now, as a loss would
   * reset it (in-flight packets both ways are gone, both ends are told). Nothing happens when it
   * is already closed. Call between events.
   */
  resetQuorum(a: Sid, b: Sid, why: string): void {
    if (!this.network.isOpen(a, b) || !this.network.isOpen(b, a)) return;
    this.emit({ type: 'note', sid: b, text: `fault: the quorum connection with ${serverName(a)} resets (${why})` });
    for (const [x, y] of this.network.lose(a, b, 'quorum')) this.sendClose(y, x);
  }

  /** A message held by the control is lost now, like a network loss: its connection resets. */
  lose(m: InFlight): void {
    const ev = m as DeliverEv;
    const reason = !this.server(ev.to).up ? 'receiver-down' : this.network.generation(ev.from, ev.to, ev.lane) !== ev.gen ? 'connection-reset' : null;
    this.probe?.(DROP_PROBE[reason ?? 'loss']);
    this.emit({ type: 'drop', from: ev.from, to: ev.to, id: ev.id, msg: ev.msg, reason: reason ?? 'loss' });
    if (reason === null) for (const [a, b] of this.network.lose(ev.from, ev.to, ev.lane)) this.sendClose(b, a);
  }

  /**
   * A crafted message enters the network now as if `from` had sent it (a scenario's `inject`):
   * traced as a send after a note that says so, then delayed, lost, held or refused by a closed
   * connection like any message `from` sends. Call between events.
   */
  inject(from: Sid, to: Sid, msg: Message): void {
    this.server(from);
    this.server(to);
    this.emit({ type: 'note', sid: from, text: `injected by the scenario: ${msg.type} to ${serverName(to)}` });
    this.send(from, to, msg);
  }

  /** A note in the trace about `sid`, from outside the protocol (a scenario saying what it changed). */
  annotate(sid: Sid, text: string): void {
    this.emit({ type: 'note', sid, text });
  }

  /** The server's role thread fails now (a scenario's `force sN LOOKING`): it goes LOOKING. */
  failRole(sid: Sid, reason: string): void {
    const rt = this.server(sid);
    if (rt.up) this.input(rt, { kind: 'roleFailed', reason });
  }

  /** A client request arriving at a server now. */
  clientRequest(sid: Sid, request: ClientRequest): void {
    const rt = this.server(sid);
    this.emit({ type: 'client', sid, request });
    if (rt.up) this.input(rt, { kind: 'clientRequest', request });
  }

  // -------------------------------------------------------------------------------------------
  // Events

  private dispatch(ev: SimEvent): void {
    switch (ev.kind) {
      case 'deliver':
        this.deliver(ev);
        return;
      case 'close':
        this.deliverClose(ev);
        return;
      case 'timer':
        this.fireTimer(ev);
        return;
      case 'disk':
        this.diskDone(ev);
        return;
      case 'stage': {
        const rt = this.server(ev.sid);
        if (rt.up && rt.incarnation === ev.inc) this.input(rt, { kind: 'stage', stage: ev.stage });
        return;
      }
      case 'call':
        ev.fn.call(ev.self, ev.arg);
        return;
    }
  }

  private deliver(ev: DeliverEv): void {
    if (this.control !== null && this.control.arriving(ev)) return;
    this.arrive(ev);
  }

  private arrive(ev: DeliverEv): void {
    const rt = this.server(ev.to);
    const reason = !rt.up ? 'receiver-down' : this.network.arrive(ev.from, ev.to, ev.lane, ev.gen);
    if (reason !== null) {
      this.probe?.(DROP_PROBE[reason]);
      this.emit({ type: 'drop', from: ev.from, to: ev.to, id: ev.id, msg: ev.msg, reason });
      return;
    }
    if (this.sink === null) this.traceCount++;
    else this.emit({ type: 'deliver', from: ev.from, to: ev.to, id: ev.id, msg: ev.msg });
    if (opensConnection(ev.msg)) this.network.accept(ev.from, ev.to);
    this.input(rt, { kind: 'message', from: ev.from, msg: ev.msg });
    this.control?.received(ev);
  }

  private deliverClose(ev: Extract<SimEvent, { kind: 'close' }>): void {
    const rt = this.server(ev.to);
    const msg = { type: 'CLOSE' } as const;
    const reason = !rt.up ? 'receiver-down' : this.network.generation(ev.from, ev.to, 'quorum') !== ev.gen ? 'connection-reset' : this.network.isBlocked(ev.from, ev.to) ? 'partition' : null;
    if (reason !== null) {
      this.probe?.(DROP_PROBE[reason]);
      this.emit({ type: 'drop', from: ev.from, to: ev.to, id: ev.id, msg, reason });
      return;
    }
    this.emit({ type: 'deliver', from: ev.from, to: ev.to, id: ev.id, msg });
    this.input(rt, { kind: 'disconnected', peer: ev.from });
  }

  private fireTimer(ev: Extract<SimEvent, { kind: 'timer' }>): void {
    const rt = this.server(ev.sid);
    if (!rt.up || rt.incarnation !== ev.inc) return;
    const rec = rt.timers.get(ev.name);
    if (rec === undefined || rec.gen !== ev.gen) return;
    rec.queuedAt = null;
    if (rec.deadline === null) return;
    if (rec.deadline > this.now) {
      // Re-armed later since this event was queued: move it (one queued event per timer).
      this.queueTimer(rt, ev.name, rec);
      return;
    }
    rec.deadline = null;
    if (this.sink === null) this.traceCount++;
    else this.emit({ type: 'timer', sid: rt.sid, timer: ev.name });
    this.input(rt, { kind: 'timer', timer: ev.name });
  }

  private diskDone(ev: DiskEv): void {
    const rt = this.server(ev.sid);
    if (this.releasedDisk.size > 0 && !this.releasedDisk.delete(ev) && rt.incarnation === ev.inc && this.releasing(ev.sid)) {
      this.queue.push(ev);
      return;
    }
    if (rt.incarnation !== ev.inc) return;
    const held = this.heldDisk[ev.sid];
    if (held !== undefined && held !== null) {
      held.push(ev);
      return;
    }
    if (rt.disk.droppedCompletion(ev.token)) return;
    const p = rt.disk.pendingWrites()[0];
    if (p === undefined) throw new Error(`s${rt.sid}: disk completion for token ${ev.token} with nothing pending`);
    if (p.fails !== undefined) {
      rt.disk.complete(ev.token);
      this.probe?.(PROBE['fault.disk-fail']);
      this.emit({ type: 'diskfail', sid: rt.sid, token: ev.token, write: p.write, reason: p.fails });
      this.control?.written(rt.sid, p.write, 'failed');
      if (rt.up) this.input(rt, { kind: 'writeFailed', token: ev.token, write: p.write, durable: rt.disk.image });
      return;
    }
    const stage = p.stages[0]?.stage ?? 'done';
    const durable = rt.disk.complete(ev.token);
    if (this.sink === null) this.traceCount++;
    else this.emit({ type: 'fsync', sid: rt.sid, token: ev.token, write: p.write, stage });
    this.control?.written(rt.sid, p.write, stage);
    if (durable && rt.up) this.input(rt, { kind: 'fsyncDone', token: ev.token });
  }

  // -------------------------------------------------------------------------------------------
  // Steps and effects

  private input(rt: ServerRuntime, input: Input): void {
    const prev = rt.state;
    if (this.probe !== null) {
      const cell = stepCell(prev.state, prev.zabState, input.kind);
      if (cell >= 0) this.probe(cell);
    }
    const frame = this.frames[this.depth] ?? this.addFrame();
    this.depth++;
    try {
      frame.cfg = this.cfgs[rt.sid] as ClusterConfig;
      frame.sid = rt.sid;
      const state = stepWith(frame, prev, input);
      const effects = frame.effects;
      rt.state = state;
      if (this.probe !== null && state.zabState === 'SYNCHRONIZATION' && (prev.zabState !== 'SYNCHRONIZATION' || prev.role !== state.role)) rt.epochAtSync = rt.disk.image.currentEpoch;
      for (const e of effects) if (e.kind === 'note') this.emit({ type: 'note', sid: rt.sid, text: e.text });
      if (state.up) this.traceChanges(prev, state);
      // A server that stops serving (new role, new leader, or a halt) closes its client connections.
      if (prev.up && prev.zabState === 'BROADCAST' && (!state.up || state.zabState !== 'BROADCAST' || state.role !== prev.role)) this.onStopServing?.(rt.sid);
      for (const e of effects) this.apply(rt, e, frame);
      this.monitor?.step(rt, prev, input, effects);
      // The stages this step woke without delay run right after it, in order, each a step one
      // level deeper (their own stages run inside them).
      const stages = frame.stages;
      for (let i = 0; i < stages.length; i++) if (rt.up) this.input(rt, { kind: 'stage', stage: stages[i] as StageName });
    } finally {
      frame.clear();
      this.depth--;
    }
  }

  private addFrame(): StepFrame {
    const frame = new StepFrame(this.cfg, this.probe);
    this.frames.push(frame);
    return frame;
  }

  private traceChanges(prev: ServerState, next: ServerState): void {
    const leader = leaderOf(next);
    const prevLeader = leaderOf(prev);
    if (!prev.up || prev.state !== next.state || prev.zabState !== next.zabState || leader !== prevLeader) {
      this.emit({ type: 'state', sid: next.sid, state: next.state, zabState: next.zabState, leader });
    }
    const a = prev.fle;
    const b = next.fle;
    if (a !== b && (a.logicalclock !== b.logicalclock || a.proposedLeader !== b.proposedLeader || a.proposedZxid !== b.proposedZxid || a.proposedEpoch !== b.proposedEpoch)) {
      this.emit({ type: 'vote', sid: next.sid, round: b.logicalclock, leader: b.proposedLeader, zxid: b.proposedZxid, peerEpoch: b.proposedEpoch });
    }
  }

  private apply(rt: ServerRuntime, e: Effect, frame: StepFrame): void {
    if (!rt.up) return; // a halt earlier in this step ended the process
    switch (e.kind) {
      case 'send':
        this.send(rt.sid, e.to, e.msg);
        return;
      case 'persist': {
        if (this.sink === null) this.traceCount++;
        else this.emit({ type: 'persist', sid: rt.sid, token: e.token, write: e.write });
        const p = rt.disk.submit(this.now, e.token, e.write);
        for (const s of p.stages) this.queue.push({ kind: 'disk', time: s.time, seq: 0, sid: rt.sid, inc: rt.incarnation, token: e.token });
        return;
      }
      case 'setTimer':
        this.setTimer(rt, e.timer, e.delayMs + (e.jitterMs !== undefined && e.jitterMs > 0 ? Math.floor(this.timerRng.next() * e.jitterMs) : 0));
        return;
      case 'cancelTimer': {
        const rec = rt.timers.get(e.timer);
        if (rec !== undefined) rec.deadline = null;
        return;
      }
      case 'disconnect':
        this.close(rt.sid, e.peer);
        return;
      case 'reply':
        this.emit({ type: 'reply', sid: rt.sid, reply: e.reply });
        this.onReply?.(rt.sid, e.reply);
        return;
      case 'note':
        return; // traced before the state change
      case 'wake': {
        if (e.stage === 'commitProcessor') {
          if (this.commitDelayZero) frame.stages.push(e.stage);
          else this.queue.push({ kind: 'stage', time: this.now + drawMs(this.commitRng, this.commitDelay), seq: 0, sid: rt.sid, inc: rt.incarnation, stage: e.stage });
          return;
        }
        if (e.stage !== 'logWriter' && e.stage !== 'protocol') {
          // A LearnerHandler thread: without a delay it runs right after the step that woke it.
          if (this.stageDelayZero) frame.stages.push(e.stage);
          else this.queue.push({ kind: 'stage', time: this.now + drawMs(this.handlerRng, this.stageDelay), seq: 0, sid: rt.sid, inc: rt.incarnation, stage: e.stage });
          return;
        }
        if (e.stage === 'logWriter' && (rt.state.leader !== null || rt.state.state === 'OBSERVING')) {
          // The SyncRequestProcessor of a leader (its proposals) or an observer (its INFORMs):
          // without a delay it runs right after the step that woke it, as these servers logged in
          // that step before their writers were stages.
          if (this.stageDelayZero) frame.stages.push(e.stage);
          else this.queue.push({ kind: 'stage', time: this.now + drawMs(this.writerRng, this.stageDelay), seq: 0, sid: rt.sid, inc: rt.incarnation, stage: e.stage });
          return;
        }
        const delay = this.stageDelayZero ? 0 : drawMs(this.threadRng, this.stageDelay);
        this.queue.push({ kind: 'stage', time: this.now + delay, seq: 0, sid: rt.sid, inc: rt.incarnation, stage: e.stage });
        return;
      }
      case 'dropWrites':
        rt.disk.drop(e.afterToken);
        return;
      case 'halt':
        this.down(rt);
        this.probe?.(PROBE['fault.halt']);
        this.emit({ type: 'halt', sid: rt.sid, reason: e.reason });
        this.emit({ type: 'crash', sid: rt.sid, lostWrites: this.diskCrash(rt, 'none') });
        this.monitor?.crashed(rt);
        this.onHalt?.(rt.sid);
        return;
    }
  }

  private send(from: Sid, to: Sid, msg: Message): void {
    const id = this.nextMsgId++;
    if (this.sink === null) this.traceCount++;
    else this.emit({ type: 'send', from, to, id, msg });
    if (this.servers[to] === undefined) throw new Error(`s${from} sent ${msg.type} to unknown server ${to}`);
    const out = this.network.send(this.now, from, to, msg);
    if (!out.ok) {
      this.probe?.(DROP_PROBE[out.reason]);
      this.emit({ type: 'drop', from, to, id, msg, reason: out.reason });
      for (const [a, b] of out.notify) this.sendClose(b, a);
      this.control?.sent(from, to, msg);
      return;
    }
    const lane = laneOf(msg);
    this.queue.push({ kind: 'deliver', time: out.at, seq: 0, from, to, lane, gen: out.gen, msg, id });
    if (out.again !== null) this.queue.push({ kind: 'deliver', time: out.again, seq: 0, from, to, lane, gen: out.gen, msg, id });
    this.control?.sent(from, to, msg);
  }

  /** `from` closes its quorum connection with `to`: in-flight packets die, `to` is told. */
  private close(from: Sid, to: Sid): void {
    this.network.closeQuorum(from, to);
    this.sendClose(from, to);
  }

  /** A close notice from → to on the current generation of that connection. */
  private sendClose(from: Sid, to: Sid): void {
    const id = this.nextMsgId++;
    const msg = { type: 'CLOSE' } as const;
    this.emit({ type: 'send', from, to, id, msg });
    const gen = this.network.generation(from, to, 'quorum');
    const time = this.now + this.network.drawDelay(from, to);
    this.queue.push({ kind: 'close', time, seq: 0, from, to, gen, id });
  }

  private setTimer(rt: ServerRuntime, name: string, delayMs: number): void {
    if (!(delayMs >= 0)) throw new Error(`s${rt.sid} set timer ${name} with delay ${delayMs}ms`);
    const deadline = this.now + delayMs;
    let rec = rt.timers.get(name);
    if (rec === undefined) {
      rec = { deadline: null, gen: 0, queuedAt: null };
      rt.timers.set(name, rec);
    }
    rec.deadline = deadline;
    // An already queued event no later than the new deadline is reused: it re-queues on pop.
    if (rec.queuedAt !== null && rec.queuedAt <= deadline) return;
    this.queueTimer(rt, name, rec);
  }

  private queueTimer(rt: ServerRuntime, name: string, rec: TimerRec): void {
    const time = rec.deadline as number;
    rec.gen++;
    rec.queuedAt = time;
    this.queue.push({ kind: 'timer', time, seq: 0, sid: rt.sid, inc: rt.incarnation, name, gen: rec.gen });
  }

  /**
   * Numbers a trace record and hands it to the sink. The per-event call sites (send, deliver,
   * timer, persist, fsync) only count when no sink is attached, so that no record is built.
   */
  private emit(body: TraceBody): void {
    const i = this.traceCount++;
    if (this.sink !== null) this.sink(Object.assign({ i, t: this.now }, body) as TraceEvent);
  }

  /** Names used in messages about this run. */
  name(sid: Sid): string {
    return serverName(sid);
  }
}

/**
 * A step context the kernel reuses: `input` fills in the server, steps, applies the effects, runs
 * the stages they woke without delay (`stages`), then empties the lists. They are emptied by
 * `pop`, which keeps an array's backing store (setting `length = 0` frees it in V8, and the next
 * step's first push would allocate it again), and which drops the references, so a long-lived
 * frame keeps no effect or copied object alive. Emptied frames hold nothing of a run but its
 * configuration, so `release` leaves them.
 */
class StepFrame implements StepContext {
  sid: Sid = 0;
  readonly effects: Effect[] = [];
  readonly owned: object[] = [];
  /** The stages this step woke that run right after it, in order (a stage woken without delay). */
  readonly stages: StageName[] = [];

  constructor(
    public cfg: ClusterConfig,
    readonly probe: ProbeSink | null,
  ) {}

  clear(): void {
    const effects = this.effects;
    while (effects.length > 0) effects.pop();
    const owned = this.owned;
    while (owned.length > 0) owned.pop();
    const stages = this.stages;
    while (stages.length > 0) stages.pop();
  }
}
