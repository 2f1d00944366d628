/**
 * Every property of docs/checkers.md proven to fire, and not to fire (issue 12 §1): one describe
 * per property, each with a firing case and a near miss, the firing case asserting the servers,
 * zxids and trace record the report names. docs/checkers.md's table "Which test proves which
 * property" points here.
 *
 * A firing case is one of three kinds:
 * - **a run** (a scenario, or a run with a flaw): the protocol itself breaks the property;
 * - **a mutated run**: a real run in which one server's state is altered after its steps, as a
 *   protocol bug would alter it (`mutateAfterSteps`), so the run goes on from the broken state;
 * - **a crafted step**: the checker is told of one step the protocol never takes (`inject`),
 *   from a state a real run reached. Used where no run of the correct protocol can get there,
 *   which is the point of the property.
 * Client properties are fed crafted histories, as the history checker sees them.
 */
import { produce } from 'immer';
import { setStateFreezing } from '../../src/protocol/cow.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientChecker } from '../../src/check/clients.ts';
import { Ghost } from '../../src/check/ghost.ts';
import type { PropertyName, Violation } from '../../src/check/properties.ts';
import { SafetyChecker } from '../../src/check/safety.ts';
import type { Sid } from '../../src/protocol/config.ts';
import type { Txn } from '../../src/protocol/datatree.ts';
import { applyCommitted, Db, logTxn, truncateAndReload } from '../../src/protocol/db.ts';
import type { Effect, Input, LogEntry, Message, ServerState } from '../../src/protocol/types.ts';
import { zxid, type Zxid } from '../../src/protocol/zxid.ts';
import { parseScenario } from '../../src/scenario/parse.ts';
import { runScenario, type ScenarioResult } from '../../src/scenario/runner.ts';
import type { HistoryOp } from '../../src/sim/clients.ts';
import type { Simulation } from '../../src/sim/kernel.ts';
import { createRun, runJudged } from '../../src/run/run.ts';
import { runOptions, settings } from '../../src/run/settings.ts';
import { renderEvent } from '../../src/trace/text.ts';
import { slowDisk } from '../protocol/harness.ts';

const HEADER = 'scenario t\ntitle t\nstory t\noutcome t\n';
/** Three voters, 5 ms hops, 2 ms fsyncs: s3 leads epoch 1 and <1,1>, <1,2> commit everywhere. */
const BASE = ['servers 3', 'delay 5', 'fsync 2', 'start', 'stabilize', 'expect s3 leads', 'create s3 /a "1"', 'create s3 /b "2"', 'stabilize', 'expect committed = <1,1> <1,2>'];

/** Runs a scenario; its own expectations must hold (they set the stage). */
function scenario(lines: readonly string[], flaw?: string): ScenarioResult {
  const text = HEADER + (flaw === undefined ? lines : [lines[0] as string, `flaw ${flaw}`, ...lines.slice(1)]).join('\n');
  const r = runScenario(parseScenario(text, 't.scenario'));
  const f = r.failure;
  expect(f, f === null ? '' : `${f.src.line}: ${f.src.text}\n  ${f.message}\n${f.state}`).toBeNull();
  return r;
}

/** Each run's safety checker (remembered: a mutant protocol wraps the kernel's monitor). */
const checkers = new WeakMap<Simulation, SafetyChecker>();
function safetyOf(sim: Simulation): SafetyChecker {
  let c = checkers.get(sim);
  if (c === undefined) {
    c = sim.monitor as SafetyChecker;
    checkers.set(sim, c);
  }
  return c;
}

function violationsOf(sim: Simulation): readonly Violation[] {
  return safetyOf(sim).violations;
}

/** The one violation of `p`, with a readable failure when there is none. */
function the(vs: readonly Violation[], p: PropertyName): Violation {
  const v = vs.find((x) => x.property === p);
  expect(v, `no ${p} among [${vs.map((x) => `${x.property}: ${x.message}`).join('; ')}]`).toBeDefined();
  return v as Violation;
}

function none(vs: readonly Violation[], p: PropertyName): void {
  expect(vs.filter((x) => x.property === p).map((x) => x.message)).toEqual([]);
}

/** Any input: what the checker reads from it is only its kind (a message or client request matters). */
const TICK: Input = { kind: 'timer', timer: 'test.crafted' };

/**
 * Tells the checker of one crafted step of `sid`: its state becomes `mutate(state)` with this
 * input and these effects, as if the protocol had taken that step now. Returns the violations it
 * reported, and the index of the trace record it was judged at.
 */
function inject(sim: Simulation, sid: Sid, mutate: (d: ServerState) => void, input: Input = TICK, effects: readonly Effect[] = [], before?: (d: ServerState) => void): { found: Violation[]; at: number } {
  const rt = sim.server(sid);
  // `before`: the state the step starts from, when it is not the server's current one.
  const prev = before === undefined ? rt.state : produce(rt.state, (d) => before(d as ServerState));
  rt.state = produce(prev, (d) => mutate(d as ServerState));
  const checker = safetyOf(sim);
  const known = checker.violations.length;
  checker.step(rt, prev, input, effects);
  return { found: checker.violations.slice(known), at: sim.traceCount - 1 };
}

/** After every step of `sid`, before the checker judges it, its state is altered by `mutate` (a mutant protocol). */
function mutateAfterSteps(sim: Simulation, sid: Sid, mutate: (d: ServerState) => void, when: (s: ServerState) => boolean): void {
  const inner = safetyOf(sim);
  sim.monitor = {
    step(rt, prev, input, effects) {
      if (rt.sid === sid && rt.state.up && when(rt.state)) rt.state = produce(rt.state, (d) => mutate(d as ServerState));
      inner.step(rt, prev, input, effects);
    },
    crashed: (rt) => inner.crashed(rt),
  };
}

function logged(sim: Simulation, sid: Sid, z: Zxid): LogEntry {
  const log = sim.server(sid).state.db.log;
  const i = log.indexOf(z);
  expect(i, `s${sid} holds ${z}`).toBeGreaterThanOrEqual(0);
  return log.at(i);
}

function send(to: Sid, msg: Message): Effect {
  return { kind: 'send', to, msg };
}

const z11 = zxid(1, 1);
const z12 = zxid(1, 2);
const z13 = zxid(1, 3);
const e1 = zxid(1, 0);
const e2 = zxid(2, 0);

beforeAll(() => setStateFreezing(false));
afterAll(() => setStateFreezing(true));

// =============================================================================================
// Safety invariants

describe('Leadership', () => {
  it('fires when a second server establishes an epoch already established', () => {
    const { sim } = scenario(BASE);
    const theirs = sim.server(3).state.leader as NonNullable<ServerState['leader']>;
    const { found, at } = inject(sim, 1, (d) => {
      d.state = 'LEADING';
      d.zabState = 'BROADCAST';
      d.role += 1;
      d.learner = null;
      d.leader = { ...theirs, newLeaderAcks: [1, 2] };
    });
    const v = the(found, 'Leadership');
    expect([v.servers, v.zxids, v.i, v.message]).toEqual([[3, 1], [e1], at, 'two leaders established epoch 1: s3 and s1']);
  });

  it('fires when the same server establishes an epoch a second time', () => {
    const { sim } = scenario(BASE);
    const { found } = inject(sim, 3, (d) => {
      d.role += 1; // a new leading role, established again in epoch 1
      (d.leader as NonNullable<ServerState['leader']>).newLeaderAcks = [3, 1];
    });
    const v = the(found, 'Leadership');
    expect([v.servers, v.zxids, v.message]).toEqual([[3], [e1], 's3 established epoch 1 a second time']);
  });

  it('near miss: a leader dies, another establishes epoch 2, and the first leads again in epoch 3', () => {
    const r = scenario([...BASE, 'crash s3', 'stabilize until s2 leads within 30s', 'start s3', 'stabilize', 'crash s2', 'stabilize until s3 leads within 30s', 'stabilize', 'expect s3 currentEpoch = 3', 'expect checkers pass']);
    expect(r.trace.filter((e) => e.type === 'note' && /^established epoch/.test(e.text)).map((e) => (e.type === 'note' ? `${e.sid}: ${e.text}` : ''))).toEqual([
      '3: established epoch 1 with NEWLEADER acks from [3,2]',
      '2: established epoch 2 with NEWLEADER acks from [2,1]',
      '3: established epoch 3 with NEWLEADER acks from [3,1]',
    ]);
  });
});

