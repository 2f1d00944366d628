/**
 * `zabsim run`: one seeded simulation, printed as its parameters, its trace and a summary.
 */
import { createHash } from 'node:crypto';
import { FLAW_NAMES, serverName, type Flaws } from '../protocol/config.ts';
import { formatLong, formatZxid } from '../protocol/zxid.ts';
import type { TraceEvent } from '../sim/events.ts';
import type { FaultConfig } from '../sim/faults.ts';
import { formatDist, type DelayDist } from '../sim/rng.ts';
import { createRun, runJudged, type RunOptions } from '../sim/run.ts';
import { parseSchedule } from '../sim/faults.ts';
import { defaultLivenessBoundMs, PROPERTY_DESCRIPTIONS, type Verdict, type Violation } from '../check/index.ts';
import { makeClusterConfig } from '../protocol/config.ts';
import { formatFlags, swarmFlags } from './swarm.ts';
import type { Simulation } from '../sim/kernel.ts';
import { renderEvent, type Palette } from '../trace/text.ts';
import { parseFlags, shellQuote, usage, UsageError, type CommandSpec, type FlagValue } from './args.ts';

export const RUN_SPEC: CommandSpec = {
  name: 'run',
  summary: 'Runs one seeded simulation of a ZooKeeper ensemble and prints its parameters, trace and summary.',
  flags: [
    { name: 'seed', kind: 'int', min: 0, max: 2 ** 32 - 1, help: 'root seed of every random stream', defaultText: '1' },
    { name: 'servers', kind: 'int', min: 1, max: 15, help: 'number of voting servers', defaultText: '3' },
    { name: 'observers', kind: 'int', min: 0, max: 8, help: 'number of observers', defaultText: '0' },
    { name: 'until', kind: 'duration', min: 1, help: 'virtual time at which the run stops', defaultText: '5s' },
    { name: 'start-spread', kind: 'duration', min: 0, help: 'servers start at random times in [0, this]', defaultText: '300ms' },
    { name: 'tick-time', kind: 'duration', min: 2, help: 'tickTime', defaultText: '2000ms' },
    { name: 'init-limit', kind: 'int', min: 1, max: 1000, help: 'initLimit in ticks', defaultText: '10' },
    { name: 'sync-limit', kind: 'int', min: 1, max: 1000, help: 'syncLimit in ticks', defaultText: '5' },
    { name: 'delay', kind: 'range', help: 'one-way message delay, uniform in milliseconds', defaultText: '1..10' },
    { name: 'fsync', kind: 'range', help: 'fsync latency, uniform in milliseconds', defaultText: '1..5' },
    { name: 'loss', kind: 'prob', help: 'probability that a message is lost (resetting its connection)', defaultText: '0' },
    { name: 'duplicate', kind: 'prob', help: 'probability that a message is delivered twice (breaks TCP)', defaultText: '0' },
    { name: 'reorder', kind: 'prob', help: 'probability that a message overtakes earlier ones (breaks TCP)', defaultText: '0' },
    { name: 'crash-every', kind: 'duration', min: 0, help: 'mean time between crashes, 0 for none', defaultText: '0' },
    { name: 'crash-target', kind: 'string', choices: ['any', 'leader'], help: 'which server a crash hits', defaultText: 'any' },
    { name: 'restart-after', kind: 'range', help: 'time a crashed server stays down', defaultText: '1000..10000' },
    { name: 'crash-points', kind: 'prob', help: 'probability of a crash at each crash point (after a NEWLEADER ACK, a currentEpoch write, a COMMIT)', defaultText: '0' },
    { name: 'partition-every', kind: 'duration', min: 0, help: 'mean time between partitions, 0 for none', defaultText: '0' },
    { name: 'partition-for', kind: 'range', help: 'how long a partition lasts', defaultText: '1000..20000' },
    { name: 'one-way', kind: 'prob', help: 'probability that a partition blocks one direction only', defaultText: '0.25' },
    { name: 'faults-until', kind: 'duration', min: 0, help: 'no faults after this time; then heal and restart all', defaultText: 'never' },
    { name: 'clients', kind: 'int', min: 0, max: 1000, help: 'number of simulated clients', defaultText: '0' },
    { name: 'ops-per-sec', kind: 'number', min: 0.001, max: 100_000, help: 'mean operations per second per client', defaultText: '10' },
    { name: 'writes-per-sec', kind: 'number', min: 0.001, max: 1_000_000, help: 'target writes per second over all clients (sets --ops-per-sec)', defaultText: 'from --ops-per-sec' },
    { name: 'write-ratio', kind: 'prob', help: 'share of client operations that are writes', defaultText: '0.6' },
    { name: 'keys', kind: 'int', min: 1, max: 10_000, help: 'number of keys clients work on', defaultText: '8' },
    { name: 'clients-from', kind: 'duration', min: 0, help: 'clients start at this time', defaultText: '2s' },
    { name: 'snap-count', kind: 'int', min: 2, max: 10_000_000, help: 'snapCount: txns between snapshots', defaultText: '100' },
    { name: 'commit-log-count', kind: 'int', min: 1, max: 10_000_000, help: 'commitLogCount: committed txns kept for DIFF', defaultText: '500' },
    { name: 'history', kind: 'int', min: 0, max: 50, help: 'pre-load the disks with a history of this many epochs drawn from the seed (logs, snapshots, epoch files)', defaultText: '0' },
    { name: 'schedule', kind: 'string', arg: 'STEPS', help: "explicit faults: '1500ms crash s1; 3s restart s1; 4s partition s1,s2|s3; 6s partition s1->s2; 9s heal'; '2s crash s2 after newleader-ack' (or epoch-durable, commit) crashes at the next such point", defaultText: 'none' },
    { name: 'flaw', kind: 'list', choices: FLAW_NAMES, help: 'reintroduce a real ZooKeeper bug (repeatable)', defaultText: 'none' },
    { name: 'swarm', kind: 'bool', help: 'draw the cluster, faults and workload from the seed (flags given override the draw)' },
    { name: 'liveness-bound', kind: 'duration', min: 1, help: 'after --faults-until, time within which the cluster must recover', defaultText: 'from tickTime, initLimit, syncLimit' },
    { name: 'stop-early', kind: 'bool', help: 'end the run at the first violation, or once the cluster recovered after the faults' },
    { name: 'check-determinism', kind: 'bool', help: 'run twice and compare trace hashes (exit 1 if they differ)' },
    { name: 'no-color', kind: 'bool', help: 'plain text even on a terminal' },
    { name: 'json', kind: 'bool', help: 'JSON lines: a header, one line per event, a summary' },
  ],
};

