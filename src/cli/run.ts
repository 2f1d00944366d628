/**
 * `zabsim run`: one seeded simulation, printed as its parameters, its trace and a summary.
 */
import { formatDigest } from '../protocol/format.ts';
import { serverName } from '../protocol/config.ts';
import { flawByName, NEWEST_RELEASE, releaseProfile, unknownFlawMessage } from '../protocol/flaws.ts';

function resolveFlawFlag(raw: string): string | { error: string } {
  return flawByName(raw) ?? { error: unknownFlawMessage('--flaw', raw) };
}

function resolveZkFlag(raw: string): string | { error: string } {
  const p = releaseProfile(raw);
  return typeof p === 'string' ? { error: p } : raw;
}
import { formatLong, formatZxid } from '../protocol/zxid.ts';
import type { TraceEvent } from '../sim/events.ts';
import type { Simulation } from '../sim/kernel.ts';
import { defaultLivenessBoundMs, PROPERTY_DESCRIPTIONS, type Verdict, type Violation } from '../check/index.ts';
import { makeClusterConfig } from '../protocol/config.ts';
import { describeRun } from '../run/header.ts';
import { createRun, runJudged, type RunOptions } from '../run/run.ts';
import { checkSettings, formatSettings, livenessFit, optionsFromSettings, resolveSettings, shellQuote, swarmDrawn, type Settings } from '../run/settings.ts';
import type { Run } from '../run/run.ts';
import type { HistoryStats } from '../sim/clients.ts';
import type { Terminal } from './output.ts';
import { summarize, traceHash } from '../run/summary.ts';
import { coverageJson, formatCoverage } from '../run/coverage.ts';
import { alignColumns } from '../trace/format.ts';
import { renderEvent, type Palette } from '../trace/text.ts';
import { parseFlags, UsageError, type CommandSpec, type FlagValue } from './args.ts';
import { basename, join } from 'node:path';
import { buildViewerHtml } from '../trace/html.ts';
import { MemoryTee, RunFolder, startMeta, type RunTee } from './folder.ts';
import { checkOutFile, newResultFolder, pointLatest, prepareOutDir, writeAtomic, zabsimVersion } from './results.ts';

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
    { name: 'thread-delay', kind: 'range', help: "how long a server's log writer thread waits before it runs, uniform in milliseconds", defaultText: '0..0' },
    { name: 'commit-delay', kind: 'range', help: "how long a server's CommitProcessor thread waits before it applies what was committed, uniform in milliseconds", defaultText: '0..0' },
    { name: 'loss', kind: 'prob', help: 'probability that a message is lost (resetting its connection)', defaultText: '0' },
    { name: 'duplicate', kind: 'prob', help: 'probability that a message is delivered twice (breaks TCP)', defaultText: '0' },
    { name: 'reorder', kind: 'prob', help: 'probability that a message overtakes earlier ones (breaks TCP)', defaultText: '0' },
    { name: 'pct', kind: 'int', min: 0, max: 100, help: 'PCT priority scheduling of this depth: random server priorities (each rank adds 4ms to the messages a server receives) with depth-1 change points in the faulty period', defaultText: '0' },
    { name: 'ack-reorder', kind: 'prob', help: 'probability that an ACK (learner to leader) overtakes earlier ones: reordering aimed at the commit order', defaultText: '0' },
    { name: 'crash-every', kind: 'duration', min: 0, help: 'mean time between crashes, 0 for none', defaultText: '0' },
    { name: 'crash-target', kind: 'string', choices: ['any', 'leader'], help: 'which server a crash hits', defaultText: 'any' },
    { name: 'restart-after', kind: 'range', help: 'time a crashed server stays down', defaultText: '1000..10000' },
    { name: 'crash-points', kind: 'prob', help: 'probability of a crash at each crash point (after a NEWLEADER ACK, a currentEpoch write, a COMMIT)', defaultText: '0' },
    { name: 'partition-every', kind: 'duration', min: 0, help: 'mean time between partitions, 0 for none', defaultText: '0' },
    { name: 'partition-for', kind: 'range', help: 'how long a partition lasts', defaultText: '1000..20000' },
    { name: 'one-way', kind: 'prob', help: 'probability that a partition blocks one direction only', defaultText: '0.25' },
    { name: 'write-errors', kind: 'prob', help: 'storage fault: probability that a write fails at its fsync (an I/O error)', defaultText: '0' },
    { name: 'disk-full-every', kind: 'duration', min: 0, help: "storage fault: mean time between full disks (one server's), 0 for none", defaultText: '0' },
    { name: 'disk-full-for', kind: 'range', help: 'how long a disk stays full', defaultText: '1000..10000' },
    { name: 'torn-tail', kind: 'prob', help: 'storage fault: probability that a crash leaves the first unsynced log append as a torn (partial) record', defaultText: '0' },
    { name: 'corrupt-tail', kind: 'prob', help: 'storage fault: probability that a crash leaves it as a record with a wrong CRC', defaultText: '0' },
    { name: 'corrupt-snapshot', kind: 'prob', help: 'storage fault: probability that a crash leaves the snapshot file being written as a file that fails its CRC (the server loads the one before)', defaultText: '0' },
    { name: 'faults-until', kind: 'duration', min: 0, help: 'no faults after this time; then heal and restart all', defaultText: 'never' },
    { name: 'clients', kind: 'int', min: 0, max: 1000, help: 'number of simulated clients', defaultText: '0' },
    { name: 'ops-per-sec', kind: 'number', min: 0.001, max: 100_000, help: 'mean operations per second per client', defaultText: '10' },
    { name: 'writes-per-sec', kind: 'number', min: 0.001, max: 1_000_000, help: 'target writes per second over all clients (sets --ops-per-sec)', defaultText: 'from --ops-per-sec' },
    { name: 'write-ratio', kind: 'prob', help: 'share of client operations that are writes', defaultText: '0.6' },
    { name: 'keys', kind: 'int', min: 1, max: 10_000, help: 'number of keys clients work on', defaultText: '8' },
    { name: 'clients-from', kind: 'duration', min: 0, help: 'clients start at this time', defaultText: '2s' },
    { name: 'snap-count', kind: 'int', min: 2, max: 10_000_000, help: 'snapCount: txns between snapshots', defaultText: '100' },
    { name: 'zxid-counter-limit', kind: 'int', min: 2, max: 0xffff_ffff, help: 'the zxid counter value at which a leader forces a new epoch (2^32-1 in ZooKeeper; smaller reaches it, as the test hook zookeeper.testingonly.initialZxid does)', defaultText: '4294967295' },
    { name: 'commit-log-count', kind: 'int', min: 1, max: 10_000_000, help: 'commitLogCount: committed txns kept for DIFF', defaultText: '500' },
    { name: 'history', kind: 'int', min: 0, max: 50, help: 'pre-load the disks with a history of this many epochs drawn from the seed (logs, snapshots, epoch files)', defaultText: '0' },
    { name: 'newleader-ack-resets', kind: 'prob', help: "probability that a learner's connection to its leader resets right after the leader counted its NEWLEADER ACK, before establishment (the learner syncs and ACKs again)", defaultText: '0' },
    { name: 'ack-resets', kind: 'prob', help: "probability that a follower's connection to its leader resets right after the leader counted its ACK of a proposal still short of a quorum; the other servers' disks stall until the follower has synced again with that leader, then go on one at a time", defaultText: '0' },
    { name: 'accepted-ahead', kind: 'int', min: 0, max: 10, help: "pre-load one voter's acceptedEpoch this many epochs above its currentEpoch, as after leading that many epochs that failed before establishing (a stale-LEADERINFO window)", defaultText: '0' },
    { name: 'snap-retain-count', kind: 'int', min: 3, max: 1000, help: 'autopurge.snapRetainCount: a purge keeps this many snapshots and the txn log files they need', defaultText: '3' },
    { name: 'purge-interval', kind: 'duration', min: 0, help: 'autopurge.purgeInterval in virtual time: how often each server purges old snapshots and txn log files, 0 for never', defaultText: '60s' },
    { name: 'schedule', kind: 'string', arg: 'STEPS', help: "explicit faults: '1500ms crash s1; 3s restart s1; 4s partition s1,s2|s3; 6s partition s1->s2; 9s heal'; '2s crash s2 after newleader-ack' (or epoch-durable, commit, log-durable) crashes at the next such point", defaultText: 'none' },
    { name: 'flaw', kind: 'list', arg: 'NAME', expects: "a flaw name or its ticket (see 'zabsim flaws')", resolve: resolveFlawFlag, help: "reintroduce a real ZooKeeper bug, by switch name or ticket such as ZOOKEEPER-3911 (repeatable; 'zabsim flaws' lists them)", defaultText: 'none' },
    { name: 'zk', kind: 'string', arg: 'VERSION', expects: 'a ZooKeeper release such as 3.8.4 or a line such as 3.7', resolve: resolveZkFlag, help: "behave as this ZooKeeper release: switch on exactly the flaws it has (3.4.0 to 3.9.5, or a line such as 3.7 where its releases agree)", defaultText: `${NEWEST_RELEASE} with zabsim's fixes` },
    { name: 'swarm', kind: 'bool', help: 'draw the cluster, faults and workload from the seed (flags given override the draw)' },
    { name: 'liveness-bound', kind: 'duration', min: 1, help: 'after --faults-until, time within which the cluster must recover', defaultText: 'from tickTime, initLimit, syncLimit' },
    { name: 'stop-early', kind: 'bool', help: 'end the run at the first violation, or once the cluster recovered after the faults' },
    { name: 'check-determinism', kind: 'bool', help: 'run twice and compare trace hashes (exit 1 if they differ)' },
    { name: 'quiet', kind: 'bool', help: 'no trace: only the parameters, the summary and the checks' },
    { name: 'record-numbers', kind: 'bool', help: 'start each trace line with its record number [i], the number violation reports cite' },
    { name: 'around', kind: 'int', min: 1, max: 10_000_000, help: 'print only the last N trace records before the first violation (or the end)' },
    { name: 'no-color', kind: 'bool', help: 'plain text even on a terminal' },
    { name: 'json', kind: 'bool', help: 'JSON lines: a header, one line per event, a summary' },
    { name: 'out', kind: 'string', arg: 'DIR', help: 'also write a results folder DIR/run-seedN-TIME (trace, verdict, history, trace.html, plots, index.html) and point DIR/latest at it (docs/results.md)' },
    { name: 'html', kind: 'string', arg: 'FILE', help: 'also write the viewer page (trace.html) of this run to FILE' },
    { name: 'coverage', kind: 'bool', help: 'count the coverage cells (docs/checkers.md) and print the map after the summary (a JSON line with --json)' },
  ],
};

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
      r.digest === null ? '-' : formatDigest(r.digest),
      v === null ? '-' : `(${v.leader < 0 ? formatLong(v.leader) : serverName(v.leader)}, ${formatZxid(v.zxid)}, ${formatLong(v.peerEpoch)})`,
      opt(r.round),
    ]);
  }
  return alignColumns(rows);
}

