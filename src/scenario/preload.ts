/**
 * Durable images a scenario loads before a server's first start (`preload`): each logged txn
 * creates its own znode `/t<epoch>_<counter>`, so that applied history shows in the data tree.
 */
import { applyTxn, EMPTY_TREE } from '../protocol/datatree.ts';
import { EMPTY_SNAPSHOT } from '../protocol/db.ts';
import type { LogEntry, Snapshot } from '../protocol/types.ts';
import { counterOf, epochOf, type Zxid } from '../protocol/zxid.ts';
import type { MutableDurableImage } from '../sim/disk.ts';
import type { Preload } from './types.ts';

/** The txn a preloaded log holds at `z`: create `/t<e>_<c>` with data `<e>.<c>`. */
export function entry(z: Zxid): LogEntry {
  const e = epochOf(z);
  const c = counterOf(z);
  return { zxid: z, txn: { type: 'create', path: `/t${e}_${c}`, data: `${e}.${c}`, ephemeral: false, sequential: false, session: 0 } };
}

/**
 * Writes a preload into a server's durable image: its log (a bare zxid gets {@link entry}'s
 * create), each snapshot made from the log's txns up to its zxid (ZooKeeper's snapshot file
 * `snapshot.<zxid>`; `purge` drops those txns from the log, as a purged log segment), and its
 * epoch files.
 */
export function writePreload(img: MutableDurableImage, p: Preload): void {
  const log: LogEntry[] = p.log.map((e) => (e.txn === null ? entry(e.zxid) : { zxid: e.zxid, txn: e.txn }));
  const snapshots: Snapshot[] = [];
  let tree = EMPTY_TREE;
  let lastTxn = 0;
  let i = 0;
  let purgeTo = -1;
  for (const s of p.snapshots) {
    for (; i < log.length && (log[i] as LogEntry).zxid <= s.zxid; i++) {
      const e = log[i] as LogEntry;
      tree = applyTxn(tree, e.zxid, e.txn).tree;
      lastTxn = e.zxid;
    }
    // The label may be above the last txn it reflects (ZooKeeper names a snapshot after lastProcessedZxid).
    snapshots.push(lastTxn === s.zxid ? { zxid: s.zxid, data: tree } : { zxid: s.zxid, data: tree, lastTxn });
    if (s.purge) purgeTo = s.zxid;
  }
  img.log = log.filter((e) => e.zxid > purgeTo);
  // A server that logged txns had written an empty snapshot.0 at its first start on a fresh
  // directory (FileTxnSnapLog.restore); a preload naming no snapshot holds that one.
  img.snapshots = snapshots.length === 0 && log.length > 0 ? [EMPTY_SNAPSHOT] : snapshots;
  img.acceptedEpoch = p.acceptedEpoch;
  img.currentEpoch = p.currentEpoch;
}
