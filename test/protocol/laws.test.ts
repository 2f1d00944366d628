/**
 * Laws of the pure transition function, checked over a diverse set of reachable states:
 * (a) `step` never mutates its input state or input; (b) every input kind is handled in every
 * role without throwing and yields a well-formed state and effects; (c) a few receiver-thread
 * laws of §3.2 that hold in every state.
 *
 * States come from simulations with crashes, partitions and client load (sampled every few
 * milliseconds of virtual time so that finalize waits, observer election delays, Discovery and
 * Sync stages and blocked learners are caught), plus their one-step successors under a handful of
 * inputs. Inputs cover every message type of §2 from the server itself, voters and observers,
 * including ones the peer would never send in that state: the process may then exit (a `halt`
 * effect, §7: an unmatched COMMIT, a bad first sync packet...), but a step must never throw.
 */
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { allServers, isVoter, type ClusterConfig, type Sid } from '../../src/protocol/config.ts';
import { EMPTY_TREE } from '../../src/protocol/datatree.ts';
import { TIMER_CONNECT_RETRY, TIMER_EPOCH_WAIT } from '../../src/protocol/discovery.ts';
import { NOTIFICATION_VERSION, TIMER_FINALIZE, TIMER_POLL } from '../../src/protocol/election.ts';
import { handlerReadTimer, TIMER_LEARNER_READ, TIMER_PING } from '../../src/protocol/heartbeat.ts';
import { blankState, step, TIMER_OBSERVER_DELAY } from '../../src/protocol/peer.ts';
import { TIMER_NEWLEADER_WAIT } from '../../src/protocol/sync.ts';
import type { ClientRequest, Effect, Input, Message, PeerStateName, ServerState } from '../../src/protocol/types.ts';
import { MIN_VALUE, ZXID_NONE, zxid } from '../../src/protocol/zxid.ts';
import { createRun } from '../../src/run/run.ts';
import { image, logOf, txnFor } from './driver.ts';
import { EMPTY_SNAPSHOT } from '../../src/protocol/db.ts';

interface Sample {
  readonly cfg: ClusterConfig;
  readonly state: ServerState;
  readonly shape: string;
}

function deepFreeze<T>(x: T): T {
  if (x !== null && typeof x === 'object' && !Object.isFrozen(x)) {
    Object.freeze(x);
    for (const v of Object.values(x)) deepFreeze(v);
  } else if (x !== null && typeof x === 'object') {
    // Already frozen at the top (steps freeze deeply, cow.ts, but check the children anyway).
    for (const v of Object.values(x)) deepFreeze(v);
  }
  return x;
}

function shapeOf(voters: number, observers: number, s: ServerState): string {
  return [
    `${voters}v${observers}o`,
    isVoter({ voters: Array.from({ length: voters }, (_, i) => i + 1) } as unknown as ClusterConfig, s.sid) ? 'voter' : 'observer',
    s.state,
    s.zabState,
    s.fle.running ? 'running' : 'idle',
    s.fle.finalizing ? 'finalizing' : '',
    s.fle.queued.length > 0 ? 'queued' : '',
    s.leader === null ? '' : s.leader.established ? 'established' : s.leader.electionFinished ? 'syncing' : s.leader.epochDecided ? 'epochDecided' : 'connecting',
    s.leader === null ? '' : [...new Set(Object.values(s.leader.learners).map((h) => h.stage))].sort().join('+'),
    s.learner === null ? '' : s.learner.connected ? `connected-${s.learner.phase}` : `try${s.learner.connectTries}`,
    s.learner?.blocked ? `blocked-${s.learner.blocked.on}` : '',
  ].join('|');
}

const STATE_NAMES: readonly PeerStateName[] = ['LOOKING', 'FOLLOWING', 'LEADING', 'OBSERVING'];

/** Every timer the protocol sets, with a handler read timeout per peer. */
function timerNames(cfg: ClusterConfig): string[] {
  return [
    TIMER_POLL,
    TIMER_FINALIZE,
    TIMER_OBSERVER_DELAY,
    TIMER_EPOCH_WAIT,
    TIMER_NEWLEADER_WAIT,
    TIMER_CONNECT_RETRY,
    TIMER_PING,
    TIMER_LEARNER_READ,
    ...allServers(cfg).map(handlerReadTimer),
  ];
}

