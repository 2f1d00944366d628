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

/** The vote maps (recvset, outofelection) are never written: a store replaces the whole map. */
export function withVote(votes: Readonly<Record<Sid, StoredVote>>, sid: Sid, vote: StoredVote): Record<Sid, StoredVote> {
  const next: Record<Sid, StoredVote> = { ...votes };
  next[sid] = vote;
  return next;
}
