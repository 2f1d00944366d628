/**
 * Text forms of protocol values, shared by the trace renderer, the summary and error messages.
 */
import { serverName } from '../protocol/config.ts';
import type { PersistOp } from '../protocol/types.ts';
import { formatLong, formatZxid } from '../protocol/zxid.ts';
import type { WireMessage } from '../sim/events.ts';

/** `NOTIFICATION LOOKING vote=(s3, <1,5>, 1) round=2`, `PING <1,3>`, `CLOSE`. */
export function formatMessage(msg: WireMessage): string {
  switch (msg.type) {
    case 'NOTIFICATION':
      return `NOTIFICATION ${msg.state} vote=(${leaderName(msg.leader)}, ${formatZxid(msg.zxid)}, ${formatLong(msg.peerEpoch)}) round=${msg.electionEpoch}`;
    case 'FOLLOWERINFO':
    case 'OBSERVERINFO':
    case 'PING':
      return `${msg.type} ${formatZxid(msg.zxid)}`;
    case 'CLOSE':
      return 'CLOSE';
  }
}

export function leaderName(sid: number): string {
  return sid < 0 ? formatLong(sid) : serverName(sid);
}

/** `appendLog <1,3>`, `truncateLog <1,2>`, `snapshot <1,7>`, `currentEpoch := 2`. */
export function formatWrite(w: PersistOp): string {
  switch (w.op) {
    case 'appendLog':
      return `appendLog ${formatZxid(w.entry.zxid)}`;
    case 'truncateLog':
      return `truncateLog to ${formatZxid(w.zxid)}`;
    case 'snapshot':
      return `snapshot ${formatZxid(w.snapshot.zxid)}`;
    case 'writeEpoch':
      return `${w.file} := ${w.value}`;
  }
}