/** A broad set of inputs for state `s`: every input kind, from voters, observers and itself. */
function inputsFor(cfg: ClusterConfig, s: ServerState): Input[] {
  const out: Input[] = [];
  const all = allServers(cfg);
  const maxVoter = cfg.voters[cfg.voters.length - 1] as Sid;
  const froms = [...new Set<Sid>([cfg.voters.find((v) => v !== s.sid) ?? s.sid, s.sid, maxVoter, ...cfg.observers.slice(0, 1)])];
  const lc = s.fle.logicalclock;
  const obsOr99 = cfg.observers[0] ?? 99;
  // (leader, zxid, peerEpoch): equal to mine, a newer log, a newer epoch, zxid -1, a non-voter.
  const votes: [Sid, number, number][] = [
    [1, s.db.lastProcessedZxid, s.currentEpoch],
    [maxVoter, s.db.lastProcessedZxid + 5, s.currentEpoch],
    [1, zxid(s.currentEpoch + 1, 1), s.currentEpoch + 1],
    [maxVoter, ZXID_NONE, s.currentEpoch + 1],
    [obsOr99, s.db.lastProcessedZxid + 5, s.currentEpoch + 1],
  ];
  for (const state of STATE_NAMES) {
    for (const from of froms) {
      for (const round of [lc - 1, lc, lc + 1]) {
        for (const [leader, z, e] of votes) {
          out.push({
            kind: 'message',
            from,
            msg: { type: 'NOTIFICATION', state, leader, zxid: z, electionEpoch: round, peerEpoch: e, version: NOTIFICATION_VERSION },
          });
        }
      }
    }
  }
  // An observer's own-vote notification (Long.MIN_VALUE) and a version-0 one.
  for (const from of froms) {
    out.push({ kind: 'message', from, msg: { type: 'NOTIFICATION', state: 'LOOKING', leader: MIN_VALUE, zxid: MIN_VALUE, electionEpoch: lc, peerEpoch: MIN_VALUE, version: 2 } });
    out.push({ kind: 'message', from, msg: { type: 'NOTIFICATION', state: 'FOLLOWING', leader: maxVoter, zxid: s.db.lastProcessedZxid, electionEpoch: lc, peerEpoch: s.currentEpoch, version: 0 } });
  }
  for (const from of all) {
    if (from === s.sid) continue;
    out.push({ kind: 'message', from, msg: { type: 'FOLLOWERINFO', zxid: zxid(s.acceptedEpoch, 0) } });
    out.push({ kind: 'message', from, msg: { type: 'OBSERVERINFO', zxid: zxid(s.acceptedEpoch, 0) } });
    out.push({ kind: 'message', from, msg: { type: 'PING', zxid: s.db.lastProcessedZxid } });
    out.push({ kind: 'disconnected', peer: from });
  }
  // The role's thread fails (a scenario's `force sN LOOKING`).
  out.push({ kind: 'roleFailed', reason: 'law test' });
  // Every other packet (§2.2), from my leader, from one of my learners, and from a stranger.
  const handler = s.leader === null ? undefined : Object.values(s.leader.learners)[0]?.sid;
  const peers = [...new Set<Sid>([s.learner?.leader, handler, all.find((x) => x !== s.sid && x !== s.learner?.leader && x !== handler)].filter((x): x is Sid => x !== undefined && x !== s.sid))];
  const e = s.acceptedEpoch;
  const lz = Math.max(0, s.db.lastProcessedZxid);
  const next = lz + 1;
  for (const from of peers) {
    const origin = { server: from, client: 1, cxid: 1 };
    const packets: Message[] = [
      ...(e > 0 ? [{ type: 'LEADERINFO', zxid: zxid(e - 1, 0) } as const] : []),
      { type: 'LEADERINFO', zxid: zxid(e, 0) },
      { type: 'LEADERINFO', zxid: zxid(e + 1, 0) },
      { type: 'ACKEPOCH', zxid: lz, currentEpoch: s.currentEpoch },
      { type: 'ACKEPOCH', zxid: lz + 5, currentEpoch: s.currentEpoch + 1 },
      { type: 'ACKEPOCH', zxid: lz, currentEpoch: -1 },
      { type: 'DIFF', zxid: lz },
      { type: 'TRUNC', zxid: lz },
      { type: 'TRUNC', zxid: 0 },
      { type: 'SNAP', zxid: lz, tree: EMPTY_TREE },
      { type: 'NEWLEADER', zxid: zxid(e, 0) },
      { type: 'NEWLEADER', zxid: zxid(e + 1, 0) },
      { type: 'ACK', zxid: zxid(e, 0) },
      { type: 'ACK', zxid: next },
      { type: 'ACK', zxid: zxid(e, 1) },
      { type: 'UPTODATE' },
      { type: 'PROPOSAL', zxid: next, txn: txnFor(next) },
      { type: 'PROPOSAL', zxid: zxid(e, 1), txn: txnFor(zxid(e, 1)) },
      { type: 'INFORM', zxid: next, txn: txnFor(next) },
      { type: 'COMMIT', zxid: next },
      { type: 'COMMIT', zxid: lz },
      { type: 'COMMIT', zxid: zxid(e, 1) },
      { type: 'REQUEST', request: { kind: 'write', txn: { ...txnFor(next), origin } } },
      { type: 'REQUEST', request: { kind: 'sync', origin } },
      { type: 'PING', zxid: lz, sessions: [1, 2] },
      { type: 'SYNC', origin: { server: s.sid, client: 1, cxid: 1 } },
    ];
    for (const msg of packets) out.push({ kind: 'message', from, msg });
  }
  for (const timer of timerNames(cfg)) out.push({ kind: 'timer', timer });
  out.push({ kind: 'fsyncDone', token: 1 });
  out.push({ kind: 'fsyncDone', token: s.nextToken });
  out.push({ kind: 'stage', stage: 'logWriter' });
  out.push({ kind: 'stage', stage: 'protocol' });
  for (const sid of [...cfg.voters, ...cfg.observers]) out.push({ kind: 'stage', stage: `handler.${sid}` });
  // Client operations, with and without a session (sessions are numbered from 1 by the clients).
  const sess = Number(Object.keys(s.db.tree.sessions)[0] ?? 0);
  const requests: ClientRequest[] = [
    { client: 1, cxid: 1, session: 0, op: 'createSession', path: '/', timeoutMs: 6000 },
    { client: 1, cxid: 2, session: sess, op: 'create', path: '/a', data: 'x' },
    { client: 1, cxid: 3, session: sess, op: 'create', path: '/e', data: 'x', ephemeral: true, sequential: true },
    { client: 1, cxid: 4, session: sess, op: 'setData', path: '/a', data: 'y', version: -1 },
    { client: 1, cxid: 5, session: sess, op: 'delete', path: '/a', version: 0 },
    { client: 2, cxid: 7, session: sess, op: 'read', path: '/a' },
    { client: 3, cxid: 9, session: sess, op: 'sync', path: '/' },
    { client: 1, cxid: 6, session: sess, op: 'closeSession', path: '/' },
    { client: 4, cxid: 1, session: 12345, op: 'create', path: '/b', data: '' },
  ];
  for (const request of requests) out.push({ kind: 'clientRequest', request });
  return out;
}

