/**
 * The whole protocol under generated faults (issue 3 §9): random 3- and 5-voter ensembles with
 * 0–2 observers, random client load, and random crash/restart/partition/loss schedules. Nothing
 * may throw; and once the faults stop (the injector heals and restarts everything), the clients
 * stop, and a quiet period of several initLimit·tickTime intervals passes (longer than FLE's
 * 60 s notification backoff cap):
 *
 * - exactly one server leads, established, and every live server serves (BROADCAST) under it;
 * - every live server has applied the same sequence of txns: equal tree digests (the trees are
 *   equal), and every txn any server applied since its last load is the leader's txn for that
 *   zxid. (lastProcessedZxid itself may differ: an established leader sets it to (e,0), §1.1,
 *   and a SNAP carries that label to the learner.)
 */
import fc from 'fast-check';
import { setStateFreezing } from '../../src/protocol/cow.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatZxid } from '../../src/protocol/zxid.ts';
import type { ServerState } from '../../src/protocol/types.ts';
import { createRun, type RunOptions } from '../../src/run/run.ts';
import { budget } from '../budget.ts';

const FAULTS_UNTIL_MS = 40_000;
const CLIENTS_STOP_MS = 50_000;
const END_MS = 220_000;
const NUM_RUNS = budget(30, 600);

const arbRun = fc.record({
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  voters: fc.constantFrom(3, 5),
  observers: fc.integer({ min: 0, max: 2 }),
  delayMax: fc.integer({ min: 1, max: 30 }),
  loss: fc.constantFrom(0, 0, 0.001, 0.005),
  crashMeanMs: fc.constantFrom(0, 3000, 8000),
  partitionMeanMs: fc.constantFrom(0, 5000, 15000),
  clients: fc.integer({ min: 1, max: 4 }),
  opsPerSec: fc.integer({ min: 1, max: 20 }),
});

type Params = typeof arbRun extends fc.Arbitrary<infer T> ? T : never;

function options(p: Params): RunOptions {
  return {
    seed: p.seed,
    voters: p.voters,
    observers: p.observers,
    untilMs: END_MS,
    startSpreadMs: 500,
    network: { delay: { kind: 'uniform', minMs: 1, maxMs: p.delayMax }, lossProb: p.loss },
    faults: { crashMeanIntervalMs: p.crashMeanMs, partitionMeanIntervalMs: p.partitionMeanMs, untilMs: FAULTS_UNTIL_MS },
    workload: { clients: p.clients, opsPerSecPerClient: p.opsPerSec, startMs: 1000, stopMs: CLIENTS_STOP_MS },
  };
}

function describeServer(s: ServerState): string {
  return `s${s.sid} ${s.state}/${s.zabState} applied ${formatZxid(s.db.lastProcessedZxid)} digest ${s.db.tree.digest}`;
}

describe('ZAB under generated faults', () => {
  beforeAll(() => setStateFreezing(false));
  afterAll(() => setStateFreezing(true));

  it(`converges to one leader and one applied history (${NUM_RUNS} generated runs)`, () => {
    fc.assert(
      fc.property(arbRun, (p) => {
        const run = createRun(options(p));
        run.sim.runUntil(END_MS);
        const servers = run.sim.sids.map((sid) => run.sim.server(sid));
        const live = servers.filter((r) => r.up).map((r) => r.state);
        const story = live.map(describeServer).join('; ');
        expect(live.length, `every server restarts after the faults: ${story}`).toBe(servers.length);
        const leaders = live.filter((s) => s.state === 'LEADING');
        expect(leaders.length, `one leader: ${story}`).toBe(1);
        const leader = leaders[0] as ServerState;
        expect(leader.leader?.established, `leader established: ${story}`).toBe(true);
        for (const s of live) {
          expect(s.zabState, `serving: ${story}`).toBe('BROADCAST');
          if (s.sid !== leader.sid) expect(s.learner?.leader, `follows the leader: ${story}`).toBe(leader.sid);
          expect(s.db.tree.digest, `same tree: ${story}`).toBe(leader.db.tree.digest);
        }
        for (const s of live) {
          if (s.sid === leader.sid) continue;
          // Every txn this server applied since its last load is the leader's txn at that zxid.
          const c = s.db.committed;
          for (let i = 0; i < c.length; i++) {
            const e = c.at(i);
            const j = leader.db.log.indexOf(e.zxid);
            const k = leader.db.committed.indexOf(e.zxid);
            const theirs = j >= 0 ? leader.db.log.at(j) : k >= 0 ? leader.db.committed.at(k) : null;
            if (theirs !== null) expect(JSON.stringify(theirs.txn), `txn ${formatZxid(e.zxid)} on s${s.sid}`).toBe(JSON.stringify(e.txn));
            else expect(e.zxid, `txn ${formatZxid(e.zxid)} on s${s.sid} must be in the leader's snapshot`).toBeLessThanOrEqual(leader.db.snapshots.at(-1)?.zxid ?? 0);
          }
        }
        return true;
      }),
      { numRuns: NUM_RUNS, seed: 20261122 },
    );
  });
});
