import { describe, expect, it } from 'vitest';
import type { Sid } from '../../src/protocol/config.ts';
import type { LearnerInfo, Message, Notification, Ping } from '../../src/protocol/types.ts';
import type { TraceEvent } from '../../src/sim/events.ts';
import { DEFAULT_NETWORK, Network, type NetworkConfig, type SendOutcome } from '../../src/sim/network.ts';
import { Rng, type DelayDist } from '../../src/sim/rng.ts';
import { runToEnd } from '../../src/run/run.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const NOTIF: Notification = { type: 'NOTIFICATION', state: 'LOOKING', leader: 1, zxid: 0, electionEpoch: 1, peerEpoch: 0, version: 2 };
const PING: Ping = { type: 'PING', zxid: 0 };
const FOLLOWERINFO: LearnerInfo = { type: 'FOLLOWERINFO', zxid: 0 };
const OBSERVERINFO: LearnerInfo = { type: 'OBSERVERINFO', zxid: 0 };

const UNIFORM_1_50: DelayDist = { kind: 'uniform', minMs: 1, maxMs: 50 };
const CONST_5: DelayDist = { kind: 'constant', ms: 5 };

/**
 * A network whose config the test may change between sends (the Network reads its config on every
 * send, so flipping lossProb makes exactly one chosen message lost).
 */
function makeNet(size: number, over: Partial<NetworkConfig>, seed = 'net'): { net: Network; cfg: Mutable<NetworkConfig> } {
  const cfg: Mutable<NetworkConfig> = { ...DEFAULT_NETWORK, ...over };
  return { net: new Network(size, cfg, new Rng(seed)), cfg };
}

function ok(out: SendOutcome): { gen: number; arrivals: readonly number[] } {
  if (!out.ok) throw new Error(`expected delivery, got drop (${out.reason})`);
  return { gen: out.gen, arrivals: out.again === null ? [out.at] : [out.at, out.again] };
}

/**
 * A learner opens its connection and the leader accepts it (the kernel calls accept when the
 * FOLLOWERINFO/OBSERVERINFO is delivered): both directions are then usable.
 */
function opened(net: Network, now: number, learner: number, leader: number, msg: LearnerInfo): { gen: number; arrivals: readonly number[] } {
  const out = ok(net.send(now, learner, leader, msg));
  net.accept(learner, leader);
  return out;
}

function dropReason(out: SendOutcome): string {
  return out.ok ? 'delivered' : out.reason;
}

/** True when some message sent later (in `sent` order) arrives strictly before an earlier one. */
function hasOvertaking(arrivals: readonly number[]): boolean {
  let maxSoFar = -Infinity;
  for (const a of arrivals) {
    if (a < maxSoFar) return true;
    maxSoFar = Math.max(maxSoFar, a);
  }
  return false;
}

function isNonDecreasing(xs: readonly number[]): boolean {
  return xs.every((x, k) => k === 0 || (xs[k - 1] as number) <= x);
}

describe('Network: FIFO per channel', () => {
  for (const lane of ['election', 'quorum'] as const) {
    it(`${lane} lane: arrivals on one channel are in send order under uniform 1..50ms delays, while two channels interleave`, () => {
      const { net } = makeNet(3, { delay: UNIFORM_1_50 }, `fifo-${lane}`);
      const msg: Message = lane === 'election' ? NOTIF : PING;
      if (lane === 'quorum') {
        opened(net, 0, 2, 1, FOLLOWERINFO);
        opened(net, 0, 3, 1, FOLLOWERINFO);
      }
      const byChannel = new Map<Sid, number[]>([
        [2, []],
        [3, []],
      ]);
      const all: number[] = [];
      for (let k = 0; k < 600; k++) {
        const now = Math.floor(k / 4); // bursts: several sends at the same instant
        const to: Sid = k % 2 === 0 ? 2 : 3;
        const out = ok(net.send(now, 1, to, msg));
        expect(out.arrivals).toHaveLength(1);
        const at = out.arrivals[0] as number;
        expect(at).toBeGreaterThanOrEqual(now + 1);
        byChannel.get(to)?.push(at);
        all.push(at);
      }
      expect(isNonDecreasing(byChannel.get(2) ?? [])).toBe(true);
      expect(isNonDecreasing(byChannel.get(3) ?? [])).toBe(true);
      // The same delays do reorder messages across the two channels.
      expect(hasOvertaking(all)).toBe(true);
    });
  }

  it('with reorderProb = 1 a message overtakes an earlier one on the same channel', () => {
    const { net } = makeNet(2, { delay: UNIFORM_1_50, reorderProb: 1 }, 'reorder');
    const arrivals: number[] = [];
    for (let k = 0; k < 200; k++) arrivals.push(ok(net.send(Math.floor(k / 4), 1, 2, NOTIF)).arrivals[0] as number);
    expect(hasOvertaking(arrivals)).toBe(true);
  });

  it('a slow link adds its extra delay to one direction only', () => {
    const { net } = makeNet(2, { delay: CONST_5 });
    net.setSlow(1, 2, 100);
    expect(ok(net.send(0, 1, 2, NOTIF)).arrivals).toEqual([105]);
    expect(ok(net.send(0, 2, 1, NOTIF)).arrivals).toEqual([5]);
    net.setSlow(1, 2, 0);
    expect(ok(net.send(200, 1, 2, NOTIF)).arrivals).toEqual([205]);
  });
});