function range(v: FlagValue | undefined, fallback: DelayDist): DelayDist {
  if (v === undefined) return fallback;
  const [lo, hi] = v as readonly [number, number];
  return { kind: 'uniform', minMs: lo, maxMs: hi };
}

/** --writes-per-sec is a total over the clients; a client's rate covers its reads too. */
function opsPerSecPerClient(flags: Map<string, FlagValue>): number {
  const writes = flags.get('writes-per-sec') as number | undefined;
  if (writes === undefined) return (flags.get('ops-per-sec') as number | undefined) ?? 10;
  const clients = Math.max(1, (flags.get('clients') as number | undefined) ?? 1);
  const ratio = (flags.get('write-ratio') as number | undefined) ?? 0.6;
  if (ratio <= 0) throw new UsageError('--writes-per-sec needs a --write-ratio above 0.', usage(RUN_SPEC));
  return writes / clients / ratio;
}

/**
 * With --swarm, the seed's drawn flags under the ones given; and a swarm run lasts until the
 * liveness bound after its faults stop, unless --until says otherwise.
 */
export function resolveFlags(given: Map<string, FlagValue>): Map<string, FlagValue> {
  if (given.get('swarm') !== true) return given;
  const seed = (given.get('seed') as number | undefined) ?? 1;
  const merged = new Map<string, FlagValue>([...swarmFlags(seed), ...given]);
  if (!given.has('until')) {
    const opts = runOptionsFromFlags(merged);
    const bound = opts.livenessBoundMs ?? defaultLivenessBoundMs(makeClusterConfig(opts.voters, opts.observers ?? 0, opts.params));
    merged.set('until', (merged.get('faults-until') as number) + bound);
  }
  return merged;
}

/** The drawn part of a swarm run, as flags (printed first, so the run can be replayed). */
export function swarmLine(given: Map<string, FlagValue>): string | null {
  if (given.get('swarm') !== true) return null;
  const drawn = swarmFlags((given.get('seed') as number | undefined) ?? 1);
  for (const k of given.keys()) drawn.delete(k);
  return formatFlags(drawn);
}

