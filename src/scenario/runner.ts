/**
 * Runs a parsed scenario on a fresh Simulation: setup, then each command in order at the current
 * virtual time, stopping at the first expectation that fails. Commands act between events; the
 * precise points (crash after a send, a receive, an fsync) act inside the kernel through
 * {@link ScenarioControl}. Nothing here reads files or the terminal: the CLI and the tests do.
 */
import { attachCheckers, type Checkers, type Violation } from '../check/index.ts';
import { serverName, type Sid } from '../protocol/config.ts';
import type { ClientRequest } from '../protocol/types.ts';
import type { TraceEvent, TraceSink } from '../sim/events.ts';
import { LivelockError, Simulation, type SimOptions } from '../sim/kernel.ts';
import { ScenarioControl } from './control.ts';
import { evaluate, Failed, type RunView } from './evaluate.ts';
import { writePreload } from './preload.ts';
import { emptyImage } from '../sim/disk.ts';
import { EMPTY_TREE } from '../protocol/datatree.ts';
import { counterOf, epochOf, formatZxid, zxid } from '../protocol/zxid.ts';
import type { Message } from '../protocol/types.ts';
import { Replies, roleOf, stateTable, TraceLog } from './state.ts';
import type { ClientOp, Command, Force, Scenario, Source } from './types.ts';

export interface ScenarioOptions {
  /** Also receives every trace record as it is emitted (for --trace). */
  readonly sink?: TraceSink;
}

/** Why a scenario failed: the line, and the state that broke it. */
export interface ScenarioFailure {
  readonly src: Source;
  /** One sentence: what was expected and what was found. */
  readonly message: string;
  /** The servers' state table at the failure. */
  readonly state: string;
  readonly t: number;
}

export interface ScenarioResult {
  readonly failure: ScenarioFailure | null;
  readonly trace: readonly TraceEvent[];
  readonly sim: Simulation;
  /** What the safety checkers found (a bug scenario expects some). */
  readonly violations: readonly Violation[];
}


interface Session {
  readonly client: number;
  readonly id: number;
  readonly sid: Sid;
}

/** Client number of operations outside any session; named sessions get 2, 3, ... */
const ANON_CLIENT = 1;

/** Runs a scenario to its end or its first failure. */
export function runScenario(sc: Scenario, opts: ScenarioOptions = {}): ScenarioResult {
  return new Runner(sc, opts).run();
}

class Runner implements RunView {
  readonly sim: Simulation;
  readonly log = new TraceLog();
  private readonly control: ScenarioControl;
  readonly replies = new Replies();
  readonly checkers: Checkers;
  private readonly sessions = new Map<string, Session>();
  private readonly cxids: number[] = [];
  readonly marks = new Map<string, number>();
  private readonly started = new Set<Sid>();

  constructor(
    private readonly sc: Scenario,
    opts: ScenarioOptions,
  ) {
    const s = sc.setup;
    const options: SimOptions = {
      seed: s.seed,
      voters: s.voters,
      observers: s.observers,
      params: s.params,
      flaws: s.flaws,
      serverParams: s.serverParams,
      ...(s.delay !== null ? { network: { delay: s.delay } } : {}),
      ...(s.threads !== null ? { stageDelay: s.threads } : {}),
      ...(s.fsync !== null || s.rename !== null ? { disk: { ...(s.fsync !== null ? { fsyncLatency: s.fsync } : {}), ...(s.rename !== null ? { renameLatency: s.rename } : {}) } } : {}),
    };
    const extra = opts.sink;
    const sink: TraceSink = extra === undefined ? this.log.sink : (e) => (this.log.sink(e), extra(e));
    this.sim = new Simulation(options, sink);
    // The safety checkers watch every event from the first start (src/check).
    this.checkers = attachCheckers(this.sim);
    this.control = new ScenarioControl(this.sim);
    this.sim.control = this.control;
    this.sim.onReply = (_sid, reply) => this.replies.onReply(reply);
    this.sim.onStopServing = (sid) => this.replies.abandon(sid);
    for (const p of s.preload) writePreload(this.sim.server(p.sid).disk.image, p);
  }

