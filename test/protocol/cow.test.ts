/**
 * The step's copy-on-write (src/protocol/cow.ts; docs/architecture.md, "Immutability: one step,
 * copied on write"): what every handler relies on when it writes, and the freezing that makes a
 * forgotten `own` fail in the tests instead of corrupting the state a checker compares with.
 */
import { describe, expect, it } from 'vitest';
import type { StepContext } from '../../src/protocol/context.ts';
import { copyServerState, deepFreeze, own, ownFle, ownHandler, ownLeader, ownLearner, sameServerState, setStateFreezing, stateFreezing, writeStep } from '../../src/protocol/cow.ts';
import { makeClusterConfig } from '../../src/protocol/config.ts';
import { Fifo } from '../../src/protocol/fifo.ts';
import type { LeaderState, ServerState } from '../../src/protocol/types.ts';
import { established } from './harness.ts';

const ctxOf = (): StepContext => ({ cfg: makeClusterConfig(3, 0), sid: 3, effects: [], probe: null, owned: [] });

describe('own: a nested object is copied the first time a step writes it, once', () => {
  it('the copy replaces the value in its (owned) parent; the input is untouched; a second own returns the same copy', () => {
    const input = { a: { n: 1, deep: { m: 1 } }, list: [1, 2], untouched: { k: 1 } };
    const ctx = ctxOf();
    const out = writeStep(ctx, input, (d) => {
      const a = own(ctx, d, 'a');
      a.n = 2;
      expect(own(ctx, d, 'a')).toBe(a);
      own(ctx, d, 'list').push(3);
    });
    expect(input).toStrictEqual({ a: { n: 1, deep: { m: 1 } }, list: [1, 2], untouched: { k: 1 } });
    expect(out).toStrictEqual({ a: { n: 2, deep: { m: 1 } }, list: [1, 2, 3], untouched: { k: 1 } });
    // Structural sharing: what the step did not write is the input's own object.
    expect(out.untouched).toBe(input.untouched);
    expect(out.a.deep).toBe(input.a.deep);
    expect(out.a).not.toBe(input.a);
  });

  it('null and undefined come back as they are (no copy, no write to the parent)', () => {
    const ctx = ctxOf();
    const input: { x: { v: number } | null; y?: { v: number } } = { x: null };
    const out = writeStep(ctx, input, (d) => {
      expect(own(ctx, d, 'x')).toBeNull();
      expect(own(ctx, d, 'y')).toBeUndefined();
    });
    expect(out).toBe(input);
    expect(ctx.owned).toHaveLength(1);
  });

  it('a step that writes nothing, or writes back the values it found, returns the state it was given', () => {
    const input = { q: Fifo.empty<number>(), n: 1 };
    expect(writeStep(ctxOf(), input, (d) => void (d.n = 1))).toBe(input);
    expect(writeStep(ctxOf(), input, (d) => void (d.q = d.q.rest()))).toBe(input);
    expect(writeStep(ctxOf(), input, (d) => void (d.n = 2))).toStrictEqual({ q: input.q, n: 2 });
  });
});

describe('ownLeader, ownLearner, ownHandler: the protocol state on the way down', () => {
  it("ownHandler copies the leader, its handler record and the one handler, and no other learner's", () => {
    const { sim } = established({ voters: 3 }, 3);
    const before = sim.server(3).state;
    const bl = before.leader as LeaderState;
    const ctx = ctxOf();
    const after = writeStep(ctx, before, (d) => {
      ownHandler(ctx, d, 1).deadlineTick = -7;
      expect(ownLeader(ctx, d)).toBe(d.leader);
    });
    const al = after.leader as LeaderState;
    expect(al).not.toBe(bl);
    expect(al.learners).not.toBe(bl.learners);
    expect(al.learners[1]?.deadlineTick).toBe(-7);
    expect(bl.learners[1]?.deadlineTick).not.toBe(-7);
    expect(al.learners[2]).toBe(bl.learners[2]);
    expect(al.outstanding).toBe(bl.outstanding);
    expect(after.fle).toBe(before.fle);
  });

  it('a write for a role the server does not have is an internal error, not a silent write', () => {
    const { sim } = established({ voters: 3 }, 3);
    const leader = sim.server(3).state;
    const follower = sim.server(1).state;
    const ctx = ctxOf();
    expect(() => writeStep(ctx, leader, (d) => void ownLearner(ctx, d))).toThrow('s3: a learner\'s write on a server that is not a learner');
    expect(() => writeStep(ctxOf(), follower, (d) => void ownLeader(ctxOf(), d))).toThrow('s1: a leader\'s write on a server that is not leading');
    expect(() => writeStep(ctx, leader, (d) => void ownHandler(ctx, d, 9))).toThrow('s3: a write on the handler of s9, which has none');
  });
});