export interface Output {
  write(line: string): void;
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
  return 3;
}

/** How a violation reads in a report: the property, where, what, and the facts. */
export function violationLines(v: Violation): string[] {
  return [
    `${v.kind === 'liveness' ? 'LIVENESS FAILURE' : 'VIOLATION'}: ${v.property} at ${v.t}ms (after trace record ${v.i})`,
    `  property: ${PROPERTY_DESCRIPTIONS[v.property]}`,
    `  ${v.message}`,
    ...v.facts.map((x) => `  - ${x}`),
  ];
}

function faulty(opts: RunOptions): boolean {
  const f = opts.faults ?? {};
  return (f.crashMeanIntervalMs ?? 0) > 0 || (f.partitionMeanIntervalMs ?? 0) > 0 || (f.crashPointProb ?? 0) > 0 || (f.schedule?.length ?? 0) > 0;
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
          : faulty(opts)
            ? `not judged: the faults last the whole run (--faults-until sets when they stop; zabsim stops them itself when --until leaves room for the liveness bound of ${opts.livenessBoundMs ?? defaultLivenessBoundMs(makeClusterConfig(opts.voters, opts.observers ?? 0, opts.params))}ms)`
            : 'not checked: no faults (--faults-until 0 judges recovery from the start)';
  lines.push(`  liveness: ${liveness}`);
  for (const x of v.violations.slice(0, 5)) lines.push(...violationLines(x));
  if (v.violations.length > 5) lines.push(`  (${v.violations.length - 5} more properties violated)`);
  if (v.repeats > 0) lines.push(`  (${v.repeats} later violations of the same properties not shown)`);
  return lines;
}

