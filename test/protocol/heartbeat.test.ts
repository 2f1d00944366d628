/**
 * Failure detection and the leader's session clock (src/protocol/heartbeat.ts, zab-protocol.md
 * §7), at function level on the state of an established ensemble. These were surviving mutants
 * of `npx stryker run --mutate src/protocol/heartbeat.ts` (docs/checkers.md, "Mutation
 * testing"): rules no run had told apart. Fixed delays (test/protocol/harness.ts); tickTime
 * 2000 ms, initLimit 10 ticks, syncLimit 5 ticks (the defaults).
 */
import { describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../src/protocol/config.ts';
import type { StepContext } from '../../src/protocol/context.ts';
import { own, ownHandler, ownLeader, ownLearner, writeStep } from '../../src/protocol/cow.ts';
import type { Txn } from '../../src/protocol/datatree.ts';
import {
  echoPing,
  handlerReadTimer,
  heardFromLeader,
  heardFromLearner,
  leaderClock,
  onPingTimer,
  sessionTxnCommitted,
  touchSessions,
  updateAckCheck,
  updateProposalCheck,
} from '../../src/protocol/heartbeat.ts';
import type { Effect, HandlerStage, LeaderState, LearnerHandler, ServerState } from '../../src/protocol/types.ts';
import { z } from './driver.ts';
import { established, log } from './harness.ts';

/** `voters` voters whose logs hold <1,1>, the last of them leading epoch 2. */
function ensemble(voters: number) {
  // One image per server: the simulated disk appends to its image's log in place.
  const images = Object.fromEntries(Array.from({ length: voters }, (_, i) => [i + 1, { acceptedEpoch: 1, currentEpoch: 1, log: log([1, 1]) }]));
  return established({ voters, images }, voters);
}

/** Runs `fn` on a draft of `s` as a step would; returns the new state, the effects and fn's result. */
function on<T>(cfg: ClusterConfig, s: ServerState, fn: (d: ServerState, ctx: StepContext) => T): { state: ServerState; effects: Effect[]; out: T } {
  const effects: Effect[] = [];
  const ctx: StepContext = { cfg, sid: s.sid, effects, probe: null, owned: [] };
  let out: T | undefined;
  // As one step: the functions write the step's copy of the state (src/protocol/cow.ts).
  const state = writeStep(ctx, s, (d) => {
    out = fn(d, ctx);
  });
  return { state, effects, out: out as T };
}

/** {@link on} for a leader: `fn` also gets its LeaderState (the draft's `leader`). */
function onLeader<T>(cfg: ClusterConfig, s: ServerState, fn: (d: ServerState, l: LeaderState, ctx: StepContext) => T): { state: ServerState; effects: Effect[]; out: T } {
  return on(cfg, s, (d, ctx) => {
    if (d.leader === null) throw new Error(`s${d.sid} is not leading`);
    return fn(d, ownLeader(ctx, d), ctx);
  });
}

const pingsTo = (effects: readonly Effect[]): number[] => effects.flatMap((e) => (e.kind === 'send' && e.msg.type === 'PING' ? [e.to] : []));

describe('§7 the leader\'s ping (Leader.lead\'s loop, LearnerHandler.ping)', () => {
  // LearnerHandler.ping: "If learner hasn't sync properly yet, don't send ping packet otherwise,
  // the learner will crash": nothing until startSendingPackets, which follows the sync's packets
  // (zabsim's stage 'sync'). SyncLimitCheck is not consulted either.
  it('a handler still in Discovery (epoch, ackepoch, epoch-quorum) gets no PING and is not dropped, however old its check; from the sync on it is pinged, or dropped', () => {
    const { sim } = ensemble(3);
    const leader = sim.server(3).state;
    for (const stage of ['epoch', 'ackepoch', 'epoch-quorum'] as const) {
      for (const stale of [false, true]) {
        const r = runPing(sim.cfg, leader, stage, stale);
        expect(r.out).toStrictEqual({ abdicate: false, drop: [], expired: [] });
        expect(pingsTo(r.effects)).toEqual([2]);
      }
    }
    const fresh = runPing(sim.cfg, leader, 'sync', false);
    expect(pingsTo(fresh.effects)).toEqual([1, 2]);
    const stale = runPing(sim.cfg, leader, 'sync', true);
    expect(stale.out).toStrictEqual({ abdicate: false, drop: [1], expired: [] });
    expect(pingsTo(stale.effects)).toEqual([2]);
  });

  // Leader.lead: syncedAckSet counts the leader and each learner whose handler is synced(), and
  // the QuorumVerifier's containsQuorum counts voters only: an observer never keeps a leader.
  it('an observer\'s handler does not count toward the synced quorum; the abdication names the synced voters, comma-separated', () => {
    const { sim } = ensemble(3);
    const r = onLeader(sim.cfg, sim.server(3).state, (d, l, ctx) => {
      const h1 = l.learners[1] as LearnerHandler;
      own(ctx, l, 'learners')[4] = { ...h1, sid: 4, observer: true, syncCheck: { ...h1.syncCheck } };
      ownHandler(ctx, d, 1).deadlineTick = -1;
      ownHandler(ctx, d, 2).deadlineTick = -1;
      if (l.wakeups % 2 === 0) l.wakeups++; // the next wake-up is a tick
      return onPingTimer(d, ctx);
    });
    expect(r.out).toStrictEqual({ abdicate: true, reason: 'Not sufficient followers synced, only synced with sids: [ 3 ]' });

    const five = ensemble(5);
    const r5 = onLeader(five.sim.cfg, five.sim.server(5).state, (d, l, ctx) => {
      for (const sid of [2, 3, 4]) ownHandler(ctx, d, sid).deadlineTick = -1;
      if (l.wakeups % 2 === 0) l.wakeups++;
      return onPingTimer(d, ctx);
    });
    expect(r5.out).toStrictEqual({ abdicate: true, reason: 'Not sufficient followers synced, only synced with sids: [ 5,1 ]' });
  });
});

function runPing(cfg: ClusterConfig, leader: ServerState, stage: HandlerStage, stale: boolean) {
  return onLeader(cfg, leader, (d, l, ctx) => {
    const h = ownHandler(ctx, d, 1);
    h.stage = stage;
    // An unacked PROPOSAL stamped at time 1, far more than syncLimit·tickTime before this ping.
    if (stale) h.syncCheck = { ...h.syncCheck, currentTime: 1 };
    l.wakeups += 101; // the leader clock moves 101 s on: the stamp at time 1 is far past the 10 s limit
    return onPingTimer(d, ctx);
  });
}

describe('§7 SyncLimitCheck (LearnerHandler.SyncLimitCheck)', () => {
  const check = (h: LearnerHandler) => ({ ...h.syncCheck });

  it('updateProposal: nothing is stamped before start() (the NEWLEADER ACK); after it the first unacked PROPOSAL is current, the next one next', () => {
    const { sim } = ensemble(3);
    const leader = sim.server(3).state;
    const r = onLeader(sim.cfg, leader, (d, l, ctx) => {
      const h = ownHandler(ctx, d, 1);
      h.syncCheck = { started: false, currentZxid: 0, currentTime: 0, nextZxid: 0, nextTime: 0 };
      l.wakeups = 10;
      updateProposalCheck(d, ctx, h, z(2, 1));
      const before = check(h);
      h.syncCheck = { ...h.syncCheck, started: true };
      updateProposalCheck(d, ctx, h, z(2, 2));
      l.wakeups = 12;
      updateProposalCheck(d, ctx, h, z(2, 3));
      return { before, after: check(h) };
    });
    expect(r.out.before).toStrictEqual({ started: false, currentZxid: 0, currentTime: 0, nextZxid: 0, nextTime: 0 });
    // The leader clock is wake-ups · tickTime/2: 10 · 1000 and 12 · 1000.
    expect(r.out.after).toStrictEqual({ started: true, currentZxid: z(2, 2), currentTime: 10_000, nextZxid: z(2, 3), nextTime: 12_000 });
  });

  function acked(c: LearnerHandler['syncCheck'], zx: number) {
    const { sim } = ensemble(3);
    return onLeader(sim.cfg, sim.server(3).state, (d, _l, ctx) => {
      const h = ownHandler(ctx, d, 1);
      h.syncCheck = c;
      updateAckCheck(d, ctx, h, zx);
      return h.syncCheck;
    }).out;
  }
  const two = { started: true, currentZxid: z(2, 2), currentTime: 10_000, nextZxid: z(2, 3), nextTime: 12_000 };

  it('updateAck: the ACK of the current PROPOSAL makes the next one current', () => {
    expect(acked(two, z(2, 2))).toStrictEqual({ started: true, currentZxid: z(2, 3), currentTime: 12_000, nextZxid: 0, nextTime: 0 });
  });

  it('updateAck: an ACK of the next PROPOSAL before the current one ("ACK for 0x... received before ACK for 0x...") forgets the next and keeps the current', () => {
    expect(acked(two, z(2, 3))).toStrictEqual({ started: true, currentZxid: z(2, 2), currentTime: 10_000, nextZxid: 0, nextTime: 0 });
  });

  it('updateAck: an ACK of any other zxid changes nothing', () => {
    expect(acked(two, z(2, 1))).toStrictEqual(two);
  });
});

describe('§7 read timeouts: initLimit·tickTime until the NEWLEADER ACK, syncLimit·tickTime after (LearnerHandler: sock.setSoTimeout(syncTimeout()))', () => {
  it('a packet from a learner re-arms its handler\'s timeout by its stage: 20 s before the NEWLEADER ACK, 10 s from it on', () => {
    const { sim } = ensemble(3);
    const leader = sim.server(3).state;
    const armed = (stage: HandlerStage) =>
      on(sim.cfg, leader, (d, ctx) => {
        const h = ownHandler(ctx, d, 1);
        h.stage = stage;
        heardFromLearner(d, ctx, h);
      }).effects.filter((e) => e.kind === 'setTimer');
    for (const stage of ['epoch', 'ackepoch', 'epoch-quorum', 'sync'] as const) {
      expect(armed(stage)).toStrictEqual([{ kind: 'setTimer', timer: handlerReadTimer(1), delayMs: 20_000 }]);
    }
    for (const stage of ['synced', 'broadcast'] as const) {
      expect(armed(stage)).toStrictEqual([{ kind: 'setTimer', timer: handlerReadTimer(1), delayMs: 10_000 }]);
    }
  });
});

describe('§7 a follower echoes the leader\'s PING with the sessions it saw (Learner.ping)', () => {
  it('the echo carries the sessions touched since the last echo, once; an echo with none has no sessions field', () => {
    const { sim } = ensemble(3);
    const follower = sim.server(1).state;
    const first = on(sim.cfg, follower, (d, ctx) => {
      if (d.learner === null) throw new Error('not following');
      ownLearner(ctx, d).touched = [77, 78];
      echoPing(d, ctx, { type: 'PING', zxid: z(2, 0) });
    });
    expect(first.effects).toStrictEqual([{ kind: 'send', to: 3, msg: { type: 'PING', zxid: z(2, 0), sessions: [77, 78] } }]);
    expect(first.state.learner?.touched).toStrictEqual([]);
    const second = on(sim.cfg, first.state, (d, ctx) => echoPing(d, ctx, { type: 'PING', zxid: z(2, 1) }));
    expect(second.effects).toStrictEqual([{ kind: 'send', to: 3, msg: { type: 'PING', zxid: z(2, 1) } }]);
  });
});

describe('§6 the leader\'s session tracker at commit (ZooKeeperServer.processTxnForSessionEvents)', () => {
  const setData: Txn = { type: 'setData', path: '/', data: 'x', version: -1 };

  it('a committed createSession tracks an untracked session with clock + timeout, leaves a tracked one\'s expiry alone (SessionTrackerImpl.commitSession only records the timeout); closeSession removes it; other txns touch nothing', () => {
    const { sim } = ensemble(3);
    const leader = sim.server(3).state;
    const r = onLeader(sim.cfg, leader, (d, l, ctx) => {
      l.wakeups = 7;
      l.sessionExpiry = { 5: 1234 };
      sessionTxnCommitted(d, ctx, { type: 'createSession', session: 6, timeoutMs: 4000 });
      sessionTxnCommitted(d, ctx, { type: 'createSession', session: 5, timeoutMs: 4000 });
      sessionTxnCommitted(d, ctx, setData);
      sessionTxnCommitted(d, ctx, { type: 'create', path: '/e', data: '', ephemeral: true, sequential: false, session: 6 });
      const afterCreates = { ...l.sessionExpiry };
      sessionTxnCommitted(d, ctx, { type: 'closeSession', session: 5 });
      return { afterCreates, afterClose: { ...l.sessionExpiry } };
    });
    expect(r.out.afterCreates).toStrictEqual({ 5: 1234, 6: 7 * 1000 + 4000 });
    expect(r.out.afterClose).toStrictEqual({ 6: 11_000 });
  });
});

describe('§7 a role\'s heartbeat handlers do nothing on a server without that role', () => {
  // peer.ts routes each of them only within its role (the ping timer is cancelled and the
  // handlers dropped when a role ends), so no run calls them otherwise; these pin the guard each
  // has, so that a handler reached after its role ended is a no-op rather than a crash.
  it('the leader\'s: onPingTimer, leaderClock, heardFromLearner, touchSessions, sessionTxnCommitted on a follower', () => {
    const { sim } = ensemble(3);
    // Session 77 is committed everywhere, so the follower's tree knows it.
    sim.clientRequest(3, { client: 1, cxid: 1, session: 77, timeoutMs: 6000, path: '/', op: 'createSession' });
    sim.runUntil(sim.now + 100);
    const follower = sim.server(1).state;
    expect(follower.leader).toBeNull();
    expect(follower.db.tree.sessions[77]?.timeoutMs).toBe(6000);
    const someHandler = sim.server(3).state.leader?.learners[1] as LearnerHandler;
    const r = on(sim.cfg, follower, (d, ctx) => {
      const ping = onPingTimer(d, ctx);
      const clock = leaderClock(d, ctx);
      heardFromLearner(d, ctx, { ...someHandler });
      touchSessions(d, ctx, [77]);
      sessionTxnCommitted(d, ctx, { type: 'createSession', session: 77, timeoutMs: 4000 });
      return { ping, clock };
    });
    expect(r.out).toStrictEqual({ ping: { abdicate: false, drop: [], expired: [] }, clock: 0 });
    expect(r.effects).toStrictEqual([]);
    expect(r.state).toBe(follower);
  });

  it('the learner\'s: heardFromLeader and echoPing on the leader', () => {
    const { sim } = ensemble(3);
    const leader = sim.server(3).state;
    const r = on(sim.cfg, leader, (d, ctx) => {
      heardFromLeader(d, ctx);
      echoPing(d, ctx, { type: 'PING', zxid: z(2, 0) });
    });
    expect(r.effects).toStrictEqual([]);
    expect(r.state).toBe(leader);
  });
});

describe('§7 a heartbeat that changes nothing leaves the state as it was, object for object (the step\'s structural sharing, cow.ts)', () => {
  // The checkers and the step laws compare objects: a step that changes nothing returns the state
  // it was given, and one that changes something shares every object it did not write. Each
  // handler here writes only when a value changes.
  it('a packet from a learner within the same tick: its deadline is already tick + syncLimit, so the leader is not copied; the read timeout is re-armed all the same', () => {
    const { sim } = ensemble(3);
    const leader = sim.server(3).state;
    const h = leader.leader?.learners[1] as LearnerHandler;
    const once = on(sim.cfg, leader, (d, ctx) => heardFromLearner(d, ctx, h));
    const twice = on(sim.cfg, once.state, (d, ctx) => heardFromLearner(d, ctx, once.state.leader?.learners[1] as LearnerHandler));
    expect(twice.state).toBe(once.state);
    expect(twice.effects.map((e) => e.kind)).toEqual(['setTimer']);
  });

  it('a packet from the leader to a connected learner: the learner is not copied; the read timeout is re-armed', () => {
    const { sim } = ensemble(3);
    const follower = sim.server(1).state;
    expect(follower.learner?.connected).toBe(true);
    const r = on(sim.cfg, follower, (d, ctx) => heardFromLeader(d, ctx));
    expect(r.state).toBe(follower);
    expect(r.effects.map((e) => e.kind)).toEqual(['setTimer']);
  });

  it('a PING echoed with no session touched: the learner is not copied', () => {
    const { sim } = ensemble(3);
    const follower = sim.server(1).state;
    expect(follower.learner?.touched).toEqual([]);
    const r = on(sim.cfg, follower, (d, ctx) => echoPing(d, ctx, { type: 'PING', zxid: z(2, 0) }));
    expect(r.state).toBe(follower);
  });

  it('a learner\'s PING reporting a session whose expiry is already leader clock + timeout: the leader is not copied', () => {
    const { sim } = ensemble(3);
    const session = 77;
    sim.clientRequest(3, { op: 'createSession', session, timeoutMs: 6000, client: 1, cxid: 1, path: '' });
    sim.runUntil(sim.now + 100);
    const leader = sim.server(3).state;
    const l = leader.leader as NonNullable<typeof leader.leader>;
    const timeout = leader.db.tree.session(session)?.timeoutMs;
    expect(timeout).toBe(6000);
    expect(l.sessionExpiry[session]).toBe(l.wakeups * (sim.cfg.params.tickTimeMs / 2) + (timeout as number));
    const r = on(sim.cfg, leader, (d, ctx) => touchSessions(d, ctx, [session]));
    expect(r.state).toBe(leader);
    // One that is due a later expiry is written.
    const later = on(sim.cfg, { ...leader, leader: { ...l, wakeups: l.wakeups + 1 } }, (d, ctx) => touchSessions(d, ctx, [session]));
    expect(later.state.leader?.sessionExpiry[session]).toBe((l.wakeups + 1) * (sim.cfg.params.tickTimeMs / 2) + (timeout as number));
  });

  it('a committed closeSession of a session the tracker does not hold: the leader is not copied', () => {
    const { sim } = ensemble(3);
    const leader = sim.server(3).state;
    expect(leader.leader?.sessionExpiry[99]).toBeUndefined();
    const r = on(sim.cfg, leader, (d, ctx) => sessionTxnCommitted(d, ctx, { type: 'closeSession', session: 99 }));
    expect(r.state).toBe(leader);
  });
});