  run(): ScenarioResult {
    try {
      for (const c of this.sc.commands) this.execOrLivelock(c);
      for (const t of this.control.triggers) {
        if (!t.fired) throw new Failed(t.src, `the crash point never came: ${serverName(t.sid)} did not reach '${t.src.text.replace(/^(crash|restart)\s+s\d+\s+/, '')}'`);
      }
      return { failure: null, trace: this.log.events, sim: this.sim, violations: this.checkers.violations };
    } catch (e) {
      if (!(e instanceof Failed)) throw e;
      const held = this.control.held.map((m) => `${serverName(m.from)} -> ${serverName(m.to)} ${m.msg.type} #${m.id}`);
      const armed = this.control.triggers.filter((t) => !t.fired).map((t) => `line ${t.src.line}: ${t.src.text}`);
      const extra = [
        held.length > 0 ? `held messages: ${held.join(', ')}` : '',
        this.control.holdTexts().length > 0 ? `holding: ${this.control.holdTexts().join('; ')}` : '',
        armed.length > 0 ? `armed crash points: ${armed.join('; ')}` : '',
      ].filter((x) => x !== '');
      return { failure: { src: e.src, message: e.detail, state: [stateTable(this.sim), ...extra].join('\n'), t: this.sim.now }, trace: this.log.events, sim: this.sim, violations: this.checkers.violations };
    }
  }

  /**
   * A livelock (time stopped advancing, e.g. FLE under the ZOOKEEPER-1419 flaw) fails the line
   * that ran into it. So does an internal error after a `force` or an `inject`: the scenario put
   * a server in a state the protocol asserts cannot happen, which is the scenario's doing; without
   * one, an internal error is a bug in zabsim and propagates.
   */
  private execOrLivelock(c: Command): void {
    try {
      this.exec(c);
    } catch (e) {
      if (e instanceof LivelockError) throw new Failed(c.src, `the run livelocked: ${e.message}`);
      if (e instanceof Failed || this.tampered === null || !(e instanceof Error)) throw e;
      throw new Failed(c.src, `zabsim's protocol code refused the state the scenario made (line ${this.tampered.line}: ${this.tampered.text}): ${e.message}`);
    }
  }

  /** The last `force` or `inject` line that ran: what made the state something no run reaches. */
  private tampered: Source | null = null;

