/**
 * Text forms of protocol values, shared by the trace renderer, the summary and error messages.
 */
import { serverName } from '../protocol/config.ts';
import type { PersistOp } from '../protocol/types.ts';
import { epochOf, formatLong, formatZxid } from '../protocol/zxid.ts';
import { nodeCount, type Txn } from '../protocol/datatree.ts';
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

/** `setData /k1 "c1.7" v=-1 c1#7@s2`, `create /k3-e+seq ephemeral "c3.2" c3#2@s1`, `closeSession 2000001`. */
export function formatTxn(t: Txn): string {
  const who = t.origin !== undefined ? ` c${t.origin.client}#${t.origin.cxid}@s${t.origin.server}` : '';
  switch (t.type) {
    case 'createSession':
      return `createSession ${t.session}${who}`;
    case 'closeSession':
      return `closeSession ${t.session}${who}`;
    case 'create':
      return `create ${t.path}${t.sequential ? '+seq' : ''}${t.ephemeral ? ' ephemeral' : ''} ${JSON.stringify(t.data)}${who}`;
    case 'setData':
      return `setData ${t.path} ${JSON.stringify(t.data)} v=${t.version}${who}`;
    case 'delete':
      return `delete ${t.path} v=${t.version}${who}`;
  }
}

export function leaderName(sid: number): string {
  return sid < 0 ? formatLong(sid) : serverName(sid);
}

/** `appendLog <1,3>`, `truncateLog <1,2>`, `snapshot <1,7>`, `currentEpoch := 2`, `create updatingEpoch`. */
export function formatWrite(w: PersistOp): string {
  switch (w.op) {
    case 'appendLog':
      return `appendLog ${formatZxid(w.entry.zxid)}`;
    case 'truncateLog':
      return `truncateLog to ${formatZxid(w.zxid)}`;
    case 'snapshot':
      return `snapshot ${formatZxid(w.snapshot.zxid)} (${nodeCount(w.snapshot.data)} znodes)`;
    case 'writeEpoch':
      return `${w.file} := ${w.value}`;
    case 'updatingEpoch':
      return w.exists ? 'create updatingEpoch' : 'delete updatingEpoch';
    case 'purge':
      return `purge: keep ${w.snapRetainCount} snapshots, txn log from ${formatZxid(w.logFrom)}`;
  }
}
