/**
 * One complete run: a Simulation, its fault injection, started and run to a time limit. The CLI,
 * tests and the benchmark all build runs through here so that a seed means the same thing
 * everywhere.
 */
import { Clients, NO_CLIENTS, type WorkloadConfig } from './clients.ts';
import { FaultInjector, NO_FAULTS, type FaultConfig } from './faults.ts';
import type { TraceSink } from './events.ts';
import { Simulation, type SimOptions } from './kernel.ts';

export interface RunOptions extends SimOptions {
  readonly faults?: Partial<FaultConfig>;
  readonly workload?: Partial<WorkloadConfig>;
  /** Virtual time at which the run stops. */
  readonly untilMs: number;
}

export interface Run {
  readonly sim: Simulation;
  readonly faults: FaultInjector;
  readonly clients: Clients;
}

/** Builds a run and schedules its start and faults; call `run.sim.runUntil` (or {@link runToEnd}). */
export function createRun(opts: RunOptions, sink: TraceSink | null = null): Run {
  const sim = new Simulation(opts, sink);
  const faults = new FaultInjector(sim, { ...NO_FAULTS, ...opts.faults });
  const clients = new Clients(sim, { ...NO_CLIENTS, ...opts.workload });
  sim.startAll();
  faults.install();
  clients.install();
  return { sim, faults, clients };
}

/** Builds and runs to `untilMs`. */
export function runToEnd(opts: RunOptions, sink: TraceSink | null = null): Run {
  const run = createRun(opts, sink);
  run.sim.runUntil(opts.untilMs);
  return run;
}
