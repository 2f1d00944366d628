/**
 * The public API's check of `RunOptions` written directly (not from settings): a bad option is
 * one sentence naming it and what was expected (`SettingsError`, which the CLI maps to exit 2),
 * never an unexplained throw from deep in the kernel. Options built by `optionsFromSettings` pass.
 */
import { FLAW_NAMES, type ProtocolParams } from '../protocol/config.ts';
import type { DelayDist } from '../sim/rng.ts';
import type { RunOptions } from './run.ts';
import { SettingsError } from './settings.ts';

function fail(path: string, expected: string, got: unknown): never {
  throw new SettingsError(`${path} expects ${expected}, got ${JSON.stringify(got) ?? String(got)}.`);
}

function count(path: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(path, `a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}`, v);
}

function ms(path: string, v: unknown, min = 0): void {
  if (typeof v !== 'number' || Number.isNaN(v) || v < min) fail(path, `a time of at least ${min} ms (Infinity for never)`, v);
}

function prob(path: string, v: unknown): void {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) fail(path, 'a probability from 0 to 1', v);
}

function dist(path: string, d: DelayDist | undefined): void {
  if (d === undefined) return;
  const finite = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  if (d.kind === 'uniform' && (!finite(d.minMs) || !finite(d.maxMs) || d.minMs > d.maxMs)) fail(path, 'a uniform delay with 0 <= minMs <= maxMs', d);
  else if (d.kind === 'exponential' && (!finite(d.minMs) || !finite(d.meanMs) || d.meanMs < d.minMs)) fail(path, 'an exponential delay with 0 <= minMs <= meanMs', d);
  else if (d.kind === 'constant' && !finite(d.ms)) fail(path, 'a constant delay of at least 0 ms', d);
  else if (d.kind !== 'uniform' && d.kind !== 'exponential' && d.kind !== 'constant') fail(path, "a delay of kind 'uniform', 'exponential' or 'constant'", d);
}

const PARAM_MINIMUM: Readonly<Record<keyof ProtocolParams, number>> = {
  tickTimeMs: 2,
  initLimitTicks: 1,
  syncLimitTicks: 1,
  finalizeWaitMs: 1,
  minNotificationIntervalMs: 1,
  maxNotificationIntervalMs: 1,
  observerElectionDelayMs: 1,
  commitLogCount: 1,
  snapCount: 2,
  snapshotSizeFactor: -Infinity,
  zxidCounterLimit: 2,
  snapRetainCount: 3,
  purgeIntervalMs: 0,
  snapshotTrustEmpty: 0,
};

/** Throws a `SettingsError` naming the first option that cannot make a run. */
export function validateRunOptions(o: RunOptions): void {
  count('seed', o.seed, 0, 2 ** 32 - 1);
  count('voters', o.voters, 1, 15);
  if (o.observers !== undefined) count('observers', o.observers, 0, 8);
  ms('untilMs', o.untilMs, 1);
  if (o.startSpreadMs !== undefined) ms('startSpreadMs', o.startSpreadMs);
  for (const [k, v] of Object.entries(o.params ?? {})) {
    const min = PARAM_MINIMUM[k as keyof ProtocolParams];
    if (min === undefined) fail(`params.${k}`, `a known parameter name (${Object.keys(PARAM_MINIMUM).join(', ')})`, k);
    if (typeof v !== 'number' || Number.isNaN(v) || v < min) fail(`params.${k}`, `a number of at least ${min}`, v);
  }
  for (const k of Object.keys(o.flaws ?? {})) {
    if (!(FLAW_NAMES as readonly string[]).includes(k)) fail('flaws', `flaw names ('zabsim flaws' lists them)`, k);
  }
  dist('network.delay', o.network?.delay);
  if (o.network?.lossProb !== undefined) prob('network.lossProb', o.network.lossProb);
  if (o.network?.duplicateProb !== undefined) prob('network.duplicateProb', o.network.duplicateProb);
  if (o.network?.reorderProb !== undefined) prob('network.reorderProb', o.network.reorderProb);
  dist('disk.fsyncLatency', o.disk?.fsyncLatency);
  dist('disk.renameLatency', o.disk?.renameLatency);
  dist('stageDelay', o.stageDelay);
  const f = o.faults ?? {};
  if (f.crashMeanIntervalMs !== undefined) ms('faults.crashMeanIntervalMs', f.crashMeanIntervalMs);
  if (f.partitionMeanIntervalMs !== undefined) ms('faults.partitionMeanIntervalMs', f.partitionMeanIntervalMs);
  if (f.untilMs !== undefined) ms('faults.untilMs', f.untilMs);
  dist('faults.restartDelay', f.restartDelay);
  dist('faults.partitionDuration', f.partitionDuration);
  if (f.oneWayProb !== undefined) prob('faults.oneWayProb', f.oneWayProb);
  if (f.crashPointProb !== undefined) prob('faults.crashPointProb', f.crashPointProb);
  const w = o.workload ?? {};
  if (w.clients !== undefined) count('workload.clients', w.clients, 0, 1000);
  if (w.opsPerSecPerClient !== undefined && !(typeof w.opsPerSecPerClient === 'number' && w.opsPerSecPerClient > 0 && Number.isFinite(w.opsPerSecPerClient))) fail('workload.opsPerSecPerClient', 'a positive number', w.opsPerSecPerClient);
  if (w.writeRatio !== undefined) prob('workload.writeRatio', w.writeRatio);
  if (w.syncRatio !== undefined) prob('workload.syncRatio', w.syncRatio);
  if (w.keys !== undefined) count('workload.keys', w.keys, 1, 10_000);
  if (w.startMs !== undefined) ms('workload.startMs', w.startMs);
  if (w.stopMs !== undefined) ms('workload.stopMs', w.stopMs);
  if (w.reconnectMs !== undefined) ms('workload.reconnectMs', w.reconnectMs, 1);
  if (o.history !== undefined) count('history', o.history, 0, 50);
  if (o.livenessBoundMs !== undefined) ms('livenessBoundMs', o.livenessBoundMs, 1);
}