  private exec(c: Command): void {
    const sim = this.sim;
    switch (c.kind) {
      case 'start': {
        const sids = c.sids.length > 0 ? c.sids : sim.sids.filter((s) => !this.started.has(s));
        if (sids.length === 0) throw new Failed(c.src, 'expected a server that has not started yet: every server has started');
        for (const sid of sids) {
          if (sim.server(sid).up) throw new Failed(c.src, `expected ${serverName(sid)} to be down before starting it, but it is up`);
          this.started.add(sid);
          sim.start(sid);
        }
        return;
      }
      case 'restart':
        for (const sid of c.sids) {
          if (sim.server(sid).up) sim.crash(sid);
          this.started.add(sid);
          sim.start(sid);
        }
        return;
      case 'crash':
        if (c.point !== null) {
          this.control.arm(c.sid, c.point, c.src, c.restart);
          return;
        }
        if (!sim.server(c.sid).up) throw new Failed(c.src, `expected ${serverName(c.sid)} to be up before crashing it, but it is down`);
        if (c.damage !== undefined) {
          sim.crash(c.sid, c.damage);
          if (sim.server(c.sid).disk.image.damagedTail !== c.damage) throw new Failed(c.src, `expected an unsynced log append on ${serverName(c.sid)} to leave a ${c.damage} record, but none was pending right after its durable log`);
          return;
        }
        sim.crash(c.sid);
        return;
      case 'partition':
        sim.partition(c.links.map(([a, b]) => [a, b]), c.desc);
        return;
      case 'heal':
        sim.heal();
        return;
      case 'slow':
        sim.slow(c.from, c.to, c.extraMs);
        return;
      case 'failWrite':
        sim.failNextWrite(c.sid, c.op);
        return;
      case 'disk':
        if (c.full) sim.fillDisk(c.sid);
        else sim.freeDisk(c.sid);
        return;
      case 'repair':
        if (sim.server(c.sid).up) throw new Failed(c.src, `expected ${serverName(c.sid)} to be down before repairing its disk, but it is up`);
        if (!sim.repairDisk(c.sid)) throw new Failed(c.src, `expected a corrupt record at the end of ${serverName(c.sid)}'s txn log, or snapshots none of which reads back, to remove, but its disk has neither`);
        return;
      case 'corruptSnapshot':
        if (sim.corruptSnapshot(c.sid, c.zxid ?? undefined) === null) {
          throw new Failed(c.src, `expected ${serverName(c.sid)}'s disk to hold ${c.zxid === null ? 'a snapshot that reads back' : c.zxid === 'all' ? 'snapshots' : `a snapshot labelled ${formatZxid(c.zxid)}`} to corrupt, but it holds ${sim.server(c.sid).disk.image.snapshots.map((x) => `snapshot.${formatZxid(x.zxid)}`).join(', ') || 'none'}`);
        }
        return;
      case 'hold':
        this.control.hold(c.pat);
        return;
      case 'release':
        if (this.control.release(c.pat) < 0) throw new Failed(c.src, `expected a hold on '${c.pat?.text}' to release; holding: ${this.control.holdTexts().join('; ') || 'nothing'}`);
        return;
      case 'deliver':
        if (this.control.deliver(c.pat) === 0) throw new Failed(c.src, `expected a held message matching '${c.pat.text}' to deliver; held: ${this.heldText()}`);
        return;
      case 'drop':
        if (this.control.drop(c.pat) === 0) throw new Failed(c.src, `expected a held message matching '${c.pat.text}' to drop; held: ${this.heldText()}`);
        return;
      case 'holdFsync':
      case 'releaseFsync':
        sim.holdFsyncs(c.sid, c.kind === 'holdFsync');
        return;
      case 'run': {
        const until = c.untilMs ?? sim.now + (c.forMs as number);
        if (until < sim.now) throw new Failed(c.src, `expected a time after now, but virtual time is already ${sim.now}ms`);
        sim.runUntil(until);
        return;
      }
      case 'stabilize': {
        const limit = sim.now + c.withinMs;
        if (!sim.runUntilTrue(limit, () => evaluate(this, c.until, c.src).ok)) {
          throw new Failed(c.src, `expected ${c.until.kind === 'quiet' ? 'the cluster to become quiet' : `'${c.src.text.replace(/^stabilize\s+until\s+/, '').replace(/\s+within\s+\S+$/, '')}'`} within ${c.withinMs}ms, but at ${sim.now}ms: ${evaluate(this, c.until, c.src).found}`);
        }
        return;
      }
      case 'mark':
        this.marks.set(c.name, this.log.events.length);
        return;
      case 'client':
        this.client(c.op);
        return;
      case 'expect': {
        const r = evaluate(this, c.pred, c.src);
        if (!r.ok) throw new Failed(c.src, r.found);
        return;
      }
      case 'inject': {
        this.tampered = c.src;
        let msg: Message = c.msg.msg;
        if (msg.type === 'SNAP') {
          const of = c.msg.snapTreeOf ?? null;
          if (of !== null && !sim.server(of).up) throw new Failed(c.src, `expected ${serverName(of)} to be up to send its data tree, but it is down`);
          msg = { ...msg, tree: of === null ? EMPTY_TREE : sim.server(of).state.db.tree };
        }
        this.log.injecting = true;
        try {
          sim.inject(c.from, c.to, msg);
        } finally {
          this.log.injecting = false;
        }
        return;
      }
      case 'force':
        this.tampered = c.src;
        this.force(c.sid, c.what, c.src);
        return;
      case 'wipe': {
        const rt = sim.server(c.sid);
        if (rt.up) throw new Failed(c.src, `expected ${serverName(c.sid)} to be down before wiping its disk, but it is up`);
        Object.assign(rt.disk.image, emptyImage());
        sim.annotate(c.sid, 'disk wiped by the scenario: a fresh data directory');
        return;
      }
    }
  }