describe("the step's root: copied field by field, compared field by field", () => {
  it('copyServerState copies every field of a real state, and sameServerState notices a change to any one of them', () => {
    const { sim } = established({ voters: 3 }, 3);
    for (const sid of sim.sids) {
      const st = sim.server(sid).state;
      const c = copyServerState(st);
      expect(c).not.toBe(st);
      expect(Object.keys(c)).toStrictEqual(Object.keys(st));
      expect(c).toStrictEqual(st);
      expect(sameServerState(c, st)).toBe(true);
      for (const key of Object.keys(st) as (keyof ServerState)[]) {
        const v: unknown = st[key];
        const changed = typeof v === 'number' ? v + 1 : typeof v === 'boolean' ? !v : typeof v === 'string' ? `${v}!` : { changed: key };
        expect(sameServerState({ ...st, [key]: changed } as ServerState, st), key).toBe(false);
      }
    }
  });

  it('ownFle, ownLeader, ownLearner and ownHandler copy every field of what they own', () => {
    const { sim } = established({ voters: 3 }, 3);
    const leader = sim.server(3).state;
    const follower = sim.server(1).state;
    const ctx = ctxOf();
    writeStep(ctx, leader, (d) => {
      expect(ownFle(ctx, d)).toStrictEqual(leader.fle);
      expect(ownLeader(ctx, d)).toStrictEqual(leader.leader);
      expect(ownHandler(ctx, d, 1)).toStrictEqual(leader.leader?.learners[1]);
      expect(d.fle).not.toBe(leader.fle);
    });
    const ctx1 = ctxOf();
    writeStep(ctx1, follower, (d) => {
      expect(ownLearner(ctx1, d)).toStrictEqual(follower.learner);
      expect(d.learner).not.toBe(follower.learner);
    });
  });
});

describe('freezing: a write the step did not own throws in the tests', () => {
  it('is on in the test suite (test/setup.ts)', () => {
    expect(stateFreezing()).toBe(true);
  });

  it('a handler that forgets own and writes the leader in place throws, and the state before the step is unchanged', () => {
    const { sim } = established({ voters: 3 }, 3);
    const before = sim.server(3).state;
    const committed = (before.leader as LeaderState).lastCommitted;
    const ctx = ctxOf();
    expect(() =>
      writeStep(ctx, before, (d) => {
        (d.leader as LeaderState).lastCommitted = 12345;
      }),
    ).toThrow(TypeError);
    expect((before.leader as LeaderState).lastCommitted).toBe(committed);
  });

  it('the returned state is frozen too, down to the objects the step created; class instances are left alone', () => {
    const ctx = ctxOf();
    const input = { q: Fifo.empty<number>(), list: [{ a: 1 }] };
    const out = writeStep(ctx, input, (d) => {
      d.list = [{ a: 2 }];
      d.q = d.q.push(1);
    });
    expect(Object.isFrozen(out)).toBe(true);
    expect(Object.isFrozen(out.list)).toBe(true);
    expect(Object.isFrozen(out.list[0])).toBe(true);
    expect(Object.isFrozen(out.q)).toBe(false);
  });

  it('off (the CLI, the benchmark, the workers): nothing is frozen', () => {
    setStateFreezing(false);
    try {
      const out = writeStep(ctxOf(), { a: { b: 1 } } as { a: { b: number }; c?: number }, (d) => void (d.c = 1));
      expect(Object.isFrozen(out)).toBe(false);
      expect(Object.isFrozen(out.a)).toBe(false);
    } finally {
      setStateFreezing(true);
    }
  });

  it('the state a step takes is frozen before the step writes, even one no step returned (a blank state, a hand-built one): a forgotten own throws at once', () => {
    const input = { nested: { n: 1 } };
    expect(Object.isFrozen(input.nested)).toBe(false);
    expect(() =>
      writeStep(ctxOf(), input, (d) => {
        d.nested.n = 2;
      }),
    ).toThrow(TypeError);
    expect(input.nested.n).toBe(1);
  });

  it('deepFreeze freezes a plain object without a prototype (Object.create(null)) and what it holds, as any plain object', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { inner: { x: 1 } });
    deepFreeze({ bare });
    expect(Object.isFrozen(bare)).toBe(true);
    expect(Object.isFrozen(bare.inner)).toBe(true);
  });

  it('deepFreeze stops at frozen objects and class instances', () => {
    const shared = Object.freeze({ inner: { x: 1 } });
    const v = { shared, fifo: Fifo.empty<{ y: number }>().push({ y: 1 }), plain: { z: [1] } };
    deepFreeze(v);
    expect(Object.isFrozen(v.plain.z)).toBe(true);
    // A frozen object's subtree was frozen when it was: not walked again.
    expect(Object.isFrozen(shared.inner)).toBe(false);
    expect(Object.isFrozen(v.fifo.items[0])).toBe(false);
  });
});

describe('the step (peer.ts) over a run: every state it returned was frozen, and none it took was written', () => {
  it('a 3-voter run with clients leaves each server state frozen', () => {
    const { sim } = established({ voters: 3 }, 3);
    for (const sid of sim.sids) {
      const s: ServerState = sim.server(sid).state;
      expect(Object.isFrozen(s)).toBe(true);
      expect(Object.isFrozen(s.fle)).toBe(true);
      if (s.leader !== null) expect(Object.isFrozen(s.leader.learners)).toBe(true);
      if (s.learner !== null) expect(Object.isFrozen(s.learner.sync)).toBe(true);
    }
  });
});
