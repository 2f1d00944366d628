/**
 * An exploration's result as data, its JSON lines (`explore --json`), and the merge of shards
 * (`zabsim merge`, docs/scaling.md). The JSON holds nothing measured on the wall clock, so it is a
 * function of the flags alone: one thread or many, one run or merged shards, the same bytes.
 *
 * The JSON lines, in this order:
 * - `{"zabsim":"explore","format":1,"from":F,"seeds":S,"swarm":B,"with":"--flaw x","maxFailures":M|null,"shard":"I/N"|null}`
 * - one `{"zabsim":"failure","seed":N,"violation":{...}|null,"error":null|"...","events":E,"endMs":T,"replay":"npx zabsim run ..."}`
 *   per failing seed, in seed order (`violation` is the first violation, as in the run's JSON
 *   summary; `error` an internal error of zabsim);
 * - `{"zabsim":"explored","seeds":N,"events":E,"failures":K,"stopped":"done"|"max-failures"|"time"|"interrupted"}`
 *   (a merge short of some shards says "missing-shards").
 */
import type { ViolationFacts } from '../sim/events.ts';
import type { ShrunkSchedule } from '../trace/results.ts';
import type { SeedResult } from './explore.ts';
import { formatShard, parseShard, shardSize, type Shard } from './shard.ts';

export const SWEEP_FORMAT = 1;

/** Why an exploration ended: all its seeds ran, or it stopped early. */
export type Stopped = 'done' | 'max-failures' | 'time' | 'interrupted' | 'missing-shards';

/** What was explored: the first line of the JSON. */
export interface SweepHeader {
  readonly from: number;
  readonly seeds: number;
  readonly swarm: boolean;
  /** The run flags given for every seed, as on a command line ('' for none). */
  readonly with: string;
  readonly maxFailures: number | null;
  readonly shard: Shard | null;
  /** The per-seed strategy that made each seed's run (strategy.ts PER_SEED): `pct`, or `swarm` when absent (the JSON leaves it out then). */
  readonly strategy?: string;
}

/** One failing seed: the documented per-failure shape `zabsim merge` reads. */
export interface SweepFailure {
  readonly seed: number;
  readonly violation: ViolationFacts | null;
  readonly error: string | null;
  readonly events: number;
  readonly endMs: number;
  readonly replay: string;
  /** With `--shrink`, on the first failure of each property: the shrunk failure (absent on the others). */
  readonly shrunk?: ShrunkSchedule;
}

/** An exploration's result, without its wall-clock time. */
export interface SweepResult {
  readonly header: SweepHeader;
  /** Failing seeds, in seed order. */
  readonly failures: readonly SweepFailure[];
  /** Seeds explored, and their events. */
  readonly explored: number;
  readonly events: number;
  readonly stopped: Stopped;
}

/** The per-failure record of a seed's result. */
export function sweepFailure(r: SeedResult): SweepFailure {
  return { seed: r.seed, violation: r.violation, error: r.error, events: r.events, endMs: r.endMs, replay: r.replay };
}

/** The JSON lines of a result. */
export function sweepJson(s: SweepResult): string[] {
  const h = s.header;
  return [
    JSON.stringify({ zabsim: 'explore', format: SWEEP_FORMAT, from: h.from, seeds: h.seeds, swarm: h.swarm, with: h.with, maxFailures: h.maxFailures, shard: h.shard === null ? null : formatShard(h.shard), ...((h.strategy ?? 'swarm') === 'swarm' ? {} : { strategy: h.strategy }) }),
    ...s.failures.map((f) => JSON.stringify({ zabsim: 'failure', ...f })),
    JSON.stringify({ zabsim: 'explored', seeds: s.explored, events: s.events, failures: s.failures.length, stopped: s.stopped }),
  ];
}

/** Bad merge input: one sentence naming the file (and line) and what was expected. */
export class SweepInputError extends Error {}

/** One input of a merge: a shard's `explore --json`, or a bare list of failures. */
export interface SweepInput {
  readonly name: string;
  readonly header: SweepHeader | null;
  readonly failures: readonly SweepFailure[];
  readonly end: { readonly explored: number; readonly events: number; readonly stopped: Stopped } | null;
}