describe('Network: loss resets the connection', () => {
  for (const opener of [FOLLOWERINFO, OBSERVERINFO]) {
    it(`quorum lane: a loss breaks the connection both ways until ${opener.type} reopens it, and kills what was in flight`, () => {
      const { net, cfg } = makeNet(3, { delay: CONST_5 });
      // Before any learner opened it, a quorum connection does not exist.
      expect(net.isOpen(2, 1)).toBe(false);
      expect(dropReason(net.send(0, 1, 2, PING))).toBe('connection-broken');

      opened(net, 0, 2, 1, opener);
      expect(net.isOpen(2, 1) && net.isOpen(1, 2)).toBe(true);
      const toLearner = ok(net.send(1, 1, 2, PING));
      const toLeader = ok(net.send(1, 2, 1, PING));
      // Healthy: these would be delivered.
      expect(net.arrive(1, 2, 'quorum', toLearner.gen)).toBeNull();

      const again = ok(net.send(2, 1, 2, PING));
      cfg.lossProb = 1;
      const lost = net.send(3, 1, 2, PING);
      cfg.lossProb = 0;
      expect(lost).toEqual({ ok: false, reason: 'loss', notify: [[1, 2], [2, 1]] });
      expect(net.isOpen(1, 2)).toBe(false);
      expect(net.isOpen(2, 1)).toBe(false);

      // Later packets on the dead connection, in either direction, are refused.
      for (let t = 4; t < 10; t++) {
        expect(dropReason(net.send(t, 1, 2, PING))).toBe('connection-broken');
        expect(dropReason(net.send(t, 2, 1, PING))).toBe('connection-broken');
      }
      // What was in flight before the loss dies on arrival, both directions.
      expect(net.arrive(1, 2, 'quorum', again.gen)).toBe('connection-reset');
      expect(net.arrive(2, 1, 'quorum', toLeader.gen)).toBe('connection-reset');

      // The learner opens a new connection: traffic flows both ways again.
      const reopened = opened(net, 10, 2, 1, opener);
      expect(net.arrive(2, 1, 'quorum', reopened.gen)).toBeNull();
      const p1 = ok(net.send(11, 1, 2, PING));
      const p2 = ok(net.send(11, 2, 1, PING));
      expect(net.arrive(1, 2, 'quorum', p1.gen)).toBeNull();
      expect(net.arrive(2, 1, 'quorum', p2.gen)).toBeNull();
      // A packet of the old connection still never arrives on the new one.
      expect(net.arrive(1, 2, 'quorum', again.gen)).toBe('connection-reset');
    });
  }

  it('quorum lane: reopening replaces a live connection, killing its in-flight packets', () => {
    const { net } = makeNet(2, { delay: CONST_5 });
    opened(net, 0, 2, 1, FOLLOWERINFO);
    const old = ok(net.send(1, 1, 2, PING));
    opened(net, 2, 2, 1, FOLLOWERINFO);
    expect(net.arrive(1, 2, 'quorum', old.gen)).toBe('connection-reset');
  });

  it('election lane: after a loss the in-flight messages die but the next send goes through', () => {
    const { net, cfg } = makeNet(3, { delay: CONST_5 });
    const before = ok(net.send(0, 1, 2, NOTIF));
    cfg.lossProb = 1;
    const lost = net.send(1, 1, 2, NOTIF);
    cfg.lossProb = 0;
    // Election connections are not learner connections: nobody is told.
    expect(lost).toEqual({ ok: false, reason: 'loss', notify: [] });
    const after = ok(net.send(2, 1, 2, NOTIF));
    expect(net.arrive(1, 2, 'election', after.gen)).toBeNull();
    expect(net.arrive(1, 2, 'election', before.gen)).toBe('connection-reset');
    // The loss did not touch other channels.
    expect(net.arrive(1, 3, 'election', ok(net.send(3, 1, 3, NOTIF)).gen)).toBeNull();
  });

  it('with lossProb = 1 every non-loopback message is lost', () => {
    const { net } = makeNet(3, { lossProb: 1 });
    for (let k = 0; k < 50; k++) expect(dropReason(net.send(k, 1, 2, NOTIF))).toBe('loss');
  });
});

