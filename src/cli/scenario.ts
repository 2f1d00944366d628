/**
 * `zabsim scenario list` and `zabsim scenario run NAME|FILE|all [--trace] [--rewrite]`: the
 * files under scenarios/, their golden traces, and how a result is printed. A mistake in a file
 * is one sentence `file:line: what was expected` (exit 2); a failed expectation prints its line
 * and the state that broke it (exit 1).
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { goldenDiff, goldenText } from '../scenario/golden.ts';
import { goldenPath, SCENARIO_DIR, scenarioFiles, scenarioOfFile } from '../scenario/files.ts';
import type { Scenario } from '../scenario/types.ts';
import { runScenario, type ScenarioResult } from '../scenario/runner.ts';
import { shellQuote } from '../run/settings.ts';
import { summarize } from '../run/summary.ts';
import { RunFolder, startMeta } from './folder.ts';
import { newResultFolder, pointLatest, prepareOutDir, zabsimVersion } from './results.ts';
import { renderEvent, type Palette } from '../trace/text.ts';
import { editDistance, parseFlags, usage, UsageError, type CommandSpec } from './args.ts';

export const SCENARIO_SPEC: CommandSpec = {
  name: 'scenario',
  summary: 'Lists or runs the named scenarios of scenarios/ (scenario list, scenario run NAME|FILE|all).',
  flags: [
    { name: 'trace', kind: 'bool', help: 'run: print the trace as the scenario runs' },
    { name: 'rewrite', kind: 'bool', help: "run: write the scenario's golden trace (NAME.trace beside it) instead of comparing" },
    { name: 'dir', kind: 'string', arg: 'DIR', help: 'the scenario folder', defaultText: 'scenarios/ of this repository' },
    { name: 'out', kind: 'string', arg: 'DIR', help: 'run: also write a results folder DIR/scenario-NAME-TIME per scenario (trace, verdict, trace.html, index.html) and point DIR/latest at it (docs/results.md)' },
    { name: 'no-color', kind: 'bool', help: 'plain text even on a terminal' },
  ],
};

const SCENARIO_USAGE = [
  'usage: zabsim scenario list [--dir DIR]',
  '       zabsim scenario run NAME|FILE|all [--trace] [--rewrite] [--dir DIR]',
  '',
  usage(SCENARIO_SPEC).split('\n').slice(2).join('\n'),
].join('\n');

/** Reads and parses one file; an unreadable path is a usage error, not a stack trace. */
function readScenario(file: string, shown = file): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'EISDIR' ? `'${shown}' is a folder, not a scenario file.` : `cannot read the scenario file '${shown}' (${code ?? String(e)}).`, 'scenario');
  }
  return scenarioOfFile(text, file, shown);
}

interface Out {
  write(line: string): void;
}