const STOPPED: readonly Stopped[] = ['done', 'max-failures', 'time', 'interrupted', 'missing-shards'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Parses one input's JSON lines (blank lines are skipped). */
export function parseSweep(name: string, text: string): SweepInput {
  let header: SweepHeader | null = null;
  let end: SweepInput['end'] = null;
  const failures: SweepFailure[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] as string).trim();
    if (line === '') continue;
    const at = `${name}:${n + 1}`;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new SweepInputError(`${at}: not JSON; expected the JSON lines of \`zabsim explore --json\` or one failure object per line.`);
    }
    if (!isObject(v)) throw new SweepInputError(`${at}: expected a JSON object.`);
    if (v.zabsim === 'explore') {
      if (header !== null) throw new SweepInputError(`${at}: a second explore header; expected one exploration per file.`);
      header = parseHeader(at, v);
    } else if (v.zabsim === 'explored') {
      if (!isCount(v.seeds) || !isCount(v.events) || !STOPPED.includes(v.stopped as Stopped)) throw new SweepInputError(`${at}: an explored record needs counts seeds and events and stopped (one of ${STOPPED.join(', ')}).`);
      end = { explored: v.seeds, events: v.events, stopped: v.stopped as Stopped };
    } else if (v.zabsim === undefined || v.zabsim === 'failure') {
      failures.push(parseFailure(at, v));
    } else {
      throw new SweepInputError(`${at}: unknown record "${String(v.zabsim)}"; expected explore, failure or explored.`);
    }
  }
  return { name, header, failures, end };
}

function parseHeader(at: string, v: Record<string, unknown>): SweepHeader {
  if (v.format !== SWEEP_FORMAT) throw new SweepInputError(`${at}: format ${String(v.format)}; this zabsim reads format ${SWEEP_FORMAT}.`);
  if (!isCount(v.from) || !isCount(v.seeds) || typeof v.swarm !== 'boolean' || typeof v.with !== 'string' || !(v.maxFailures === null || isCount(v.maxFailures))) {
    throw new SweepInputError(`${at}: an explore header needs from, seeds, swarm, with and maxFailures.`);
  }
  let shard: Shard | null = null;
  if (v.shard !== null) {
    const s = typeof v.shard === 'string' ? parseShard(v.shard) : { error: 'not a string' };
    if ('error' in s) throw new SweepInputError(`${at}: shard ${JSON.stringify(v.shard)} is not I/N.`);
    shard = s;
  }
  if (v.strategy !== undefined && typeof v.strategy !== 'string') throw new SweepInputError(`${at}: strategy must be a string (swarm when absent).`);
  const h = { from: v.from, seeds: v.seeds, swarm: v.swarm, with: v.with, maxFailures: v.maxFailures, shard };
  return v.strategy === undefined || v.strategy === 'swarm' ? h : { ...h, strategy: v.strategy };
}

function parseFailure(at: string, v: Record<string, unknown>): SweepFailure {
  const violation = v.violation;
  const okViolation = violation === null || (isObject(violation) && typeof violation.property === 'string' && typeof violation.message === 'string' && typeof violation.t === 'number');
  if (!isCount(v.seed) || typeof v.replay !== 'string' || !okViolation || !(v.error === null || typeof v.error === 'string') || (violation === null && v.error === null)) {
    throw new SweepInputError(`${at}: a failure needs seed, replay, and a violation (with property, t, message) or an error.`);
  }
  const f = { seed: v.seed, violation: violation as ViolationFacts | null, error: v.error as string | null, events: isCount(v.events) ? v.events : 0, endMs: isCount(v.endMs) ? v.endMs : 0, replay: v.replay };
  // failures.jsonl has `shrunk: null` on a failure not shrunk: the same as no field.
  const s = v.shrunk;
  if (s === undefined || s === null) return f;
  if (!(isObject(s) && typeof s.property === 'string' && typeof s.schedule === 'string' && isCount(s.steps) && typeof s.replay === 'string')) throw new SweepInputError(`${at}: shrunk must be null or an object with property, schedule, steps and replay (docs/results.md).`);
  return { ...f, shrunk: s as unknown as ShrunkSchedule };
}

/** What a merge gives: the merged result, and what makes it differ from one run over the seeds. */
export interface Merged {
  readonly result: SweepResult;
  /** Shards of N that no input holds (empty when the inputs have no headers). */
  readonly missingShards: readonly number[];
  /** No input had an explore header (bare failure lines): the seeds and events explored are unknown. */
  readonly headerless: boolean;
  /** One sentence per reason the merge is not exactly one run over the same seeds. */
  readonly notes: readonly string[];
}

/**
 * Merges shards: the failures of all inputs in seed order (a seed in two inputs counts once; the
 * two must agree), the seeds and events added up. When the inputs are the N shards of one
 * exploration, each run to the end, the result is that of one run over the same seeds.
 */
