/**
 * Exports of a trace to the tools people already use (docs/viewer.md has the formats):
 * - ShiViz: a log with vector clocks, one event per server-side record, and the regex to paste;
 * - Mermaid: a `sequenceDiagram` of a window of records;
 * - the client history as Jepsen EDN (Knossos: one register per znode path) or as
 *   Porcupine JSON (a key-value model's get/put operations).
 */
import { formatWrite } from '../protocol/format.ts';
import { formatZxid } from '../protocol/zxid.ts';
import type { HistoryOp } from '../sim/clients.ts';
import type { TraceEvent } from '../sim/events.ts';
import { formatMessage } from './format.ts';
import type { LoadedTrace, ViolationFacts } from './load.ts';
import { renderEvent } from './text.ts';

// ------------------------------------------------------------------------------------------
// ShiViz

/** The regex ShiViz needs: the event text on one line, then `host {clock}` on the next. */
export const SHIVIZ_REGEX = '(?<event>.*)\\n(?<host>\\S*) (?<clock>{.*})';

/** One ShiViz event: the record it came from, its host (a server) and its vector clock. */
export interface ShivizEvent {
  readonly i: number;
  readonly host: number;
  readonly clock: Readonly<Record<string, number>>;
  readonly text: string;
}

/** The server a record happens at (send: the sender; deliver: the receiver), or null. */
function hostOf(ev: TraceEvent): number | null {
  switch (ev.type) {
    case 'send':
      return ev.from;
    case 'deliver':
      return ev.to;
    case 'drop':
    case 'partition':
    case 'heal':
    case 'slow':
    case 'note':
      return null;
    default:
      return ev.sid;
  }
}

/**
 * The ShiViz events of a trace. Each server keeps a vector clock: a local record ticks its own
 * entry; a send ticks it and stamps the message; a delivery merges the message's stamp, then
 * ticks. So the clocks order two events exactly when one happens before the other. Drops,
 * partitions and notes belong to no single server's timeline and are left out; a duplicated
 * message's second delivery merges the same stamp.
 */
export function shivizEvents(records: readonly TraceEvent[], sids: readonly number[]): ShivizEvent[] {
  const clocks = new Map<number, Record<string, number>>();
  for (const s of sids) clocks.set(s, {});
  const stamps = new Map<number, Record<string, number>>();
  const out: ShivizEvent[] = [];
  for (const ev of records) {
    const host = hostOf(ev);
    if (host === null) continue;
    const c = clocks.get(host) as Record<string, number>;
    if (ev.type === 'deliver') {
      const st = stamps.get(ev.id);
      if (st !== undefined) for (const k of Object.keys(st)) c[k] = Math.max(c[k] ?? 0, st[k] as number);
    }
    const me = `s${host}`;
    c[me] = (c[me] ?? 0) + 1;
    if (ev.type === 'send') stamps.set(ev.id, { ...c });
    out.push({ i: ev.i, host, clock: sortedClock(c), text: renderEvent(ev).trim().replace(/\s+/g, ' ') });
  }
  return out;
}

function sortedClock(c: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(c).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))) out[k] = c[k] as number;
  return out;
}

/** The ShiViz file: the regex line, an empty delimiter line, then two lines per event. */
export function shivizLog(trace: LoadedTrace): string {
  const lines = [SHIVIZ_REGEX, ''];
  for (const e of shivizEvents(trace.records, trace.sids)) {
    lines.push(`#${e.i} ${e.text}`);
    lines.push(`s${e.host} ${JSON.stringify(e.clock)}`);
  }
  return lines.join('\n') + '\n';
}

// ------------------------------------------------------------------------------------------
// Mermaid

