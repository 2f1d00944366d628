/**
 * Text forms of messages and server names, shared by the trace renderer, the summary and error
 * messages. The protocol's own values (a txn, a write, a digest) print through
 * src/protocol/format.ts, which the checkers use too.
 */
import { serverName } from '../protocol/config.ts';
import { epochOf, formatLong, formatZxid } from '../protocol/zxid.ts';
import { nodeCount } from '../protocol/datatree.ts';
import { formatTxn } from '../protocol/format.ts';
import type { WireMessage } from '../sim/events.ts';

/** `NOTIFICATION LOOKING vote=(s3, <1,5>, 1) round=2`, `PING <1,3>`, `CLOSE`. */
export function formatMessage(msg: WireMessage): string {
  switch (msg.type) {
    case 'NOTIFICATION':
      return `NOTIFICATION ${msg.state} vote=(${leaderName(msg.leader)}, ${formatZxid(msg.zxid)}, ${formatLong(msg.peerEpoch)}) round=${msg.electionEpoch}`;
    case 'FOLLOWERINFO':
    case 'OBSERVERINFO':
    case 'LEADERINFO':
    case 'NEWLEADER':
      return `${msg.type} ${formatZxid(msg.zxid)} (epoch ${epochOf(msg.zxid)})`;
    case 'DIFF':
    case 'TRUNC':
    case 'ACK':
    case 'COMMIT':
      return `${msg.type} ${formatZxid(msg.zxid)}`;
    case 'PING':
      return msg.sessions !== undefined && msg.sessions.length > 0 ? `PING ${formatZxid(msg.zxid)} sessions=${msg.sessions.join(',')}` : `PING ${formatZxid(msg.zxid)}`;
    case 'ACKEPOCH':
      return `ACKEPOCH ${formatZxid(msg.zxid)} currentEpoch=${msg.currentEpoch}`;
    case 'SNAP':
      // A fuzzy SNAP (its content ahead of its label) says how far its content goes.
      return msg.lastTxn !== undefined && msg.lastTxn > msg.zxid ? `SNAP ${formatZxid(msg.zxid)} (${nodeCount(msg.tree)} znodes, content up to ${formatZxid(msg.lastTxn)})` : `SNAP ${formatZxid(msg.zxid)} (${nodeCount(msg.tree)} znodes)`;
    case 'UPTODATE':
      return 'UPTODATE';
    case 'PROPOSAL':
    case 'INFORM':
      return `${msg.type} ${formatZxid(msg.zxid)} ${formatTxn(msg.txn)}`;
    case 'REQUEST':
      return msg.request.kind === 'write' ? `REQUEST ${formatTxn(msg.request.txn)}` : `REQUEST sync c${msg.request.origin.client}#${msg.request.origin.cxid}`;
    case 'SYNC':
      return `SYNC c${msg.origin.client}#${msg.origin.cxid}`;
    case 'CLOSE':
      return 'CLOSE';
  }
}

export function leaderName(sid: number): string {
  return sid < 0 ? formatLong(sid) : serverName(sid);
}

/**
 * A table as lines: the cells of a row two spaces apart, each column as wide as its widest cell,
 * trailing spaces trimmed (the server summaries of run and scenario, explore's failing seeds).
 */
export function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((cell, c) => (widths[c] = Math.max(widths[c] ?? 0, cell.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c] as number)).join('  ').trimEnd());
}
