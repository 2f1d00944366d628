/**
 * Golden traces: a scenario may keep its expected trace (the text renderer's lines, no colour)
 * in a `.trace` file beside it. The scenario's own expectations stay the primary check; the
 * golden trace shows when anything at all changed, and `--rewrite` accepts the change.
 */
import type { TraceEvent } from '../sim/events.ts';
import { renderEvent } from '../trace/text.ts';

/** The golden text of a trace: one rendered line per record, ending in a newline. */
export function goldenText(trace: readonly TraceEvent[]): string {
  let out = '';
  for (const e of trace) out += renderEvent(e) + '\n';
  return out;
}

/** The first difference between a golden trace and a new one, as a sentence; null when equal. */
export function goldenDiff(expected: string, actual: string): string | null {
  if (expected === actual) return null;
  const a = expected.split('\n');
  const b = actual.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      const show = (s: string | undefined): string => (s === undefined ? '(end of trace)' : s.trim() === '' && i === a.length - 1 ? '(end of trace)' : s.trim().replace(/\s+/g, ' '));
      return `trace line ${i + 1} differs from the golden trace: expected '${show(a[i])}', got '${show(b[i])}'`;
    }
  }
  return 'the trace differs from the golden trace';
}
