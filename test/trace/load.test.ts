/** Reading saved `--json` traces (src/trace/load.ts): what is accepted, and bad input as one sentence. */
import { describe, expect, it } from 'vitest';
import { parseTrace, TraceInputError } from '../../src/trace/load.ts';
import { cleanTrace, flawTrace } from './fixture.ts';

function error(text: string): string {
  try {
    parseTrace(text, 'x.jsonl');
  } catch (e) {
    expect(e).toBeInstanceOf(TraceInputError);
    return (e as Error).message;
  }
  throw new Error('expected a TraceInputError');
}

describe('loading a saved trace', () => {
  it('reads the header, every record in order, the summary with its violations, and the history', () => {
    const t = parseTrace(flawTrace(), 'f.jsonl');
    expect(t.header.options.seed).toBe(2);
    expect(t.sids).toEqual([1, 2, 3, 4, 5]);
    expect(t.records.length).toBe((t.summary as unknown as { traceRecords: number }).traceRecords);
    t.records.forEach((r, k) => expect(r.i).toBe(k));
    expect(t.summary?.verdict.violations[0]).toMatchObject({ property: 'Establishment', i: 1098, servers: [2, 1] });
    expect(t.history.length).toBeGreaterThan(50);
  });

  it('counts observers among the servers', () => {
    expect(parseTrace(cleanTrace(), 'c.jsonl').sids).toEqual([1, 2, 3, 4]);
  });

  it('a trace cut before its summary is still a trace (a run that was stopped)', () => {
    const lines = flawTrace().split('\n');
    const t = parseTrace(lines.slice(0, 101).join('\n') + '\n', 'cut.jsonl');
    expect(t.records.length).toBe(100);
    expect(t.summary).toBeNull();
  });

  it('bad input is one sentence naming the file, the line and what was expected', () => {
    expect(error('')).toBe('x.jsonl: empty file; expected the JSON lines of `zabsim run --json`.');
    expect(error('hello\n')).toBe('x.jsonl line 1: not valid JSON; expected one JSON object per line as `zabsim run --json` writes.');
    expect(error('{"a":1}\n')).toBe('x.jsonl line 1: not a zabsim trace; expected the header line {"zabsim":"run",...} that `zabsim run --json` writes first.');
    const lines = flawTrace().split('\n');
    // A truncated last line: the file was cut in the middle of a record.
    expect(error(lines.slice(0, 5).join('\n') + '\n' + (lines[5] as string).slice(0, 20))).toBe(
      'x.jsonl line 6: the last line is not complete JSON (a truncated file?); expected the trace of `zabsim run --json` in full.',
    );
    // A record missing from the middle.
    expect(error([lines[0], lines[1], lines[3]].join('\n'))).toBe('x.jsonl line 3: trace record i=2 out of order; expected i=1.');
    expect(error([lines[0], '[1,2]'].join('\n'))).toBe('x.jsonl line 2: expected a JSON object, found an array.');
    expect(error([lines[0], '{"i":0,"t":1,"type":"teleport"}'].join('\n'))).toBe('x.jsonl line 2: not a trace record; expected {"i":0,"t":...,"type":...} (docs/trace.md).');
    expect(error([lines[0], '', lines[1]].join('\n'))).toBe('x.jsonl line 2: empty line; expected one JSON object per line as `zabsim run --json` writes.');
  });
});
