/**
 * One complete run: a Simulation, its fault injection, started and run to a time limit. The CLI,
 * tests and the benchmark all build runs through here so that a seed means the same thing
 * everywhere.
 */
import { attachCheckers, defaultLivenessBoundMs, type Checkers } from '../check/index.ts';
import { Clients, NO_CLIENTS, type WorkloadConfig } from './clients.ts';
import { FaultInjector, NO_FAULTS, type FaultConfig } from './faults.ts';
import type { TraceSink } from './events.ts';
import { preloadHistory } from './history.ts';
import { LivelockError, Simulation, type SimOptions } from './kernel.ts';

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
  const sim = new Simulation(opts, sink);
  if ((opts.history ?? 0) > 0) preloadHistory(sim, opts.history as number);
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
