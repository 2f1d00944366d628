/**
 * Reading a saved `zabsim run --json` trace (docs/trace.md, "JSON lines"): one header line, one
 * line per trace record, one line per client operation as it completes, and a summary line. The viewer and the exports
 * start here. Bad input is a {@link TraceInputError} naming the line and what was expected.
 */
import type { HistoryOp } from '../sim/clients.ts';
import type { ServerSummary, TraceEvent, ViolationFacts } from '../sim/events.ts';

export type { ViolationFacts };

export interface TraceHeader {
  readonly zabsim: 'run';
  readonly options: { readonly seed: number; readonly voters: number; readonly observers?: number; readonly untilMs: number; readonly faults?: { readonly untilMs?: number | null } } & Record<string, unknown>;
  readonly parameters: readonly string[];
}

export interface TraceSummary {
  readonly zabsim: 'summary';
  readonly t: number;
  readonly servers: readonly ServerSummary[];
  readonly verdict: { readonly ok: boolean; readonly violations: readonly ViolationFacts[]; readonly replay?: string } & Record<string, unknown>;
}

export interface LoadedTrace {
  readonly header: TraceHeader;
  readonly records: TraceEvent[];
  /** Null when the trace ends before its summary (a run that was stopped). */
  readonly summary: TraceSummary | null;
  readonly history: HistoryOp[];
  /** Server ids, voters then observers. */
  readonly sids: number[];
}

/** A saved trace that cannot be read: one sentence naming the place and what was expected. */
export class TraceInputError extends Error {}

const RECORD_TYPES = new Set(['start', 'send', 'deliver', 'drop', 'timer', 'persist', 'fsync', 'diskfail', 'crash', 'snapfile', 'halt', 'partition', 'heal', 'slow', 'state', 'vote', 'note', 'client', 'reply']);

/** Parses the text of a `--json` trace; `name` is the file name used in error messages. */
export function parseTrace(text: string, name: string): LoadedTrace {
  const records: TraceEvent[] = [];
  let header: TraceHeader | null = null;
  let summary: TraceSummary | null = null;
  let history: HistoryOp[] = [];
  let lineNo = 0;
  let pos = 0;
  const n = text.length;
  while (pos < n) {
    let end = text.indexOf('\n', pos);
    const last = end < 0;
    if (last) end = n;
    lineNo++;
    const line = text.slice(pos, end);
    pos = end + 1;
    if (line.trim() === '') {
      if (last) break;
      throw new TraceInputError(`${name} line ${lineNo}: empty line; expected one JSON object per line as \`zabsim run --json\` writes.`);
    }
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      throw new TraceInputError(
        last && !text.endsWith('\n')
          ? `${name} line ${lineNo}: the last line is not complete JSON (a truncated file?); expected the trace of \`zabsim run --json\` in full.`
          : `${name} line ${lineNo}: not valid JSON; expected one JSON object per line as \`zabsim run --json\` writes.`,
      );
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      throw new TraceInputError(`${name} line ${lineNo}: expected a JSON object, found ${Array.isArray(obj) ? 'an array' : JSON.stringify(obj)?.slice(0, 40)}.`);
    }
    const o = obj as Record<string, unknown>;
    if (header === null) {
      if (o['zabsim'] !== 'run' || typeof o['options'] !== 'object' || !Array.isArray(o['parameters'])) {
        throw new TraceInputError(`${name} line 1: not a zabsim trace; expected the header line {"zabsim":"run",...} that \`zabsim run --json\` writes first.`);
      }
      header = o as unknown as TraceHeader;
      continue;
    }
    if (o['zabsim'] === 'summary') {
      summary = o as unknown as TraceSummary;
      continue;
    }
    if (o['zabsim'] === 'op') {
      const op = o['op'] as Record<string, unknown> | undefined;
      if (typeof op !== 'object' || op === null || typeof op['n'] !== 'number') throw new TraceInputError(`${name} line ${lineNo}: a client operation line without an "op" object numbered "n"; expected {"zabsim":"op","op":{"n":...}} (docs/trace.md).`);
      history.push(op as unknown as HistoryOp);
      continue;
    }
    // The coverage map of `run --json --coverage` (docs/checkers.md): not part of the trace.
    if (o['zabsim'] === 'coverage') continue;
    if (o['zabsim'] === 'history') {
      // Traces written before the history was streamed: one line with every operation.
      if (!Array.isArray(o['ops'])) throw new TraceInputError(`${name} line ${lineNo}: the history line has no "ops" array.`);
      history = o['ops'] as HistoryOp[];
      continue;
    }
    if (summary !== null) throw new TraceInputError(`${name} line ${lineNo}: a trace record after the summary line; expected only the history line there.`);
    if (o['i'] !== records.length || typeof o['t'] !== 'number' || !RECORD_TYPES.has(o['type'] as string)) {
      throw new TraceInputError(
        o['i'] !== records.length && typeof o['i'] === 'number'
          ? `${name} line ${lineNo}: trace record i=${String(o['i'])} out of order; expected i=${records.length}.`
          : `${name} line ${lineNo}: not a trace record; expected {"i":${records.length},"t":...,"type":...} (docs/trace.md).`,
      );
    }
    records.push(o as unknown as TraceEvent);
  }
  if (header === null) throw new TraceInputError(`${name}: empty file; expected the JSON lines of \`zabsim run --json\`.`);
  const voters = header.options.voters;
  const observers = header.options.observers ?? 0;
  if (!Number.isInteger(voters) || voters < 1) throw new TraceInputError(`${name} line 1: the header's options.voters is ${String(voters)}; expected a positive integer.`);
  const sids: number[] = [];
  for (let s = 1; s <= voters + observers; s++) sids.push(s);
  // Operation lines come in order of completion; the history is in order of invocation.
  history.sort((a, b) => (a.n ?? 0) - (b.n ?? 0));
  return { header, records, summary, history, sids };
}
