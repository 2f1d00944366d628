/**
 * `zabsim explore --out DIR [--resume]`: a sweep's results folder (docs/results.md).
 * `DIR/explore-seedsA-B-TIME/` holds `failures.jsonl` (one line per failing seed), `progress.json`
 * (the sweep's definition, the seeds done, a timeline), one `seed-N/` folder per failing seed (its
 * replay, stopped at the violation, with everything a run's folder has), the plots and
 * `index.html`. Every file is rewritten whole (temp file, then rename); a failure is written
 * before the progress that counts its seed, so an interrupted sweep redoes at most the seeds
 * after its last progress record and never loses or doubles a failure.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { SeedResult } from '../run/explore.ts';
import { sweepFailure } from '../run/sweep.ts';
import { settingsArgs, type SettingValue } from '../run/settings.ts';
import { exploreFailuresSvg, exploreRateSvg } from '../trace/plots.ts';
import { exploreIndexHtml, type ExploreSample, type FailureRecord, type ResultMeta, type ShrunkSchedule } from '../trace/results.ts';
import { PLAIN } from '../trace/text.ts';
import { UsageError, type FlagValue } from './args.ts';
import { RunFolder, startMeta } from './folder.ts';
import { runCommand } from './run.ts';
import { newResultFolder, pointLatest, prepareOutDir, writeAtomic, zabsimVersion } from './results.ts';

/** What a sweep is: the same definition resumes the same sweep. */
export interface SweepDef {
  readonly from: number;
  readonly seeds: number;
  readonly swarm: boolean;
  /** The run flags given to explore, as `zabsim run` arguments. */
  readonly overrides: readonly string[];
  readonly maxFailures: number | null;
  /** A per-seed strategy other than the swarm (`pct`); absent for the swarm, so older folders resume. */
  readonly strategy?: string;
}

/** progress.json. */
export interface SweepProgress {
  readonly zabsim: 'explore-progress';
  readonly sweep: SweepDef;
  /** Seeds done, as inclusive ranges [first, last], sorted. */
  readonly done: [number, number][];
  readonly events: number;
  /** Wall-clock milliseconds spent, summed over the sessions. */
  readonly wallMs: number;
  readonly finished: boolean;
  readonly timeline: ExploreSample[];
}

const NO_OUTPUT = { write(): void {} };

function sameDef(a: SweepDef, b: SweepDef): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function describeDef(d: SweepDef): string {
  return `seeds ${d.from}..${d.from + d.seeds - 1}${d.swarm ? '' : ' --no-swarm'}${d.overrides.length > 0 ? ` ${d.overrides.join(' ')}` : ''}${d.maxFailures !== null ? ` --max-failures ${d.maxFailures}` : ''}${d.strategy !== undefined ? ` --strategy ${d.strategy}` : ''}`;
}

/** Reads a JSON file of a sweep folder; a broken one is bad input naming the file. */
function readJson<T>(file: string): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new UsageError(`${file}: not readable JSON (${(e as Error).message.split('\n')[0]}); expected the progress.json that zabsim explore --out writes.`, 'explore');
  }
}

/** Reads failures.jsonl, one object per line. */
export function readFailures(file: string): FailureRecord[] {
  if (!existsSync(file)) return [];
  const out: FailureRecord[] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, k) => {
    if (line.trim() === '') return;
    try {
      out.push(JSON.parse(line) as FailureRecord);
    } catch {
      throw new UsageError(`${file} line ${k + 1}: not valid JSON; expected one failure record per line.`, 'explore');
    }
  });
  return out;
}

/** The failure record of a failing seed's result. */
export function failureRecord(r: SeedResult, folder: string | null, shrunk: ShrunkSchedule | null = null): FailureRecord {
  const v = r.violation;
  const f = sweepFailure(r);
  return {
    seed: r.seed,
    property: r.error !== null ? 'INTERNAL ERROR' : (v?.property ?? '?'),
    kind: r.error !== null ? 'error' : (v?.kind ?? '?'),
    t: v?.t ?? r.endMs,
    record: v?.i ?? null,
    message: r.error ?? v?.message ?? '',
    replay: r.replay,
    folder,
    shrunk,
    violation: f.violation,
    error: f.error,
    events: f.events,
    endMs: f.endMs,
  };
}

function inDone(done: readonly [number, number][], seed: number): boolean {
  return done.some(([a, b]) => seed >= a && seed <= b);
}

