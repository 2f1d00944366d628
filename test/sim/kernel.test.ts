import { createHash } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ClusterConfig, Sid } from '../../src/protocol/config.ts';
import type { StepResult } from '../../src/protocol/peer.ts';
import type { StepContext } from '../../src/protocol/context.ts';
import type { Effect, Input, LogEntry, Notification, ServerState } from '../../src/protocol/types.ts';
import type { TraceEvent } from '../../src/sim/events.ts';
import { Simulation, type SimOptions } from '../../src/sim/kernel.ts';
import { runToEnd, type RunOptions } from '../../src/run/run.ts';

// ---------------------------------------------------------------------------------------------
// A puppet protocol. The kernel steps servers through `stepWith` of peer.ts; this file can swap in a
// scripted step so that kernel mechanics (timers, crashes, the disk) are tested with exact
// expectations, independent of what the real protocol does. With no script installed the real step runs.

type StepFn = (cfg: ClusterConfig, state: ServerState, input: Input) => StepResult;

const script = vi.hoisted(() => ({ step: null as StepFn | null }));

vi.mock('../../src/protocol/peer.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/protocol/peer.ts')>();
  return {
    ...real,
    stepWith: (ctx: StepContext, state: ServerState, input: Input): ServerState => {
      if (script.step === null) return real.stepWith(ctx, state, input);
      const out = script.step(ctx.cfg, state, input);
      ctx.effects.push(...out.effects);
      return out.state;
    },
  };
});

afterEach(() => {
  script.step = null;
});

interface Seen {
  t: number;
  sid: Sid;
  input: Input;
}

/**
 * Installs a scripted step: `react` returns the effects for each input. Client requests are the
 * test's trigger: `command(sim, t, sid, name)` delivers a clientRequest whose path is `name`.
 */
function puppet(react: (sid: Sid, input: Input, now: number) => Effect[]): { seen: Seen[]; attach(sim: Simulation): Simulation } {
  const seen: Seen[] = [];
  let sim: Simulation | null = null;
  script.step = (_cfg, state, input) => {
    const now = sim?.now ?? -1;
    // Keep a copy of what the kernel handed over (the durable image is the live one).
    seen.push({ t: now, sid: state.sid, input: input.kind === 'start' ? { kind: 'start', durable: structuredClone(input.durable) } : input });
    const up = input.kind === 'start' ? true : state.up;
    return { state: { ...state, up }, effects: react(state.sid, input, now) };
  };
  return {
    seen,
    attach(s) {
      sim = s;
      return s;
    },
  };
}

/** Hands server `sid` a clientRequest whose path is `name`, now (inside the current event). */
function request(sim: Simulation, sid: Sid, name: string): void {
  sim.clientRequest(sid, { client: 0, cxid: 0, session: 0, op: 'setData', path: name });
}

function command(sim: Simulation, t: number, sid: Sid, name: string): void {
  sim.at(t, () => request(sim, sid, name));
}

function commandOf(input: Input): string | null {
  return input.kind === 'clientRequest' ? input.request.path : null;
}

const NOTIF: Notification = { type: 'NOTIFICATION', state: 'LOOKING', leader: 1, zxid: 0, electionEpoch: 1, peerEpoch: 0, version: 2 };

function entry(zxid: number): LogEntry {
  return { zxid, txn: { type: 'setData', path: '/k', data: String(zxid), version: -1 } };
}

/** A simulation with fixed delays, started by hand (no startAll), recording its trace. */
function scripted(opts: Partial<SimOptions> & { voters: number }): { sim: Simulation; trace: TraceEvent[] } {
  const trace: TraceEvent[] = [];
  const sim = new Simulation(
    {
      seed: 1,
      network: { delay: { kind: 'constant', ms: 10 } },
      disk: { fsyncLatency: { kind: 'constant', ms: 2 }, renameLatency: { kind: 'constant', ms: 1 } },
      ...opts,
    },
    (e) => trace.push(e),
  );
  return { sim, trace };
}

