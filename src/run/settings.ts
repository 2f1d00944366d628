/**
 * Run settings: the flat, serialisable description of a run that `zabsim run` takes as flags,
 * the swarm draws per seed and the explorer overrides. A setting is named as its flag (`servers`,
 * `crash-every`, `flaw`), so a set of settings prints as the command line that replays it.
 * `RUN_DEFAULTS` is the one table of defaults; `optionsFromSettings` turns settings into the
 * kernel's `RunOptions`.
 */
import type { Flaws } from '../protocol/config.ts';
import { makeClusterConfig } from '../protocol/config.ts';
import { flawByName, releaseProfile } from '../protocol/flaws.ts';
import { defaultLivenessBoundMs } from '../check/index.ts';
import { parseSchedule, type FaultConfig } from '../sim/faults.ts';
import type { DelayDist } from '../sim/rng.ts';
import type { RunOptions } from './run.ts';
import { swarmSettings } from './swarm.ts';

/** A setting's value: a number (times in ms), a switch, a name, a MIN..MAX range, or a list of names (flaws). */
export type SettingValue = number | boolean | string | readonly [number, number] | readonly string[];

/** Settings by name, in the order given (the order they print in). */
export type Settings = ReadonlyMap<string, SettingValue>;

/** Settings from an object, in its key order: `settings({ seed: 7, servers: 5, 'crash-every': 4000 })`. */
export function settings(obj: Readonly<Record<string, SettingValue>>): Settings {
  return new Map(Object.entries(obj));
}

/** Settings that cannot make a run (one sentence naming the setting as a flag); the CLI exits 2. */
export class SettingsError extends Error {}

/** What a setting's value must be (the API's check; the CLI's flag table says the same, src/cli/run.ts). */
type Rule =
  | { readonly kind: 'int' | 'number'; readonly min: number; readonly max: number; readonly unit?: string }
  | { readonly kind: 'choice'; readonly choices: readonly string[] }
  | { readonly kind: 'range' | 'bool' | 'string' | 'list' };

const INT = (min: number, max: number): Rule => ({ kind: 'int', min, max });
const NUM = (min: number, max = Infinity): Rule => ({ kind: 'number', min, max });
/** A time in virtual milliseconds. */
const MS = (min: number): Rule => ({ kind: 'number', min, max: Infinity, unit: ' milliseconds' });
const PROB: Rule = NUM(0, 1);
const RANGE: Rule = { kind: 'range' };
const STR: Rule = { kind: 'string' };
const BOOL: Rule = { kind: 'bool' };

/** Every setting's rule: times in ms, ranges [min, max] of ms, counts whole. */
const SETTING_RULES: Readonly<Record<string, Rule>> = {
  seed: INT(0, 2 ** 32 - 1),
  servers: INT(1, 15),
  observers: INT(0, 8),
  until: MS(1),
  'start-spread': MS(0),
  'tick-time': MS(2),
  'init-limit': INT(1, 1000),
  'sync-limit': INT(1, 1000),
  delay: RANGE,
  fsync: RANGE,
  'thread-delay': RANGE,
  loss: PROB,
  duplicate: PROB,
  reorder: PROB,
  'crash-every': MS(0),
  'crash-target': { kind: 'choice', choices: ['any', 'leader'] },
  'restart-after': RANGE,
  'crash-points': PROB,
  'partition-every': MS(0),
  'partition-for': RANGE,
  'one-way': PROB,
  'faults-until': MS(0),
  clients: INT(0, 1000),
  'ops-per-sec': NUM(0.001, 100_000),
  'writes-per-sec': NUM(0.001, 1_000_000),
  'write-ratio': PROB,
  keys: INT(1, 10_000),
  'clients-from': MS(0),
  'snap-count': INT(2, 10_000_000),
  'commit-log-count': INT(1, 10_000_000),
  'zxid-counter-limit': INT(2, 0xffff_ffff),
  history: INT(0, 50),
  'snap-retain-count': INT(3, 1000),
  'purge-interval': MS(0),
  schedule: STR,
  flaw: { kind: 'list' },
  zk: STR,
  swarm: BOOL,
  'liveness-bound': MS(1),
  'stop-early': BOOL,
  'corrupt-snapshot': PROB,
  'accepted-ahead': INT(0, 10),
  'newleader-ack-resets': PROB,
  'ack-resets': PROB,
};

