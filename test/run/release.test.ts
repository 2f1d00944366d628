/**
 * `releaseRun` (src/run/run.ts): a finished run drops what it holds, so that a dead seed's
 * simulation, promoted by the collector while it ran, does not keep its last states alive through
 * the next scavenges (docs/scaling.md, "Tenth session"). What it must drop, that explore calls it
 * for every seed, and that it changes no result.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { setStateFreezing } from '../../src/protocol/cow.ts';
import { exploreSeed } from '../../src/run/explore.ts';
import { createRun, releaseRun, runJudged, verdictOf, type RunOptions } from '../../src/run/run.ts';
import { Simulation } from '../../src/sim/kernel.ts';
import * as api from '../../src/index.ts';

/** Clients, crashes and a partition: every structure a run fills has something in it. */
const OPTS: RunOptions = {
  seed: 11,
  voters: 5,
  untilMs: 20_000,
  faults: { crashMeanIntervalMs: 6000, partitionMeanIntervalMs: 9000, untilMs: 15_000 },
  workload: { clients: 4, opsPerSecPerClient: 30, startMs: 1000, stopMs: 14_000 },
};

describe('releaseRun', () => {
  beforeAll(() => setStateFreezing(false));
  afterAll(() => setStateFreezing(true));
  afterEach(() => vi.restoreAllMocks());

  it('leaves a finished run holding no servers, no queued events and no history, and stopped', () => {
    const run = createRun(OPTS);
    runJudged(run, 12_000); // stopped mid-run: events are still queued
    const ghost = run.checkers?.safety.ghost;
    expect(run.sim.servers.length).toBeGreaterThan(5);
    expect(ghost?.retained().assigned).toBeGreaterThan(0);
    expect(run.checkers?.clients?.oldestOutstanding()).toBeDefined();
    expect(run.checkers?.clients?.retainedOrigins).toBeGreaterThan(0);
    expect(run.sim.nextEventTime()).toBeLessThan(Infinity);
    const verdict = JSON.stringify(verdictOf(run));
    const events = run.sim.eventCount;

    releaseRun(run);

    expect(run.sim.stopped).toBe(true);
    expect(run.sim.servers).toEqual([]);
    expect(run.sim.monitor).toBeNull();
    expect(ghost?.retained()).toEqual({ assigned: 0, committed: 0, digests: 0, pathValues: 0 });
    expect(run.checkers?.clients?.oldestOutstanding()).toBeUndefined();
    expect(run.checkers?.clients?.retainedOrigins).toBe(0);
    // Nothing is left to run: the queue is empty.
    expect(run.sim.nextEventTime()).toBe(Infinity);
    run.sim.runUntil(60_000);
    expect(run.sim.eventCount).toBe(events);
    // What was read before is what it was.
    expect(JSON.stringify(verdictOf(run))).toBe(verdict);
  });

  it('is what explore does with each seed once its result is read, and the result is that of the run', () => {
    const release = vi.spyOn(Simulation.prototype, 'release');
    const r = exploreSeed(4, new Map(), true);
    expect(release).toHaveBeenCalledTimes(1);
    const again = exploreSeed(4, new Map(), true);
    expect(release).toHaveBeenCalledTimes(2);
    expect(again).toEqual(r);
    expect(r.events).toBeGreaterThan(0);
  });

  it('is part of the public API (docs/api.md)', () => {
    expect(api.releaseRun).toBe(releaseRun);
  });
});
