/**
 * What a run ends with: each server's state (the summary table, the JSON summary's `servers`),
 * and the hash of a whole run that `--check-determinism` compares.
 */
import { createHash } from 'node:crypto';
import { appliedCount } from '../protocol/db.ts';
import { leaderOf } from '../protocol/peer.ts';
import type { ServerSummary } from '../sim/events.ts';
import type { Simulation } from '../sim/kernel.ts';
import { createRun, type RunOptions } from './run.ts';

export type { ServerSummary };

export function summarize(sim: Simulation): ServerSummary[] {
  return sim.sids.map((sid) => {
    const rt = sim.server(sid);
    if (!rt.up) {
      const img = rt.disk.image;
      return { sid, up: false, role: 'DOWN', phase: '-', leader: null, acceptedEpoch: img.acceptedEpoch, currentEpoch: img.currentEpoch, lastZxid: null, lastLogged: null, applied: null, digest: null, vote: null, round: null };
    }
    const s = rt.state;
    return {
      sid,
      up: true,
      role: s.state,
      phase: s.zabState,
      leader: leaderOf(s),
      acceptedEpoch: s.acceptedEpoch,
      currentEpoch: s.currentEpoch,
      lastZxid: s.db.lastProcessedZxid,
      lastLogged: s.db.log.lastZxid(s.db.lastProcessedZxid),
      applied: appliedCount(s.db),
      digest: s.db.tree.digest,
      vote: { ...s.currentVote },
      round: s.fle.logicalclock,
    };
  });
}

/** SHA-256 of a run's trace (its JSON lines), the number of records, and the final summary. */
export function traceHash(opts: RunOptions): { hash: string; records: number } {
  const h = createHash('sha256');
  let records = 0;
  const run = createRun(opts, (ev) => {
    h.update(JSON.stringify(ev));
    h.update('\n');
    records++;
  });
  // The client history, hashed as each operation completes (the run keeps none of it).
  run.clients.onCompleted = (op) => h.update(JSON.stringify(op));
  run.sim.runUntil(opts.untilMs);
  h.update(JSON.stringify(summarize(run.sim)));
  h.update(JSON.stringify(run.clients.pending()));
  return { hash: h.digest('hex'), records };
}