/**
 * Refuses a setting that is unknown or whose value is not what it must be, with one sentence
 * naming it as its flag and what was expected (the public API's answer to bad settings; the CLI
 * has already checked its flags the same way).
 */
export function validateSettings(s: Settings, unknownNames: 'refuse' | 'pass' = 'refuse'): void {
  for (const [name, v] of s) {
    const rule = SETTING_RULES[name];
    if (rule === undefined && unknownNames === 'pass') continue;
    if (rule === undefined) throw new SettingsError(`unknown setting '${name}'; expected one of ${SETTING_NAMES.join(', ')}.`);
    const got = JSON.stringify(v) ?? String(v);
    switch (rule.kind) {
      case 'int':
      case 'number': {
        const whole = rule.kind === 'int' ? 'a whole number' : 'a number';
        if (typeof v !== 'number' || Number.isNaN(v) || (rule.kind === 'int' && !Number.isInteger(v)) || v < rule.min || v > rule.max) {
          const bounds = rule.max === Infinity ? `at least ${rule.min}` : `from ${rule.min} to ${rule.max}`;
          const what = rule.unit !== undefined ? `a time in${rule.unit} of ${bounds}` : `${whole} ${bounds}`;
          throw new SettingsError(`--${name} expects ${what}, got ${got}.`);
        }
        break;
      }
      case 'range':
        if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0) || (v[0] as number) > (v[1] as number)) {
          throw new SettingsError(`--${name} expects a range [min, max] of milliseconds with 0 <= min <= max, got ${got}.`);
        }
        break;
      case 'choice':
        if (typeof v !== 'string' || !rule.choices.includes(v)) throw new SettingsError(`--${name} expects one of ${rule.choices.join(', ')}, got ${got}.`);
        break;
      case 'bool':
        if (typeof v !== 'boolean') throw new SettingsError(`--${name} expects true or false, got ${got}.`);
        break;
      case 'string':
        if (typeof v !== 'string') throw new SettingsError(`--${name} expects a string, got ${got}.`);
        break;
      case 'list':
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new SettingsError(`--${name} expects a list of names, got ${got}.`);
        break;
    }
  }
}

/** The one table of defaults: every setting a run has without being told (times in ms). */
export const RUN_DEFAULTS = {
  seed: 1,
  servers: 3,
  observers: 0,
  until: 5000,
  'start-spread': 300,
  'tick-time': 2000,
  'init-limit': 10,
  'sync-limit': 5,
  delay: [1, 10],
  fsync: [1, 5],
  loss: 0,
  duplicate: 0,
  reorder: 0,
  'crash-every': 0,
  'crash-target': 'any',
  'restart-after': [1000, 10_000],
  'crash-points': 0,
  'partition-every': 0,
  'partition-for': [1000, 20_000],
  'one-way': 0.25,
  /** Faults never stop. */
  'faults-until': Infinity,
  clients: 0,
  'ops-per-sec': 10,
  'write-ratio': 0.6,
  keys: 8,
  'clients-from': 2000,
  'snap-count': 100,
  'commit-log-count': 500,
  /** ZooKeeper's 2^32 - 1; smaller reaches counter exhaustion (§6). */
  'zxid-counter-limit': 0xffff_ffff,
  /** Epochs of durable history pre-loaded on the disks (src/sim/history.ts); 0: fresh disks. */
  history: 0,
  /** autopurge.snapRetainCount and purgeInterval (virtual ms; 0: no purge), docs/protocol.md §9. */
  'snap-retain-count': 3,
  'purge-interval': 60_000,
  /** Storage faults (issue 13 §2): failing writes, full disks, torn and corrupt tails at a crash. */
  'write-errors': 0,
  'disk-full-every': 0,
  'disk-full-for': [1000, 10_000],
  'torn-tail': 0,
  'corrupt-tail': 0,
  /** Probability that an ACK overtakes earlier packets on its learner->leader link (the ACK-reorder fault). */
  'ack-reorder': 0,
  /** PCT priority scheduling of this depth (src/sim/faults.ts); 0: off. */
  pct: 0,
  /** Storage fault: probability that a crash leaves the snapshot file being written as one that fails its CRC (docs/fault-model.md). */
  'corrupt-snapshot': 0,
  /** One voter's acceptedEpoch pre-loaded this many epochs above its currentEpoch (src/sim/history.ts); 0: none. */
  'accepted-ahead': 0,
  /** Probability that a learner's connection resets right after its leader counted its NEWLEADER ACK (src/sim/faults.ts); 0: never. */
  'newleader-ack-resets': 0,
  /** Probability that a follower's connection resets right after its leader counted its ACK of an outstanding proposal, the other disks stalled while it re-syncs (src/sim/faults.ts); 0: never. */
  'ack-resets': 0,
} as const satisfies Record<string, SettingValue>;