/** Reachable states: simulations with faults, sampled densely, a few per shape. */
function collectStates(): Sample[] {
  const byShape = new Map<string, Sample[]>();
  const seen = new Map<string, number>();
  const keep = (cfg: ClusterConfig, voters: number, observers: number, state: ServerState): void => {
    if (!state.up) return;
    const shape = shapeOf(voters, observers, state);
    const n = (seen.get(shape) ?? 0) + 1;
    seen.set(shape, n);
    // The 1st, 2nd, 10th, 100th, 1000th... of each shape: early and late, varied rounds.
    if (n > 2 && !/^10*$/.test(String(n))) return;
    const list = byShape.get(shape) ?? [];
    list.push({ cfg, state, shape });
    byShape.set(shape, list);
  };
  const ensembles: [number, number][] = [[1, 1], [2, 1], [3, 1], [4, 0], [5, 2]];
  for (const [voters, observers] of ensembles) {
    for (const seed of [1, 2]) {
      const { sim } = createRun({
        seed,
        voters,
        observers,
        startSpreadMs: 500,
        params: { tickTimeMs: 500 },
        network: { delay: { kind: 'uniform', minMs: 1, maxMs: 60 } },
        faults: {
          crashMeanIntervalMs: 2000,
          partitionMeanIntervalMs: 3000,
          partitionDuration: { kind: 'uniform', minMs: 500, maxMs: 8000 },
          maxVotersDown: Math.ceil(voters / 2),
          untilMs: 40_000,
        },
        untilMs: 50_000,
        workload: { clients: 3, opsPerSecPerClient: 10, startMs: 2000, stopMs: 45_000 },
      }, (ev) => {
        // A message storm (a broken step) fails here instead of hanging the collection.
        if (ev.i > 1_000_000) throw new Error(`event storm in ${voters}v${observers}o seed ${seed} at t=${ev.t}`);
      });
      // Images with history, so that zxids and epochs differ between servers.
      for (const sid of sim.sids) {
        const img = sim.server(sid).disk.image;
        const e = sid % 3;
        img.log = logOf(Array.from({ length: sid % 4 }, (_, i) => zxid(e, i + 1)));
        if (img.log.length > 0) img.snapshots = [EMPTY_SNAPSHOT]; // snapshot.0 of its first start
        img.currentEpoch = e;
        img.acceptedEpoch = e + (sid % 2);
      }
      for (let t = 0; t <= 50_000; t += 13) {
        sim.runUntil(t);
        for (const sid of sim.sids) keep(sim.cfg, voters, observers, sim.server(sid).state);
      }
    }
  }
  const base = [...byShape.values()].flat();
  // One-step successors: the observer-delay queue, higher rounds, learners arriving, ticks.
  const derived: Sample[] = [];
  for (const smp of base) {
    const s = smp.state;
    const from = allServers(smp.cfg).find((v) => v !== s.sid);
    if (from === undefined) continue;
    const nudges: Input[] = [
      { kind: 'message', from, msg: { type: 'NOTIFICATION', state: 'LOOKING', leader: from, zxid: s.db.lastProcessedZxid, electionEpoch: s.fle.logicalclock + 1, peerEpoch: s.currentEpoch, version: 2 } },
      { kind: 'message', from, msg: { type: 'FOLLOWERINFO', zxid: 0 } },
      { kind: 'timer', timer: TIMER_PING },
      { kind: 'disconnected', peer: s.learner?.leader ?? from },
    ];
    for (const input of nudges) {
      const r = step(smp.cfg, s, input);
      if (r.state.up) derived.push({ cfg: smp.cfg, state: r.state, shape: smp.shape + ' +' + input.kind });
    }
  }
  return [...base, ...derived];
}