/** s1 misses <1,2>, then s3 dies: s2 can establish epoch 2 only with s1, which it syncs by DIFF. */
const DIFF_TO_ESTABLISH = ['servers 3', 'delay 5', 'fsync 2', 'start', 'stabilize', 'create s3 /a "1"', 'stabilize', 'crash s1', 'create s3 /b "2"', 'stabilize', 'crash s3', 'mark sync', 'start s1', 'stabilize until s2 leads within 30s', 'expect trace since sync has "s2 -> s1 send DIFF <1,2>"'];

describe('Establishment', () => {
  it('fires on ZOOKEEPER-3911: s1 ACKs NEWLEADER before the DIFF txn <1,2> is on its disk, and s2 is established on that ACK', () => {
    const r = scenario([...DIFF_TO_ESTABLISH, 'expect trace since sync has "s1 -> s2 send ACK <2,0>" before "s1 fsync appendLog <1,2>"', 'expect violated Establishment'], 'follower_ack_newleader_before_persist');
    const v = the(violationsOf(r.sim), 'Establishment');
    expect([v.servers, v.zxids, v.message]).toEqual([[2, 1], [e2, z12], 's2 established epoch 2 on NEWLEADER ACKs its learners\' disks did not back']);
    expect(v.facts).toEqual(['NEWLEADER acks counted: [s2, s1]', "s1 ACKed NEWLEADER with the leader's initial history up to <1,2> is not durable (durable up to <1,1>)"]);
    // Reported at the step that established s2: from its note to the record named, one step.
    const est = r.trace.findIndex((e) => e.type === 'note' && e.sid === 2 && e.text.startsWith('established epoch 2'));
    expect(est).toBeGreaterThan(0);
    expect(v.i).toBeGreaterThanOrEqual(est);
    expect(r.trace.slice(est, v.i + 1).map((e) => renderEvent(e)).join('\n')).not.toMatch(/ (deliver|fsync|timer|start|crash) /);
  });

  it('near miss: without the flaw s1 ACKs once <1,2> is durable, and the same establishment passes', () => {
    scenario([...DIFF_TO_ESTABLISH, 'expect trace since sync has "s1 fsync appendLog <1,2>" before "s1 -> s2 send ACK <2,0>"', 'stabilize', 'expect checkers pass']);
  });

  it('fires when one learner is counted twice: a quorum of ACKs but not of distinct voters', () => {
    const { sim } = scenario([...BASE, 'crash s2']);
    const { found } = inject(sim, 1, (d) => {
      d.state = 'LEADING';
      d.zabState = 'BROADCAST';
      d.role += 1;
      d.learner = null;
      d.leader = { ...(sim.server(3).state.leader as NonNullable<ServerState['leader']>), epoch: 2, newLeaderAcks: [1, 1] };
    });
    const v = the(found, 'Establishment');
    expect([v.servers, v.zxids, v.message]).toEqual([[1], [e2, z12], 's1 established epoch 2 on NEWLEADER ACKs from 1 distinct voter(s) of 3']);
    expect(v.facts).toContain('s1 is counted twice');
  });
});

describe('EpochPromise', () => {
  /** s1 sends ACKEPOCH for `epoch` (its LEADERINFO said so) while its disk holds acceptedEpoch 1. */
  function ackEpoch(epoch: number): { found: Violation[]; at: number } {
    const { sim } = scenario(BASE);
    expect(sim.server(1).disk.image.acceptedEpoch).toBe(1);
    return inject(
      sim,
      1,
      (d) => {
        (d.learner as NonNullable<ServerState['learner']>).newEpoch = epoch;
      },
      TICK,
      [send(3, { type: 'ACKEPOCH', zxid: z12, currentEpoch: 1 })],
    );
  }

  it('fires when a learner ACKs an epoch below its durable acceptedEpoch (a stale LEADERINFO accepted)', () => {
    const { found, at } = ackEpoch(0);
    const v = the(found, 'EpochPromise');
    expect([v.servers, v.zxids, v.i, v.message]).toEqual([[1, 3], [zxid(0, 0)], at, 's1 ACKed epoch 0 of s3, below its durable acceptedEpoch 1']);
  });

  it('fires when a learner ACKs an epoch before acceptedEpoch is durable', () => {
    const v = the(ackEpoch(2).found, 'EpochPromise');
    expect([v.servers, v.zxids, v.message]).toEqual([[1, 3], [e2], 's1 ACKed epoch 2 of s3 before acceptedEpoch 2 was durable (on disk: 1)']);
  });

  it('near miss: a learner rejoining the same leader ACKs the epoch it already accepted (currentEpoch=-1)', () => {
    const r = scenario([...BASE, 'mark back', 'restart s1', 'stabilize', 'expect trace since back has "s1 -> s3 send ACKEPOCH <1,2> currentEpoch=-1"', 'expect checkers pass']);
    expect(r.sim.server(1).disk.image.acceptedEpoch).toBe(1);
  });
});

describe('DurableAck', () => {
  it('fires when a learner ACKs a proposal beyond its durable txn log (an ACK before the fsync)', () => {
    const { sim } = scenario(BASE);
    expect(sim.server(1).disk.image.log.map((e) => e.zxid)).toEqual([z11, z12]);
    const { found, at } = inject(sim, 1, () => undefined, TICK, [send(3, { type: 'ACK', zxid: z13 })]);
    const v = the(found, 'DurableAck');
    expect([v.servers, v.zxids, v.i, v.message, v.facts]).toEqual([[1, 3], [z13], at, 's1 ACKed <1,3> to s3 before <1,3> was durable in its txn log', ['its durable txn log ends at <1,2>', 'pending writes: none']]);
  });

  it('fires when the append is still pending (names it), and for a txn missing below the durable end', () => {
    const { sim } = scenario(BASE);
    sim.server(1).disk.submit(sim.now, 99, { op: 'appendLog', entry: { ...logged(sim, 1, z12), zxid: z13 } });
    const pending = the(inject(sim, 1, () => undefined, TICK, [send(3, { type: 'ACK', zxid: z13 })]).found, 'DurableAck');
    expect(pending.facts).toEqual(['its durable txn log ends at <1,2>', 'pending writes: appendLog <1,3>']);
    const { sim: gap } = scenario(BASE);
    gap.server(1).disk.image.log.splice(0, 1);
    const v = the(inject(gap, 1, () => undefined, TICK, [send(3, { type: 'ACK', zxid: z11 })]).found, 'DurableAck');
    expect([v.zxids, v.message]).toEqual([[z11], 's1 ACKed <1,1> to s3 before <1,1> was durable in its txn log']);
  });

  it('near miss: ACKs of durable txns, the newest and an older one, and a NEWLEADER ACK (Establishment judges those)', () => {
    const { sim } = scenario(BASE);
    // The base run's real ACKs, <1,1> and <1,2> from s1 and s2, were judged at their sends.
    none(violationsOf(sim), 'DurableAck');
    const found = inject(sim, 1, () => undefined, TICK, [send(3, { type: 'ACK', zxid: z12 }), send(3, { type: 'ACK', zxid: z11 }), send(3, { type: 'ACK', zxid: zxid(2, 0) })]).found;
    none(found, 'DurableAck');
  });
});