/** Runs the scenario command; returns the exit code. UsageError and ScenarioError propagate. */
export function scenarioCommand(argvAll: readonly string[], out: Out, palette: Palette): number {
  // `--` ends the flags: every word after it is a name or a file.
  const end = argvAll.indexOf('--');
  const argv = end < 0 ? argvAll : argvAll.slice(0, end);
  const valued = (i: number): boolean => i > 0 && (argv[i - 1] === '--dir' || argv[i - 1] === '--out');
  const positional = [...argv.filter((a, i) => !a.startsWith('--') && !valued(i)), ...(end < 0 ? [] : argvAll.slice(end + 1))];
  const flags = parseFlags(SCENARIO_SPEC, argv.filter((a, i) => a.startsWith('--') || valued(i)));
  if (flags.get('help') === true) {
    out.write(SCENARIO_USAGE);
    return 0;
  }
  const givenDir = flags.get('dir') as string | undefined;
  const dir = resolve(givenDir ?? SCENARIO_DIR);
  if (givenDir !== undefined) {
    if (!existsSync(dir)) throw new UsageError(`--dir '${givenDir}' does not exist; expected a folder of .scenario files.`, 'scenario');
    if (!statSync(dir).isDirectory()) throw new UsageError(`--dir '${givenDir}' is a file; expected a folder of .scenario files.`, 'scenario');
  }
  const [sub, target, ...extra] = positional;
  if (sub === 'list') {
    if (target !== undefined) throw new UsageError(`unexpected argument '${target}': zabsim scenario list takes no name.`, 'scenario');
    for (const f of ['trace', 'rewrite', 'out']) if (flags.has(f)) throw new UsageError(`--${f} applies to zabsim scenario run, not list.`, 'scenario');
    return list(dir, out);
  }
  if (sub === 'run') {
    if (target === undefined) throw new UsageError('zabsim scenario run needs a scenario: a NAME from zabsim scenario list, a FILE, or all.', 'scenario');
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}': zabsim scenario run takes one scenario.`, 'scenario');
    const all = target === 'all';
    const files = all ? scenarioFiles(dir) : [find(dir, target)];
    if (files.length === 0) throw new UsageError(`no scenario files (*.scenario) in ${shownPath(dir)}: nothing to run.`, 'scenario');
    const rewrite = flags.get('rewrite') === true;
    const outDir = flags.get('out') as string | undefined;
    if (outDir !== undefined) prepareOutDir(outDir, '--out', 'scenario');
    let code = 0;
    // `all --rewrite` refreshes the golden traces that exist; naming one scenario creates its own.
    for (const f of files) code = Math.max(code, runOne(f, flags.get('trace') === true, rewrite && (!all || existsSync(goldenPath(f))), out, palette, outDir === undefined ? null : { dir: outDir, argv: argvAll }));
    return code;
  }
  throw new UsageError(sub === undefined ? "zabsim scenario needs 'list' or 'run'." : `unknown scenario command '${sub}'; expected 'list' or 'run'.`, 'scenario');
}

function shownPath(file: string): string {
  const r = relative(process.cwd(), file);
  return r.startsWith('..') ? file : r;
}

function list(dir: string, out: Out): number {
  const scs = scenarioFiles(dir).map((f) => readScenario(f, shownPath(f)));
  if (scs.length === 0) out.write(`no scenario files (*.scenario) in ${shownPath(dir)}`);
  const width = Math.max(0, ...scs.map((s) => s.name.length));
  for (const s of scs) out.write(`${s.name.padEnd(width)}  ${s.title}`);
  return 0;
}

/** True when a `run` target is a path rather than a name. */
function isPath(target: string): boolean {
  return target.endsWith('.scenario') || target.includes('/');
}

/** A NAME (exact, or the one name it begins), or a path to a file. */
function find(dir: string, target: string): string {
  if (isPath(target)) {
    if (!existsSync(target)) throw new UsageError(`no scenario file '${target}'.`, 'scenario');
    if (statSync(target).isDirectory()) throw new UsageError(`'${target}' is a folder, not a scenario file; zabsim scenario run all --dir ${target} runs every scenario in it.`, 'scenario');
    return resolve(target);
  }
  const files = scenarioFiles(dir);
  const stem = (f: string): string => basename(f).replace(/\.scenario$/, '');
  const exact = files.filter((f) => stem(f) === target);
  if (exact.length === 1) return exact[0] as string;
  const prefixed = files.filter((f) => stem(f).startsWith(`${target}-`));
  if (prefixed.length === 1) return prefixed[0] as string;
  const names = files.map(stem);
  if (prefixed.length > 1) throw new UsageError(`'${target}' names several scenarios: ${prefixed.map(stem).join(', ')}.`, 'scenario');
  const near = nearNames(target, names);
  throw new UsageError(`no scenario named '${target}' in ${shownPath(dir)}${near.length > 0 ? `; did you mean ${near.join(', ')}?` : `; zabsim scenario list shows ${names.length} names.`}`, 'scenario');
}

/**
 * Names close to a mistyped one: within two edits of the whole name or of its short name (`s01`
 * for `s01-leader-dies-before-commit`), the closest first, at most three.
 */
export function nearNames(target: string, names: readonly string[]): string[] {
  const scored: [number, string][] = [];
  for (const n of names) {
    const short = n.split('-')[0] as string;
    const d = Math.min(editDistance(target, n), editDistance(target, short));
    if (d <= Math.min(2, Math.max(1, Math.floor(target.length / 3)))) scored.push([d, short === n || names.filter((m) => m.startsWith(`${short}-`)).length > 1 ? n : short]);
  }
  scored.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return scored.slice(0, 3).map(([, n]) => n);
}