/** Turns parsed flags into run options (defaults as in the usage). */
export function runOptionsFromFlags(flags: Map<string, FlagValue>): RunOptions {
  const num = (name: string, d: number): number => (flags.get(name) as number | undefined) ?? d;
  const flawList = (flags.get('flaw') as readonly string[] | undefined) ?? [];
  const flaws: Partial<Flaws> = {};
  for (const f of flawList) flaws[f as keyof Flaws] = true;
  const faults: { -readonly [K in keyof FaultConfig]?: FaultConfig[K] } = {
    crashMeanIntervalMs: num('crash-every', 0),
    crashTarget: ((flags.get('crash-target') as string | undefined) ?? 'any') as 'any' | 'leader',
    restartDelay: range(flags.get('restart-after'), { kind: 'uniform', minMs: 1000, maxMs: 10_000 }),
    partitionMeanIntervalMs: num('partition-every', 0),
    partitionDuration: range(flags.get('partition-for'), { kind: 'uniform', minMs: 1000, maxMs: 20_000 }),
    oneWayProb: num('one-way', 0.25),
    crashPointProb: num('crash-points', 0),
    untilMs: num('faults-until', Infinity),
  };
  const scheduleText = flags.get('schedule') as string | undefined;
  if (scheduleText !== undefined) {
    const servers = num('servers', 3) + num('observers', 0);
    const sched = parseSchedule(scheduleText, servers);
    if (typeof sched === 'string') throw new UsageError(`--schedule: ${sched}.`, usage(RUN_SPEC));
    faults.schedule = sched;
  }
  const bound = flags.get('liveness-bound') as number | undefined;
  return {
    seed: num('seed', 1),
    voters: num('servers', 3),
    observers: num('observers', 0),
    untilMs: num('until', 5000),
    startSpreadMs: num('start-spread', 300),
    params: {
      tickTimeMs: num('tick-time', 2000),
      initLimitTicks: num('init-limit', 10),
      syncLimitTicks: num('sync-limit', 5),
      snapCount: num('snap-count', 100),
      commitLogCount: num('commit-log-count', 500),
    },
    workload: {
      clients: num('clients', 0),
      opsPerSecPerClient: opsPerSecPerClient(flags),
      writeRatio: num('write-ratio', 0.6),
      keys: num('keys', 8),
      startMs: num('clients-from', 2000),
    },
    flaws,
    network: {
      delay: range(flags.get('delay'), { kind: 'uniform', minMs: 1, maxMs: 10 }),
      lossProb: num('loss', 0),
      duplicateProb: num('duplicate', 0),
      reorderProb: num('reorder', 0),
    },
    disk: { fsyncLatency: range(flags.get('fsync'), { kind: 'uniform', minMs: 1, maxMs: 5 }) },
    faults,
    ...(bound !== undefined ? { livenessBoundMs: bound } : {}),
    stopEarly: flags.get('stop-early') === true,
    history: num('history', 0),
  };
}

/** The parameter lines printed before the trace. */
export function describeRun(sim: Simulation, opts: RunOptions, faultText: string): string[] {
  const p = sim.cfg.params;
  const net = { delay: { kind: 'uniform', minMs: 1, maxMs: 10 } as DelayDist, lossProb: 0, duplicateProb: 0, reorderProb: 0, ...opts.network };
  const flaws = FLAW_NAMES.filter((f) => sim.cfg.flaws[f]);
  return [
    `seed ${opts.seed}`,
    `ensemble: ${sim.cfg.voters.length} voters (${sim.cfg.voters.map(serverName).join(' ')})${sim.cfg.observers.length > 0 ? `, ${sim.cfg.observers.length} observers (${sim.cfg.observers.map(serverName).join(' ')})` : ''}`,
    `time: until ${opts.untilMs}ms, servers start within ${opts.startSpreadMs ?? 0}ms`,
    `zab: tickTime ${p.tickTimeMs}ms, initLimit ${p.initLimitTicks} ticks, syncLimit ${p.syncLimitTicks} ticks, finalizeWait ${p.finalizeWaitMs}ms, notification timeout ${p.minNotificationIntervalMs}..${p.maxNotificationIntervalMs}ms`,
    `network: delay ${formatDist(net.delay)}, loss ${net.lossProb}, duplicate ${net.duplicateProb}, reorder ${net.reorderProb}`,
    `disk: fsync ${formatDist(opts.disk?.fsyncLatency ?? { kind: 'uniform', minMs: 1, maxMs: 5 })}, snapCount ${p.snapCount}, commitLogCount ${p.commitLogCount}${(opts.history ?? 0) > 0 ? `, pre-loaded history of ${opts.history} epochs` : ''}`,
    `clients: ${describeClients(opts)}`,
    `faults: ${faultText}`,
    `flaws: ${flaws.length > 0 ? flaws.join(', ') : 'none'}`,
  ];
}