describe('HonestAdvertisement', () => {
  /** s1, LOOKING, proposes itself with `z` to s2 (or `to`); `adopted`: the proposal came in a notification from s2. */
  function vote(z: Zxid, adopted: boolean, to: Sid = 2, running = true): Violation[] {
    const { sim } = scenario(BASE);
    const n: Message = { type: 'NOTIFICATION', state: 'LOOKING', leader: 1, zxid: z, electionEpoch: 5, peerEpoch: 1, version: 2 };
    return inject(
      sim,
      1,
      (d) => {
        d.state = 'LOOKING';
        d.zabState = 'ELECTION';
        d.fle.logicalclock = 5;
        d.fle.proposedLeader = 1;
        d.fle.proposedZxid = z;
        d.fle.proposedEpoch = 1;
        d.fle.running = running;
      },
      adopted ? { kind: 'message', from: 2, msg: n } : TICK,
      [send(to, n)],
    ).found;
  }

  it('fires when a server votes for itself with a zxid beyond the last txn it holds', () => {
    const v = the(vote(zxid(1, 9), false), 'HonestAdvertisement');
    expect([v.servers, v.zxids, v.message]).toEqual([[1], [zxid(1, 9), z12], 's1 advertised <1,9> in its vote, but the last txn it holds is <1,2>']);
  });

  it('fires when the advertised txn is held but not durable', () => {
    const { sim } = scenario([...BASE, 'hold fsync s1', 'create s3 /c "3"', 'run 20ms', 'expect s1 logged lacks <1,3>']);
    expect(sim.server(1).state.db.log.lastZxid(0)).toBe(z13);
    const { found } = inject(sim, 1, (d) => void d, TICK, [send(3, { type: 'ACKEPOCH', zxid: z13, currentEpoch: 1 })]);
    const v = the(found, 'HonestAdvertisement');
    expect([v.servers, v.zxids, v.message]).toEqual([[1], [z13, z12], 's1 advertised <1,3> in its ACKEPOCH, but only up to <1,2> is durable']);
  });

  it('near miss: the same vote adopted from a notification (FLE updateProposal(n.leader, n.zxid, ...), as after a TRUNC at swarm seed 592) is not the server\'s advertisement', () => {
    none(vote(zxid(1, 9), true), 'HonestAdvertisement');
  });

  it('near miss: the same vote sent while lookForLeader is not running (LOOKING, still flushing its writes): the proposal of its last election, as WorkerReceiver answers (swarm seed 8786 after a counter rollover)', () => {
    none(vote(zxid(1, 9), false, 2, false), 'HonestAdvertisement');
  });

  it('near miss: a vote for itself with its own last txn', () => {
    none(vote(z12, false), 'HonestAdvertisement');
  });

  it("near miss: the same vote sent to an observer (s4 is no voter): a reply with the last decided vote, which may be an older role's (swarm seed 1051 after a counter rollover)", () => {
    none(vote(zxid(1, 9), false, 4), 'HonestAdvertisement');
  });
});

describe('ZxidUniqueness', () => {
  function relog(txn: (t: Txn) => Txn): Violation[] {
    const { sim } = scenario(BASE);
    const e = logged(sim, 1, z12);
    return inject(sim, 1, (d) => {
      d.db = logTxn(truncateAndReload(d.db, z11), { zxid: z12, txn: txn(e.txn) });
    }).found;
  }

  it('fires when a server logs a known zxid as a different txn', () => {
    const v = the(relog(() => ({ type: 'create', path: '/other', data: 'x', ephemeral: false, sequential: false, session: 0 })), 'ZxidUniqueness');
    expect([v.servers, v.zxids]).toEqual([[1, 3], [z12]]);
    expect(v.message).toBe('s1 logged <1,2> as a different txn than s3 proposed under that zxid');
  });

  it('near miss: the same txn logged again under its zxid after a TRUNC (an equal copy)', () => {
    none(relog((t) => ({ ...t })), 'ZxidUniqueness');
  });
});

describe('HistoryConsistency', () => {
  it('fires when a log skips a txn of its history', () => {
    const { sim } = scenario([...BASE, 'create s3 /c "3"', 'stabilize']);
    const e3 = logged(sim, 1, z13);
    const v = the(inject(sim, 1, (d) => void (d.db = logTxn(truncateAndReload(d.db, z11), e3))).found, 'HistoryConsistency');
    expect([v.servers, v.zxids, v.message]).toEqual([[1], [z13, z11, z12], 's1 logged <1,3> right after <1,1>, but it was proposed after <1,2>: its log is not a prefix of any history']);
  });

  it("fires when a follower enters broadcast with a txn its leader's history lacks", () => {
    const { sim } = scenario(BASE);
    const stray: LogEntry = { zxid: z13, txn: { type: 'create', path: '/stray', data: '', ephemeral: false, sequential: false, session: 0 } };
    inject(sim, 1, (d) => {
      d.zabState = 'SYNCHRONIZATION';
      d.db = logTxn(d.db, stray);
    });
    // s1 now serves under s3, whose history ends at <1,2>.
    const v = the(inject(sim, 1, (d) => void (d.zabState = 'BROADCAST')).found, 'HistoryConsistency');
    expect([v.servers, v.zxids, v.message]).toEqual([[1, 3], [z13, z12], "s1 entered broadcast with a history up to <1,3> that is not a prefix of its leader s3's (up to <1,2>)"]);
  });

  it('near miss: a log cut by TRUNC and filled again in order (scenario x01)', () => {
    const r = scenario([...BASE, 'crash s1', 'create s3 /c "3"', 'stabilize', 'mark back', 'start s1', 'stabilize', 'expect trace since back has "s3 -> s1 send DIFF <1,3>"', 'expect s1 s2 s3 agree', 'expect checkers pass']);
    none(violationsOf(r.sim), 'HistoryConsistency');
  });
});

describe('TotalOrder', () => {
  function applyAfterFirst(z: Zxid): Violation[] {
    const { sim } = scenario([...BASE, 'hold COMMIT to s1', 'create s3 /c "3"', 'create s3 /d "4"', 'stabilize until s1 logged has <1,4> within 1s']);
    const e = logged(sim, 1, z);
    return inject(sim, 1, (d) => void (d.db = applyCommitted(d.db, e).db)).found;
  }

  it('fires when a server applies a txn that does not follow the one it applied before', () => {
    const v = the(applyAfterFirst(zxid(1, 4)), 'TotalOrder');
    expect([v.servers, v.zxids, v.message]).toEqual([[1], [zxid(1, 4), z12, z13], 's1 applied <1,4> right after <1,2>, but <1,4> follows <1,3>']);
  });

  it('near miss: it applies the next txn of the history', () => {
    none(applyAfterFirst(z13), 'TotalOrder');
  });
});

