/**
 * FLE's vote order (zab-protocol.md §3.1, FastLeaderElection.totalOrderPredicate).
 */
import { isVoter, type ClusterConfig, type Sid } from './config.ts';
import type { StoredVote } from './types.ts';
import type { Zxid } from './zxid.ts';

/**
 * True iff the vote (newId, newZxid, newEpoch) beats (curId, curZxid, curEpoch): lexicographic on
 * (peerEpoch, zxid, sid). A candidate with quorum weight 0 (an observer) never wins.
 *
 * With the ZOOKEEPER-1419 flaw on, the sid tie-break ignores the epoch, as in 3.4.0–3.4.3:
 * `e' > e || (e' = e && z' > z) || (z' = z && id' > id)`, which is not a total order (B3).
 */
export function totalOrderPredicate(
  cfg: ClusterConfig,
  newId: Sid,
  newZxid: Zxid,
  newEpoch: number,
  curId: Sid,
  curZxid: Zxid,
  curEpoch: number,
): boolean {
  if (!isVoter(cfg, newId)) return false;
  if (cfg.flaws.fle_epoch_unguarded_sid_tiebreak) {
    return (
      newEpoch > curEpoch ||
      (newEpoch === curEpoch && newZxid > curZxid) ||
      (newZxid === curZxid && newId > curId)
    );
  }
  return (
    newEpoch > curEpoch ||
    (newEpoch === curEpoch && (newZxid > curZxid || (newZxid === curZxid && newId > curId)))
  );
}

/**
 * Vote.equals as ZooKeeper defines it (§3.3): when either side is LOOKING, all four fields must
 * match; otherwise, if exactly one side has version > 0 only the leader id is compared (the
 * "version 0 recvset entries" quirk), else leader id and peerEpoch.
 */
export function voteEquals(a: StoredVote, b: StoredVote): boolean {
  if (a.state === 'LOOKING' || b.state === 'LOOKING') {
    return (
      a.leader === b.leader &&
      a.zxid === b.zxid &&
      a.electionEpoch === b.electionEpoch &&
      a.peerEpoch === b.peerEpoch
    );
  }
  if (a.version > 0 !== b.version > 0) return a.leader === b.leader;
  return a.leader === b.leader && a.peerEpoch === b.peerEpoch;
}

/**
 * SyncedLearnerTracker.hasAllQuorums over a vote map: do the voters whose stored vote equals
 * `proposal` form a quorum? Only voting members count (QuorumMaj).
 */
export function hasQuorumFor(cfg: ClusterConfig, votes: Readonly<Record<Sid, StoredVote>>, proposal: StoredVote): boolean {
  let count = 0;
  for (const sid of cfg.voters) {
    const v = votes[sid];
    if (v !== undefined && voteEquals(v, proposal)) count++;
  }
  return count * 2 > cfg.voters.length;
}

/**
 * Reads `obj[key]` without drafting the value. A plain `obj[key]` on an immer draft copies `obj`
 * and wraps the value in a new proxy; the proxy's getOwnPropertyDescriptor trap hands back the
 * current value as is. For values treated as immutable: the result must not be mutated.
 */
export function raw<T extends object, K extends keyof T>(obj: T, key: K): T[K] {
  return Object.getOwnPropertyDescriptor(obj, key)?.value as T[K];
}

/**
 * The vote maps (recvset, outofelection) are copy-on-write: a store replaces the whole map with a
 * plain object, so that counting votes never goes through immer proxies (the hot path of FLE).
 */
export function withVote(votes: Readonly<Record<Sid, StoredVote>>, sid: Sid, vote: StoredVote): Record<Sid, StoredVote> {
  const next: Record<Sid, StoredVote> = { ...votes };
  next[sid] = vote;
  // Frozen, so immer's finalize does not walk into it looking for drafts.
  return Object.freeze(next);
}
