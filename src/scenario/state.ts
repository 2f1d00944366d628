/**
 * What a scenario can observe of a run: the trace (searchable as text), the committed set, the
 * client replies, and a short table of every server for failure reports.
 */
import { formatDigest } from '../protocol/format.ts';
import { serverName, type Sid } from '../protocol/config.ts';
import { appliedCount } from '../protocol/db.ts';
import type { ClientReply } from '../protocol/types.ts';
import { formatZxid, type Zxid } from '../protocol/zxid.ts';
import { leaderOf } from '../protocol/peer.ts';
import type { TraceEvent } from '../sim/events.ts';
import type { Simulation } from '../sim/kernel.ts';
import { alignColumns } from '../trace/format.ts';
import { renderEvent } from '../trace/text.ts';

/** The trace of a run, with each line's text (spaces collapsed) rendered on first use. */
export class TraceLog {
  readonly events: TraceEvent[] = [];
  private readonly lines: string[] = [];
  /** Zxids some leader sent COMMIT or INFORM for: the committed set. */
  readonly committed = new Set<Zxid>();
  /** True while the scenario injects a message: a COMMIT it crafts is no leader's decision. */
  injecting = false;

  /** The trace sink. */
  readonly sink = (e: TraceEvent): void => {
    this.events.push(e);
    if (e.type === 'send' && (e.msg.type === 'COMMIT' || e.msg.type === 'INFORM') && !this.injecting) this.committed.add(e.msg.zxid);
  };

  /** Index of the first record that contains `text` (spaces collapsed) from `from` on, or -1. */
  find(text: string, from = 0): number {
    for (let i = from; i < this.events.length; i++) if (this.line(i).includes(text)) return i;
    return -1;
  }

  /** Counts so far per (from, text), so that `stabilize until count ...` reads each record once. */
  private readonly counts = new Map<string, { upTo: number; n: number }>();

  /** How many records contain `text` from `from` on. */
  count(text: string, from = 0): number {
    const key = `${from}\u0000${text}`;
    let c = this.counts.get(key);
    if (c === undefined) {
      c = { upTo: from, n: 0 };
      this.counts.set(key, c);
    }
    for (; c.upTo < this.events.length; c.upTo++) if (this.line(c.upTo).includes(text)) c.n++;
    return c.n;
  }

  line(i: number): string {
    while (this.lines.length <= i) this.lines.push(renderEvent(this.events[this.lines.length] as TraceEvent).replace(/\s+/g, ' ').trim());
    return this.lines[i] as string;
  }

  /** The committed set in zxid order. */
  committedZxids(): Zxid[] {
    return [...this.committed].sort((a, b) => a - b);
  }
}

/** Replies by operation name, and which operations are still waiting. */
export class Replies {
  private readonly byKey = new Map<string, string>();
  private readonly got = new Map<string, ClientReply>();
  /** Operations sent to a running server and not answered yet, with that server. */
  private readonly waiting = new Map<string, Sid>();

  /** An operation was sent to `sid`, which is up; `label` names it for `expect reply`. */
  sent(sid: Sid, client: number, cxid: number, label: string | null): void {
    const key = `${client}#${cxid}`;
    if (label !== null) this.byKey.set(key, label);
    this.waiting.set(key, sid);
  }

  onReply(reply: ClientReply): void {
    const key = `${reply.client}#${reply.cxid}`;
    this.waiting.delete(key);
    const label = this.byKey.get(key);
    if (label !== undefined && !this.got.has(label)) this.got.set(label, reply);
  }

  /** A server stopped serving (crash, halt, new role): its clients' operations end unanswered. */
  abandon(sid: Sid): void {
    for (const [key, s] of this.waiting) if (s === sid) this.waiting.delete(key);
  }

  /** How many operations are waiting for a reply. */
  get pending(): number {
    return this.waiting.size;
  }

  /** How many operations sent to `sid` are waiting for a reply. */
  pendingAt(sid: Sid): number {
    let n = 0;
    for (const s of this.waiting.values()) if (s === sid) n++;
    return n;
  }

  get(label: string): ClientReply | undefined {
    return this.got.get(label);
  }
}

export function zxidList(zs: readonly Zxid[]): string {
  if (zs.length === 0) return 'none';
  if (zs.length > 12) return `${zs.slice(0, 5).map(formatZxid).join(' ')} ... ${zs.slice(-5).map(formatZxid).join(' ')} (${zs.length})`;
  return zs.map(formatZxid).join(' ');
}

/** One line about a server's role: `s2 is FOLLOWING/BROADCAST leader=s3`, `s2 is DOWN`. */
export function roleOf(sim: Simulation, sid: Sid): string {
  const rt = sim.server(sid);
  if (!rt.up) return `${serverName(sid)} is DOWN`;
  const s = rt.state;
  const leader = s.state === 'LEADING' ? null : s.learner?.leader ?? null;
  return `${serverName(sid)} is ${s.state}/${s.zabState}${leader !== null ? ` leader=${serverName(leader)}` : ''}`;
}

/** A table of every server: role, epochs (memory and disk), logs and applied state. */
export function stateTable(sim: Simulation): string {
  const rows = [['server', 'role', 'phase', 'leader', 'acceptedEpoch', 'currentEpoch', 'logged (disk)', 'lastProcessed', 'applied', 'digest']];
  for (const sid of sim.sids) {
    const rt = sim.server(sid);
    const img = rt.disk.image;
    const disk = (mem: number | null, d: number | null): string => (mem === null ? `${d ?? '-'} (disk)` : mem === d ? String(mem) : `${mem} (disk ${d ?? '-'})`);
    const logged = img.log.length === 0 ? 'none' : `${formatZxid((img.log[0] as { zxid: Zxid }).zxid)}..${formatZxid((img.log[img.log.length - 1] as { zxid: Zxid }).zxid)} (${img.log.length})`;
    if (!rt.up) {
      rows.push([serverName(sid), 'DOWN', '-', '-', disk(null, img.acceptedEpoch), disk(null, img.currentEpoch), logged, '-', '-', '-']);
      continue;
    }
    const s = rt.state;
    const leader = leaderOf(s);
    rows.push([
      serverName(sid),
      s.state,
      s.zabState,
      leader === null ? '-' : serverName(leader),
      disk(s.acceptedEpoch, img.acceptedEpoch),
      disk(s.currentEpoch, img.currentEpoch),
      logged,
      formatZxid(s.db.lastProcessedZxid),
      String(appliedCount(s.db)),
      formatDigest(s.db.tree.digest),
    ]);
  }
  return alignColumns(rows).join('\n');
}
