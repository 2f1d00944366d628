/**
 * One complete run: a Simulation, its fault injection and clients, its checkers, started and run
 * to a time limit. The CLI, the explorer, the tests, the benchmark and the public API all build
 * runs through here so that a seed means the same thing everywhere.
 */
import { attachCheckers, defaultLivenessBoundMs, type Checkers, type Verdict } from '../check/index.ts';
import { Clients, NO_CLIENTS, type WorkloadConfig } from '../sim/clients.ts';
import { FaultInjector, NO_FAULTS, type FaultConfig } from '../sim/faults.ts';
import type { TraceEvent, TraceSink } from '../sim/events.ts';
import { LivelockError, Simulation, type SimOptions } from '../sim/kernel.ts';
import { preloadAcceptedAhead, preloadHistory } from '../sim/history.ts';
import { validateRunOptions } from './validate.ts';

export interface RunOptions extends SimOptions {
  readonly faults?: Partial<FaultConfig>;
  readonly workload?: Partial<WorkloadConfig>;
  /** Virtual time at which the run stops. */
  readonly untilMs: number;
  /** Attach the checkers (default true). */
  readonly check?: boolean;
  /** Liveness bound after the faults stop; default from the protocol timeouts. */
  readonly livenessBoundMs?: number;
  /** End the run at the first violation, or once the liveness phase saw recovery (exploration). */
  readonly stopEarly?: boolean;
  /** Epochs of history pre-loaded on the disks, drawn from the seed (history.ts); 0: fresh disks. */
  readonly history?: number;
  /** One voter's acceptedEpoch pre-loaded this many epochs above its currentEpoch (history.ts preloadAcceptedAhead); 0: none. */
  readonly acceptedAhead?: number;
}

export interface Run {
  readonly sim: Simulation;
  readonly faults: FaultInjector;
  readonly clients: Clients;
  /** null when the run was built with `check: false`. */
  readonly checkers: Checkers | null;
}

/** Builds a run and schedules its start and faults; call `run.sim.runUntil` (or {@link runToEnd}). */
export function createRun(opts: RunOptions, sink: TraceSink | null = null): Run {
  validateRunOptions(opts);
  const sim = new Simulation(opts, sink);
  if ((opts.history ?? 0) > 0) preloadHistory(sim, opts.history as number);
  if ((opts.acceptedAhead ?? 0) > 0) preloadAcceptedAhead(sim, opts.acceptedAhead as number);
  const faults = new FaultInjector(sim, { ...NO_FAULTS, ...opts.faults });
  const clients = new Clients(sim, { ...NO_CLIENTS, ...opts.workload });
  const faultsUntil = faults.cfg.untilMs;
  const checkers =
    opts.check === false
      ? null
      : attachCheckers(sim, {
          clients: clients.cfg.clients > 0 ? clients : null,
          liveness: faultsUntil === Infinity ? null : { fromMs: faultsUntil, boundMs: opts.livenessBoundMs ?? defaultLivenessBoundMs(sim.cfg) },
          stopOnViolation: opts.stopEarly === true,
          stopOnRecovery: opts.stopEarly === true,
        });
  sim.startAll();
  faults.install();
  clients.install();
  return { sim, faults, clients, checkers };
}

/**
 * Ends a run whose results have been read (verdict, events, coverage): its simulation and
 * checkers drop what they hold, and the run must not be used again. For callers that run many
 * seeds one after the other in one heap (explore, shrinking). A seed's top objects (the
 * `Simulation`, its queue and servers, the checkers' ghost) are often old when the seed ends,
 * promoted by the collector while it ran. A young-generation collection (a scavenge) takes every
 * old object for alive, so until the next full collection a finished run would keep the last
 * states, events and history of its seed alive through their fields: each scavenge would copy
 * them, then promote them. Dropping them here halved the time explore's scavenges take
 * (docs/scaling.md, "Tenth session").
 */
export function releaseRun(run: Run): void {
  run.sim.release();
  run.checkers?.release();
}

/**
 * Runs to `untilMs`. With checkers attached, time that stops advancing (the kernel's livelock
 * guard: say, votes that flip forever at one instant) is judged a liveness failure and ends the
 * run; without them it throws.
 */
export function runJudged(run: Run, untilMs: number): void {
  try {
    run.sim.runUntil(untilMs);
  } catch (e) {
    if (!(e instanceof LivelockError) || run.checkers === null) throw e;
    run.checkers.livelock(e.message);
  }
}

/** Builds and runs to `untilMs`. */
export function runToEnd(opts: RunOptions, sink: TraceSink | null = null): Run {
  const run = createRun(opts, sink);
  runJudged(run, opts.untilMs);
  return run;
}

/** The verdict of a run built with checkers (the default); throws on a run built with `check: false`. */
export function verdictOf(run: Run): Verdict {
  if (run.checkers === null) throw new Error('verdictOf: this run was built with check: false, so it has no checkers');
  return run.checkers.verdict();
}

/**
 * Runs to `opts.untilMs` and yields every trace record as it is emitted, in order; returns the
 * run (read its verdict with {@link verdictOf}). The run advances in slices of `sliceMs` of
 * virtual time, which buffers at most one slice of records and gives the same run as
 * {@link runToEnd}.
 */
export function* traceRecords(opts: RunOptions, sliceMs = 100): Generator<TraceEvent, Run, undefined> {
  const buffer: TraceEvent[] = [];
  const run = createRun(opts, (ev) => void buffer.push(ev));
  let t = 0;
  for (;;) {
    t = Math.min(t + sliceMs, opts.untilMs);
    runJudged(run, t);
    for (let k = 0; k < buffer.length; k++) yield buffer[k] as TraceEvent;
    buffer.length = 0;
    if (t >= opts.untilMs || run.sim.stopped) return run;
  }
}
