/**
 * The exports (src/trace/export.ts): ShiViz vector clocks agree with happens-before exactly,
 * the ShiViz regex parses the log back, Mermaid windows, and the client history as Jepsen EDN and
 * Porcupine JSON.
 */
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src/sim/events.ts';
import { jepsenEdn, mermaidDiagram, porcupineJson, PORCUPINE_NEVER, shivizEvents, shivizLog, SHIVIZ_REGEX } from '../../src/trace/export.ts';
import { parseTrace } from '../../src/trace/load.ts';
import { cleanTrace, flawTrace } from './fixture.ts';

/** Happens-before over the server-side records, computed from the trace directly: program order per server, send before its deliveries; transitive closure by bitsets. */
function happensBefore(records: readonly TraceEvent[], hostOf: (ev: TraceEvent) => number | null): { events: number[]; before: (a: number, b: number) => boolean } {
  const events: number[] = [];
  for (const ev of records) if (hostOf(ev) !== null) events.push(ev.i);
  const pos = new Map(events.map((i, k) => [i, k]));
  const n = events.length;
  const words = Math.ceil(n / 32);
  // reach[k]: the events that happen before event k (its causal past), as a bitset.
  const reach = new Array<Uint32Array>(n);
  const lastOf = new Map<number, number>();
  const sendOf = new Map<number, number>();
  for (let k = 0; k < n; k++) {
    const ev = records[events[k] as number] as TraceEvent;
    const r = new Uint32Array(words);
    const preds: number[] = [];
    const h = hostOf(ev) as number;
    const prev = lastOf.get(h);
    if (prev !== undefined) preds.push(prev);
    if (ev.type === 'deliver') {
      const s = sendOf.get(ev.id);
      if (s !== undefined) preds.push(s);
    }
    for (const p of preds) {
      const pr = reach[p] as Uint32Array;
      for (let w = 0; w < words; w++) r[w]! |= pr[w] as number;
      r[p >>> 5]! |= 1 << (p & 31);
    }
    reach[k] = r;
    lastOf.set(h, k);
    if (ev.type === 'send') sendOf.set(ev.id, k);
  }
  return { events, before: (a, b) => (((reach[pos.get(b) as number] as Uint32Array)[(pos.get(a) as number) >>> 5] as number) & (1 << ((pos.get(a) as number) & 31))) !== 0 };
}

function leq(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  for (const k of Object.keys(a)) if ((a[k] as number) > (b[k] ?? 0)) return false;
  return true;
}