/** What is wrong with a step result, or null. */
function wellFormed(cfg: ClusterConfig, prev: ServerState, next: ServerState, effects: readonly Effect[]): string | null {
  if (typeof next !== 'object' || next === null) return 'no state returned';
  if (next.sid !== prev.sid) return `sid changed to ${next.sid}`;
  if (!Object.isFrozen(next)) return 'state not frozen';
  if (!STATE_NAMES.includes(next.state)) return `bad state ${String(next.state)}`;
  const halted = effects.some((e) => e.kind === 'halt');
  if (halted === next.up) return halted ? 'halt effect but still up' : 'went down without a halt effect';
  if (next.up) {
    if ((next.leader !== null) !== (next.state === 'LEADING')) return `leader state ${next.leader !== null} while ${next.state}`;
    if ((next.learner !== null) !== (next.state === 'FOLLOWING' || next.state === 'OBSERVING')) return `learner state while ${next.state}`;
    if (next.state !== 'LOOKING' && next.fle.running) return `election running while ${next.state}`;
    if (next.fle.finalizing && !next.fle.running) return 'finalizing outside an election';
    if (isVoter(cfg, next.sid) ? next.state === 'OBSERVING' : next.state === 'FOLLOWING' || next.state === 'LEADING') return `${next.state} is not this server's role`;
  }
  const sids = new Set(allServers(cfg));
  const timers = timerNames(cfg);
  for (const e of effects) {
    if (e.kind === 'send' && !sids.has(e.to)) return `send to unknown s${e.to}`;
    if (e.kind === 'send' && e.to === prev.sid && e.msg.type !== 'NOTIFICATION') return `${e.msg.type} sent to itself`;
    if (e.kind === 'send' && e.msg.type === 'NOTIFICATION' && !isVoter(cfg, e.to) && e.msg.state !== next.state) return 'reply to an observer with a stale state';
    if (e.kind === 'setTimer' && !(e.delayMs >= 0)) return `negative timer ${e.timer}`;
    if ((e.kind === 'setTimer' || e.kind === 'cancelTimer') && !timers.includes(e.timer)) return `unknown timer ${e.timer}`;
    if (e.kind === 'disconnect' && e.peer === prev.sid) return 'disconnect from itself';
  }
  return null;
}

