/**
 * `zabsim view FILE.jsonl [-o trace.html]` and `zabsim export FORMAT FILE.jsonl [-o OUT]`: the
 * HTML viewer and the exports of a trace saved with `zabsim run --json` (docs/viewer.md). A
 * missing or unreadable file, or one that is not a zabsim trace, is one sentence and exit 2.
 */
import { existsSync, readFileSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { buildViewerHtml, tracePlots } from '../trace/html.ts';
import { jepsenEdn, mermaidDiagram, porcupineJson, shivizLog, SHIVIZ_REGEX } from '../trace/export.ts';
import { parseTrace, TraceInputError, type LoadedTrace } from '../trace/load.ts';
import { parseFlags, usage, UsageError, type CommandSpec, type FlagValue } from './args.ts';
import type { Output } from './run.ts';

export const VIEW_SPEC: CommandSpec = {
  name: 'view',
  summary: 'Builds trace.html, a self-contained time-travel viewer, from a trace saved with `zabsim run --json` (view FILE.jsonl).',
  flags: [{ name: 'output', kind: 'string', arg: 'FILE', help: 'where to write the page (also -o)', defaultText: 'FILE with .html for .jsonl' }, { name: 'no-color', kind: 'bool', help: 'accepted for every command; this one prints no colours' }],
};

const EXPORT_FORMATS = ['shiviz', 'mermaid', 'history', 'plots'];

export const EXPORT_SPEC: CommandSpec = {
  name: 'export',
  summary: 'Exports a saved --json trace: shiviz (log with vector clocks), mermaid (sequenceDiagram), history (Jepsen EDN or Porcupine JSON), plots (SVG).',
  flags: [
    { name: 'output', kind: 'string', arg: 'FILE', help: 'where to write (also -o); plots: a folder', defaultText: 'standard output; plots: beside the trace' },
    { name: 'from-event', kind: 'int', min: 0, help: 'mermaid: first trace record of the window' },
    { name: 'to-event', kind: 'int', min: 0, help: 'mermaid: last trace record of the window' },
    { name: 'around', kind: 'int', min: 1, max: 100_000, help: 'mermaid: records before and after the first violation (the default window)', defaultText: '30' },
    { name: 'format', kind: 'string', choices: ['edn', 'porcupine'], help: 'history: Jepsen EDN (Knossos) or Porcupine JSON', defaultText: 'edn' },
    { name: 'no-color', kind: 'bool', help: 'accepted for every command; this one prints no colours' },
  ],
};

const VIEW_USAGE = ['usage: zabsim view FILE.jsonl [-o trace.html]', '', usage(VIEW_SPEC).split('\n').slice(2).join('\n')].join('\n');
const EXPORT_USAGE = [
  'usage: zabsim export shiviz FILE.jsonl [-o OUT]',
  '       zabsim export mermaid FILE.jsonl [--from-event N --to-event M | --around N] [-o OUT]',
  '       zabsim export history FILE.jsonl [--format edn|porcupine] [-o OUT]',
  '       zabsim export plots FILE.jsonl [-o DIR]',
  '',
  usage(EXPORT_SPEC).split('\n').slice(2).join('\n'),
].join('\n');

/** Splits positional arguments from flags; `-o X` is `--output X`. */
function split(spec: CommandSpec, argv: readonly string[]): { positional: string[]; flags: Map<string, FlagValue> } {
  const positional: string[] = [];
  const rest: string[] = [];
  const valued = new Set(spec.flags.filter((f) => f.kind !== 'bool').map((f) => `--${f.name}`));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '-o') {
      rest.push('--output');
      if (i + 1 < argv.length) rest.push(argv[++i] as string);
      continue;
    }
    if (a.startsWith('--')) {
      rest.push(a);
      if (valued.has(a) && i + 1 < argv.length) rest.push(argv[++i] as string);
      continue;
    }
    positional.push(a);
  }
  return { positional, flags: parseFlags(spec, rest) };
}

/** Reads and parses a saved trace; bad input is a UsageError-free TraceInputError. */
export function loadTraceFile(file: string): LoadedTrace {
  if (!existsSync(file)) throw new TraceInputError(`${file}: no such file; expected a trace saved with \`zabsim run --json > FILE.jsonl\`.`);
  if (statSync(file).isDirectory()) throw new TraceInputError(`${file} is a folder; expected a trace file saved with \`zabsim run --json\`.`);
  return parseTrace(readFileSync(file, 'utf8'), file);
}