/** Flags that another flag makes meaningless, refused together: [flag, flag, why]. */
const EXCLUSIVE: readonly (readonly [string, string, string])[] = [
  ['json', 'check-determinism', '--check-determinism prints two trace hashes, not a trace'],
  ['stop-early', 'check-determinism', '--check-determinism hashes whole runs'],
  ['quiet', 'check-determinism', '--check-determinism prints no trace'],
  ['around', 'check-determinism', '--check-determinism prints no trace'],
  ['quiet', 'around', '--quiet prints no trace'],
  ['quiet', 'record-numbers', '--quiet prints no trace'],
  ['json', 'record-numbers', 'every JSON record has its number in i'],
  ['out', 'check-determinism', '--check-determinism keeps no trace to write'],
  ['html', 'check-determinism', '--check-determinism keeps no trace to view'],
];

/** The flags that only say where results go: left out of a replay command. */
const OUTPUT_FLAGS = new Set(['--out', '--html']);

/** The arguments without `--out DIR` and `--html FILE` (a replay should not write the same folder). */
export function withoutOutputFlags(argv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (OUTPUT_FLAGS.has(a)) i++;
    else if (!OUTPUT_FLAGS.has(a.split('=')[0] as string)) kept.push(a);
  }
  return kept;
}

/** Several tees as one. */
function fanout(tees: readonly RunTee[]): RunTee | null {
  if (tees.length <= 1) return tees[0] ?? null;
  return {
    line: (j) => {
      for (const t of tees) t.line(j);
    },
    summaryText: (l) => {
      for (const t of tees) t.summaryText(l);
    },
  };
}