function describeClients(opts: RunOptions): string {
  const w = opts.workload;
  if (w === undefined || (w.clients ?? 0) === 0) return 'none';
  const rate = Math.round((w.opsPerSecPerClient ?? 10) * 100) / 100;
  return `${w.clients} from ${w.startMs ?? 0}ms, ${rate} ops/s each, writes ${w.writeRatio ?? 0.6}, ${w.keys ?? 8} keys`;
}

/** What the summary reports of one server (also the JSON summary's `servers` entries). */
export interface ServerSummary {
  readonly sid: number;
  readonly up: boolean;
  readonly role: string;
  readonly phase: string;
  readonly leader: number | null;
  readonly acceptedEpoch: number | null;
  readonly currentEpoch: number | null;
  readonly lastZxid: number | null;
  /** Last zxid in the server's log. */
  readonly lastLogged: number | null;
  /** Txns applied since the server last loaded its database. */
  readonly applied: number | null;
  /** Digest of the data tree (equal digests: equal trees). */
  readonly digest: number | null;
  readonly vote: { leader: number; zxid: number; electionEpoch: number; peerEpoch: number } | null;
  readonly round: number | null;
}

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
      leader: s.state === 'LEADING' ? sid : s.learner?.leader ?? null,
      acceptedEpoch: s.acceptedEpoch,
      currentEpoch: s.currentEpoch,
      lastZxid: s.db.lastProcessedZxid,
      lastLogged: s.db.log.lastZxid(s.db.lastProcessedZxid),
      applied: s.db.committed.length,
      digest: s.db.tree.digest,
      vote: { ...s.currentVote },
      round: s.fle.logicalclock,
    };
  });
}

