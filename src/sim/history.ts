/**
 * Pre-loaded history (`--history E`, drawn by the swarm for some seeds): before the first start,
 * the servers' disks get durable images drawn from the seed's `history` stream, as if the cluster
 * had lived through E epochs. The branches that need history (TRUNC, DIFF across epochs, SNAP
 * from a snapshot, a stale acceptedEpoch, a leader's uncommitted tail) are then reached from the
 * first election instead of only after minutes of faults.
 *
 * The election property test draws each server's image on its own; here they are drawn from one
 * history, so that every zxid names one txn and follows one txn, and the checkers' ghost can take
 * the images as they are:
 * - a main chain: epoch e (1..E) holds (e,1)..(e,k_e), each txn after the one before it;
 * - the last epoch was established: a quorum of voters holds the main chain at least up to its
 *   start, with currentEpoch at least E;
 * - each server holds a prefix of the main chain; when that prefix ends where its epoch ends, it
 *   may also hold a tail of that epoch the main chain does not have, (e,k_e+1).. (a leader's
 *   proposals that no later epoch kept);
 * - some hold a snapshot of a prefix of their history, and the whole log (ZooKeeper keeps the
 *   txn log files its retained snapshots need);
 * - epoch files: currentEpoch = acceptedEpoch = the epoch of the last zxid (at least the last
 *   epoch, on the established quorum);
 * - some disks stay fresh.
 * Nothing of it is known to be committed: the checkers learn it as servers load and log it, and
 * commit it when a leader is established on it.
 */
import { applyTxn, EMPTY_TREE, type Txn } from '../protocol/datatree.ts';
import { EMPTY_SNAPSHOT } from '../protocol/db.ts';
import type { LogEntry, Snapshot } from '../protocol/types.ts';
import { epochOf, zxid, type Zxid } from '../protocol/zxid.ts';
import type { Simulation } from './kernel.ts';

/** The txn at zxid (e,c) of a pre-loaded history: it creates its own znode. */
function txnAt(e: number, c: number): Txn {
  return { type: 'create', path: `/h${e}_${c}`, data: `${e}.${c}`, ephemeral: false, sequential: false, session: 0 };
}

function entryAt(e: number, c: number): LogEntry {
  return { zxid: zxid(e, c), txn: txnAt(e, c) };
}

/** Draws a history of `epochs` epochs and writes every server's durable image (call before the first start). */
export function preloadHistory(sim: Simulation, epochs: number): void {
  const r = sim.rng.stream('history');
  const counts: number[] = [];
  const main: LogEntry[] = [];
  for (let e = 1; e <= epochs; e++) {
    const k = r.int(1, 4);
    counts.push(k);
    for (let c = 1; c <= k; c++) main.push(entryAt(e, c));
  }
  // Epoch `epochs` was established: a quorum of voters acknowledged its NEWLEADER, so they hold
  // its initial history (the main chain up to the end of the epoch before) and currentEpoch >= it.
  // Without this, FLE could elect a server that lacks what that quorum holds, which no real
  // cluster allows (a vote with an older currentEpoch loses), and a new leader could choose an
  // epoch some log already has txns of.
  const initial = main.length - (counts[epochs - 1] as number);
  const pool = [...sim.cfg.voters];
  const quorum = new Set<number>();
  while (quorum.size * 2 <= sim.cfg.voters.length) quorum.add(pool.splice(r.int(0, pool.length - 1), 1)[0] as number);
  // No acceptedEpoch is drawn above the epoch files' epoch: a server whose acceptedEpoch is above
  // the epoch a quorum then establishes never joins it (its learner refuses a LEADERINFO below
  // acceptedEpoch, and the leader's epoch is fixed once decided), and drawing such images made
  // that lockout the run's whole story (docs/checkers.md); runs still reach it on their own.
  for (const sid of sim.sids) {
    const established = quorum.has(sid);
    if (!established && r.chance(0.15)) continue; // a fresh data directory
    const log = main.slice(0, r.int(established ? initial : 0, main.length));
    const last: Zxid = log[log.length - 1]?.zxid ?? 0;
    const e = epochOf(last);
    if (log.length > 0 && last === zxid(e, counts[e - 1] as number) && (!established || e === epochs) && r.chance(0.3)) {
      const tail = r.int(1, 2);
      for (let i = 1; i <= tail; i++) log.push(entryAt(e, (counts[e - 1] as number) + i));
    }
    const img = sim.server(sid).disk.image;
    if (log.length === 0 && !established) continue;
    if (log.length > 0 && r.chance(0.3)) {
      const s = r.int(1, log.length);
      let tree = EMPTY_TREE;
      for (let i = 0; i < s; i++) tree = applyTxn(tree, (log[i] as LogEntry).zxid, (log[i] as LogEntry).txn).tree;
      const snapshot: Snapshot = { zxid: (log[s - 1] as LogEntry).zxid, data: tree };
      img.snapshots = [EMPTY_SNAPSHOT, snapshot];
    } else if (log.length > 0) img.snapshots = [EMPTY_SNAPSHOT];
    // Every disk with a log also holds the empty snapshot.0 of its first start (FileTxnSnapLog.restore).
    // The whole log stays, below the snapshot too: ZooKeeper keeps the txn log files its retained
    // snapshots need, so a TRUNC below the newest snapshot can replay them (db.ts truncateAndReload).
    img.log = log;
    const top = Math.max(epochOf(log[log.length - 1]?.zxid ?? 0), established ? epochs : 0);
    img.currentEpoch = top;
    img.acceptedEpoch = top;
  }
}

/**
 * `--accepted-ahead K` (the targeted strategy's stale-LEADERINFO window, docs/checkers.md "Bug
 * classes"): one voter, drawn from the `history` stream after any history, holds an acceptedEpoch
 * K above its currentEpoch, as a server does after leading K epochs that each failed right after
 * its acceptedEpoch became durable (Leader.getEpochToPropose writes it before any follower has
 * read the LEADERINFO), so that no other disk holds those epochs. A quorum without it then
 * decides an epoch at or below that promise, and its LEADERINFO reaches the server below its
 * acceptedEpoch: ZooKeeper's learner refuses it (Learner.registerWithLeader), and the run meets
 * 3.9's acceptedEpoch lockout ("An open finding" in docs/checkers.md) unless a later leader
 * change raises the epoch past it. Call before the first start, after preloadHistory.
 */
export function preloadAcceptedAhead(sim: Simulation, ahead: number): void {
  const r = sim.rng.stream('history');
  const sid = sim.cfg.voters[r.int(0, sim.cfg.voters.length - 1)] as number;
  const img = sim.server(sid).disk.image;
  // A missing currentEpoch file is read as the epoch of the last logged zxid (0 on a fresh disk).
  const current = img.currentEpoch ?? epochOf(img.log[img.log.length - 1]?.zxid ?? 0);
  img.currentEpoch = current;
  img.acceptedEpoch = Math.max(img.acceptedEpoch ?? current, current) + ahead;
}