/** Writes a file whole or not at all (temp file, then rename). */
function writeAtomic(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

function defaultHtmlPath(file: string): string {
  return file.endsWith('.jsonl') ? file.slice(0, -'.jsonl'.length) + '.html' : `${file}.html`;
}

export function viewCommand(argv: readonly string[], out: Output): number {
  const { positional, flags } = split(VIEW_SPEC, argv);
  if (flags.get('help') === true) {
    out.write(VIEW_USAGE);
    return 0;
  }
  if (positional.length !== 1) throw new UsageError(positional.length === 0 ? 'zabsim view needs the trace file: zabsim view FILE.jsonl.' : `zabsim view takes one trace file, got ${positional.length}: ${positional.join(' ')}.`, 'view');
  const file = positional[0] as string;
  const trace = loadTraceFile(file);
  const target = (flags.get('output') as string | undefined) ?? defaultHtmlPath(file);
  writeAtomic(target, buildViewerHtml(trace));
  const v = trace.summary?.verdict.violations.length ?? 0;
  out.write(`wrote ${target}: ${trace.records.length} records, ${trace.sids.length} servers${v > 0 ? `, ${v} violation(s)` : ''}; open it in a browser.`);
  return 0;
}

export function exportCommand(argv: readonly string[], out: Output): number {
  const { positional, flags } = split(EXPORT_SPEC, argv);
  if (flags.get('help') === true) {
    out.write(EXPORT_USAGE);
    return 0;
  }
  const [format, file, ...extra] = positional;
  if (format === undefined || !EXPORT_FORMATS.includes(format)) {
    throw new UsageError(format === undefined ? `zabsim export needs a format: one of ${EXPORT_FORMATS.join(', ')}.` : `unknown export format '${format}'; the formats are: ${EXPORT_FORMATS.join(', ')}.`, 'export');
  }
  if (file === undefined) throw new UsageError(`zabsim export ${format} needs the trace file: zabsim export ${format} FILE.jsonl.`, 'export');
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}': zabsim export takes one format and one trace file.`, 'export');
  const windowFlags = ['from-event', 'to-event', 'around'].filter((f) => flags.has(f));
  if (format !== 'mermaid' && windowFlags.length > 0) throw new UsageError(`--${windowFlags[0]} is for zabsim export mermaid only.`, 'export');
  if (format !== 'history' && flags.has('format')) throw new UsageError('--format is for zabsim export history only.', 'export');
  if (flags.has('around') && (flags.has('from-event') || flags.has('to-event'))) throw new UsageError('--around and --from-event/--to-event choose the window two ways; give one.', 'export');
  const trace = loadTraceFile(file);
  const target = flags.get('output') as string | undefined;
  const emit = (text: string): void => {
    if (target === undefined) out.write(text.replace(/\n$/, ''));
    else {
      writeAtomic(target, text);
      out.write(`wrote ${target}`);
    }
  };
  switch (format) {
    case 'shiviz':
      if (target !== undefined) {
        writeAtomic(target, shivizLog(trace));
        out.write(`wrote ${target}; in ShiViz, paste its content (or this regex and the log after the first two lines):`);
        out.write(SHIVIZ_REGEX);
      } else emit(shivizLog(trace));
      return 0;
    case 'mermaid': {
      const n = trace.records.length;
      const violations = trace.summary?.verdict.violations ?? [];
      let from: number;
      let to: number;
      if (flags.has('from-event') || flags.has('to-event')) {
        from = (flags.get('from-event') as number | undefined) ?? 0;
        to = (flags.get('to-event') as number | undefined) ?? n - 1;
        if (from >= n) throw new UsageError(`--from-event ${from} is past the trace's last record, #${n - 1}.`, 'export');
        if (to < from) throw new UsageError(`--to-event ${to} is before --from-event ${from}.`, 'export');
      } else {
        const around = (flags.get('around') as number | undefined) ?? 30;
        const centre = violations[0]?.i ?? 0;
        from = Math.max(0, centre - around);
        to = Math.min(n - 1, centre + around);
      }
      emit(mermaidDiagram(trace, from, to, violations));
      return 0;
    }
    case 'history':
      emit((flags.get('format') ?? 'edn') === 'edn' ? jepsenEdn(trace.history) : porcupineJson(trace.history));
      return 0;
    case 'plots': {
      const dir = target ?? dirname(file);
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new TraceInputError(`${dir}: no such folder; -o for plots names the folder to write latency.svg and throughput.svg in.`);
      const p = tracePlots(trace);
      writeAtomic(join(dir, 'latency.svg'), p.latency);
      writeAtomic(join(dir, 'throughput.svg'), p.throughput);
      out.write(`wrote ${join(dir, 'latency.svg')} and ${join(dir, 'throughput.svg')}`);
      return 0;
    }
  }
  return 0;
}
