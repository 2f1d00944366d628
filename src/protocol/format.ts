/**
 * Pure value printers for the protocol's values, beside `formatZxid` (zxid.ts): a txn, a write to
 * the disk, a data tree's digest. The trace renderers (src/trace), the checkers' reports
 * (src/check) and the summaries (src/cli, src/scenario) print these values the same way.
 */
import { nodeCount, type Txn } from './datatree.ts';
import type { PersistOp } from './types.ts';
import { formatZxid } from './zxid.ts';

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

/** A data tree's digest as 8 hex digits: `00c0ffee`. */
export function formatDigest(d: number): string {
  return (d >>> 0).toString(16).padStart(8, '0');
}
