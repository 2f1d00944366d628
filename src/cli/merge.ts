/**
 * `zabsim merge FILE|DIR...`: merges the results of explore's shards (`explore --shard I/N
 * --json`, one file each) into one failure table, the one a single `explore` over the same seeds
 * prints (docs/scaling.md). A folder stands for every `.jsonl` and `.json` file under it, in name
 * order; a sweep folder of `explore --out` for its explore.jsonl (or, unfinished, its failures.jsonl). With --json it prints the merged JSON lines, byte for byte those of the single run.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { mergeSweeps, parseSweep, sweepJson, SweepInputError, type SweepInput } from '../run/sweep.ts';
import { parseFlags, usage, UsageError, type CommandSpec, type FlagValue } from './args.ts';
import { describeSeeds, exitCode, writeFailureTable } from './explore.ts';
import type { Terminal } from './output.ts';
import type { Output } from './run.ts';

export const MERGE_SPEC: CommandSpec = {
  name: 'merge',
  summary: "Merges the results of explore's shards (explore --shard I/N --json, files or folders of them) into the failure table one explore over all their seeds prints.",
  flags: [
    { name: 'json', kind: 'bool', help: 'print the merged JSON lines (as explore --json) instead of the table' },
    { name: 'no-color', kind: 'bool', help: 'accepted for every command; this one prints no colours' },
  ],
};

/** What `zabsim merge --help` prints. */
export const MERGE_USAGE = ['usage: zabsim merge FILE|DIR... [--json]', '', usage(MERGE_SPEC).split('\n').slice(2).join('\n')].join('\n');

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The files a path names: itself, or the .jsonl/.json files under a folder, in name order. */
function inputFiles(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new SweepInputError(`${path}: no such file or folder; expected the output of \`zabsim explore --json\`.`);
  }
  if (!st.isDirectory()) return [path];
  // A sweep folder of `explore --out` (docs/results.md): its explore.jsonl is the sweep's
  // `explore --json`; the rest (the replay folders' traces, progress) is not for merging.
  for (const name of ['explore.jsonl', 'failures.jsonl']) if (isFile(join(path, name))) return [join(path, name)];
  const files: string[] = [];
  for (const name of readdirSync(path).sort()) {
    const p = join(path, name);
    if (statSync(p).isDirectory()) files.push(...inputFiles(p));
    else if (name.endsWith('.jsonl') || name.endsWith('.json')) files.push(p);
  }
  return files;
}

/** `zabsim merge` with its arguments; returns the exit code (that of explore for the merged result, or 2 for bad input). */
export function mergeCommand(argv: readonly string[], out: Output, err: Terminal): number {
  const paths: string[] = [];
  const flagArgs: string[] = [];
  for (const a of argv) (a.startsWith('-') ? flagArgs : paths).push(a);
  const flags: Map<string, FlagValue> = parseFlags(MERGE_SPEC, flagArgs);
  if (flags.get('help') === true) {
    out.write(MERGE_USAGE);
    return 0;
  }
  if (paths.length === 0) throw new UsageError('zabsim merge needs the shards\' results: zabsim merge FILE|DIR....', 'merge');
  try {
    const inputs: SweepInput[] = [];
    for (const p of paths) {
      const files = inputFiles(p);
      if (files.length === 0) throw new SweepInputError(`${p}: a folder with no .jsonl or .json file; expected the output of \`zabsim explore --json\`.`);
      for (const f of files) inputs.push(parseSweep(f, readFileSync(f, 'utf8')));
    }
    const m = mergeSweeps(inputs);
    for (const note of m.notes) err.write(`zabsim: note: ${note}\n`);
    const r = m.result;
    if (flags.get('json') === true) for (const line of sweepJson(r)) out.write(line);
    else {
      if (m.headerless) out.write(`merged ${inputs.length} file${inputs.length === 1 ? '' : 's'} of failures (no explore header: the seeds explored are unknown)`);
      else out.write(`merged ${inputs.length} file${inputs.length === 1 ? '' : 's'}: explored ${r.explored} seed${r.explored === 1 ? '' : 's'} (${describeSeeds(r)}): ${r.events.toLocaleString('en-US')} events`);
      writeFailureTable(r, out);
    }
    return exitCode(r);
  } catch (e) {
    if (!(e instanceof SweepInputError)) throw e;
    err.write(`zabsim: ${e.message}\n`);
    return 2;
  }
}
