/**
 * The checkers of a run, attached to its kernel: safety invariants after every event
 * (safety.ts), the clients' history as each operation completes (clients.ts), and the liveness
 * phase after the faults stop (liveness.ts). They share one ghost (ghost.ts) and one list of
 * violations; `verdict()` sums them up for the CLI and the explorer.
 */
import type { Clients } from '../sim/clients.ts';
import type { Simulation } from '../sim/kernel.ts';
import { ClientChecker } from './clients.ts';
import { describeServer, LivenessChecker, type LivenessResult } from './liveness.ts';
import type { Violation } from './properties.ts';
import { SafetyChecker } from './safety.ts';

export { PROPERTY_NAMES, PROPERTY_DESCRIPTIONS, type PropertyName, type Violation } from './properties.ts';
export { defaultLivenessBoundMs } from './liveness.ts';

export interface CheckOptions {
  /** The run's clients, for the history checker (none: no client checks). */
  readonly clients?: Clients | null;
  /** The liveness phase: from when the faults stop, and how long recovery may take. */
  readonly liveness?: { readonly fromMs: number; readonly boundMs: number } | null;
  /** End the run at the first violation (exploration); default false. */
  readonly stopOnViolation?: boolean;
  /** End the run once the liveness phase has seen recovery (exploration); default false. */
  readonly stopOnRecovery?: boolean;
}

export type LivenessVerdict = 'ok' | 'failed' | 'pending' | 'not checked';

export interface Verdict {
  readonly ok: boolean;
  readonly violations: readonly Violation[];
  readonly liveness: LivenessVerdict;
  /** Milliseconds from the end of the faults to recovery, when it was seen. */
  readonly recoveryMs: number | null;
  /** Committed txns the ghost saw. */
  readonly committed: number;
  /** Syncs a stale leader answered (allowed: sync is not a quorum operation). */
  readonly staleSyncs: number;
  /** Further violations of properties already in `violations`. */
  readonly repeats: number;
}

export class Checkers {
  readonly safety: SafetyChecker;
  readonly clients: ClientChecker | null;
  readonly liveness: LivenessChecker | null;

  constructor(
    readonly sim: Simulation,
    opts: CheckOptions = {},
  ) {
    this.safety = new SafetyChecker(sim);
    const report = this.safety.report.bind(this.safety);
    this.clients = opts.clients != null ? new ClientChecker(this.safety.ghost, report, (sid) => this.safety.servesStaleEpoch(sid)) : null;
    if (opts.clients != null && this.clients !== null) opts.clients.listener = this.clients;
    this.liveness = opts.liveness != null ? new LivenessChecker(sim, this.clients, report, opts.liveness.fromMs, opts.liveness.boundMs) : null;
    if (opts.stopOnViolation === true) this.safety.onViolation = () => sim.stop();
    if (opts.stopOnRecovery === true && this.liveness !== null) this.liveness.onRecovered = () => sim.stop();
    sim.monitor = this.safety;
    this.liveness?.install();
  }

  get violations(): readonly Violation[] {
    return this.safety.violations;
  }

  verdict(): Verdict {
    const live = this.liveness?.result ?? null;
    const stuck = this.violations.some((x) => x.property === 'Liveness');
    const liveness: LivenessVerdict = stuck || live?.failed === true ? 'failed' : live === null ? 'not checked' : live.recoveredMs !== null ? 'ok' : 'pending';
    const violations = this.violations;
    return {
      ok: violations.length === 0 && liveness !== 'failed',
      violations,
      liveness,
      recoveryMs: live !== null && live.recoveredMs !== null ? live.recoveredMs - live.fromMs : null,
      committed: this.safety.ghost.committedCount,
      staleSyncs: this.clients?.staleSyncs ?? 0,
      repeats: this.safety.repeats,
    };
  }

  /** The kernel saw time stop advancing: a liveness failure, and the end of the run. */
  livelock(message: string): void {
    const l = this.liveness;
    if (l !== null) l.result.failed = true;
    this.safety.report('Liveness', [], [], `time stopped advancing at ${this.sim.now}ms: the servers exchange messages forever without progress`, [message, ...this.sim.sids.map((sid) => describeServer(this.sim, sid))]);
  }

  /** The run is over and its verdict read: drops what the checkers hold (run.ts releaseRun says why). */
  release(): void {
    this.safety.ghost.release();
    this.clients?.release();
  }

  livenessResult(): LivenessResult | null {
    return this.liveness?.result ?? null;
  }
}

/** Attaches the checkers to a simulation (before its servers start). */
export function attachCheckers(sim: Simulation, opts: CheckOptions = {}): Checkers {
  return new Checkers(sim, opts);
}
