/**
 * The viewer's filters (servers, message types, one zxid) and the facts they read from a record.
 * The diagram, the records list and the keys all go through {@link Filters.keeps}.
 */
import type { TraceEvent } from '../../sim/events.ts';
import type { MessageInfo } from '../model.ts';

/** The servers a record concerns: both ends of a message, nobody for partitions, else its sid. */
export function recordServers(ev: TraceEvent): number[] {
  switch (ev.type) {
    case 'send':
    case 'deliver':
    case 'drop':
    case 'slow':
      return [ev.from, ev.to];
    case 'partition':
    case 'heal':
      return [];
    default:
      return [ev.sid];
  }
}

/** The zxids a record is about: a message's zxid, a logged/truncated/snapshot zxid, a reply's zxid. */
export function recordZxids(ev: TraceEvent): number[] {
  if (ev.type === 'send' || ev.type === 'deliver' || ev.type === 'drop') {
    const m = ev.msg as { zxid?: number };
    return m.zxid !== undefined ? [m.zxid] : [];
  }
  if (ev.type === 'persist' || ev.type === 'fsync') {
    const w = ev.write;
    if (w.op === 'appendLog') return [w.entry.zxid];
    if (w.op === 'truncateLog') return [w.zxid];
    if (w.op === 'snapshot') return [w.snapshot.zxid];
    if (w.op === 'purge') return [w.logFrom];
    return [];
  }
  if (ev.type === 'reply') return [ev.reply.zxid];
  if (ev.type === 'snapfile') return [ev.zxid];
  return [];
}

/** What the page shows: every server and message type at first, no zxid filter. */
export class Filters {
  readonly servers: Set<number>;
  readonly types: Set<string>;
  /** Only records about this zxid, or null for all. */
  zxid: number | null = null;

  constructor(sids: readonly number[], types: readonly string[]) {
    this.servers = new Set(sids);
    this.types = new Set(types);
  }

  /** Whether a record passes every filter. */
  keeps(ev: TraceEvent): boolean {
    for (const s of recordServers(ev)) if (!this.servers.has(s)) return false;
    if ((ev.type === 'send' || ev.type === 'deliver' || ev.type === 'drop') && !this.types.has(ev.msg.type)) return false;
    if (this.zxid !== null && !recordZxids(ev).includes(this.zxid)) return false;
    return true;
  }

  /** Whether a message's arrow is drawn. */
  keepsMessage(m: MessageInfo, records: readonly TraceEvent[]): boolean {
    if (!this.servers.has(m.from) || !this.servers.has(m.to) || !this.types.has(m.type)) return false;
    if (this.zxid !== null) {
      const z = ((records[m.sendI] as TraceEvent & { msg: { zxid?: number } }).msg).zxid;
      if (z !== this.zxid) return false;
    }
    return true;
  }
}

/** `<1,17>`, `1,17`, or a plain number; null for empty text, NaN for anything else. */
export function parseZxid(text: string): number | null {
  const t = text.trim();
  if (t === '') return null;
  const m = /^<?\s*(\d+)\s*,\s*(\d+)\s*>?$/.exec(t);
  if (m !== null) return Number(m[1]) * 2 ** 32 + Number(m[2]);
  if (/^\d+$/.test(t)) return Number(t);
  return NaN;
}