/** The settings without a default value: given or absent. */
export const OPTIONAL_SETTINGS = ['writes-per-sec', 'thread-delay', 'schedule', 'flaw', 'zk', 'swarm', 'liveness-bound', 'stop-early', 'commit-delay'] as const;

/** Every setting name a run understands. */
export const SETTING_NAMES: readonly string[] = [...Object.keys(RUN_DEFAULTS), ...OPTIONAL_SETTINGS];

export function uniform([lo, hi]: readonly [number, number]): DelayDist {
  return { kind: 'uniform', minMs: lo, maxMs: hi };
}

/** --writes-per-sec is a total over the clients; a client's rate covers its reads too. */
function opsPerSecPerClient(s: Settings): number {
  const writes = s.get('writes-per-sec') as number | undefined;
  if (writes === undefined) return (s.get('ops-per-sec') as number | undefined) ?? RUN_DEFAULTS['ops-per-sec'];
  const clients = Math.max(1, (s.get('clients') as number | undefined) ?? 1);
  const ratio = (s.get('write-ratio') as number | undefined) ?? RUN_DEFAULTS['write-ratio'];
  if (ratio <= 0) throw new SettingsError('--writes-per-sec needs a --write-ratio above 0.');
  return writes / clients / ratio;
}

/**
 * Setting `name` of `s` as a number, or its default. (A function of the module, not a closure made
 * per call: explore reads settings several times a seed, see docs/scaling.md, "Eleventh session".)
 */
function numberSetting(s: Settings, name: keyof typeof RUN_DEFAULTS): number {
  return (s.get(name) as number | undefined) ?? (RUN_DEFAULTS[name] as number);
}

/** Range setting `name` of `s` as a uniform distribution, or its default. */
function rangeSetting(s: Settings, name: 'delay' | 'fsync' | 'restart-after' | 'partition-for' | 'disk-full-for'): DelayDist {
  return uniform((s.get(name) as readonly [number, number] | undefined) ?? RUN_DEFAULTS[name]);
}