export function mergeSweeps(inputs: readonly SweepInput[]): Merged {
  if (inputs.length === 0) throw new SweepInputError('nothing to merge; expected files or folders of `zabsim explore --json` output.');
  const withHeader = inputs.filter((i) => i.header !== null);
  const notes: string[] = [];
  let header: SweepHeader;
  let missingShards: number[] = [];
  const first = withHeader[0];
  if (first === undefined) {
    const seeds = inputs.flatMap((i) => i.failures.map((f) => f.seed));
    const from = seeds.length === 0 ? 0 : Math.min(...seeds);
    header = { from, seeds: seeds.length === 0 ? 0 : Math.max(...seeds) - from + 1, swarm: true, with: '', maxFailures: null, shard: null };
    notes.push('the inputs have no explore header: only their failures are merged.');
  } else {
    const h0 = first.header as SweepHeader;
    for (const i of withHeader) {
      const h = i.header as SweepHeader;
      if ((h.strategy ?? 'swarm') !== (h0.strategy ?? 'swarm')) throw new SweepInputError(`${i.name}: strategy is ${h.strategy ?? 'swarm'} but ${first.name} has ${h0.strategy ?? 'swarm'}; expected shards of one exploration.`);
      for (const k of ['from', 'seeds', 'swarm', 'with', 'maxFailures'] as const) {
        if (h[k] !== h0[k]) throw new SweepInputError(`${i.name}: ${k} is ${JSON.stringify(h[k])} but ${first.name} has ${JSON.stringify(h0[k])}; expected shards of one exploration.`);
      }
      if ((h.shard?.count ?? 1) !== (h0.shard?.count ?? 1)) throw new SweepInputError(`${i.name}: shard ${h.shard === null ? 'none' : formatShard(h.shard)} but ${first.name} has ${h0.shard === null ? 'none' : formatShard(h0.shard)}; expected shards of one count N.`);
    }
    const count = h0.shard?.count ?? 1;
    const seen = new Map<number, string>();
    for (const i of withHeader) {
      const index = (i.header as SweepHeader).shard?.index ?? 1;
      const other = seen.get(index);
      if (other !== undefined) throw new SweepInputError(`${i.name}: shard ${index}/${count} is also in ${other}; expected each shard once.`);
      seen.set(index, i.name);
      if (i.end === null) notes.push(`${i.name} has no explored record (the shard did not finish writing).`);
      else if (i.end.stopped !== 'done' && i.end.stopped !== 'max-failures') notes.push(`${i.name}: shard ${index}/${count} stopped early (${i.end.stopped}).`);
    }
    for (let k = 1; k <= count; k++) if (!seen.has(k) && shardSize(h0.seeds, { index: k, count }) > 0) missingShards.push(k);
    if (missingShards.length > 0) notes.push(`shard${missingShards.length === 1 ? '' : 's'} ${missingShards.join(', ')} of ${count} missing.`);
    header = { ...h0, shard: null };
  }
  const bySeed = new Map<number, SweepFailure>();
  for (const i of inputs) {
    for (const f of i.failures) {
      const had = bySeed.get(f.seed);
      if (had !== undefined && JSON.stringify(had) !== JSON.stringify(f)) throw new SweepInputError(`${i.name}: seed ${f.seed} differs from the same seed in another input; expected the results of one exploration.`);
      bySeed.set(f.seed, f);
    }
  }
  let failures = [...bySeed.values()].sort((a, b) => a.seed - b.seed);
  let explored = 0;
  let events = 0;
  for (const i of withHeader) {
    explored += i.end?.explored ?? 0;
    events += i.end?.events ?? 0;
  }
  if (first === undefined) events = failures.reduce((n, f) => n + f.events, 0);
  const complete = first !== undefined && missingShards.length === 0 && withHeader.every((i) => i.end?.stopped === 'done');
  let stopped: Stopped = complete ? 'done' : (withHeader.map((i) => i.end?.stopped ?? 'interrupted').find((s) => s !== 'done') ?? 'missing-shards');
  const max = header.maxFailures;
  if (max !== null && (failures.length >= max || withHeader.some((i) => i.end?.stopped === 'max-failures'))) {
    // Each shard stopped at its own max-th failure at most; the first `max` of all, in seed order,
    // are the first `max` one run finds (a shard's failures before any of them are among them).
    // The seeds and events added up are those the shards ran, more than one run would.
    failures = failures.slice(0, max);
    if (failures.length === max) {
      stopped = 'max-failures';
      notes.push(`with --max-failures ${max}, the failures are those one run finds, but the seeds and events are those the shards ran.`);
    }
  }
  if (first === undefined) explored = 0;
  return { result: { header, failures, explored, events, stopped }, missingShards, headerless: first === undefined, notes };
}
