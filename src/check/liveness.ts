/**
 * The liveness phase (as TigerBeetle's VOPR does it): once the faults stop, every partition is
 * healed and every server restarted (src/sim/faults.ts), and the cluster must recover within a
 * bound: one established leader that every running server follows in BROADCAST, every running
 * server applied everything that leader had proposed when they first all followed it (the
 * workload goes on, so "the same last committed txn" is a point they all pass, not a moment of
 * silence), and every client operation completed (none invoked during the faults still pending,
 * none in flight longer than the bound). A failure is reported as Liveness, apart from safety.
 *
 * The default bound follows the protocol's own timeouts: a stale server may wait up to
 * maxNotificationInterval before it notices the new election, then Discovery and Synchronization
 * may each take initLimit ticks, and a learner notices a dead leader after syncLimit ticks; the
 * sum is doubled so that one failed attempt (an election that has to run again) still fits.
 */
import { serverName, type ClusterConfig } from '../protocol/config.ts';
import { formatZxid } from '../protocol/zxid.ts';
import type { Simulation } from '../sim/kernel.ts';
import type { ClientChecker } from './clients.ts';
import type { PropertyName } from './properties.ts';

type Report = (p: PropertyName, servers: number[], zxids: number[], message: string, facts?: string[]) => void;

/** How often the phase looks at the cluster (virtual ms). */
const POLL_MS = 100;

export function defaultLivenessBoundMs(cfg: ClusterConfig): number {
  const p = cfg.params;
  return 2 * (p.maxNotificationIntervalMs + (2 * p.initLimitTicks + p.syncLimitTicks) * p.tickTimeMs);
}

export interface LivenessResult {
  /** When the faults stopped. */
  readonly fromMs: number;
  readonly boundMs: number;
  /** When the cluster was first found recovered, or null. */
  recoveredMs: number | null;
  /** True when the deadline passed without recovery. */
  failed: boolean;
}

export class LivenessChecker {
  readonly result: LivenessResult;
  /** Called once, when the cluster has recovered. */
  onRecovered: (() => void) | null = null;
  /** The leader every running server follows, and its last proposed txn when that was first seen. */
  private target: { readonly leader: number; readonly zxid: number; readonly sinceMs: number } | null = null;

  constructor(
    private readonly sim: Simulation,
    private readonly clients: ClientChecker | null,
    private readonly report: Report,
    fromMs: number,
    boundMs: number,
  ) {
    this.result = { fromMs, boundMs, recoveredMs: null, failed: false };
  }

  install(): void {
    this.sim.at(Math.max(this.sim.now, this.result.fromMs), this.poll, this, undefined);
  }

  private poll(): void {
    const r = this.result;
    if (this.recovered() === null) {
      r.recoveredMs = this.sim.now;
      this.onRecovered?.();
      return;
    }
    const deadline = r.fromMs + r.boundMs;
    if (this.sim.now >= deadline) {
      r.failed = true;
      const why = this.recovered() as string;
      this.report('Liveness', [], [], `no recovery within ${r.boundMs}ms after the faults stopped at ${r.fromMs}ms: ${why}`, this.sim.sids.map((sid) => describeServer(this.sim, sid)));
      return;
    }
    this.sim.at(Math.min(deadline, this.sim.now + POLL_MS), this.poll, this, undefined);
  }

  /** null when recovered, else what is still missing. */
  private recovered(): string | null {
    const sim = this.sim;
    let leader: number | null = null;
    for (const sid of sim.sids) {
      const rt = sim.server(sid);
      if (rt.up && rt.state.leader?.established === true && rt.state.zabState === 'BROADCAST') {
        if (leader !== null) return `both ${serverName(leader)} and ${serverName(sid)} lead`;
        leader = sid;
      }
    }
    if (leader === null) {
      this.target = null;
      return 'no leader is established';
    }
    const ls = sim.server(leader).state;
    for (const sid of sim.sids) {
      const rt = sim.server(sid);
      if (!rt.up || sid === leader) continue;
      const s = rt.state;
      if (s.zabState !== 'BROADCAST' || s.learner?.leader !== leader) {
        this.target = null;
        return `${serverName(sid)} is ${s.state}/${s.zabState}, not following ${serverName(leader)}`;
      }
    }
    // Under a steady workload some proposal is nearly always in flight, so "agree on the last
    // committed zxid" means: everything the leader had proposed when the cluster first stood
    // together is committed and applied on every running server, the leader included.
    if (this.target === null || this.target.leader !== leader) {
      // Its last proposal still outstanding, else its last committed txn not yet applied
      // (toBeApplied), else its last applied txn (lastProposed would be (e,0) in an epoch with
      // no txn yet, which no server ever applies).
      const out = ls.leader?.outstanding.items;
      const tba = ls.leader?.toBeApplied.items;
      const last = out !== undefined && out.length > 0 ? (out[out.length - 1] as { zxid: number }).zxid : tba !== undefined && tba.length > 0 ? (tba[tba.length - 1] as { zxid: number }).zxid : ls.db.lastTxn;
      this.target = { leader, zxid: last, sinceMs: sim.now };
    }
    const target = this.target.zxid;
    for (const sid of sim.sids) {
      const rt = sim.server(sid);
      if (rt.up && rt.state.db.lastTxn < target) return `${serverName(sid)} applied up to ${formatZxid(rt.state.db.lastTxn)}, not yet ${formatZxid(target)}, which ${serverName(leader)} had proposed at ${this.target.sinceMs}ms`;
    }
    const oldest = this.clients?.oldestOutstanding();
    if (oldest !== undefined && oldest.invokeMs < this.result.fromMs) return `client ${oldest.client} request #${oldest.cxid} (${oldest.op}, invoked at ${oldest.invokeMs}ms) has not completed`;
    if (oldest !== undefined && this.sim.now - oldest.invokeMs > this.result.boundMs) return `client ${oldest.client} request #${oldest.cxid} has been in flight since ${oldest.invokeMs}ms`;
    return null;
  }
}

/** One line of a server's state, for liveness reports. */
export function describeServer(sim: Simulation, sid: number): string {
  const rt = sim.server(sid);
  if (!rt.up) return `${serverName(sid)}: down`;
  const s = rt.state;
  const lead = s.leader !== null ? ` epoch ${s.leader.epoch}${s.leader.established ? ' established' : ''}` : s.learner !== null ? ` of ${serverName(s.learner.leader)}` : '';
  return `${serverName(sid)}: ${s.state}/${s.zabState}${lead}, round ${s.fle.logicalclock}, vote ${serverName(s.fle.proposedLeader)}, acceptedEpoch ${s.acceptedEpoch}, currentEpoch ${s.currentEpoch}, applied ${formatZxid(s.db.lastTxn)}`;
}