const samples = collectStates();

describe('laws of step over reachable states', () => {
  it('the sample covers every role, finalize waits, the observer delay and its queue', () => {
    const shapes = new Set(samples.map((s) => shapeOf(s.cfg.voters.length, s.cfg.observers.length, s.state).split('|').slice(1).join('|')));
    const has = (re: RegExp): boolean => [...shapes].some((k) => re.test(k));
    if (process.env.LAWS_VERBOSE) console.log([...shapes].sort().join('\n'));
    expect(has(/^voter\|LOOKING\|ELECTION\|running\|\|/)).toBe(true);
    expect(has(/^voter\|LOOKING\|.*\|finalizing\|/)).toBe(true);
    expect(has(/^observer\|LOOKING\|.*\|finalizing\|/)).toBe(true);
    expect(has(/^observer\|LOOKING\|ELECTION\|idle\|\|\|/)).toBe(true);
    expect(has(/^observer\|LOOKING\|ELECTION\|idle\|\|queued\|/)).toBe(true);
    expect(has(/^voter\|FOLLOWING\|DISCOVERY\|.*\|try1\|/)).toBe(true);
    expect(has(/^voter\|FOLLOWING\|.*\|connected-sync\|/)).toBe(true);
    expect(has(/^voter\|FOLLOWING\|BROADCAST\|.*\|connected-broadcast\|$/)).toBe(true);
    expect(has(/^voter\|FOLLOWING\|.*\|blocked-/)).toBe(true);
    expect(has(/^voter\|LEADING\|.*\|connecting\|/)).toBe(true);
    expect(has(/^voter\|LEADING\|.*\|epochDecided\|/)).toBe(true);
    expect(has(/^voter\|LEADING\|.*\|syncing\|/)).toBe(true);
    expect(has(/^voter\|LEADING\|BROADCAST\|.*\|established\|/)).toBe(true);
    expect(has(/^observer\|OBSERVING\|BROADCAST\|.*\|connected-broadcast\|$/)).toBe(true);
    expect(samples.length).toBeGreaterThan(100);
    if (process.env.LAWS_VERBOSE) console.log(`${samples.length} states, ${shapes.size} shapes, ${samples.reduce((n, s) => n + inputsFor(s.cfg, s.state).length, 0)} inputs`);
  });

  it('(a) step never mutates its input state or input (both deep-frozen)', () => {
    const problems: string[] = [];
    let steps = 0;
    for (const { cfg, state } of samples) {
      deepFreeze(state);
      const before = JSON.stringify(state);
      for (const input of inputsFor(cfg, state)) {
        deepFreeze(input);
        const inputBefore = JSON.stringify(input);
        try {
          step(cfg, state, input); // a write to a frozen object throws (ES modules are strict)
        } catch (err) {
          problems.push(`s${state.sid} on ${inputBefore}: ${String(err)}`);
        }
        if (JSON.stringify(input) !== inputBefore) problems.push(`s${state.sid}: input changed: ${inputBefore}`);
        steps++;
      }
      if (JSON.stringify(state) !== before) problems.push(`s${state.sid}: state changed`);
    }
    expect(problems.slice(0, 10)).toEqual([]);
    expect(steps).toBeGreaterThan(10_000);
  });

  it('(b) every input kind in every role is handled without throwing, yielding a well-formed state and effects', () => {
    const problems: string[] = [];
    let steps = 0;
    for (const { cfg, state } of samples) {
      for (const input of inputsFor(cfg, state)) {
        steps++;
        const where = (): string => `s${state.sid} in ${shapeOf(cfg.voters.length, cfg.observers.length, state)} on ${JSON.stringify(input)}`;
        let r;
        try {
          r = step(cfg, state, input);
        } catch (err) {
          problems.push(`${where()}: threw ${String(err)}`);
          continue;
        }
        const p = wellFormed(cfg, state, r.state, r.effects);
        if (p !== null) problems.push(`${where()}: ${p}`);
        // Serialisable for traces and reports (Db, TxnLog and Fifo serialise as summaries).
        if (steps % 50 === 0) JSON.stringify(r.state);
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
    expect(steps).toBeGreaterThan(10_000);
  });

  it('(c) §3.2 a notification from a non-voter never changes the state and gets one reply: currentVote, logicalclock, my state', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const { cfg, state } of samples) {
      const reply = { type: 'NOTIFICATION', state: state.state, leader: state.currentVote.leader, zxid: state.currentVote.zxid, electionEpoch: state.fle.logicalclock, peerEpoch: state.currentVote.peerEpoch, version: NOTIFICATION_VERSION };
      for (const input of inputsFor(cfg, state)) {
        if (input.kind !== 'message' || input.msg.type !== 'NOTIFICATION' || isVoter(cfg, input.from)) continue;
        checked++;
        const r = step(cfg, state, input);
        if (r.state !== state) problems.push(`s${state.sid} ${state.state}: state changed`);
        if (!isDeepStrictEqual(r.effects, [{ kind: 'send', to: input.from, msg: reply }])) problems.push(`s${state.sid} ${state.state}: effects ${JSON.stringify(r.effects)}`);
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
    expect(checked).toBeGreaterThan(1000);
  });

  it('(c) §3.2 a server that is not LOOKING is never changed by a voter\'s notification, and answers only LOOKING senders, with currentVote and its round', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const { cfg, state } of samples) {
      if (state.state === 'LOOKING') continue;
      const v = state.currentVote;
      const reply = { type: 'NOTIFICATION', state: state.state, leader: v.leader, zxid: v.zxid, electionEpoch: v.electionEpoch, peerEpoch: v.peerEpoch, version: NOTIFICATION_VERSION };
      for (const input of inputsFor(cfg, state)) {
        if (input.kind !== 'message' || input.msg.type !== 'NOTIFICATION' || !isVoter(cfg, input.from)) continue;
        checked++;
        const r = step(cfg, state, input);
        const want = input.msg.state === 'LOOKING' ? [{ kind: 'send', to: input.from, msg: reply }] : [];
        if (r.state !== state) problems.push(`s${state.sid} ${state.state}: state changed`);
        if (!isDeepStrictEqual(r.effects, want)) problems.push(`s${state.sid} ${state.state}: effects ${JSON.stringify(r.effects)} for ${JSON.stringify(input.msg)}`);
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
    expect(checked).toBeGreaterThan(1000);
  });

  it('(c) §3.1 a voter\'s proposal never loses to its initial vote, in any LOOKING state', () => {
    for (const { cfg, state } of samples) {
      if (!isVoter(cfg, state.sid) || state.state !== 'LOOKING' || !state.fle.running) continue;
      const f = state.fle;
      const p = [f.proposedEpoch, f.proposedZxid, f.proposedLeader];
      const i = [state.currentEpoch, state.db.lastProcessedZxid, state.sid];
      const cmp = p[0]! - i[0]! || p[1]! - i[1]! || p[2]! - i[2]!;
      expect(cmp).toBeGreaterThanOrEqual(0);
    }
  });

  it('a start on a server that is up throws: it would be a kernel bug', () => {
    for (const { cfg, state } of samples.slice(0, 20)) {
      expect(() => step(cfg, state, { kind: 'start', durable: image() })).toThrow(/started twice/);
    }
  });

  it('any other input to a server that is not up throws: it would be a kernel bug', () => {
    const { cfg } = samples[0]!;
    const down = blankState(1);
    for (const input of inputsFor(cfg, down).filter((_, i) => i % 7 === 0)) {
      expect(() => step(cfg, down, input)).toThrow(/not up/);
    }
  });

  it('an unknown timer name throws: it would be a protocol/kernel mismatch', () => {
    const { cfg, state } = samples[0]!;
    expect(() => step(cfg, state, { kind: 'timer', timer: 'no.such.timer' })).toThrow(/unknown timer/);
  });
});