describe('Agreement', () => {
  it("fires when a server's tree differs from the committed sequence's at a committed txn", () => {
    const { sim } = scenario(BASE);
    const other = scenario([...BASE.slice(0, 6), 'create s3 /a "other"', 'create s3 /b "2"', 'stabilize']).sim.server(1).state.db.tree;
    const { found, at } = inject(sim, 1, (d) => {
      const db = d.db;
      d.db = new Db(other, db.lastProcessedZxid, db.log, db.committed, db.snapshots, db.sinceSnapshot, db.lastTxn, db.olderLog);
    });
    const v = the(found, 'Agreement');
    expect([v.servers, v.zxids, v.i, v.message]).toEqual([[1], [z12], at, "s1 has applied up to committed <1,2> but its data tree differs from the committed sequence's"]);
  });

  it("near miss: a server that joins late takes the leader's snapshot (SNAP) and holds the same tree", () => {
    const r = scenario(['servers 3', 'delay 5', 'fsync 2', 'start s2 s3', 'stabilize', 'create s3 /a "1"', 'create s3 /b "2"', 'stabilize', 'mark back', 'start s1', 'stabilize', 'expect trace since back has "s3 -> s1 send SNAP"', 'expect s1 s2 s3 agree', 'expect checkers pass']);
    none(violationsOf(r.sim), 'Agreement');
  });
});

describe('Integrity', () => {
  /** s1 applies <1,3>, which s3 proposed (its COMMIT and s2's copy held: uncommitted). */
  function applyUncommitted(phase: 'BROADCAST' | 'SYNCHRONIZATION'): Violation[] {
    const { sim } = scenario([...BASE, 'hold PROPOSAL <1,3> to s2', 'hold fsync s3', 'create s3 /c "3"', 'run 50ms', 'expect committed lacks <1,3>', 'expect s1 logged has <1,3>']);
    const e = logged(sim, 1, z13);
    return inject(sim, 1, (d) => {
      d.zabState = phase;
      d.db = applyCommitted(d.db, e).db;
    }).found;
  }

  it('fires when a serving server applies a txn that was never committed', () => {
    const v = the(applyUncommitted('BROADCAST'), 'Integrity');
    expect([v.servers, v.zxids, v.message]).toEqual([[1], [z13], 's1 serves clients having applied <1,3>, which was never committed']);
  });

  it('fires on ZOOKEEPER-1549 (TRUNC reloads the newest snapshot): swarm seed 152 serves a truncated txn', () => {
    const opts = runOptions(settings({ seed: 152, swarm: true, flaw: ['trunc_reload_newest_snapshot'], 'stop-early': true }));
    const run = createRun(opts, null);
    runJudged(run, opts.untilMs);
    const v = the(violationsOf(run.sim), 'Integrity');
    expect(v.message).toMatch(/^s\d serves clients having applied <\d+,\d+>, which was never committed$/);
  });

  it('near miss: a server applies the same txn while syncing (not serving)', () => {
    none(applyUncommitted('SYNCHRONIZATION'), 'Integrity');
  });
});

describe('RestartStability', () => {
  it('fires when a restarted server serves again with less than it served before', () => {
    const { sim } = scenario([...BASE, 'crash s1', 'start s1', 'stabilize', 'expect s1 is FOLLOWING/BROADCAST']);
    inject(sim, 1, (d) => void (d.zabState = 'SYNCHRONIZATION'));
    const { found } = inject(sim, 1, (d) => {
      d.zabState = 'BROADCAST';
      d.db = truncateAndReload(d.db, z11);
    });
    const v = the(found, 'RestartStability');
    expect([v.servers, v.zxids, v.message]).toEqual([[1], [z11, z12], 's1 serves again having applied only up to <1,1>, but it had served <1,2> before']);
  });

  it('near miss: a server that lost its unsynced tail in a crash is synced before it serves again', () => {
    const r = scenario([...BASE, 'hold fsync s1', 'create s3 /c "3"', 'run 30ms', 'crash s1', 'release fsync s1', 'start s1', 'stabilize', 'expect s1 is FOLLOWING/BROADCAST', 'expect s1 has /c = "3"', 'expect checkers pass']);
    none(violationsOf(r.sim), 'RestartStability');
  });
});

describe('MessageLegality', () => {
  it('fires when a leader sends a follower COMMIT for a txn it does not hold', () => {
    const { sim } = scenario(BASE);
    const { found, at } = inject(sim, 1, (d) => void d, { kind: 'message', from: 3, msg: { type: 'COMMIT', zxid: zxid(1, 7) } });
    const v = the(found, 'MessageLegality');
    expect([v.servers, v.zxids, v.i, v.message]).toEqual([[3, 1], [zxid(1, 7)], at, 's3 sent COMMIT <1,7> to s1, which does not hold that txn']);
  });

  it('fires when the first ACK a leader reads from a syncing learner is not the NEWLEADER ACK', () => {
    const { sim } = scenario(BASE);
    const syncing = (d: ServerState): void => {
      ((d.leader as Leader).learners[1] as { stage: string }).stage = 'sync';
    };
    const v = the(inject(sim, 3, (d) => void d, { kind: 'message', from: 1, msg: { type: 'ACK', zxid: z12 } }, [], syncing).found, 'MessageLegality');
    expect([v.servers, v.zxids, v.message]).toEqual([[1, 3], [z12], 'the first ACK s3 read from s1 in SYNC acknowledges <1,2>, not NEWLEADER <1,0>']);
  });

  /** s1 joins late: <1,3> is outstanding, s1's NEWLEADER ACK is held, then <1,3> commits (zab-bugs.md B13's order). */
  const LATE = ['servers 3', 'delay 5', 'fsync 2', 'start s2 s3', 'stabilize', 'expect s3 leads', 'hold ACK <1,1> from s2', 'create s3 /a "1"', 'run 20ms', 'hold ACK <1,0> from s1', 'start s1', 'stabilize until s1 is FOLLOWING/SYNCHRONIZATION within 5s', 'run 40ms', 'expect trace has "s1 -> s3 send ACK <1,0>"'];

  it('fires when a learner drops out of its sync while reading a legal COMMIT (ZOOKEEPER-4394)', () => {
    const { sim } = scenario([...LATE, 'release ACK <1,1> from s2', 'run 20ms', 'expect s1 is FOLLOWING/DISCOVERY'], 'follower_newleader_clears_pending');
    const v = the(violationsOf(sim), 'MessageLegality');
    expect([v.servers, v.zxids, v.message]).toEqual([[1, 3], [], 's1 left its leader s3, which still serves it, while reading the packets s3 sent']);
    expect(v.facts).toEqual(['the reason it gave: NullPointerException: COMMIT <1,1> after NEWLEADER, and no proposal is buffered (Learner.syncWithLeader)']);
  });

  it('near miss: a learner whose connection resets after NEWLEADER leaves its leader, and the leader drops it', () => {
    const r = scenario([...LATE, 'drop ACK <1,0> from s1', 'run 20ms', 'expect not s1 is FOLLOWING/SYNCHRONIZATION', 'release', 'stabilize', 'expect s1 is FOLLOWING/BROADCAST', 'expect checkers pass']);
    none(violationsOf(r.sim), 'MessageLegality');
  });

  it('near miss: COMMIT for a txn the follower logged but has not applied; a syncing learner\'s NEWLEADER ACK', () => {
    const r = scenario([...BASE, 'hold COMMIT <1,3> to s1', 'create s3 /c "3"', 'stabilize until s1 logged has <1,3> within 1s', 'run 50ms', 'deliver COMMIT <1,3>', 'stabilize', 'expect s1 has /c = "3"', 'mark back', 'restart s1', 'stabilize', 'expect trace since back has "s1 -> s3 send ACK <1,0>"', 'expect checkers pass']);
    none(violationsOf(r.sim), 'MessageLegality');
  });
});

