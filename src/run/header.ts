/**
 * The run header: the parameter lines printed before a run's trace (and in the JSON header's
 * `parameters`), so that a reader sees what was simulated.
 */
import { FLAW_NAMES, serverName } from '../protocol/config.ts';
import { describeProfile } from '../protocol/flaws.ts';
import type { Simulation } from '../sim/kernel.ts';
import { formatDist } from '../sim/rng.ts';
import type { RunOptions } from './run.ts';
import { RUN_DEFAULTS, uniform } from './settings.ts';

/** The parameter lines of a run; `faultText` is its fault injector's `describe()`. */
export function describeRun(sim: Simulation, opts: RunOptions, faultText: string): string[] {
  const p = sim.cfg.params;
  const net = { delay: uniform(RUN_DEFAULTS.delay), lossProb: RUN_DEFAULTS.loss, duplicateProb: RUN_DEFAULTS.duplicate, reorderProb: RUN_DEFAULTS.reorder, ...opts.network };
  const flaws = FLAW_NAMES.filter((f) => sim.cfg.flaws[f]);
  return [
    `seed ${opts.seed}`,
    `ensemble: ${sim.cfg.voters.length} voters (${sim.cfg.voters.map(serverName).join(' ')})${sim.cfg.observers.length > 0 ? `, ${sim.cfg.observers.length} observers (${sim.cfg.observers.map(serverName).join(' ')})` : ''}`,
    `time: until ${opts.untilMs}ms, servers start within ${opts.startSpreadMs ?? 0}ms`,
    `zab: tickTime ${p.tickTimeMs}ms, initLimit ${p.initLimitTicks} ticks, syncLimit ${p.syncLimitTicks} ticks, finalizeWait ${p.finalizeWaitMs}ms, notification timeout ${p.minNotificationIntervalMs}..${p.maxNotificationIntervalMs}ms${p.zxidCounterLimit !== 0xffff_ffff ? `, zxid counter limit ${p.zxidCounterLimit}` : ''}`,
    `network: delay ${formatDist(net.delay)}, loss ${net.lossProb}, duplicate ${net.duplicateProb}, reorder ${net.reorderProb}`,
    `disk: fsync ${formatDist(opts.disk?.fsyncLatency ?? uniform(RUN_DEFAULTS.fsync))}, snapCount ${p.snapCount}, commitLogCount ${p.commitLogCount}${opts.stageDelay !== undefined ? `, log writer delay ${formatDist(opts.stageDelay)}` : ''}${(opts.history ?? 0) > 0 ? `, pre-loaded history of ${opts.history} epochs` : ''}${storageFaults(opts)}`,
    `clients: ${describeClients(opts)}`,
    `faults: ${faultText}`,
    `flaws: ${flaws.length > 0 ? flaws.join(', ') : 'none'}`,
    `zookeeper: ${describeProfile(sim.cfg.flaws)}`,
  ];
}

function describeClients(opts: RunOptions): string {
  const w = opts.workload;
  if (w === undefined || (w.clients ?? 0) === 0) return 'none';
  const rate = Math.round((w.opsPerSecPerClient ?? RUN_DEFAULTS['ops-per-sec']) * 100) / 100;
  return `${w.clients} from ${w.startMs ?? 0}ms, ${rate} ops/s each, writes ${w.writeRatio ?? RUN_DEFAULTS['write-ratio']}, ${w.keys ?? RUN_DEFAULTS.keys} keys`;
}

/** The drawn storage faults of a run's disks, as a suffix of the disk line ('' when none). */
function storageFaults(opts: RunOptions): string {
  const d = opts.disk ?? {};
  const parts: string[] = [];
  if ((d.writeErrorProb ?? 0) > 0) parts.push(`write errors ${d.writeErrorProb}`);
  if ((d.tornTailProb ?? 0) > 0) parts.push(`torn tail at a crash ${d.tornTailProb}`);
  if ((d.corruptTailProb ?? 0) > 0) parts.push(`corrupt tail at a crash ${d.corruptTailProb}`);
  if ((d.corruptSnapshotProb ?? 0) > 0) parts.push(`corrupt snapshot file at a crash ${d.corruptSnapshotProb}`);
  return parts.length === 0 ? '' : `, storage faults: ${parts.join(', ')}`;
}