describe('ShiViz export', () => {
  for (const [name, text] of [
    ['the ZOOKEEPER-3911 trace', flawTrace],
    ['a run with crashes, a partition and an observer', cleanTrace],
  ] as const) {
    it(`every event's clock is consistent with happens-before, both ways (${name})`, () => {
      const t = parseTrace(text(), 't.jsonl');
      const sv = shivizEvents(t.records, t.sids);
      const byI = new Map(sv.map((e) => [e.i, e]));
      const hostOf = (ev: TraceEvent): number | null => byI.get(ev.i)?.host ?? null;
      const hb = happensBefore(t.records, hostOf);
      expect(hb.events.length).toBe(sv.length);
      expect(sv.length).toBeGreaterThan(250);
      // A sample of pairs (every 7th event against every 5th) covers hundreds of thousands of pairs.
      let checked = 0;
      let ordered = 0;
      for (let a = 0; a < sv.length; a += 7) {
        for (let b = 0; b < sv.length; b += 5) {
          if (a === b) continue;
          const ea = sv[a]!;
          const eb = sv[b]!;
          const byClock = leq(ea.clock, eb.clock);
          expect(byClock, `#${ea.i} -> #${eb.i}`).toBe(hb.before(ea.i, eb.i));
          checked++;
          if (byClock) ordered++;
        }
      }
      expect(checked).toBeGreaterThan(2000);
      expect(ordered).toBeGreaterThan(0);
      expect(ordered).toBeLessThan(checked);
      // Every host is in its own clock, and its own entry grows by one per event.
      const own = new Map<number, number>();
      for (const e of sv) {
        const c = e.clock[`s${e.host}`] as number;
        expect(c).toBe((own.get(e.host) ?? 0) + 1);
        own.set(e.host, c);
      }
    });
  }

  it('the file starts with the regex and an empty delimiter line, and the regex reads every event back', () => {
    const t = parseTrace(flawTrace(), 't.jsonl');
    const log = shivizLog(t);
    const [regex, delimiter, ...rest] = log.split('\n');
    expect(regex).toBe(SHIVIZ_REGEX);
    expect(delimiter).toBe('');
    const re = new RegExp(SHIVIZ_REGEX, 'g');
    const matches = [...rest.join('\n').matchAll(re)];
    expect(matches.length).toBe(shivizEvents(t.records, t.sids).length);
    for (const m of matches) {
      const clock = JSON.parse(m.groups!['clock'] as string) as Record<string, number>;
      expect(clock[m.groups!['host'] as string]).toBeGreaterThan(0);
    }
    expect(rest[0]).toMatch(/^#0 \d+ s\d start$/);
  });
});

describe('Mermaid export', () => {
  it('draws a window of records as a sequenceDiagram, with the violation as a note', () => {
    const t = parseTrace(flawTrace(), 't.jsonl');
    const v = t.summary!.verdict.violations;
    const text = mermaidDiagram(t, 1074, 1100, v);
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('sequenceDiagram');
    expect(lines.slice(2, 5)).toEqual(['    participant s1', '    participant s2', '    participant s3']);
    expect(lines).toContain('    s2->>s4: NEWLEADER #60;3,0#62; (epoch 3) m323');
    expect(lines).toContain('    s2->>s1: PROPOSAL #60;2,5#62; setData /k2 "c3.7" v=-1 c3#35;7@s2 m318 (sent before the window)');
    expect(lines).toContain('    s1->>s2: ACK #60;3,0#62; m324');
    expect(lines).toContain('    Note over s2: LEADING/BROADCAST');
    expect(lines.some((l) => l.startsWith("    Note over s2,s1: VIOLATION Establishment: s2 established epoch 3 on NEWLEADER ACKs its learners' disks did not back"))).toBe(true);
    // Nothing a Mermaid statement cannot hold: no raw ; # < > after the arrow.
    for (const l of lines.slice(2)) expect(l.replace(/^[^:]*:/, '').replace(/#\d+;/g, '')).not.toMatch(/[;<>#]/);
  });

  it('a dropped message is drawn with -x and its reason; one still in flight at the window end with -)', () => {
    const t = parseTrace(cleanTrace(), 't.jsonl');
    const text = mermaidDiagram(t, 0, t.records.length - 1);
    expect(text).toMatch(/s\d-xs\d: .* \(dropped: [a-z-]+\)/);
    // Txn origins (`c1#3@s2`) and zxids survive as entity codes, and nothing raw is left.
    const f = parseTrace(flawTrace(), 'f.jsonl');
    const all = mermaidDiagram(f, 0, f.records.length - 1);
    expect(all).toMatch(/PROPOSAL #60;\d+,\d+#62; \w+ .*c\d+#35;\d+@s\d/);
    for (const l of all.trim().split('\n').slice(2)) expect(l.replace(/^[^:]*:/, '').replace(/#\d+;/g, '')).not.toMatch(/[;<>#]/);
    const firstSend = t.records.find((r) => r.type === 'send' && r.from !== r.to) as TraceEvent & { type: 'send' };
    const cut = mermaidDiagram(t, 0, firstSend.i);
    expect(cut).toMatch(new RegExp(`s${firstSend.from}-\\)s${firstSend.to}: .* m${firstSend.id} \\(in flight\\)`));
  });
});

describe('client history export', () => {
  it('Jepsen EDN: an invoke and a completion per register operation, in time order, processes retired after :info', () => {
    const t = parseTrace(cleanTrace(), 't.jsonl');
    const lines = jepsenEdn(t.history).trim().split('\n');
    const ops = t.history.filter((o) => ['read', 'setData', 'create', 'delete'].includes(o.op));
    const completed = ops.filter((o) => o.completeMs !== null);
    expect(lines.length).toBe(ops.length + completed.length);
    let lastTime = -1;
    const open = new Map<number, string>();
    const retired = new Set<number>();
    lines.forEach((l, k) => {
      const m = /^\{:process (\d+), :type :(invoke|ok|fail|info), :f :(read|write), :value \["[^"]*" (nil|"[^"]*")\], :time (\d+)(?:, :error :[A-Z]+)?, :index (\d+)\}$/.exec(l);
      expect(m, l).not.toBeNull();
      const [, p, type, f, , time, index] = m!;
      expect(Number(index)).toBe(k);
      expect(Number(time)).toBeGreaterThanOrEqual(lastTime);
      lastTime = Number(time);
      const proc = Number(p);
      expect(retired.has(proc), `process ${proc} invoked after :info`).toBe(false);
      if (type === 'invoke') {
        expect(open.has(proc), `process ${proc} has two open operations`).toBe(false);
        open.set(proc, f!);
      } else {
        expect(open.get(proc)).toBe(f);
        open.delete(proc);
        if (type === 'info') retired.add(proc);
      }
    });
    const oks = lines.filter((l) => l.includes(':type :ok, :f :read'));
    expect(oks.length).toBeGreaterThan(0);
  });

  it('Porcupine JSON: gets and puts with call/return times; failed operations left out, unknown ones never return', () => {
    const t = parseTrace(cleanTrace(), 't.jsonl');
    const ops = JSON.parse(porcupineJson(t.history)) as { clientId: number; input: { op: string; key: string; value?: string | null }; call: number; output: { value?: string | null }; return: number }[];
    const kept = t.history.filter((o) => ['read', 'setData', 'create', 'delete'].includes(o.op) && o.outcome !== 'error');
    expect(ops.length).toBe(kept.length);
    ops.forEach((op, k) => {
      const o = kept[k]!;
      expect(op.call).toBe(o.invokeMs);
      expect(op.input.op).toBe(o.op === 'read' ? 'get' : 'put');
      if (o.outcome === 'ok') {
        expect(op.return).toBe(o.completeMs);
        if (o.op === 'read') expect(op.output.value).toBe(o.value ?? null);
      } else expect(op.return).toBe(PORCUPINE_NEVER);
    });
  });
});
