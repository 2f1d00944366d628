/**
 * Durable images a scenario loads before a server's first start (`preload`): each logged txn
 * creates its own znode `/t<epoch>_<counter>`, so that applied history shows in the data tree.
 */
import type { LogEntry } from '../protocol/types.ts';
import { counterOf, epochOf, type Zxid } from '../protocol/zxid.ts';

/** The txn a preloaded log holds at `z`: create `/t<e>_<c>` with data `<e>.<c>`. */
export function entry(z: Zxid): LogEntry {
  const e = epochOf(z);
  const c = counterOf(z);
  return { zxid: z, txn: { type: 'create', path: `/t${e}_${c}`, data: `${e}.${c}`, ephemeral: false, sequential: false, session: 0 } };
}