/** One row per server: role, epochs, last zxid, current vote, election round. */
export function summaryLines(sim: Simulation): string[] {
  const rows: string[][] = [['server', 'role', 'phase', 'leader', 'acceptedEpoch', 'currentEpoch', 'lastLogged', 'lastApplied', 'applied', 'digest', 'vote', 'round']];
  const opt = (x: number | null): string => (x === null ? '-' : String(x));
  for (const r of summarize(sim)) {
    const v = r.vote;
    rows.push([
      serverName(r.sid),
      r.role,
      r.phase,
      r.leader === null ? '-' : serverName(r.leader),
      opt(r.acceptedEpoch),
      opt(r.currentEpoch),
      r.lastLogged === null ? '-' : formatZxid(r.lastLogged),
      r.lastZxid === null ? '-' : formatZxid(r.lastZxid),
      opt(r.applied),
      r.digest === null ? '-' : r.digest.toString(16).padStart(8, '0'),
      v === null ? '-' : `(${v.leader < 0 ? formatLong(v.leader) : serverName(v.leader)}, ${formatZxid(v.zxid)}, ${formatLong(v.peerEpoch)})`,
      opt(r.round),
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ').trimEnd());
}

export interface Output {
  write(line: string): void;
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
  run.sim.runUntil(opts.untilMs);
  h.update(JSON.stringify(summarize(run.sim)));
  h.update(JSON.stringify(run.clients.history));
  return { hash: h.digest('hex'), records };
}

/** `--check-determinism`: the same options twice must give byte-identical traces. */
function checkDeterminism(opts: RunOptions, out: Output): number {
  const a = traceHash(opts);
  const b = traceHash(opts);
  out.write(`run 1: ${a.records} trace records, sha256 ${a.hash}`);
  out.write(`run 2: ${b.records} trace records, sha256 ${b.hash}`);
  if (a.hash === b.hash && a.records === b.records) {
    out.write('deterministic: both runs produced the same trace');
    return 0;
  }
  out.write('NOT DETERMINISTIC: the two runs differ (a bug in zabsim: please report it with this command)');
  return 1;
}

/** How a violation reads in a report: the property, where, what, and the facts. */
export function violationLines(v: Violation): string[] {
  return [
    `${v.kind === 'liveness' ? 'LIVENESS FAILURE' : 'VIOLATION'}: ${v.property} at ${v.t}ms (trace record #${v.i})`,
    `  property: ${PROPERTY_DESCRIPTIONS[v.property]}`,
    `  ${v.message}`,
    ...v.facts.map((x) => `  - ${x}`),
  ];
}

/** The verdict as summary lines: one line per kind of check, then each violation. */
export function verdictLines(v: Verdict, opts: RunOptions, clientOps: number): string[] {
  const safety = v.violations.filter((x) => x.kind === 'safety');
  const client = v.violations.filter((x) => x.kind === 'client');
  const lines = [`checks: ${v.ok ? 'PASSED' : 'FAILED'}`];
  lines.push(`  safety: ${safety.length === 0 ? 'ok' : `${safety.length} violation(s)`} (every invariant after every event; ${v.committed} committed txns tracked)`);
  const stale = v.staleSyncs > 0 ? `; ${v.staleSyncs} sync(s) answered by a superseded leader, allowed: sync is not a quorum operation` : '';
  lines.push(`  clients: ${clientOps === 0 ? 'no clients' : client.length === 0 ? `ok (${clientOps} operations${stale})` : `${client.length} violation(s) over ${clientOps} operations${stale}`}`);
  const f = opts.faults?.untilMs ?? Infinity;
  const liveness =
    v.liveness === 'ok'
      ? `ok: recovered ${v.recoveryMs}ms after the faults stopped at ${f}ms`
      : v.liveness === 'failed'
        ? 'FAILED'
        : v.liveness === 'pending'
          ? `not judged: the run ended before the cluster recovered and before the bound (faults stopped at ${f}ms)`
          : 'not checked: faults never stop (give --faults-until)';
  lines.push(`  liveness: ${liveness}`);
  for (const x of v.violations.slice(0, 5)) lines.push(...violationLines(x));
  if (v.violations.length > 5) lines.push(`  (${v.violations.length - 5} more properties violated)`);
  if (v.repeats > 0) lines.push(`  (${v.repeats} later violations of the same properties not shown)`);
  return lines;
}

/** Runs `zabsim run` with already-parsed flags; returns the exit code (1 when a check fails). */
export function runCommand(given: Map<string, FlagValue>, out: Output, palette: Palette, argv: readonly string[] = []): number {
  const flags = resolveFlags(given);
  const opts = runOptionsFromFlags(flags);
  if (flags.get('check-determinism') === true) return checkDeterminism(opts, out);
  const json = flags.get('json') === true;
  const sink = json
    ? (ev: TraceEvent) => out.write(JSON.stringify(ev))
    : (ev: TraceEvent) => out.write(renderEvent(ev, palette));
  // The header must precede the first event, so the run is created with a sink that is only
  // fed once the header is out: creating a run emits nothing before runUntil.
  const run = createRun(opts, sink);
  const swarm = swarmLine(given);
  const header = [...(swarm !== null ? [`swarm: ${swarm}`] : []), ...describeRun(run.sim, opts, run.faults.describe())];
  if (json) out.write(JSON.stringify({ zabsim: 'run', options: opts, parameters: header }));
  else {
    for (const l of header) out.write(palette.note(l));
    out.write('');
  }
  runJudged(run, opts.untilMs);
  const sim = run.sim;
  const counts = run.clients.counts();
  const verdict = (run.checkers as NonNullable<typeof run.checkers>).verdict();
  const replay = `npx zabsim run ${argv.map(shellQuote).join(' ')}`.trimEnd();
  if (json) {
    out.write(JSON.stringify({ zabsim: 'summary', t: sim.now, events: sim.eventCount, traceRecords: sim.traceCount, servers: summarize(sim), clients: counts, verdict: { ...verdict, replay } }));
    out.write(JSON.stringify({ zabsim: 'history', ops: run.clients.history }));
  } else {
    out.write('');
    out.write(palette.state(`summary at ${sim.now}ms (${sim.eventCount} events, ${sim.traceCount} trace records):`));
    for (const l of summaryLines(sim)) out.write(l);
    if (run.clients.cfg.clients > 0) {
      out.write(`clients: ${run.clients.history.length} operations: ${counts.ok} ok, ${counts.error} error, ${counts.unknown} unknown, ${counts.pending} pending`);
    }
    for (const l of verdictLines(verdict, opts, run.clients.history.length)) out.write(verdict.ok ? l : palette.drop(l));
    if (!verdict.ok) out.write(`replay: ${replay}`);
  }
  return verdict.ok ? 0 : 1;
}

export function parseRunFlags(argv: readonly string[]): Map<string, FlagValue> {
  return parseFlags(RUN_SPEC, argv);
}