describe('Network: partitions', () => {
  it('one-way: a -> b is blocked (reason partition) while b -> a still delivers', () => {
    const { net } = makeNet(3, { delay: CONST_5 });
    net.setBlocked(1, 2, true);
    expect(net.isBlocked(1, 2)).toBe(true);
    expect(net.isBlocked(2, 1)).toBe(false);
    for (let t = 0; t < 5; t++) {
      expect(dropReason(net.send(t, 1, 2, NOTIF))).toBe('partition');
      const back = ok(net.send(t, 2, 1, NOTIF));
      expect(net.arrive(2, 1, 'election', back.gen)).toBeNull();
    }
    // Other links are untouched.
    expect(net.arrive(1, 3, 'election', ok(net.send(5, 1, 3, NOTIF)).gen)).toBeNull();
  });

  it('one-way on a learner connection: the open direction works until a packet crosses the blocked one', () => {
    const { net } = makeNet(2, { delay: CONST_5 });
    net.setBlocked(1, 2, true);
    // The learner (2) can still connect to the leader (1).
    const info = opened(net, 0, 2, 1, FOLLOWERINFO);
    expect(net.arrive(2, 1, 'quorum', info.gen)).toBeNull();
    const ping = ok(net.send(1, 2, 1, PING));
    expect(net.arrive(2, 1, 'quorum', ping.gen)).toBeNull();
    // The leader's reply is dropped silently and the TCP connection is dead both ways.
    expect(net.send(2, 1, 2, PING)).toEqual({ ok: false, reason: 'partition', notify: [] });
    expect(dropReason(net.send(3, 2, 1, PING))).toBe('connection-broken');
  });

  it('symmetric: both directions are dropped with reason partition; healAll lets election traffic through at once', () => {
    const { net } = makeNet(3, { delay: CONST_5 });
    net.setBlocked(1, 3, true);
    net.setBlocked(3, 1, true);
    for (let t = 0; t < 5; t++) {
      expect(dropReason(net.send(t, 1, 3, NOTIF))).toBe('partition');
      expect(dropReason(net.send(t, 3, 1, NOTIF))).toBe('partition');
      expect(dropReason(net.send(t, 1, 2, NOTIF))).toBe('delivered');
    }
    net.healAll();
    expect(net.isBlocked(1, 3) || net.isBlocked(3, 1)).toBe(false);
    const a = ok(net.send(10, 1, 3, NOTIF));
    const b = ok(net.send(10, 3, 1, NOTIF));
    expect(net.arrive(1, 3, 'election', a.gen)).toBeNull();
    expect(net.arrive(3, 1, 'election', b.gen)).toBeNull();
  });

  it('symmetric on a learner connection: after healAll the connection stays broken until FOLLOWERINFO reopens it', () => {
    const { net } = makeNet(2, { delay: CONST_5 });
    opened(net, 0, 2, 1, FOLLOWERINFO);
    net.setBlocked(1, 2, true);
    net.setBlocked(2, 1, true);
    expect(dropReason(net.send(1, 1, 2, PING))).toBe('partition');
    expect(dropReason(net.send(1, 2, 1, PING))).toBe('connection-broken');
    net.healAll();
    expect(dropReason(net.send(2, 1, 2, PING))).toBe('connection-broken');
    expect(dropReason(net.send(2, 2, 1, PING))).toBe('connection-broken');
    opened(net, 3, 2, 1, FOLLOWERINFO);
    const p = ok(net.send(4, 1, 2, PING));
    expect(net.arrive(1, 2, 'quorum', p.gen)).toBeNull();
  });

  it('a FOLLOWERINFO sent into a partition does not open the connection', () => {
    const { net } = makeNet(2, { delay: CONST_5 });
    net.setBlocked(2, 1, true);
    expect(dropReason(net.send(0, 2, 1, FOLLOWERINFO))).toBe('partition');
    expect(net.isOpen(2, 1)).toBe(false);
    net.healAll();
    expect(dropReason(net.send(1, 2, 1, PING))).toBe('connection-broken');
  });

  for (const lane of ['election', 'quorum'] as const) {
    it(`${lane} lane: a message in flight when a partition starts is dropped on arrival`, () => {
      const { net } = makeNet(2, { delay: CONST_5 });
      if (lane === 'quorum') opened(net, 0, 2, 1, FOLLOWERINFO);
      const msg = lane === 'election' ? NOTIF : PING;
      const inFlight = ok(net.send(1, 1, 2, msg));
      const second = ok(net.send(1, 1, 2, msg));
      net.setBlocked(1, 2, true);
      expect(net.arrive(1, 2, lane, inFlight.gen)).toBe('partition');
      net.healAll();
      // The arrival broke the connection: the rest of what was in flight is gone too.
      expect(net.arrive(1, 2, lane, second.gen)).toBe('connection-reset');
      if (lane === 'quorum') expect(net.isOpen(1, 2)).toBe(false);
    });
  }
});