describe('EpochFileSanity', () => {
  /** s1 crashes with these epoch files on its disk (its log ends at <1,2>). */
  function crashWith(files: { acceptedEpoch: number | null; currentEpoch: number | null; currentEpochTmp?: number; updatingEpoch?: boolean }): Violation[] {
    const { sim } = scenario(BASE);
    Object.assign(sim.server(1).disk.image, { currentEpochTmp: null, updatingEpoch: false, ...files });
    const before = violationsOf(sim).length;
    sim.crash(1);
    return violationsOf(sim).slice(before);
  }

  it('fires when a crash leaves currentEpoch above acceptedEpoch', () => {
    const v = the(crashWith({ acceptedEpoch: 1, currentEpoch: 2 }), 'EpochFileSanity');
    expect([v.servers, v.zxids, v.message, v.facts]).toEqual([[1], [z12], 's1 crashed leaving epoch(<1,2>) = 1, currentEpoch = 2, acceptedEpoch = 1 on disk', ['ZooKeeper refuses to start: acceptedEpoch is less than currentEpoch']]);
  });

  it('fires when a crash leaves a last zxid newer than currentEpoch and nothing that lets start-up take it', () => {
    const v = the(crashWith({ acceptedEpoch: 1, currentEpoch: 0 }), 'EpochFileSanity');
    expect(v.facts).toEqual(['ZooKeeper refuses to start: "The current epoch is older than the last zxid"']);
  });

  it('near miss: the same image with a leftover currentEpoch.tmp, or with the updatingEpoch marker, starts', () => {
    none(crashWith({ acceptedEpoch: 1, currentEpoch: 0, currentEpochTmp: 1 }), 'EpochFileSanity');
    none(crashWith({ acceptedEpoch: 1, currentEpoch: 0, updatingEpoch: true }), 'EpochFileSanity');
  });
});

describe('TruncSafety', () => {
  it('fires when a leader sends a TRUNC that removes a committed txn', () => {
    const { sim } = scenario(BASE);
    const { found, at } = inject(sim, 3, (d) => void d, TICK, [send(1, { type: 'TRUNC', zxid: z11 })]);
    const v = the(found, 'TruncSafety');
    expect([v.servers, v.zxids, v.i, v.message]).toEqual([[3, 1], [z11, z12], at, 's3 told s1 to TRUNC to <1,1>, which removes committed txn <1,2>']);
  });

  it('near miss: a TRUNC that removes only a txn that was never committed (scenario x01)', () => {
    const r = scenario([...BASE, 'mark resync', 'hold PROPOSAL <1,3> to s2', 'hold fsync s3', 'create s3 /c "3"', 'run 50ms', 'restart s1', 'stabilize until s1 is FOLLOWING/BROADCAST within 5s', 'expect trace since resync has "s3 -> s1 send TRUNC <1,2>"', 'release fsync s3', 'release', 'stabilize', 'expect checkers pass']);
    none(violationsOf(r.sim), 'TruncSafety');
  });
});

/** Scenario x01's steps: s1's ACK of <1,3> would outlive the TRUNC that cut it, with the flaw. */
const STALE_ACK = [...BASE, 'hold PROPOSAL <1,3> to s2', 'hold fsync s3', 'create s3 /c "3"', 'run 50ms', 'restart s1', 'crash s1 after receiving UPTODATE', 'stabilize until s1 is DOWN within 5s', 'release fsync s3', 'run 100ms'];

describe('CommittedDurability', () => {
  it('fires with leader_keeps_acks_across_resync: <1,3> commits while durable on s3 alone, and s3 crashes', () => {
    const r = scenario([...STALE_ACK, 'expect committed has <1,3>', 'crash s3', 'expect violated CommittedDurability'], 'leader_keeps_acks_across_resync');
    const v = the(violationsOf(r.sim), 'CommittedDurability');
    expect([v.servers, v.zxids, v.message]).toEqual([[3, 3], [z13], 'after s3 crashed, committed txn <1,3> is durable on s3 only, not a quorum']);
    expect(r.trace[v.i]?.type).toBe('crash');
  });

  it('near miss: without the flaw the stale ACK is withdrawn, nothing commits on s3 alone, and the same crash passes', () => {
    scenario([...STALE_ACK, 'expect committed lacks <1,3>', 'crash s3', 'expect checkers pass']);
  });
});

describe('LocalPrimaryOrder', () => {
  function propose(z: Zxid): Violation[] {
    const { sim } = scenario(BASE);
    return inject(sim, 3, (d) => void ((d.leader as NonNullable<ServerState['leader']>).lastProposed = z)).found;
  }

  it('fires when a primary proposes a zxid that does not follow its previous proposal', () => {
    const v = the(propose(z11), 'LocalPrimaryOrder');
    expect([v.servers, v.zxids, v.message]).toEqual([[3], [z12, z11], 's3, leader of epoch 1, proposed <1,1> after <1,2>']);
    expect(the(propose(zxid(2, 3)), 'LocalPrimaryOrder').message).toBe('s3, leader of epoch 1, proposed <2,3> after <1,2>');
  });

  it('near miss: the next counter of its epoch', () => {
    none(propose(z13), 'LocalPrimaryOrder');
  });
});

/** <1,3> is proposed and never committed; s3 dies, and s2 commits <2,1> in epoch 2. */
const ORPHAN = [...BASE, 'hold PROPOSAL <1,3>', 'create s3 /c "3"', 'run 20ms', 'crash s3', 'release', 'stabilize until s2 leads within 30s', 'create s2 /d "4"', 'stabilize', 'expect committed has <2,1>', 'expect committed lacks <1,3>'];

type Leader = NonNullable<ServerState['leader']>;

describe('GlobalPrimaryOrder', () => {
  it('fires when a leader commits a txn below the committed sequence that is not in it', () => {
    const { sim } = scenario(ORPHAN);
    const { found } = inject(sim, 2, (d) => void ((d.leader as Leader).lastCommitted = z13), TICK, [], (d) => void ((d.leader as Leader).lastCommitted = z12));
    const v = the(found, 'GlobalPrimaryOrder');
    expect([v.servers, v.zxids, v.message]).toEqual([[2], [z13, zxid(2, 1)], 's2 committed <1,3> whose history is not the committed sequence']);
  });

  it('near miss: the new leader commits <2,1> above the orphan <1,3>, descending from the committed sequence', () => {
    const r = scenario([...ORPHAN, 'start s3', 'stabilize', 'expect s1 s2 s3 agree', 'expect s3 lacks /c', 'expect checkers pass']);
    none(violationsOf(r.sim), 'GlobalPrimaryOrder');
  });
});

describe('PrimaryIntegrity', () => {
  /** s2, leader of epoch 2 with nothing proposed yet, proposes <2,1> having applied up to `upTo`. */
  function firstProposal(upTo: Zxid): Violation[] {
    const { sim } = scenario(ORPHAN);
    return inject(sim, 2, (d) => void ((d.leader as Leader).lastProposed = zxid(2, 1)), TICK, [], (d) => {
      (d.leader as Leader).lastProposed = e2;
      d.db = truncateAndReload(d.db, upTo);
    }).found;
  }

  it('fires when a primary proposes before it has applied every txn committed in earlier epochs', () => {
    const v = the(firstProposal(z11), 'PrimaryIntegrity');
    expect([v.servers, v.zxids, v.message]).toEqual([[2], [z11, z12], 's2 began proposing in epoch 2 having applied up to <1,1>, but <1,2> was committed in an earlier epoch']);
  });

  it('near miss: it has applied <1,2>, the last txn committed before epoch 2 (the orphan <1,3> was not)', () => {
    none(firstProposal(z12), 'PrimaryIntegrity');
  });
});