/** The client summary: outcomes with application results apart from failures, and the write rate achieved against the one asked for. */
export function clientLines(stats: HistoryStats, opts: RunOptions, endMs: number): string[] {
  const { ok, unknown, pending, writesOk, app, failed } = stats;
  const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
  const detail = (m: Map<string, number>): string => (m.size === 0 ? '' : ` (${[...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, n]) => `${k} ${n}`).join(', ')})`);
  const w = opts.workload ?? {};
  const clients = w.clients ?? 0;
  const requested = clients * (w.opsPerSecPerClient ?? 0) * (w.writeRatio ?? 0);
  const span = Math.max(0, endMs - (w.startMs ?? 0)) / 1000;
  const achieved = span > 0 ? writesOk / span : 0;
  const r2 = (x: number): number => Math.round(x * 100) / 100;
  return [
    `clients: ${stats.invoked} operations: ${ok} ok, ${sum(app)} application results${detail(app)}, ${sum(failed)} failed${detail(failed)}, ${unknown} unknown, ${pending} pending`,
    `  writes: ${r2(achieved)}/s achieved (${writesOk} acknowledged over ${r2(span)}s) of ${r2(requested)}/s requested`,
  ];
}

/** Runs `zabsim run` with already-parsed flags; returns the exit code (1 when a check fails). */
export function runCommand(given: Map<string, FlagValue>, out: Output, palette: Palette, argv: readonly string[] = [], err: Terminal | null = null, extraTee: RunTee | null = null): number {
  for (const [a, b, why] of EXCLUSIVE) {
    if (given.has(a) && given.has(b)) throw new UsageError(`--${a} and --${b} do not go together: ${why}.`, 'run');
  }
  const flags = resolveSettings(given);
  checkSettings(flags);
  const coverage = flags.get('coverage') === true;
  const opts = coverage ? { ...optionsFromSettings(flags), coverage: true } : optionsFromSettings(flags);
  if (flags.get('check-determinism') === true) return checkDeterminism(opts, out);
  const outDir = given.get('out') as string | undefined;
  const htmlFile = given.get('html') as string | undefined;
  if (outDir !== undefined) prepareOutDir(outDir, '--out', 'run');
  if (htmlFile !== undefined) checkOutFile(htmlFile, '--html', 'run');
  const now = new Date();
  const title = `zabsim run seed ${opts.seed}`;
  const folder = outDir === undefined ? null : new RunFolder(newResultFolder(outDir, `run-seed${opts.seed}`, now), startMeta('run', ['run', ...argv], zabsimVersion(), now), title);
  const memory = htmlFile !== undefined && folder === null ? new MemoryTee() : null;
  const tee = fanout([folder, memory, extraTee].filter((t): t is RunTee => t !== null));
  try {
    const code = runWith(given, flags, opts, out, palette, argv, err, tee);
    if (folder !== null) {
      const trace = folder.finish(code);
      const linked = pointLatest(outDir as string, basename(folder.path));
      err?.write(`zabsim: results in ${folder.path}${linked ? '' : ` (${join(outDir as string, 'latest')} is a text file naming it: symbolic links failed here)`}; open ${join(folder.path, 'index.html')}\n`);
      if (htmlFile !== undefined) writeAtomic(htmlFile, buildViewerHtml(trace, { title }));
    } else if (memory !== null) writeAtomic(htmlFile as string, buildViewerHtml(memory.trace(htmlFile as string), { title }));
    if (htmlFile !== undefined) err?.write(`zabsim: wrote ${htmlFile}; open it in a browser\n`);
    return code;
  } catch (e) {
    folder?.abort();
    throw e;
  }
}