/** Mermaid text: `#` starts an entity code, `;` ends a statement, `<` `>` may be read as HTML. */
function mermaidText(s: string): string {
  // One pass: replacing `#` first and then `;` would break the `#35;` codes just written.
  return s.replace(/[#;<>]/g, (c) => `#${c.charCodeAt(0)};`).replace(/\n/g, ' ');
}

/** The records [from, to] (indexes, inclusive) as a Mermaid sequenceDiagram. */
export function mermaidDiagram(trace: LoadedTrace, from: number, to: number, violations: readonly ViolationFacts[] = []): string {
  const recs = trace.records;
  const lo = Math.max(0, from);
  const hi = Math.min(recs.length - 1, to);
  // Each message is drawn once, at its fate: delivered (->>), dropped (-x), or still in flight
  // at the window's end (-) ), from the window's own records.
  const fate = new Map<number, TraceEvent>();
  for (let i = lo; i <= hi; i++) {
    const ev = recs[i] as TraceEvent;
    if ((ev.type === 'deliver' || ev.type === 'drop') && !fate.has(ev.id)) fate.set(ev.id, ev);
  }
  const lines = ['sequenceDiagram', `    %% zabsim records #${lo}..#${hi} (t = ${recs[lo]?.t ?? 0}..${recs[hi]?.t ?? 0} ms)`];
  for (const s of trace.sids) lines.push(`    participant s${s}`);
  const sentInWindow = new Set<number>();
  const viol = new Map<number, ViolationFacts[]>();
  for (const v of violations) viol.set(v.i, [...(viol.get(v.i) ?? []), v]);
  for (let i = lo; i <= hi; i++) {
    const ev = recs[i] as TraceEvent;
    switch (ev.type) {
      case 'send': {
        sentInWindow.add(ev.id);
        if (ev.from === ev.to) break;
        const f = fate.get(ev.id);
        const text = mermaidText(`${formatMessage(ev.msg)} m${ev.id}`);
        if (f === undefined) lines.push(`    s${ev.from}-)s${ev.to}: ${text} (in flight)`);
        else if (f.type === 'drop') lines.push(`    s${ev.from}-xs${ev.to}: ${text} (dropped: ${f.reason})`);
        else lines.push(`    s${ev.from}->>s${ev.to}: ${text}`);
        break;
      }
      case 'deliver':
      case 'drop':
        // A message sent before the window: drawn at its arrival.
        if (ev.from !== ev.to && !sentInWindow.has(ev.id) && fate.get(ev.id) === ev) {
          const text = mermaidText(`${formatMessage(ev.msg)} m${ev.id} (sent before the window)`);
          lines.push(ev.type === 'drop' ? `    s${ev.from}-xs${ev.to}: ${text} dropped: ${ev.reason}` : `    s${ev.from}->>s${ev.to}: ${text}`);
        }
        break;
      case 'state':
        lines.push(`    Note over s${ev.sid}: ${ev.state}/${ev.zabState}`);
        break;
      case 'crash':
        lines.push(`    Note over s${ev.sid}: CRASH${ev.lostWrites > 0 ? ` (lost ${ev.lostWrites} writes)` : ''}`);
        break;
      case 'start':
        lines.push(`    Note over s${ev.sid}: ${ev.restart ? 'RESTART' : 'start'}`);
        break;
      case 'halt':
        lines.push(`    Note over s${ev.sid}: HALT ${mermaidText(ev.reason)}`);
        break;
      case 'snapfile':
        lines.push(`    Note right of s${ev.sid}: ${mermaidText(`snapshot ${formatZxid(ev.zxid)} ${ev.change === 'corrupt' ? 'fails its CRC' : 'removed by the operator'}`)}`);
        break;
      case 'persist':
        lines.push(`    Note right of s${ev.sid}: persist ${mermaidText(formatWrite(ev.write))}`);
        break;
      case 'fsync':
        if (ev.stage === 'done') lines.push(`    Note right of s${ev.sid}: fsync ${mermaidText(formatWrite(ev.write))}`);
        break;
      case 'partition':
        lines.push(`    Note over s${trace.sids[0]},s${trace.sids[trace.sids.length - 1]}: PARTITION ${mermaidText(ev.desc)}`);
        break;
      case 'heal':
        lines.push(`    Note over s${trace.sids[0]},s${trace.sids[trace.sids.length - 1]}: HEAL`);
        break;
      default:
        break;
    }
    for (const v of viol.get(i) ?? []) {
      const who = v.servers.length > 0 ? v.servers.map((s) => `s${s}`) : [`s${trace.sids[0]}`];
      const span = who.length > 1 ? `${who[0]},${who[who.length - 1]}` : who[0];
      lines.push(`    Note over ${span}: VIOLATION ${mermaidText(`${v.property}: ${v.message}`)}`);
    }
  }
  return lines.join('\n') + '\n';
}

// ------------------------------------------------------------------------------------------
// Client history: Jepsen EDN and Porcupine JSON

/** A client operation as a register operation on one znode path, or null (session ops, sync). */
function registerOp(o: HistoryOp): { f: 'read' | 'write'; key: string; value: string | null } | null {
  switch (o.op) {
    case 'read':
      return { f: 'read', key: o.path, value: o.value ?? null };
    case 'setData':
      return { f: 'write', key: o.path, value: o.data ?? null };
    case 'create':
      // A sequential create makes a new path: it writes that path.
      return { f: 'write', key: o.createdPath ?? o.path, value: o.data ?? null };
    case 'delete':
      return { f: 'write', key: o.path, value: null };
    default:
      return null;
  }
}

function edn(v: string | null): string {
  return v === null ? 'nil' : JSON.stringify(v);
}

/**
 * The history as Jepsen EDN, one map per line, for Knossos (an independent register per path)
 * (docs/viewer.md says how to check it). Each operation is an :invoke and its completion: :ok, :fail (it did not happen), or
 * :info (unknown; the process is then retired and the client continues as a new process, as
 * Jepsen requires). Reads invoke with a nil value. Time is virtual, in nanoseconds.
 */
export function jepsenEdn(history: readonly HistoryOp[]): string {
  const clients = Math.max(0, ...history.map((o) => o.client));
  const process = new Map<number, number>();
  const events: { t: number; order: number; line: string }[] = [];
  let order = 0;
  for (const o of history) {
    const r = registerOp(o);
    if (r === null) continue;
    // A create refused with NODEEXISTS, or a write refused on a version, changed nothing.
    const p = process.get(o.client) ?? o.client - 1;
    const inv = `[${JSON.stringify(r.key)} ${r.f === 'read' ? 'nil' : edn(r.value)}]`;
    events.push({ t: o.invokeMs, order: order++, line: `{:process ${p}, :type :invoke, :f :${r.f}, :value ${inv}, :time ${o.invokeMs * 1_000_000}}` });
    if (o.completeMs === null || o.outcome === null) {
      process.set(o.client, p + clients);
      continue;
    }
    const type = o.outcome === 'ok' ? 'ok' : o.outcome === 'error' ? 'fail' : 'info';
    const val = `[${JSON.stringify(r.key)} ${edn(r.f === 'read' && o.outcome !== 'ok' ? null : r.value)}]`;
    const err = o.error !== undefined ? `, :error :${o.error}` : '';
    events.push({ t: o.completeMs, order: order++, line: `{:process ${p}, :type :${type}, :f :${r.f}, :value ${val}, :time ${o.completeMs * 1_000_000}${err}}` });
    if (type === 'info') process.set(o.client, p + clients);
  }
  // Jepsen histories are in time order; ties keep the order the operations were recorded in.
  events.sort((a, b) => a.t - b.t || a.order - b.order);
  return events.map((e, k) => e.line.replace(/}$/, `, :index ${k}}`)).join('\n') + '\n';
}

/** Porcupine's "return never seen" time: an operation whose outcome is unknown may take effect any time after its call. */
export const PORCUPINE_NEVER = Number.MAX_SAFE_INTEGER;

/**
 * The history as Porcupine operations (`porcupine.Operation`: ClientId, Input, Call, Output,
 * Return), for a key-value model with get and put: reads are gets, writes are puts (a delete
 * puts null). Failed operations are left out (they had no effect); unknown ones return at
 * PORCUPINE_NEVER. Times are virtual milliseconds.
 */
export function porcupineJson(history: readonly HistoryOp[]): string {
  const ops: object[] = [];
  for (const o of history) {
    const r = registerOp(o);
    if (r === null || o.outcome === 'error') continue;
    const unknown = o.completeMs === null || o.outcome !== 'ok';
    ops.push({
      clientId: o.client,
      input: r.f === 'read' ? { op: 'get', key: r.key } : { op: 'put', key: r.key, value: r.value },
      call: o.invokeMs,
      output: r.f === 'read' && !unknown ? { value: r.value } : {},
      return: unknown ? PORCUPINE_NEVER : o.completeMs,
    });
  }
  return JSON.stringify(ops, null, 0).replace(/},{/g, '},\n{') + '\n';
}