// ---------------------------------------------------------------------------------------------
// Runs of the real protocol with faults.

const FAULTY: RunOptions = {
  seed: 20240601,
  voters: 5,
  observers: 1,
  untilMs: 60_000,
  startSpreadMs: 300,
  network: { lossProb: 0.01 },
  faults: { crashMeanIntervalMs: 4000, partitionMeanIntervalMs: 6000, untilMs: 45_000 },
};

function collect(opts: RunOptions): TraceEvent[] {
  const events: TraceEvent[] = [];
  runToEnd(opts, (e) => events.push(e));
  return events;
}

function jsonLines(events: readonly TraceEvent[]): string {
  return events.map((e) => JSON.stringify(e)).join('\n');
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

describe('kernel: determinism and trace shape (real protocol, with faults)', () => {
  let first: TraceEvent[];
  let second: TraceEvent[];
  let firstJson: string;
  let secondJson: string;

  beforeAll(() => {
    // Serialise each run as soon as it ends: the check must not depend on objects shared between runs.
    first = collect(FAULTY);
    firstJson = jsonLines(first);
    second = collect(FAULTY);
    secondJson = jsonLines(second);
  });

  it('the fault run exercises crashes, restarts, partitions, heals and losses', () => {
    const kinds = new Set(first.map((e) => (e.type === 'drop' ? `drop:${e.reason}` : e.type === 'start' && e.restart ? 'restart' : e.type)));
    for (const k of ['crash', 'restart', 'partition', 'heal', 'drop:loss', 'drop:partition', 'drop:receiver-down', 'timer', 'fsync', 'deliver']) {
      expect(kinds, k).toContain(k);
    }
    expect(first.length).toBeGreaterThan(1000);
  });

  it('the same seed gives a byte-identical JSON trace (and the same sha256)', () => {
    expect(second.length).toBe(first.length);
    expect(secondJson === firstJson).toBe(true);
    expect(sha256(secondJson)).toBe(sha256(firstJson));
  });

  it('different seeds give different traces', () => {
    const other = jsonLines(collect({ ...FAULTY, seed: FAULTY.seed + 1 }));
    expect(sha256(other)).not.toBe(sha256(firstJson));
    // Also without faults: startup spread and network delays alone depend on the seed.
    const calm = (seed: number): string => jsonLines(collect({ seed, voters: 3, untilMs: 3000, startSpreadMs: 300 }));
    expect(calm(1)).not.toBe(calm(2));
    expect(calm(1)).toBe(calm(1));
  });

  it('trace indices are 0, 1, 2, ... and time never decreases', () => {
    first.forEach((e, k) => {
      expect(e.i).toBe(k);
      if (k > 0) expect(e.t).toBeGreaterThanOrEqual((first[k - 1] as TraceEvent).t);
    });
    expect(first.at(-1)?.t).toBeLessThanOrEqual(FAULTY.untilMs);
  });

  it('every message in flight to or from a server when it crashes is dropped (receiver-down or connection-reset)', () => {
    // Once a leader is elected traffic is sparse, so crashes rarely catch a message in flight in
    // the run above: this run has slow links and frequent crashes instead.
    const busy = collect({ seed: 3, voters: 5, observers: 1, untilMs: 30_000, startSpreadMs: 300, network: { delay: { kind: 'uniform', minMs: 20, maxMs: 200 } }, faults: { crashMeanIntervalMs: 1000, untilMs: 20_000 } });
    const inFlight = new Map<number, { from: Sid; to: Sid }>();
    const doomed = new Map<number, Sid>(); // message id -> crashed server
    let checked = 0;
    for (const e of busy) {
      if (e.type === 'send') inFlight.set(e.id, { from: e.from, to: e.to });
      else if (e.type === 'deliver' || e.type === 'drop') {
        if (doomed.has(e.id)) {
          expect({ id: e.id, outcome: e.type === 'drop' ? e.reason : 'delivered' }).toMatchObject({ outcome: expect.stringMatching(/^(receiver-down|connection-reset)$/) });
          checked++;
          doomed.delete(e.id);
        }
        inFlight.delete(e.id);
      } else if (e.type === 'crash') {
        for (const [id, m] of inFlight) if (m.from === e.sid || m.to === e.sid) doomed.set(id, e.sid);
      }
    }
    expect(checked).toBeGreaterThan(4);
  });

  it('each crash reports as lostWrites the writes persisted since start and not yet fsynced', () => {
    const pending = new Map<Sid, Set<number>>();
    let crashes = 0;
    for (const e of first) {
      if (e.type === 'start') pending.set(e.sid, new Set());
      else if (e.type === 'persist') pending.get(e.sid)?.add(e.token);
      else if (e.type === 'fsync' && e.stage === 'done') pending.get(e.sid)?.delete(e.token);
      else if (e.type === 'crash') {
        expect(e.lostWrites).toBe(pending.get(e.sid)?.size ?? 0);
        pending.set(e.sid, new Set());
        crashes++;
      }
    }
    expect(crashes).toBeGreaterThan(3);
  });

  it('every crashed server restarts with restart: true; a first start has restart: false', () => {
    const down = new Set<Sid>();
    const started = new Set<Sid>();
    let restarts = 0;
    for (const e of first) {
      if (e.type === 'crash') down.add(e.sid);
      if (e.type === 'start') {
        expect(e.restart).toBe(started.has(e.sid));
        if (e.restart) {
          expect(down.has(e.sid)).toBe(true);
          restarts++;
        }
        started.add(e.sid);
        down.delete(e.sid);
      }
    }
    expect(started.size).toBe(6);
    expect(restarts).toBeGreaterThan(3);
    // The faulty period ends at 45 s: everything is up again by then.
    expect(down.size).toBe(0);
  });
});

describe('kernel: steps inside steps (scripted protocol)', () => {
  /**
   * Two started servers whose steps answer each command by `effects[name]`; a reply makes
   * `onReply` start further steps from inside the replying step's effects. Server 1 gets
   * 'outer' at 50 ms, then each server a command with no effects.
   */
  function nested(effects: Record<string, Effect[]>, onReply: (sim: Simulation, sid: Sid) => void): { trace: TraceEvent[]; seen: Seen[] } {
    const p = puppet((_sid, input) => effects[commandOf(input) ?? ''] ?? []);
    const { sim, trace } = scripted({ voters: 2 });
    p.attach(sim);
    sim.onReply = (sid) => onReply(sim, sid);
    sim.at(0, () => {
      sim.start(1);
      sim.start(2);
    });
    command(sim, 50, 1, 'outer');
    command(sim, 70, 1, 'nothing');
    command(sim, 80, 2, 'nothing');
    sim.runUntil(1_000);
    return { trace, seen: p.seen };
  }

  const REPLY: Effect = { kind: 'reply', reply: { client: 0, cxid: 0, ok: true, zxid: 0 } };

  it("a step started while another's effects are applied has its own effect list, and no step's effects are applied twice", () => {
    // The kernel reuses its step contexts; a reply's callback that starts another step (here on
    // both servers) must neither cut short the outer step's list nor leave effects behind.
    const { trace } = nested(
      {
        outer: [REPLY, { kind: 'setTimer', timer: 'after-reply', delayMs: 10 }, { kind: 'note', text: 'outer done' }],
        inner: [{ kind: 'setTimer', timer: 'inner', delayMs: 5 }],
        self: [{ kind: 'setTimer', timer: 'self', delayMs: 7 }],
      },
      (sim, sid) => {
        request(sim, 2, 'inner');
        request(sim, sid, 'self');
      },
    );
    const fired = trace.filter((e) => e.type === 'timer').map((e) => `s${e.type === 'timer' ? e.sid : 0} ${e.type === 'timer' ? e.timer : ''}@${e.t}`);
    expect(fired).toEqual(['s2 inner@55', 's1 self@57', 's1 after-reply@60']);
    expect(trace.filter((e) => e.type === 'reply').map((e) => e.t)).toEqual([50]);
    expect(trace.filter((e) => e.type === 'note').map((e) => `${e.t} ${e.type === 'note' ? e.text : ''}`)).toEqual(['50 outer done']);
  });

  it('stages woken without delay run right after the step that woke them, each server its own', () => {
    // Server 1 wakes its commit processor, then replies; the reply's callback steps server 2,
    // which wakes its own. Each stage runs right after the step that woke it: server 2's inside
    // the callback, server 1's once its step is done. Neither is lost to the other.
    const { seen } = nested({ outer: [{ kind: 'wake', stage: 'commitProcessor' }, REPLY], inner: [{ kind: 'wake', stage: 'commitProcessor' }] }, (sim) => request(sim, 2, 'inner'));
    const steps = seen.filter((s) => s.input.kind !== 'start' && s.t === 50).map((s) => `s${s.sid} ${s.input.kind === 'stage' ? `stage ${s.input.stage}` : (commandOf(s.input) ?? s.input.kind)}`);
    expect(steps).toEqual(['s1 outer', 's2 inner', 's2 stage commitProcessor', 's1 stage commitProcessor']);
  });
});

describe('kernel: timers (scripted protocol)', () => {
  it('a re-armed timer fires once, at its last deadline; a cancelled one never fires', () => {
    const p = puppet((_sid, input, now) => {
      if (input.kind === 'start') {
        return ['later', 'earlier', 'twice', 'cancelled', 'revived', 'pushed', 'periodic'].map((timer) => ({ kind: 'setTimer', timer, delayMs: 100 }));
      }
      if (input.kind === 'timer' && input.timer === 'periodic' && now < 300) return [{ kind: 'setTimer', timer: 'periodic', delayMs: 100 }];
      switch (commandOf(input)) {
        case 'c50':
          return [
            { kind: 'setTimer', timer: 'later', delayMs: 200 }, // 100 -> 250
            { kind: 'setTimer', timer: 'earlier', delayMs: 10 }, // 100 -> 60
            { kind: 'setTimer', timer: 'twice', delayMs: 200 }, // 100 -> 250 ...
            { kind: 'cancelTimer', timer: 'cancelled' },
            { kind: 'cancelTimer', timer: 'revived' },
            { kind: 'setTimer', timer: 'pushed', delayMs: 100 }, // 100 -> 150
          ];
        case 'c80':
          return [
            { kind: 'setTimer', timer: 'twice', delayMs: 100 }, // ... -> 180: earlier than 250, later than the first
            { kind: 'setTimer', timer: 'revived', delayMs: 90 }, // cancelled, then armed again for 170
          ];
        case 'c140':
          return [{ kind: 'setTimer', timer: 'pushed', delayMs: 100 }]; // 150 -> 240
        default:
          return [];
      }
    });
    const { sim, trace } = scripted({ voters: 1 });
    p.attach(sim);
    sim.at(0, () => sim.start(1));
    command(sim, 50, 1, 'c50');
    command(sim, 80, 1, 'c80');
    command(sim, 140, 1, 'c140');
    sim.runUntil(10_000);

    const fired = trace.filter((e) => e.type === 'timer').map((e) => `${e.type === 'timer' ? e.timer : ''}@${e.t}`);
    expect(fired).toEqual(['earlier@60', 'periodic@100', 'revived@170', 'twice@180', 'periodic@200', 'pushed@240', 'later@250', 'periodic@300']);
    // The protocol saw exactly those timer inputs, at those times.
    const inputs = p.seen.filter((s) => s.input.kind === 'timer').map((s) => `${s.input.kind === 'timer' ? s.input.timer : ''}@${s.t}`);
    expect(inputs).toEqual(fired);
  });

  it('a timer re-armed for exactly its queued deadline, or re-armed after it fired, fires each time it is due', () => {
    const p = puppet((_sid, input) => {
      if (input.kind === 'start') return [{ kind: 'setTimer', timer: 't', delayMs: 100 }];
      if (commandOf(input) === 'same') return [{ kind: 'setTimer', timer: 't', delayMs: 50 }]; // at 50: still 100
      if (commandOf(input) === 'again') return [{ kind: 'setTimer', timer: 't', delayMs: 30 }]; // at 120: 150
      return [];
    });
    const { sim, trace } = scripted({ voters: 1 });
    p.attach(sim);
    sim.at(0, () => sim.start(1));
    command(sim, 50, 1, 'same');
    command(sim, 120, 1, 'again');
    sim.runUntil(1000);
    expect(trace.filter((e) => e.type === 'timer').map((e) => e.t)).toEqual([100, 150]);
  });

  it('jitter adds a uniform [0, jitterMs) delay drawn from the seeded timers stream', () => {
    const firedAt = (seed: number): number[] => {
      const p = puppet((_sid, input) =>
        input.kind === 'start' ? Array.from({ length: 200 }, (_, k): Effect => ({ kind: 'setTimer', timer: `j${k}`, delayMs: 100, jitterMs: 50 })) : [],
      );
      const { sim, trace } = scripted({ voters: 1, seed });
      p.attach(sim);
      sim.at(0, () => sim.start(1));
      sim.runUntil(1000);
      return trace.filter((e) => e.type === 'timer').map((e) => e.t);
    };
    const times = firedAt(3);
    expect(times).toHaveLength(200);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...times)).toBeLessThan(150);
    expect(new Set(times).size).toBeGreaterThan(20);
    expect(firedAt(3)).toEqual(times);
  });

  it("a crashed server's timers never fire, and the restarted process can arm the same names afresh", () => {
    const p = puppet((_sid, input, now) => {
      if (input.kind !== 'start') return [];
      // First life: 'same' and 'old' due at 100. Second life (from 60): 'same' due at 160, 'new' at 160.
      if (now === 0) return ['same', 'old'].map((timer) => ({ kind: 'setTimer', timer, delayMs: 100 }));
      return ['same', 'new'].map((timer) => ({ kind: 'setTimer', timer, delayMs: 100 }));
    });
    const { sim, trace } = scripted({ voters: 1 });
    p.attach(sim);
    sim.at(0, () => sim.start(1));
    sim.at(50, () => sim.crash(1));
    sim.at(60, () => sim.start(1));
    sim.runUntil(1000);
    expect(trace.filter((e) => e.type === 'timer').map((e) => `${e.type === 'timer' ? e.timer : ''}@${e.t}`)).toEqual(['same@160', 'new@160']);
  });
});