function addDone(done: [number, number][], seed: number): void {
  for (const r of done) {
    if (seed >= r[0] && seed <= r[1]) return;
    if (seed === r[1] + 1) {
      r[1] = seed;
      return;
    }
  }
  done.push([seed, seed]);
  done.sort((a, b) => a[0] - b[0]);
}

/** The sweep folder to resume in `dir`: `dir` itself, or the newest `explore-*` folder there with this definition. */
function findResumable(dir: string, def: SweepDef): string | null {
  if (existsSync(join(dir, 'progress.json'))) {
    const p = readJson<SweepProgress>(join(dir, 'progress.json'));
    if (!sameDef(p.sweep, def)) throw new UsageError(`--resume: ${dir} is the sweep ${describeDef(p.sweep)}, but this command asks for ${describeDef(def)}; give the same flags to resume it.`, 'explore');
    return dir;
  }
  if (!existsSync(dir)) return null;
  const names = readdirSync(dir)
    .filter((n) => n.startsWith('explore-') && existsSync(join(dir, n, 'progress.json')))
    .sort();
  for (let k = names.length - 1; k >= 0; k--) {
    const path = join(dir, names[k] as string);
    if (sameDef(readJson<SweepProgress>(join(path, 'progress.json')).sweep, def)) return path;
  }
  return null;
}

/** A sweep's folder, new or resumed. */
export class SweepFolder {
  private progress: SweepProgress;
  readonly failures: FailureRecord[];
  private readonly t0 = performance.now();
  private readonly wallBefore: number;
  private lastWrite = -Infinity;
  private readonly meta: ResultMeta;
  /** True when this command continues an earlier session. */
  readonly resumed: boolean;

  private constructor(
    readonly outDir: string,
    readonly path: string,
    progress: SweepProgress,
    failures: FailureRecord[],
    meta: ResultMeta,
    resumed: boolean,
  ) {
    this.progress = progress;
    this.failures = failures;
    this.wallBefore = progress.wallMs;
    this.meta = meta;
    this.resumed = resumed;
  }

  /** Opens the folder: with `resume`, the matching unfinished (or finished) sweep in `outDir` when there is one; else a new one. */
  static open(outDir: string, def: SweepDef, resume: boolean, argv: readonly string[]): SweepFolder {
    prepareOutDir(outDir, '--out', 'explore');
    const now = new Date();
    const found = resume ? findResumable(outDir, def) : null;
    if (found !== null) {
      const progress = readJson<SweepProgress>(join(found, 'progress.json'));
      // A failure written after the last progress record belongs to a seed that will be redone.
      const failures = readFailures(join(found, 'failures.jsonl')).filter((f) => inDone(progress.done, f.seed));
      const old = existsSync(join(found, 'meta.json')) ? readJson<ResultMeta>(join(found, 'meta.json')) : null;
      const meta = { ...startMeta('explore', ['explore', ...argv], zabsimVersion(), now), started: old?.started ?? now.toISOString() };
      return new SweepFolder(outDir, found, progress, failures, meta, true);
    }
    const path = newResultFolder(outDir, `explore-seeds${def.from}-${def.from + def.seeds - 1}`, now);
    const progress: SweepProgress = { zabsim: 'explore-progress', sweep: def, done: [], events: 0, wallMs: 0, finished: false, timeline: [{ wallMs: 0, seeds: 0, failures: 0 }] };
    const f = new SweepFolder(outDir, path, progress, [], startMeta('explore', ['explore', ...argv], zabsimVersion(), now), false);
    f.writeFailures();
    f.writeProgress();
    writeAtomic(join(path, 'meta.json'), JSON.stringify(f.meta, null, 2) + '\n');
    pointLatest(outDir, basename(path));
    return f;
  }

  get def(): SweepDef {
    return this.progress.sweep;
  }

  /** Seeds done so far. */
  get doneCount(): number {
    return this.progress.done.reduce((n, [a, b]) => n + b - a + 1, 0);
  }

  get events(): number {
    return this.progress.events;
  }

  get finished(): boolean {
    return this.progress.finished;
  }

  /** The first seed of the sweep not done yet (seeds run in order). */
  nextSeed(): number {
    let s = this.def.from;
    while (inDone(this.progress.done, s)) s++;
    return s;
  }

  private wallMs(): number {
    return this.wallBefore + (performance.now() - this.t0);
  }