describe('Network: faults that break TCP semantics, and loopback', () => {
  it('duplicateProb = 1: every message has two arrivals, the copy no earlier than the original', () => {
    const { net } = makeNet(2, { delay: UNIFORM_1_50, duplicateProb: 1 }, 'dup');
    for (let k = 0; k < 100; k++) {
      const out = ok(net.send(k, 1, 2, NOTIF));
      expect(out.arrivals).toHaveLength(2);
      const [a, b] = out.arrivals as [number, number];
      expect(a).toBeGreaterThanOrEqual(k + 1);
      expect(b).toBeGreaterThanOrEqual(a);
    }
  });

  it('duplicateProb = 0: exactly one arrival', () => {
    const { net } = makeNet(2, { delay: UNIFORM_1_50 });
    for (let k = 0; k < 100; k++) expect(ok(net.send(k, 1, 2, NOTIF)).arrivals).toHaveLength(1);
  });

  it('duplicateProb = 1 in a simulation: each message that travels is delivered (or dropped on arrival) twice', () => {
    const events: TraceEvent[] = [];
    runToEnd({ seed: 5, voters: 3, untilMs: 3000, startSpreadMs: 100, network: { duplicateProb: 1 } }, (e) => events.push(e));
    const outcomes = new Map<number, number>();
    // Not counted: loopback (never duplicated), CLOSE notices (the kernel's, not network
    // messages) and sends near the end, whose copies may still be in flight when the run stops.
    const skip = new Set<number>();
    let loopbacks = 0;
    for (const e of events) {
      if (e.type === 'send' && e.from === e.to) loopbacks++;
      if (e.type === 'send' && (e.from === e.to || e.msg.type === 'CLOSE' || e.t > 2900)) skip.add(e.id);
      // Drops at send time (loss, partition, broken connection) never travel; there are none
      // of the first two in this run, and a broken connection is decided before duplication.
      if (e.type === 'deliver' || (e.type === 'drop' && e.reason !== 'connection-broken')) {
        outcomes.set(e.id, (outcomes.get(e.id) ?? 0) + 1);
      }
    }
    const counted = [...outcomes].filter(([id]) => !skip.has(id));
    expect(counted.length).toBeGreaterThan(10);
    for (const [id, n] of counted) expect({ id, n }).toEqual({ id, n: 2 });
    // Loopback messages, by contrast, are delivered once each.
    expect(loopbacks).toBeGreaterThan(0);
    for (const e of events) if (e.type === 'send' && e.from === e.to && e.t <= 2900) expect(outcomes.get(e.id)).toBe(1);
  });

  it('loopback (from === to) arrives at once with no faults even with loss, duplication, reordering and a blocked link', () => {
    const { net } = makeNet(2, { delay: { kind: 'constant', ms: 100 }, lossProb: 1, duplicateProb: 1, reorderProb: 1 });
    net.setBlocked(1, 1, true);
    net.setSlow(1, 1, 1000);
    expect(net.isBlocked(1, 1)).toBe(false);
    for (let t = 10; t < 20; t++) {
      const out = ok(net.send(t, 1, 1, NOTIF));
      expect(out.arrivals).toEqual([t]);
      expect(net.arrive(1, 1, 'election', out.gen)).toBeNull();
    }
    // Meanwhile a real link with the same config loses everything.
    expect(dropReason(net.send(20, 1, 2, NOTIF))).toBe('loss');
  });
});

describe('minimum hop delay', () => {
  it('a message between two servers takes at least 1 ms even with a 0 ms delay distribution (FLE reply storms would otherwise livelock one instant)', () => {
    const { net } = makeNet(3, { delay: { kind: 'constant', ms: 0 } });
    expect(ok(net.send(100, 1, 2, NOTIF)).arrivals).toEqual([101]);
    // Loopback stays immediate.
    expect(ok(net.send(100, 1, 1, NOTIF)).arrivals).toEqual([100]);
  });
});

describe('calm', () => {
  it('after calm() (the end of the faulty period) nothing is lost, duplicated or reordered', () => {
    const { net } = makeNet(3, { lossProb: 1, duplicateProb: 1, reorderProb: 1 });
    expect(dropReason(net.send(0, 1, 2, NOTIF))).toBe('loss');
    net.calm();
    const a = ok(net.send(1, 1, 2, NOTIF));
    expect(a.arrivals).toHaveLength(1);
    const b = ok(net.send(1, 1, 2, NOTIF));
    expect(b.arrivals[0]).toBeGreaterThanOrEqual(a.arrivals[0] as number);
  });
});