/** Turns settings into run options; a setting not given takes its value from `RUN_DEFAULTS`. */
export function optionsFromSettings(s: Settings): RunOptions {
  // The CLI's flags also hold its own (json, quiet...): only the values of settings are checked here.
  validateSettings(s, 'pass');
  const flaws: Partial<Flaws> = {};
  // A release profile's flaws, then each --flaw (by switch name or ticket).
  const zk = s.get('zk') as string | undefined;
  if (zk !== undefined) {
    const profile = releaseProfile(zk);
    if (typeof profile === 'string') throw new SettingsError(`--zk: ${profile}`);
    for (const f of profile.flaws) flaws[f] = true;
  }
  for (const f of (s.get('flaw') as readonly string[] | undefined) ?? []) {
    const name = flawByName(f);
    if (name === null) throw new SettingsError(`--flaw: no flaw named '${f}'; 'zabsim flaws' lists them.`);
    flaws[name] = true;
  }
  const faults: { -readonly [K in keyof FaultConfig]?: FaultConfig[K] } = {
    crashMeanIntervalMs: numberSetting(s, 'crash-every'),
    crashTarget: ((s.get('crash-target') as string | undefined) ?? RUN_DEFAULTS['crash-target']) as 'any' | 'leader',
    restartDelay: rangeSetting(s, 'restart-after'),
    partitionMeanIntervalMs: numberSetting(s, 'partition-every'),
    partitionDuration: rangeSetting(s, 'partition-for'),
    oneWayProb: numberSetting(s, 'one-way'),
    crashPointProb: numberSetting(s, 'crash-points'),
    newLeaderAckResetProb: numberSetting(s, 'newleader-ack-resets'),
    ackResetProb: numberSetting(s, 'ack-resets'),
    untilMs: numberSetting(s, 'faults-until'),
    diskFullMeanIntervalMs: numberSetting(s, 'disk-full-every'),
    diskFullDuration: rangeSetting(s, 'disk-full-for'),
    pctDepth: numberSetting(s, 'pct'),
  };
  const scheduleText = s.get('schedule') as string | undefined;
  if (scheduleText !== undefined) {
    const sched = parseSchedule(scheduleText, numberSetting(s, 'servers') + numberSetting(s, 'observers'));
    if (typeof sched === 'string') throw new SettingsError(`--schedule: ${sched}.`);
    faults.schedule = sched;
  }
  const bound = s.get('liveness-bound') as number | undefined;
  return {
    seed: numberSetting(s, 'seed'),
    voters: numberSetting(s, 'servers'),
    observers: numberSetting(s, 'observers'),
    untilMs: numberSetting(s, 'until'),
    startSpreadMs: numberSetting(s, 'start-spread'),
    params: {
      tickTimeMs: numberSetting(s, 'tick-time'),
      initLimitTicks: numberSetting(s, 'init-limit'),
      syncLimitTicks: numberSetting(s, 'sync-limit'),
      snapCount: numberSetting(s, 'snap-count'),
      commitLogCount: numberSetting(s, 'commit-log-count'),
      zxidCounterLimit: numberSetting(s, 'zxid-counter-limit'),
      snapRetainCount: numberSetting(s, 'snap-retain-count'),
      purgeIntervalMs: numberSetting(s, 'purge-interval'),
    },
    workload: {
      clients: numberSetting(s, 'clients'),
      opsPerSecPerClient: opsPerSecPerClient(s),
      writeRatio: numberSetting(s, 'write-ratio'),
      keys: numberSetting(s, 'keys'),
      startMs: numberSetting(s, 'clients-from'),
    },
    flaws,
    network: {
      delay: rangeSetting(s, 'delay'),
      lossProb: numberSetting(s, 'loss'),
      duplicateProb: numberSetting(s, 'duplicate'),
      reorderProb: numberSetting(s, 'reorder'),
      ackReorderProb: numberSetting(s, 'ack-reorder'),
    },
    disk: { fsyncLatency: rangeSetting(s, 'fsync'), writeErrorProb: numberSetting(s, 'write-errors'), tornTailProb: numberSetting(s, 'torn-tail'), corruptTailProb: numberSetting(s, 'corrupt-tail'), corruptSnapshotProb: numberSetting(s, 'corrupt-snapshot') },
    ...(s.has('thread-delay') ? { stageDelay: uniform(s.get('thread-delay') as readonly [number, number]) } : {}),
    ...(s.has('commit-delay') ? { commitDelay: uniform(s.get('commit-delay') as readonly [number, number]) } : {}),
    faults,
    ...(bound !== undefined ? { livenessBoundMs: bound } : {}),
    stopEarly: s.get('stop-early') === true,
    history: numberSetting(s, 'history'),
    acceptedAhead: numberSetting(s, 'accepted-ahead'),
  };
}

/**
 * With `swarm`, the seed's drawn settings under the ones given; and a swarm run lasts until the
 * liveness bound after its faults stop, unless `until` is given.
 */
export function resolveSettings(given: Settings): Settings {
  if (given.get('swarm') !== true) {
    const fit = livenessFit(given);
    return fit === null ? given : new Map([...given, ['faults-until', fit.faultsUntilMs]]);
  }
  const seed = (given.get('seed') as number | undefined) ?? RUN_DEFAULTS.seed;
  const merged = new Map<string, SettingValue>([...swarmSettings(seed), ...given]);
  if (!given.has('until')) {
    const opts = optionsFromSettings(merged);
    const bound = opts.livenessBoundMs ?? defaultLivenessBoundMs(makeClusterConfig(opts.voters, opts.observers ?? 0, opts.params));
    merged.set('until', (merged.get('faults-until') as number) + bound);
  }
  return merged;
}