describe('CommittedNeverLost', () => {
  it('fires when a leader is established with a history that lacks a committed txn', () => {
    const { sim } = scenario(BASE);
    const { found } = inject(sim, 1, (d) => {
      d.state = 'LEADING';
      d.zabState = 'BROADCAST';
      d.role += 1;
      d.learner = null;
      d.db = truncateAndReload(d.db, z11);
      d.leader = { ...(sim.server(3).state.leader as Leader), epoch: 2, newLeaderAcks: [1, 2] };
    });
    const v = the(found, 'CommittedNeverLost');
    expect([v.servers, v.zxids, v.message]).toEqual([[1], [z12, z11], 's1 established epoch 2 with a history up to <1,1> that lacks committed txn <1,2>']);
  });

  it('near miss: a leader established without the orphan <1,3>, which was never committed', () => {
    const r = scenario([...ORPHAN, 'expect checkers pass']);
    none(violationsOf(r.sim), 'CommittedNeverLost');
  });
});

// =============================================================================================
// Sessions

const SESSION = 2_000_001; // the scenario's first named session: client 2, session 2·10^6 + 1
const TIMEOUT_MS = 6000;

/**
 * alice opens a session on follower s1 (timeout 6 s) and reads every 500 ms for `activeMs`; the
 * run goes on 20 s more. With `mutant`, s1 forgets the sessions it served before its PING echo
 * (follower touches that never reach the leader).
 */
function sessionRun(activeMs: number, mutant: boolean): { sim: Simulation; expiredAt: number[]; lastRead: number } {
  const r = scenario([...BASE, `open session alice on s1 timeout ${TIMEOUT_MS / 1000}s`, 'stabilize']);
  const sim = r.sim;
  if (mutant) mutateAfterSteps(sim, 1, (d) => void ((d.learner as NonNullable<ServerState['learner']>).touched = []), (s) => (s.learner?.touched.length ?? 0) > 0);
  const start = sim.now;
  let cxid = 100;
  let lastRead = start;
  for (let t = 500; t <= activeMs; t += 500) {
    sim.at(start + t, () => sim.clientRequest(1, { client: 2, cxid: ++cxid, session: SESSION, op: 'read', path: '/a' }));
    lastRead = start + t;
  }
  sim.runUntil(start + activeMs + 20_000);
  const expiredAt = r.trace.filter((e) => e.type === 'note' && e.text === `session ${SESSION} expired`).map((e) => e.t);
  return { sim, expiredAt, lastRead };
}

describe('SessionExpiry', () => {
  it('fires when follower touches never reach the leader: s3 expires alice while she reads at s1 every 500 ms', () => {
    const { sim, expiredAt, lastRead } = sessionRun(15_000, true);
    expect(expiredAt.length).toBeGreaterThan(0);
    expect(expiredAt[0]).toBeLessThan(lastRead);
    const v = the(violationsOf(sim), 'SessionExpiry');
    expect(v.servers).toEqual([3]);
    expect(v.t).toBe(expiredAt[0]);
    expect(v.message).toMatch(new RegExp(`^s3 expired session ${SESSION} at ${v.t}ms, \\d+ms after it last heard from its client \\(at \\d+ms\\), before its timeout of ${TIMEOUT_MS}ms$`));
    expect(sim.server(3).state.db.log.at(sim.server(3).state.db.log.indexOf(v.zxids[0] as Zxid)).txn).toEqual({ type: 'closeSession', session: SESSION });
  });

  it('near miss: with the PING echoes intact alice is never expired while she reads, and expires one timeout after she stops', () => {
    const { sim, expiredAt, lastRead } = sessionRun(15_000, false);
    expect(expiredAt.length).toBe(1);
    expect(expiredAt[0]).toBeGreaterThanOrEqual(lastRead + TIMEOUT_MS - 1000);
    expect(violationsOf(sim)).toEqual([]);
  });

  it("near miss: a read a learner served just before it crashed is lost with it, not credited to its next life's PING", () => {
    // Swarm seed 8 with newleader_no_epoch_marker once reported SessionExpiry here: a server's
    // role counter starts again at 0 after a restart, so the checker's per-role touch set of the
    // old life matched the new life's role and was credited at its first PING echo.
    const r = scenario([...BASE, `open session alice on s1 timeout ${TIMEOUT_MS / 1000}s`, 'stabilize', 'read s1 /a in alice', 'crash s1', 'start s1', 'stabilize until s1 follows s3']);
    const sim = r.sim;
    const rejoined = sim.now;
    sim.runUntil(rejoined + 2 * TIMEOUT_MS);
    const expiredAt = r.trace.filter((e) => e.type === 'note' && e.text === `session ${SESSION} expired`).map((e) => e.t);
    expect(expiredAt.length).toBe(1);
    expect(expiredAt[0]).toBeLessThan(rejoined + TIMEOUT_MS); // the lost touch did not count on s3 either
    expect(violationsOf(sim)).toEqual([]);
  });
});

describe('SessionClosedOnce', () => {
  /** alice closes her session at s1; with `mutant`, s3's tracker keeps it afterwards (main before this fix). */
  function closeRun(mutant: boolean): { sim: Simulation; closes: string[] } {
    const r = scenario([...BASE, `open session alice on s1 timeout ${TIMEOUT_MS / 1000}s`, 'stabilize', 'read s1 /a in alice', 'stabilize']);
    const sim = r.sim;
    if (mutant) {
      let readded = false;
      mutateAfterSteps(
        sim,
        3,
        (d) => {
          readded = true;
          (d.leader as Leader).sessionExpiry[SESSION] = (d.leader as Leader).wakeups * 1000 + TIMEOUT_MS;
        },
        (s) => !readded && s.leader !== null && s.db.tree.sessions[SESSION] === undefined && s.leader.sessionExpiry[SESSION] === undefined,
      );
    }
    sim.clientRequest(1, { client: 2, cxid: 50, session: SESSION, op: 'closeSession', path: '' });
    sim.runUntil(sim.now + 30_000);
    const closes = r.trace.flatMap((e) => (e.type === 'send' && e.to === 1 && e.msg.type === 'PROPOSAL' && e.msg.txn.type === 'closeSession' ? [`${e.msg.txn.origin === undefined ? 'expiry' : 'client'}`] : []));
    return { sim, closes };
  }

  it("fires when the leader's tracker keeps a client-closed session and expires it one timeout later", () => {
    const { sim, closes } = closeRun(true);
    expect(closes).toEqual(['client', 'expiry']);
    const v = the(violationsOf(sim), 'SessionClosedOnce');
    expect(v.servers).toEqual([3]);
    expect(v.message).toMatch(new RegExp(`^session ${SESSION} expired at <1,\\d+>, after its client closed it at <1,\\d+>$`));
  });

  it('near miss: the fixed tracker forgets the session once its closeSession commits: one close, nothing after', () => {
    const { sim, closes } = closeRun(false);
    expect(closes).toEqual(['client']);
    expect(violationsOf(sim)).toEqual([]);
  });

  it('near miss: a client closing a session that already expired (it learns of expiries late) is not a second expiry', () => {
    const r = scenario([...BASE, `open session alice on s1 timeout ${TIMEOUT_MS / 1000}s`, 'stabilize', 'run 10s', 'expect trace has "s3 note session 2000001 expired"', 'close session alice', 'stabilize', 'expect checkers pass']);
    expect(r.trace.filter((e) => e.type === 'send' && e.to === 1 && e.msg.type === 'PROPOSAL' && e.msg.txn.type === 'closeSession').length).toBe(2);
  });
});