  /** `force`: overwrite part of a running server's memory between two events. */
  private force(sid: Sid, what: Force, src: Source): void {
    const rt = this.sim.server(sid);
    if (!rt.up) throw new Failed(src, `expected ${serverName(sid)} to be up to change its memory, but it is down`);
    switch (what.kind) {
      case 'looking':
        this.sim.failRole(sid, 'the scenario failed its role (force LOOKING)');
        return;
      case 'zxidCounter': {
        const l = rt.state.leader;
        if (rt.state.state !== 'LEADING' || l === null) throw new Failed(src, `expected ${serverName(sid)} to lead to set its zxid counter, but ${roleOf(this.sim, sid).replace(/^s\d+ /, 'it ')}`);
        // A zxid is never reused: the log could not take it (TxnLog.append), nor could ZooKeeper's.
        if (what.counter < counterOf(l.lastProposed)) throw new Failed(src, `expected a counter of at least ${counterOf(l.lastProposed)}: ${serverName(sid)} already proposed ${formatZxid(l.lastProposed)}`);
        rt.state = { ...rt.state, leader: { ...l, lastProposed: zxid(epochOf(l.lastProposed), what.counter) } };
        this.sim.annotate(sid, `forced by the scenario: zxid counter := ${what.counter} (next proposal ${formatZxid(zxid(epochOf(l.lastProposed), what.counter + 1))})`);
        return;
      }
      case 'epoch':
        rt.state = { ...rt.state, [what.file]: what.value };
        this.sim.annotate(sid, `forced by the scenario: ${what.file} := ${what.value} in memory`);
        return;
      case 'vote':
        {
          const f = rt.state.fle;
          rt.state = {
            ...rt.state,
            fle: {
              ...f,
              proposedLeader: what.leader ?? f.proposedLeader,
              proposedZxid: what.zxid ?? f.proposedZxid,
              proposedEpoch: what.peerEpoch ?? f.proposedEpoch,
              logicalclock: what.round ?? f.logicalclock,
            },
          };
        }
        {
          const f = rt.state.fle;
          this.sim.annotate(sid, `forced by the scenario: vote (${serverName(f.proposedLeader)}, ${formatZxid(f.proposedZxid)}, ${f.proposedEpoch}) round ${f.logicalclock}`);
        }
        return;
    }
  }

  private heldText(): string {
    return this.control.held.length === 0 ? 'nothing' : this.control.held.map((m) => `${serverName(m.from)} -> ${serverName(m.to)} ${m.msg.type}`).join(', ');
  }

  private client(op: ClientOp): void {
    let client = ANON_CLIENT;
    let session = 0;
    let sid = op.sid;
    if (op.op === 'createSession') {
      client = this.sessions.size + 2;
      session = client * 1_000_000 + 1;
      this.sessions.set(op.session as string, { client, id: session, sid });
    } else if (op.session !== null) {
      const s = this.sessions.get(op.session) as Session;
      client = s.client;
      session = s.id;
      if (sid === 0) sid = s.sid;
    }
    const cxid = (this.cxids[client] ?? 0) + 1;
    this.cxids[client] = cxid;
    const req: ClientRequest = {
      client,
      cxid,
      session,
      op: op.op,
      path: op.path,
      ...(op.data !== undefined ? { data: op.data } : {}),
      ...(op.ephemeral === true ? { ephemeral: true } : {}),
      ...(op.sequential === true ? { sequential: true } : {}),
      ...(op.op === 'createSession' ? { timeoutMs: op.timeoutMs ?? 30_000 } : {}),
    };
    if (this.sim.server(sid).up) this.replies.sent(sid, client, cxid, op.label);
    this.sim.clientRequest(sid, req);
  }
}