/**
 * Liveness judged by default: a run with faults (crashes, partitions, crash points, a schedule)
 * whose `faults-until` is not given stops its faults early enough for the liveness bound to fit
 * before `until`. Returns that period, or null when the settings set it, have no faults, or the
 * bound does not fit (the verdict then says liveness was not judged, and why).
 */
export function livenessFit(given: Settings): { readonly faultsUntilMs: number; readonly boundMs: number } | null {
  if (given.has('faults-until') || given.get('swarm') === true) return null;
  const faulty = numberSetting(given, 'crash-every') > 0 || numberSetting(given, 'partition-every') > 0 || numberSetting(given, 'crash-points') > 0 || numberSetting(given, 'write-errors') > 0 || numberSetting(given, 'disk-full-every') > 0 || numberSetting(given, 'pct') > 0 || numberSetting(given, 'newleader-ack-resets') > 0 || numberSetting(given, 'ack-resets') > 0 || given.has('schedule');
  if (!faulty) return null;
  const opts = optionsFromSettings(given);
  const bound = opts.livenessBoundMs ?? defaultLivenessBoundMs(makeClusterConfig(opts.voters, opts.observers ?? 0, opts.params));
  const faultsUntilMs = numberSetting(given, 'until') - bound;
  return faultsUntilMs > 0 ? { faultsUntilMs, boundMs: bound } : null;
}

/** The drawn part of a swarm run that the given settings leave (printed first, so the run can be replayed); null without `swarm`. */
export function swarmDrawn(given: Settings): Settings | null {
  if (given.get('swarm') !== true) return null;
  const drawn = swarmSettings((given.get('seed') as number | undefined) ?? RUN_DEFAULTS.seed);
  for (const k of given.keys()) drawn.delete(k);
  return drawn;
}

/** Settings and their resolved options. */
export function runOptions(given: Settings): RunOptions {
  validateSettings(given);
  return optionsFromSettings(resolveSettings(given));
}

/** Quotes an argument for a POSIX shell when it needs it, so that a printed command can be pasted back. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_.,:/=+@%-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Settings as the arguments of `zabsim run` (`--name value`; a range as MIN..MAX, a list repeated). */
export function settingsArgs(m: Settings): string[] {
  const args: string[] = [];
  for (const [k, v] of m) {
    if (v === true) args.push(`--${k}`);
    else if (Array.isArray(v) && typeof v[0] === 'number') args.push(`--${k}`, `${v[0]}..${v[1]}`);
    else if (Array.isArray(v)) for (const x of v) args.push(`--${k}`, String(x));
    else args.push(`--${k}`, String(v));
  }
  return args;
}

/** Settings as the command-line flags of `zabsim run`, quoted for a POSIX shell. */
export function formatSettings(m: Settings): string {
  return settingsArgs(m)
    .map((a) => (a.startsWith('--') ? a : shellQuote(a)))
    .join(' ');
}

/**
 * Refuses resolved settings whose run would be meaningless though each value is valid: load
 * asked for without clients, clients or servers that would start only after the run ends.
 */
export function checkSettings(s: Settings): void {
  const until = numberSetting(s, 'until');
  const clients = numberSetting(s, 'clients');
  for (const rate of ['writes-per-sec', 'ops-per-sec'] as const) {
    if (s.has(rate) && clients === 0) throw new SettingsError(`--${rate} needs --clients: with no clients there is no load.`);
  }
  if (clients > 0 && numberSetting(s, 'clients-from') >= until) throw new SettingsError(`--clients-from ${numberSetting(s, 'clients-from')}ms is not before --until ${until}ms: the clients would never start.`);
  if (numberSetting(s, 'start-spread') >= until) throw new SettingsError(`--start-spread ${numberSetting(s, 'start-spread')}ms is not below --until ${until}ms: servers could start after the run ends.`);
}