// =============================================================================================
// Client properties: crafted histories, as the history checker sees them

interface Reported {
  readonly property: string;
  readonly servers: readonly number[];
  readonly zxids: readonly number[];
  readonly message: string;
}

/**
 * A ghost whose committed sequence is `committed` (setData /x of each txn's client request, in
 * order) and a history checker over it. Server 9 serves under a superseded leader.
 */
function histories(committed: readonly { z: Zxid; client: number; cxid: number; data: string }[]) {
  const ghost = new Ghost();
  const found: Reported[] = [];
  const checker = new ClientChecker(ghost, (property, servers, zxids, message) => void found.push({ property, servers, zxids, message }), (sid) => sid === 9);
  // /x exists from the start (so setData applies), created at <0,1>.
  ghost.assign(1, { type: 'create', path: '/x', data: '', ephemeral: false, sequential: false, session: 0 }, 0, 1);
  expect(ghost.commitThrough(1).ok).toBe(true);
  let pred = 1;
  const commit = (c: { z: Zxid; client: number; cxid: number; data: string }): void => {
    ghost.assign(c.z, { type: 'setData', path: '/x', data: c.data, version: -1, origin: { server: 1, client: c.client, cxid: c.cxid } }, pred, 1);
    pred = c.z;
    expect(ghost.commitThrough(c.z).ok).toBe(true);
  };
  for (const c of committed) commit(c);
  /** One operation: invoked at `from`, completed at `to` with this outcome (and zxid, value). */
  const op = (o: { client: number; cxid: number; op: HistoryOp['op']; server?: number; from: number; to: number; outcome?: HistoryOp['outcome']; zxid?: Zxid; value?: string | null }): void => {
    const h: HistoryOp = { n: o.cxid, client: o.client, cxid: o.cxid, session: 0, op: o.op, path: '/x', server: o.server ?? 1, invokeMs: o.from, completeMs: null, outcome: null };
    checker.invoked(h);
    h.completeMs = o.to;
    h.outcome = o.outcome ?? 'ok';
    if (o.zxid !== undefined) h.zxid = o.zxid;
    if (o.value !== undefined) h.value = o.value;
    checker.completed(h);
  };
  return { ghost, checker, found, op, commit };
}

function theReported(found: readonly Reported[], p: string): Reported {
  const r = found.find((x) => x.property === p);
  expect(r, `no ${p} among [${found.map((x) => `${x.property}: ${x.message}`).join('; ')}]`).toBeDefined();
  return r as Reported;
}

const A = { z: z11, client: 2, cxid: 1, data: 'b' };
const B = { z: z12, client: 1, cxid: 1, data: 'a' };

describe('Client.LinearizableWrites', () => {
  it('fires when a write that began after another completed gets a smaller zxid', () => {
    const h = histories([A, B]);
    h.op({ client: 1, cxid: 1, op: 'setData', from: 0, to: 10, zxid: z12 });
    h.op({ client: 2, cxid: 1, op: 'setData', server: 2, from: 20, to: 30, zxid: z11 });
    const r = theReported(h.found, 'Client.LinearizableWrites');
    expect([r.servers, r.zxids]).toEqual([[2], [z11, z12]]);
    expect(r.message).toBe('client 2 #1 setData /x via s2, invoked 20ms, ok at 30ms zxid <1,1>: its zxid is not after <1,2>, a write that completed before it began');
  });

  it('near miss: the same zxids when the writes overlap in time', () => {
    const h = histories([A, B]);
    h.op({ client: 2, cxid: 1, op: 'setData', from: 0, to: 0, zxid: z11 });
    expect(h.found).toEqual([]);
    const k = histories([A, B]);
    k.checker.invoked({ n: 0, client: 2, cxid: 1, session: 0, op: 'setData', path: '/x', server: 2, invokeMs: 5, completeMs: null, outcome: null });
    k.op({ client: 1, cxid: 1, op: 'setData', from: 0, to: 10, zxid: z12 });
    expect(k.found).toEqual([]);
  });
});

describe('Client.FifoOrder', () => {
  it("fires when a client's second write takes effect before its first", () => {
    const h = histories([{ ...A, client: 1, cxid: 2 }, B]);
    h.op({ client: 1, cxid: 1, op: 'setData', from: 0, to: 10, zxid: z12 });
    h.op({ client: 1, cxid: 2, op: 'setData', from: 20, to: 30, zxid: z11 });
    const r = theReported(h.found, 'Client.FifoOrder');
    expect([r.servers, r.zxids, r.message]).toEqual([[1], [z11, z12], 'client 1 #2 setData /x via s1, invoked 20ms, ok at 30ms zxid <1,1>: takes effect before the client\'s previous write <1,2>']);
  });

  it("near miss: its writes in order, interleaved with another client's", () => {
    const h = histories([B, { z: z12 + 1, client: 2, cxid: 1, data: 'c' }, { z: z12 + 2, client: 1, cxid: 2, data: 'd' }].map((c, i) => ({ ...c, z: zxid(1, i + 1) })));
    h.op({ client: 1, cxid: 1, op: 'setData', from: 0, to: 10, zxid: z11 });
    h.op({ client: 2, cxid: 1, op: 'setData', from: 5, to: 15, zxid: z12 });
    h.op({ client: 1, cxid: 2, op: 'setData', from: 20, to: 30, zxid: z13 });
    expect(h.found).toEqual([]);
  });
});

describe('Client.SequentialReads', () => {
  it('fires when a read returns a value the committed state never had at its zxid', () => {
    const h = histories([A, B]);
    h.op({ client: 3, cxid: 1, op: 'read', from: 0, to: 5, zxid: z11, value: 'a' });
    const r = theReported(h.found, 'Client.SequentialReads');
    expect([r.servers, r.zxids, r.message]).toEqual([[1], [z11], 'client 3 #1 read /x via s1, invoked 0ms, ok at 5ms zxid <1,1> value "a": the committed value of /x as of <1,1> is "b"']);
  });

  it('fires when a client reads older state than it already saw', () => {
    const h = histories([A, B]);
    h.op({ client: 3, cxid: 1, op: 'read', from: 0, to: 5, zxid: z12, value: 'a' });
    h.op({ client: 3, cxid: 2, op: 'read', server: 2, from: 10, to: 15, zxid: z11, value: 'b' });
    const r = theReported(h.found, 'Client.SequentialReads');
    expect([r.servers, r.zxids]).toEqual([[2], [z11, z12]]);
    expect(r.message).toMatch(/: reads state as of <1,1>, older than <1,2> the client already saw$/);
  });

  it("near miss: a stale read (another client's later write not yet seen) with the value as of its zxid", () => {
    const h = histories([A, B]);
    h.op({ client: 1, cxid: 1, op: 'setData', from: 0, to: 10, zxid: z12 });
    h.op({ client: 3, cxid: 1, op: 'read', server: 2, from: 20, to: 25, zxid: z11, value: 'b' });
    expect(h.found).toEqual([]);
  });
});