describe('kernel: crash and restart (scripted protocol)', () => {
  /**
   * s1 and s3 stay up; s2 is a learner of s1. Delays are 10 ms, fsyncs 2 ms.
   *  t=1  s1 -> s2, s1 -> s3 (election); s2 -> s1 (election); s2 opens its learner connection;
   *       s2 persists zxid 1 (durable at 3)
   *  t=3  s1 -> s2 PING on the learner connection
   *  t=4  s2 persists zxids 2, 3 (durable at 6)
   *  t=5  s2 crashes
   *  t=12 s2 restarts; the messages due at 11 found it down, the PING due at 13 finds it up
   */
  function crashScenario(): { sim: Simulation; trace: TraceEvent[]; seen: Seen[]; ids: Record<string, number> } {
    const p = puppet((sid, input) => {
      switch (`${sid}:${commandOf(input)}`) {
        case '1:t1':
          return [
            { kind: 'send', to: 2, msg: NOTIF },
            { kind: 'send', to: 3, msg: NOTIF },
          ];
        case '2:t1':
          return [
            { kind: 'send', to: 1, msg: NOTIF },
            { kind: 'send', to: 1, msg: { type: 'FOLLOWERINFO', zxid: 0 } },
            { kind: 'persist', token: 1, write: { op: 'appendLog', entry: entry(1) } },
          ];
        case '1:t3':
          // An election-lane message: in flight across s2's crash and restart.
          return [{ kind: 'send', to: 2, msg: NOTIF }];
        case '2:t4':
          return [
            { kind: 'persist', token: 2, write: { op: 'appendLog', entry: entry(2) } },
            { kind: 'persist', token: 3, write: { op: 'appendLog', entry: entry(3) } },
          ];
        case '1:t20':
          return [{ kind: 'send', to: 2, msg: { type: 'PING', zxid: 0 } }];
        default:
          return [];
      }
    });
    const { sim, trace } = scripted({ voters: 3 });
    p.attach(sim);
    for (const sid of [1, 2, 3]) sim.at(0, () => sim.start(sid));
    command(sim, 1, 1, 't1');
    command(sim, 1, 2, 't1');
    command(sim, 3, 1, 't3');
    command(sim, 4, 2, 't4');
    sim.at(5, () => sim.crash(2));
    sim.at(12, () => sim.start(2));
    command(sim, 20, 1, 't20');
    sim.runUntil(1000);
    const ids: Record<string, number> = {};
    for (const e of trace) {
      if (e.type === 'send') ids[`${e.from}->${e.to}:${e.msg.type}@${e.t}`] = e.id;
    }
    return { sim, trace, seen: p.seen, ids };
  }

  function outcome(trace: TraceEvent[], id: number | undefined): string[] {
    return trace.filter((e) => (e.type === 'deliver' || e.type === 'drop') && e.id === id).map((e) => (e.type === 'drop' ? `${e.reason}@${e.t}` : `deliver@${e.t}`));
  }

  it('messages in flight to a crashed server are dropped: receiver-down while it is down, connection-reset after it restarted', () => {
    const { trace, ids } = crashScenario();
    expect(outcome(trace, ids['1->2:NOTIFICATION@1'])).toEqual(['receiver-down@11']);
    expect(outcome(trace, ids['1->2:NOTIFICATION@3'])).toEqual(['connection-reset@13']);
    // The control message to a server that did not crash arrives.
    expect(outcome(trace, ids['1->3:NOTIFICATION@1'])).toEqual(['deliver@11']);
  });

  it("messages in flight from a crashed server are dropped (connection-reset), and its learner connection is gone", () => {
    const { trace, ids } = crashScenario();
    expect(outcome(trace, ids['2->1:NOTIFICATION@1'])).toEqual(['connection-reset@11']);
    expect(outcome(trace, ids['2->1:FOLLOWERINFO@1'])).toEqual(['connection-reset@11']);
    // After the restart nobody reopened the learner connection: the leader's packets are refused.
    expect(trace.find((e) => e.type === 'drop' && e.id === ids['1->2:PING@20'])).toMatchObject({ reason: 'connection-broken', t: 20 });
  });

  it('a crash loses exactly the pending writes and reports them as lostWrites', () => {
    const { sim, trace } = crashScenario();
    expect(trace.filter((e) => e.type === 'crash')).toEqual([expect.objectContaining({ sid: 2, t: 5, lostWrites: 2 })]);
    expect(sim.server(2).disk.image.log.map((e) => e.zxid)).toEqual([1]);
    expect(sim.server(2).disk.pendingCount).toBe(0);
    // No completion of a lost write is ever traced.
    const fsyncs = trace.filter((e) => e.type === 'fsync' && e.sid === 2).map((e) => (e.type === 'fsync' ? e.token : -1));
    expect(fsyncs).toEqual([1]);
  });

  it('the crashed incarnation gets no further inputs; the restart gets a fresh start with the durable image', () => {
    const { sim, trace, seen } = crashScenario();
    const s2 = seen.filter((s) => s.sid === 2);
    // Inputs of s2: start, commands, fsyncDone for token 1 only, then (after the crash) only the restart.
    expect(s2.map((s) => `${s.input.kind}@${s.t}`)).toEqual(['start@0', 'clientRequest@1', 'fsyncDone@3', 'clientRequest@4', 'start@12']);
    const restart = s2.at(-1)?.input;
    expect(restart?.kind === 'start' ? restart.durable.log.map((e) => e.zxid) : null).toEqual([1]);
    expect(trace.filter((e) => e.type === 'start' && e.sid === 2).map((e) => (e.type === 'start' ? e.restart : null))).toEqual([false, true]);
    expect(sim.server(2).up).toBe(true);
    expect(sim.server(2).incarnation).toBe(1);
  });

  it('a restart hands the protocol every completed write, epoch files (and a leftover .tmp) included', () => {
    const p = puppet((_sid, input, now) => {
      if (input.kind === 'start' && now === 0) {
        return [
          { kind: 'persist', token: 1, write: { op: 'writeEpoch', file: 'acceptedEpoch', value: 3 } },
          { kind: 'persist', token: 2, write: { op: 'appendLog', entry: entry(7) } },
          { kind: 'persist', token: 3, write: { op: 'writeEpoch', file: 'currentEpoch', value: 3 } },
        ];
      }
      return [];
    });
    // fsync 2 ms after submission but never before the previous write, rename 1 ms:
    // acceptedEpoch tmp@2 done@3, log@3, currentEpoch tmp@3 done@4. A crash at 3.5 falls between
    // the currentEpoch tmp file and its rename.
    const { sim, trace } = scripted({ voters: 1 });
    p.attach(sim);
    sim.at(0, () => sim.start(1));
    sim.at(3.5, () => sim.crash(1));
    sim.at(9, () => sim.start(1));
    sim.runUntil(100);
    const starts = p.seen.filter((s) => s.input.kind === 'start').map((s) => (s.input.kind === 'start' ? s.input.durable : null));
    expect(starts).toEqual([
      { log: [], snapshots: [], acceptedEpoch: null, currentEpoch: null, acceptedEpochTmp: null, currentEpochTmp: null, updatingEpoch: false, damagedTail: null },
      { log: [entry(7)], snapshots: [], acceptedEpoch: 3, currentEpoch: null, acceptedEpochTmp: null, currentEpochTmp: 3, updatingEpoch: false, damagedTail: null },
    ]);
    expect(trace.find((e) => e.type === 'crash')).toMatchObject({ lostWrites: 1 });
  });

  it('start and crash refuse a server in the wrong state', () => {
    puppet(() => []);
    const { sim } = scripted({ voters: 1 });
    expect(() => sim.crash(1)).toThrow(/already down/);
    sim.start(1);
    expect(() => sim.start(1)).toThrow(/already up/);
  });
});

describe('kernel: scheduled actions (Simulation.at, atFirst)', () => {
  it('a method scheduled with its receiver and argument runs as fn.call(self, arg), in time order with closures; atFirst ahead of its instant', () => {
    const { sim } = scripted({ voters: 1 });
    const seen: string[] = [];
    class Recorder {
      constructor(readonly name: string) {}
      note(this: Recorder, what: string): void {
        seen.push(`${this.name}:${what}@${sim.now}`);
      }
    }
    const a = new Recorder('a');
    const b = new Recorder('b');
    sim.at(20, a.note, b, 'late');
    sim.at(10, () => seen.push(`closure@${sim.now}`));
    sim.at(10, a.note, a, 'second');
    sim.atFirst(10, b.note, b, 'first');
    sim.at(5, Recorder.prototype.note, a, 'early');
    sim.runUntil(100);
    expect(seen).toEqual(['a:early@5', 'b:first@10', 'closure@10', 'a:second@10', 'b:late@20']);
  });
});