/** The run itself, its output on `out`, and its machine-readable copy on `tee`. */
function runWith(given: Map<string, FlagValue>, flags: Settings, opts: RunOptions, out: Output, palette: Palette, argv: readonly string[], err: Terminal | null, tee: RunTee | null): number {
  const json = flags.get('json') === true;
  const quiet = flags.get('quiet') === true;
  const around = flags.get('around') as number | undefined;
  const numbers = flags.get('record-numbers') === true;
  let established = false;
  let shownViolations = 0;
  // --around N: the last N records, frozen at the first violation.
  const ring: string[] = [];
  let kept = 0;
  let frozen = false;
  const emit = (line: string): void => {
    if (around === undefined) out.write(line);
    else if (!frozen) ring[kept++ % around] = line;
  };
  let run: Run | null = null;
  let marker: string | null = null;
  /** Marks a violation in the trace right after the record where it was detected. */
  const markViolations = (): void => {
    const vs = (run?.checkers?.violations ?? []) as readonly Violation[];
    while (shownViolations < vs.length) {
      const v = vs[shownViolations++] as Violation;
      const line = palette.drop(`>>> ${v.kind === 'liveness' ? 'LIVENESS FAILURE' : 'VIOLATION'} ${v.property} after record ${v.i} at ${v.t}ms: ${v.message}`);
      const first = !frozen;
      frozen = true;
      if (json || quiet) continue;
      if (around === undefined) out.write(line);
      else if (first) marker = line;
    }
  };
  const sink = (ev: TraceEvent): void => {
    if (ev.type === 'state' && ev.state === 'LEADING' && ev.zabState === 'BROADCAST') established = true;
    if (shownViolations < (run?.checkers?.violations.length ?? 0)) markViolations();
    if (tee !== null) {
      const j = JSON.stringify(ev);
      tee.line(j);
      if (json) {
        if (!quiet) emit(j);
        return;
      }
    }
    if (quiet) return;
    emit(json ? JSON.stringify(ev) : numbers ? `[${ev.i}] ${renderEvent(ev, palette)}` : renderEvent(ev, palette));
  };
  // The header must precede the first event, so the run is created with a sink that is only
  // fed once the header is out: creating a run emits nothing before runUntil.
  run = createRun(opts, sink);
  const drawn = swarmDrawn(given);
  const swarm = drawn === null ? null : formatSettings(drawn);
  const fit = livenessFit(given);
  const header = [
    ...(swarm !== null ? [`swarm: ${swarm}`] : []),
    ...describeRun(run.sim, opts, run.faults.describe()),
    ...(fit !== null ? [`liveness: faults stop at ${fit.faultsUntilMs}ms so that the liveness bound of ${fit.boundMs}ms fits before --until (--faults-until sets another time)`] : []),
  ];
  const headerJson = json || tee !== null ? JSON.stringify({ zabsim: 'run', options: opts, parameters: header }) : '';
  tee?.line(headerJson);
  if (json) out.write(headerJson);
  else {
    for (const l of header) out.write(palette.note(l));
    out.write('');
  }
  // --json (and a results folder's trace.jsonl) streams the client history, one line per
  // operation as it completes (no run keeps it).
  const jsonLine = (j: string): void => {
    tee?.line(j);
    if (json) out.write(j);
  };
  if (json || tee !== null) run.clients.onCompleted = (op) => jsonLine(JSON.stringify({ zabsim: 'op', op }));
  runJudged(run, opts.untilMs);
  markViolations();
  if (around !== undefined) {
    const dropped = Math.max(0, kept - around);
    if (dropped > 0 && !json) out.write(palette.note(`... (${dropped} earlier lines of the trace not shown: --around ${around})`));
    for (let k = dropped; k < kept; k++) out.write(ring[k % around] as string);
    if (marker !== null) out.write(marker);
  }
  const sim = run.sim;
  const counts = run.clients.counts();
  const verdict = (run.checkers as NonNullable<typeof run.checkers>).verdict();
  const stats = run.clients.stats;
  const noLeader = !established;
  const allFailed = stats.invoked > 0 && stats.ok === 0 && stats.app.size === 0;
  const unarmed = run.faults.unfiredCrashPoints();
  const warnings = [
    ...(noLeader ? ['no leader was ever established: nothing was replicated, so the safety checks had nothing to judge'] : []),
    ...(allFailed ? [`every one of the ${stats.invoked} client operations failed: the clients were never served`] : []),
    ...unarmed.map((x) => `the armed crash '${x}' never fired: the run never reached that point`),
  ];
  const replay = `npx zabsim run ${withoutOutputFlags(argv).map(shellQuote).join(' ')}`.trimEnd();
  if (json || tee !== null) {
    for (const op of run.clients.pending()) jsonLine(JSON.stringify({ zabsim: 'op', op }));
    jsonLine(JSON.stringify({ zabsim: 'summary', t: sim.now, events: sim.eventCount, traceRecords: sim.traceCount, servers: summarize(sim), clients: counts, verdict: { ...verdict, warnings, replay } }));
  }
  if (json && sim.coverage !== null) out.write(JSON.stringify(coverageJson(sim.coverage)));
  // The text summary: [line, its colour].
  const text: [string, (s: string) => string][] = [];
  const plain = (s: string): string => s;
  text.push([`summary at ${sim.now}ms (${sim.eventCount} events, ${sim.traceCount} trace records):`, palette.state]);
  for (const l of summaryLines(sim)) text.push([l, plain]);
  if (run.clients.cfg.clients > 0) for (const l of clientLines(stats, opts, sim.now)) text.push([l, plain]);
  const vl = verdictLines(verdict, opts, stats.invoked);
  // A pass that judged little says so on its first line.
  if (verdict.ok && warnings.length > 0) vl[0] = `checks: PASSED, with ${warnings.length === 1 ? 'a note' : `${warnings.length} notes`} (below)`;
  for (const l of vl) text.push([l, verdict.ok ? plain : palette.drop]);
  for (const w of warnings) text.push([`  note: ${w}`, palette.fault]);
  if (!verdict.ok) text.push([`replay: ${replay}`, plain]);
  tee?.summaryText(text.map(([l]) => l));
  if (!json) {
    out.write('');
    for (const [l, colour] of text) out.write(colour(l));
    if (sim.coverage !== null) for (const l of ['', ...formatCoverage(sim.coverage)]) out.write(l);
  }
  if (err !== null && json) for (const w of warnings) err.write(`zabsim: note: ${w}\n`);
  return verdict.ok ? 0 : 1;
}

export function parseRunFlags(argv: readonly string[]): Map<string, FlagValue> {
  return parseFlags(RUN_SPEC, argv);
}