/** Where `--out` puts a scenario's folder, and the command that made it. */
interface ScenarioOut {
  readonly dir: string;
  readonly argv: readonly string[];
}

function runOne(file: string, trace: boolean, rewrite: boolean, outLines: Out, palette: Palette, save: ScenarioOut | null): number {
  const shown = shownPath(file);
  const sc = readScenario(file, shown);
  const r = runScenario(sc, trace ? { sink: (e) => outLines.write(renderEvent(e, palette)) } : {});
  // With --out, what is printed is also the folder's summary.
  const printed: string[] = [];
  const out: Out = {
    write(line: string): void {
      printed.push(line);
      outLines.write(line);
    },
  };
  const code = judge(sc, r, file, rewrite, out);
  if (save !== null) {
    const { path, linked } = saveScenario(save, sc, r, shown, printed, code);
    outLines.write(`  results in ${path}; open ${join(path, 'index.html')}${linked ? '' : `; ${join(save.dir, 'latest')} is a text file naming it (symbolic links failed here)`}`);
  }
  return code;
}

/** Writes a scenario's results folder: its records as a trace a `zabsim run --json` reader takes. */
function saveScenario(save: ScenarioOut, sc: Scenario, r: ScenarioResult, shown: string, printed: readonly string[], code: number): { path: string; linked: boolean } {
  const now = new Date();
  const path = newResultFolder(save.dir, `scenario-${sc.name}`, now);
  const folder = new RunFolder(path, startMeta('scenario', ['scenario', ...save.argv], zabsimVersion(), now), `zabsim scenario ${sc.name}`);
  try {
    const sim = r.sim;
    const options = { seed: sc.setup.seed, voters: sc.setup.voters, observers: sc.setup.observers, untilMs: sim.now, scenario: sc.name, file: shown };
    folder.line(JSON.stringify({ zabsim: 'run', options, parameters: [`scenario ${sc.name}: ${sc.title}`, `file: ${shown}`, `seed ${sc.setup.seed}, ${sc.setup.voters} voters, ${sc.setup.observers} observers`] }));
    for (const ev of r.trace) folder.line(JSON.stringify(ev));
    const verdict = { ok: code === 0, violations: r.violations, failure: r.failure === null ? null : { line: r.failure.src.line, text: r.failure.src.text, message: r.failure.message, t: r.failure.t }, replay: `npx zabsim scenario run ${shellQuote(shown)}` };
    folder.line(JSON.stringify({ zabsim: 'summary', t: sim.now, events: sim.eventCount, traceRecords: sim.traceCount, servers: summarize(sim), verdict }));
    folder.line(JSON.stringify({ zabsim: 'history', ops: [] }));
    folder.summaryText(printed);
    folder.finish(code);
  } catch (e) {
    folder.abort();
    throw e;
  }
  const linked = pointLatest(save.dir, basename(path));
  return { path, linked };
}

/** The scenario's outcome: its failed expectation, or its golden trace compared (or rewritten). */
function judge(sc: Scenario, r: ScenarioResult, file: string, rewrite: boolean, out: Out): number {
  if (r.failure !== null) {
    const f = r.failure;
    out.write(`FAIL ${sc.name}`);
    out.write(`${f.src.file}:${f.src.line}: ${f.src.text}`);
    out.write(`  ${f.message}`);
    out.write(`state at ${f.t}ms:`);
    for (const line of f.state.split('\n')) out.write(`  ${line}`);
    return 1;
  }
  const golden = goldenPath(file);
  const text = goldenText(r.trace);
  const summary = `${r.trace.length} trace records, ${r.sim.now}ms virtual`;
  if (rewrite) {
    writeFileSync(golden, text);
    out.write(`PASS ${sc.name}  (${summary}; wrote ${shownPath(golden)})`);
    return 0;
  }
  if (existsSync(golden)) {
    const diff = goldenDiff(readFileSync(golden, 'utf8'), text);
    if (diff !== null) {
      out.write(`FAIL ${sc.name}: its expectations hold, but ${diff}`);
      out.write(`  (zabsim scenario run ${sc.name} --rewrite accepts the new trace)`);
      return 1;
    }
  }
  out.write(`PASS ${sc.name}  (${summary}${existsSync(golden) ? ', golden trace equal' : ''})`);
  return 0;
}