  /**
   * Records one finished seed: a failing one first gets its replay folder and its line in
   * failures.jsonl; then the progress (at a failure, else at most once a second of wall-clock).
   */
  record(r: SeedResult, shrunk: ShrunkSchedule | null = null): void {
    const done = this.progress.done.map((x) => [x[0], x[1]] as [number, number]);
    addDone(done, r.seed);
    if (!r.ok) {
      const folder = this.writeReplay(r);
      this.failures.push(failureRecord(r, folder, shrunk));
      this.writeFailures();
    }
    const wallMs = this.wallMs();
    const timeline = this.progress.timeline;
    const last = timeline[timeline.length - 1];
    const sample = { wallMs: Math.round(wallMs), seeds: this.doneCount + 1, failures: this.failures.length };
    if (last === undefined || !r.ok || wallMs - last.wallMs >= 250) timeline.push(sample);
    thin(timeline);
    this.progress = { ...this.progress, done, events: this.progress.events + r.events, wallMs: Math.round(wallMs) };
    if (!r.ok || wallMs - this.lastWrite >= 1000) this.writeProgress();
  }

  /** The replay of a failing run (its own settings: a strategy's pct or schedule included), in `seed-N/`, stopped at its violation; null if it could not be written. */
  private writeReplay(r: SeedResult): string | null {
    const name = `seed-${r.seed}`;
    const path = join(this.path, name);
    // A folder left by an interrupted session is redone whole.
    rmSync(path, { recursive: true, force: true });
    mkdirSync(path);
    const given = new Map<string, FlagValue>(r.settings as Map<string, SettingValue>);
    given.set('stop-early', true);
    const args = settingsArgs(given);
    const meta = startMeta('replay', ['run', ...args], zabsimVersion(), new Date());
    const folder = new RunFolder(path, meta, `zabsim explore: seed ${r.seed}`);
    try {
      given.set('quiet', true);
      const code = runCommand(given, NO_OUTPUT, PLAIN, args, null, folder);
      folder.finish(code);
      return name;
    } catch {
      // A seed whose run throws (an internal error) has no complete trace: no folder.
      folder.abort();
      return null;
    }
  }

  private writeFailures(): void {
    writeAtomic(join(this.path, 'failures.jsonl'), this.failures.map((f) => JSON.stringify(f) + '\n').join(''));
  }

  private writeProgress(): void {
    this.lastWrite = this.wallMs();
    writeAtomic(join(this.path, 'progress.json'), JSON.stringify(this.progress) + '\n');
  }

  /** Ends this session: progress, plots, meta and index; `finished` when every seed is done or the sweep stopped at its failure limit. False when `latest` could not be a symbolic link. */
  /**
   * The sweep's result as `explore --json` prints it (explore.jsonl), so that `zabsim merge`
   * reads a sweep folder exactly as it reads that JSON (docs/scaling.md).
   */
  writeJson(lines: readonly string[]): void {
    writeAtomic(join(this.path, 'explore.jsonl'), lines.map((l) => `${l}\n`).join(''));
  }

  close(finished: boolean, exitCode: number): boolean {
    const wallMs = Math.round(this.wallMs());
    const timeline = this.progress.timeline;
    const last = timeline[timeline.length - 1];
    if (last === undefined || last.seeds !== this.doneCount || last.wallMs !== wallMs) timeline.push({ wallMs, seeds: this.doneCount, failures: this.failures.length });
    this.progress = { ...this.progress, wallMs, finished };
    this.writeProgress();
    writeAtomic(join(this.path, 'seeds.svg'), exploreRateSvg(timeline));
    writeAtomic(join(this.path, 'failures.svg'), exploreFailuresSvg(timeline));
    const meta: ResultMeta = { ...this.meta, finished: new Date().toISOString(), exitCode };
    writeAtomic(join(this.path, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
    writeAtomic(join(this.path, 'index.html'), exploreIndexHtml(meta, describeDef(this.def), this.doneCount, this.def.seeds, finished, this.failures));
    return pointLatest(this.outDir, basename(this.path));
  }
}

/** Keeps the timeline under 2000 samples: drops every other one (the first and last stay). */
function thin(t: ExploreSample[]): void {
  if (t.length <= 2000) return;
  const kept = t.filter((_, k) => k % 2 === 0 || k === t.length - 1);
  t.length = 0;
  t.push(...kept);
}