describe('Client.SyncThenRead', () => {
  it('fires when a sync answers at a zxid before a write completed before it began', () => {
    const h = histories([A, B]);
    h.op({ client: 1, cxid: 1, op: 'setData', from: 0, to: 10, zxid: z12 });
    h.op({ client: 3, cxid: 1, op: 'sync', server: 2, from: 20, to: 25, zxid: z11 });
    const r = theReported(h.found, 'Client.SyncThenRead');
    expect([r.servers, r.zxids]).toEqual([[2], [z11, z12]]);
    expect(r.message).toBe('client 3 #1 sync via s2, invoked 20ms, ok at 25ms zxid <1,1>: answers at <1,1>, before <1,2>, a write completed before the sync began');
  });

  it('near miss: the same stale answer from a server under a superseded leader is counted, not reported (sync is not a quorum operation)', () => {
    const h = histories([A, B]);
    h.op({ client: 1, cxid: 1, op: 'setData', from: 0, to: 10, zxid: z12 });
    h.op({ client: 3, cxid: 1, op: 'sync', server: 9, from: 20, to: 25, zxid: z11 });
    expect(h.found).toEqual([]);
    expect(h.checker.staleSyncs).toBe(1);
  });
});

describe('Client.AckedWriteCommitted', () => {
  it('fires when an acknowledged write is not committed', () => {
    const h = histories([A]);
    h.op({ client: 1, cxid: 1, op: 'setData', from: 0, to: 10, zxid: z12 });
    const r = theReported(h.found, 'Client.AckedWriteCommitted');
    expect([r.servers, r.zxids, r.message]).toEqual([[1], [z12], 'client 1 #1 setData /x via s1, invoked 0ms, ok at 10ms zxid <1,2>: acknowledged, but <1,2> is not committed']);
  });

  it("fires when a write is acknowledged with another request's zxid", () => {
    const h = histories([A]);
    h.op({ client: 1, cxid: 1, op: 'setData', from: 0, to: 10, zxid: z11 });
    expect(theReported(h.found, 'Client.AckedWriteCommitted').message).toMatch(/acknowledged with <1,1>, but that txn is another request's$/);
  });

  it('near miss: a write whose outcome is unknown (its server died) and that never committed', () => {
    const h = histories([A]);
    h.op({ client: 1, cxid: 1, op: 'setData', from: 0, to: 10, outcome: 'unknown' });
    expect(h.found).toEqual([]);
  });
});

describe('the client checker\'s operations in flight', () => {
  it('names the oldest one, and refuses a second one of one client (sim/clients.ts gives each client one at a time)', () => {
    const h = histories([]);
    const mk = (n: number, client: number): HistoryOp => ({ n, client, cxid: n, session: 0, op: 'read', path: '/x', server: 1, invokeMs: n, completeMs: null, outcome: null });
    const [a, b, c] = [mk(3, 1), mk(4, 2), mk(5, 3)];
    for (const x of [b, a, c]) h.checker.invoked(x);
    expect(h.checker.oldestOutstanding()).toBe(a);
    a.outcome = 'error';
    h.checker.completed(a);
    expect(h.checker.oldestOutstanding()).toBe(b);
    expect(() => h.checker.invoked(mk(6, 2))).toThrow('ClientChecker: client 2 invoked #6 with #4 still in flight (a client has one operation in flight)');
  });
});

describe('Client.AppliedOnce', () => {
  it('fires when one request is committed as two txns', () => {
    const h = histories([A, { ...A, z: z12 }]);
    const r = theReported(h.found, 'Client.AppliedOnce');
    expect([r.servers, r.zxids, r.message]).toEqual([[1], [z11, z12], 'client 2 request #1 was committed twice, as <1,1> and <1,2>']);
  });

  it('fires, and only for the same request, however large the client id and cxid', () => {
    for (const [client, cxid] of [
      [2 ** 21 - 1, 2 ** 32 - 1],
      [2 ** 21, 5],
      [3, 2 ** 32],
    ] as const) {
      const twice = histories([{ ...A, client, cxid }, { ...A, z: z12, client, cxid }]);
      expect(theReported(twice.found, 'Client.AppliedOnce').message).toBe(`client ${client} request #${cxid} was committed twice, as <1,1> and <1,2>`);
      // Neighbours whose number keys would meet if the key were client + cxid, or client · 2^21 + cxid.
      const apart = histories([{ ...A, client, cxid }, { ...A, z: z12, client: client + 1, cxid: cxid - 1 }, { ...A, z: z13, client: client - 1, cxid: cxid + 2 ** 21 }]);
      expect(apart.found.filter((x) => x.property === 'Client.AppliedOnce')).toEqual([]);
    }
  });

  it('fires for a request committed again after later ones of its client, also one first committed out of cxid order', () => {
    const c = (n: number, cxid: number): { z: Zxid; client: number; cxid: number; data: string } => ({ z: zxid(1, n), client: 2, cxid, data: `v${n}` });
    // cxids 1, 2, 5, then 4 (a request retried across a reconnection commits late), then 1 again.
    const h = histories([c(2, 1), c(3, 2), c(4, 5), c(5, 4), c(6, 1)]);
    expect(h.found.map((x) => x.message)).toEqual(['client 2 request #1 was committed twice, as <1,2> and <1,6>']);
    h.commit(c(7, 4));
    expect(h.found.map((x) => x.message)).toEqual(['client 2 request #1 was committed twice, as <1,2> and <1,6>', 'client 2 request #4 was committed twice, as <1,5> and <1,7>']);
    // Near misses: cxid 3, never committed, now committed late; another client's cxid 4.
    h.commit(c(8, 3));
    h.commit({ ...c(9, 4), client: 3 });
    expect(h.found).toHaveLength(2);
  });

  it('near miss: two requests of one client, and one txn committed through two paths (a commit and an establishment)', () => {
    const h = histories([A, { ...A, z: z12, cxid: 2 }]);
    expect(h.ghost.commitThrough(z12).ok).toBe(true);
    expect(h.found).toEqual([]);
  });
});

// =============================================================================================
// Liveness

describe('Liveness', () => {
  function recovery(stall: boolean): ReturnType<NonNullable<ReturnType<typeof createRun>['checkers']>['verdict']> {
    const opts = runOptions(settings({ seed: 5, servers: 3, 'crash-every': 1000, 'crash-target': 'leader', 'faults-until': 3000, until: 250_000 }));
    const run = createRun(opts, null);
    // Two voters whose epoch writes take ten minutes: no quorum can ever establish an epoch.
    if (stall) for (const sid of [1, 2]) slowDisk(run.sim, sid, 600_000, (w) => w.op === 'writeEpoch');
    runJudged(run, opts.untilMs);
    return (run.checkers as NonNullable<typeof run.checkers>).verdict();
  }

  it('fires when no leader is established within the bound after the faults stop', () => {
    const v = recovery(true);
    expect(v.liveness).toBe('failed');
    const l = v.violations.find((x) => x.property === 'Liveness');
    // The default bound: 2 × (maxNotificationInterval + (2·initLimit + syncLimit) · tickTime).
    expect(l?.message).toBe('no recovery within 220000ms after the faults stopped at 3000ms: no leader is established');
    expect(l?.t).toBe(223_000);
  });

  it('near miss: the same faults, healthy disks: recovery within the bound', () => {
    const v = recovery(false);
    expect([v.ok, v.liveness]).toEqual([true, 'ok']);
  });
});
