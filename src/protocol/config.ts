/**
 * Static cluster configuration shared by every server of a run. It never changes during a run
 * (dynamic reconfiguration is out of scope), so servers hold a reference to one frozen object.
 */
export type Sid = number;

/** Time and protocol constants, named as in ZooKeeper with units last (zab-protocol.md §9). */
export interface ProtocolParams {
  /** tickTime; ZooKeeper's sample config uses 2000 ms. */
  tickTimeMs: number;
  /** initLimit, in ticks: Discovery/Sync waits and the learner's read timeout before NEWLEADER. */
  initLimitTicks: number;
  /** syncLimit, in ticks: the learner's read timeout after NEWLEADER, the leader's learner deadline. */
  syncLimitTicks: number;
  /** FLE finalizeWait. */
  finalizeWaitMs: number;
  /** FLE notification timeout, initial value (minNotificationInterval). */
  minNotificationIntervalMs: number;
  /** FLE notification timeout cap (maxNotificationInterval). */
  maxNotificationIntervalMs: number;
  /** An observer that lost its leader waits a random [0, this) ms before LOOKING (Observer.java). */
  observerElectionDelayMs: number;
  /** commitLogCount: committed txns kept in memory for DIFF sync (ZKDatabase, §9). */
  commitLogCount: number;
  /** snapCount: a snapshot is taken after a count of txns in [snapCount/2+1, snapCount] (§9). */
  snapCount: number;
  /** snapshotSizeFactor: txn-log sync while the log to send is below this × snapshot size (§5.1). */
  snapshotSizeFactor: number;
  /** The leader gives up and a new election starts when a zxid counter would reach this (§6). */
  zxidCounterLimit: number;
  /** autopurge.snapRetainCount: a purge keeps this many newest snapshots and the log files they need (>= 3 in ZooKeeper). */
  snapRetainCount: number;
  /** autopurge.purgeInterval, in virtual ms (hours in ZooKeeper): how often a server purges; 0: never. */
  purgeIntervalMs: number;
  /**
   * zookeeper.snapshot.trust.empty (ZOOKEEPER-3056): 1 starts a server whose disk has a txn log
   * but no snapshot by replaying the log from an empty tree; 0 (ZooKeeper's default) refuses.
   */
  snapshotTrustEmpty: number;
}

/** Switches that reintroduce real ZooKeeper bugs (zab-bugs.md §5). All off = correct ZooKeeper. */
export interface Flaws {
  /** ZOOKEEPER-1419: vote comparison whose sid tie-break ignores the epoch (B3). */
  fle_epoch_unguarded_sid_tiebreak: boolean;
  /** ZOOKEEPER-3911: the follower ACKs NEWLEADER before the synced txns are durable (B9). */
  follower_ack_newleader_before_persist: boolean;
  /** ZOOKEEPER-4643: the follower writes currentEpoch before the synced txns are durable (B11). */
  follower_epoch_before_log_durable: boolean;
  /**
   * ZOOKEEPER-1549: TRUNC reloads the database from the newest snapshot even when it reflects
   * txns above the truncation point (a leader's start-of-lead snapshot of its uncommitted tail),
   * so the truncated txns stay in the tree. ZooKeeper 3.9 behaves so (ZKDatabase.truncateLog).
   */
  trunc_reload_newest_snapshot: boolean;
  /**
   * ZOOKEEPER-1653/2354 (B4): the learner's NEWLEADER steps write no `updatingEpoch` marker, so a
   * crash after its synced txns (or snapshot) are durable and before currentEpoch is written
   * leaves a server that refuses to start. ZooKeeper 3.9 behaves so; the marker is 3.4.6's fix.
   */
  newleader_no_epoch_marker: boolean;
  /**
   * The leader keeps a learner's ACKs of outstanding proposals when it syncs that learner again
   * and re-sends them, although a TRUNC may just have cut them from the learner's log: a txn can
   * then commit while durable on less than a quorum. ZooKeeper 3.9 behaves so (Proposal acks are
   * never withdrawn; Leader.removeLearnerHandler leaves them). A zabsim finding, no ticket known.
   */
  leader_keeps_acks_across_resync: boolean;
  /**
   * ZOOKEEPER-335 (B1), pre-Zab-1.0: a new leader takes epoch(its last logged zxid) + 1, and a
   * learner accepts any epoch not below its own last logged zxid's; the acceptedEpoch and
   * currentEpoch files are never read for the decision. Two leaders can reuse an epoch and zxids.
   */
  epoch_from_last_logged_zxid: boolean;
  /**
   * ZOOKEEPER-1154 (B2): syncFollower sends a DIFF whenever the learner's zxid lies within
   * committedLog, without walking it to find where the learner's history forks: a learner with
   * an uncommitted tail keeps it.
   */
  sync_diff_without_divergence_check: boolean;
  /**
   * ZOOKEEPER-2845 (B6): a server going LOOKING keeps its in-memory database without
   * fast-forwarding it from the txn log, and votes and ACKEPOCHs with that older zxid.
   */
  election_advertises_in_memory_zxid: boolean;
  /**
   * ZOOKEEPER-1277 (B16): the leader increments the zxid past the last counter value, so the
   * counter carries into the epoch half: zxids of an epoch nobody established.
   */
  zxid_counter_overflow_carries_into_epoch: boolean;
  /**
   * FileTxnLog.truncate as ZooKeeper 3.4-3.9 have it: a TRUNC to a zxid the learner's log lacks
   * keeps every txn up to it and also the first txn above it (the iterator stops on that txn and
   * the file is cut after it). zabsim cuts exactly at the zxid. A zabsim finding, no ticket known.
   */
  trunc_keeps_first_txn_above_target: boolean;
  /**
   * ZOOKEEPER-4646 (with ZOOKEEPER-3023, B10): at NEWLEADER the follower hands the txns committed
   * during the DIFF to its log writer (SyncRequestProcessor) and sends the NEWLEADER ACK without
   * waiting for them to be durable (3.8.0-3.8.4, 3.9.0-3.9.1).
   */
  follower_newleader_persist_async: boolean;
  /**
   * ZOOKEEPER-4712 (B14): a role change does not shut the follower's log writer down: the database
   * is fast-forwarded without the txns still queued to it, and the writer appends them later,
   * while the server already votes (or syncs) with the older zxid (up to 3.9.2).
   */
  shutdown_leaves_log_writer_running: boolean;
  /**
   * ZOOKEEPER-4685 (B12): at NEWLEADER the follower starts its processors and hands every buffered
   * DIFF proposal to its log writer, which ACKs each after its flush, before the protocol thread
   * writes the NEWLEADER ACK; a proposal ACK can reach the leader first, which then never counts
   * this follower's NEWLEADER ACK (3.8.0-3.8.4, 3.9.0-3.9.1, as those releases order NEWLEADER).
   */
  follower_starts_processors_before_newleader_ack: boolean;
  /**
   * ZOOKEEPER-3642 (B8): a learner whose SNAP sync ends before NEWLEADER keeps the snapshot it
   * loaded in memory (nothing of it is on disk) and votes and syncs from it; a DIFF then never
   * writes it, so a restart loses txns it acknowledged (3.5.x before 3.5.10, 3.6.x before 3.6.3).
   */
  learner_retains_partial_snap_on_abort: boolean;
  /**
   * ZOOKEEPER-2355 (B5): the learner sets lastProcessedZxid to the DIFF header's zxid when the
   * header arrives, before it has the txns that follow; a sync cut short leaves it claiming a zxid
   * it does not have, and the next sync is an empty DIFF (3.4.x before 3.4.11, 3.5.x before 3.5.4).
   */
  learner_sets_lastzxid_on_diff_header: boolean;
  /**
   * ZOOKEEPER-4394 (B13): at NEWLEADER the follower logs every buffered proposal, committed or
   * not, and clears the buffer (3.8.5's appendRequest loop; 3.5.9-3.8.4 hand them to the log
   * writer); a COMMIT the leader sends between NEWLEADER and UPTODATE then reads the head of the
   * empty buffer (`packetsNotCommitted.peekFirst().hdr`): NullPointerException, the follower
   * leaves its leader and elects again (3.5.9 on, up to 3.9.2; never fixed on branch-3.8).
   */
  follower_newleader_clears_pending: boolean;
  /**
   * ZOOKEEPER-4925 (B15): the learner applies the txns of its sync through the
   * `processTxn(hdr, txn)` variant that skips `ZKDatabase.addCommittedProposal`, so a server that
   * caught up by DIFF has a hole in its committedLog; as leader it builds a DIFF from it that
   * skips the hole (3.9.3 only).
   */
  learner_sync_skips_committedlog_append: boolean;
  /**
   * ZOOKEEPER-3104 (B7): the leader's LearnerHandler queues NEWLEADER before it serialises the SNAP,
   * so commits made in between reach the learner after NEWLEADER, and its NEWLEADER snapshot holds
   * the SNAP's tree with only part of the replay applied over it (3.4.x, 3.5.x before 3.5.5).
   */
  leader_queues_newleader_before_snapshot: boolean;
  /**
   * syncFollower's rule 2 TRUNCs a learner to maxCommittedLog (the last txn the leader applied)
   * although the leader has committed, and not yet applied, txns the learner logged (toBeApplied):
   * the TRUNC cuts committed txns, which startForwarding then re-sends. ZooKeeper 3.9 behaves so.
   * A zabsim finding, no ticket known; zabsim's default syncs such a learner without the cut.
   */
  sync_trunc_cuts_to_be_applied: boolean;
}

export interface ClusterConfig {
  /** Voting members (participants), ascending. */
  readonly voters: readonly Sid[];
  /** Observers, ascending. */
  readonly observers: readonly Sid[];
  readonly params: Readonly<ProtocolParams>;
  readonly flaws: Readonly<Flaws>;
}

export const DEFAULT_PARAMS: Readonly<ProtocolParams> = Object.freeze({
  tickTimeMs: 2000,
  initLimitTicks: 10,
  syncLimitTicks: 5,
  finalizeWaitMs: 200,
  minNotificationIntervalMs: 200,
  maxNotificationIntervalMs: 60_000,
  observerElectionDelayMs: 200,
  commitLogCount: 500,
  snapCount: 100,
  snapshotSizeFactor: 0.33,
  zxidCounterLimit: 0xffff_ffff,
  snapRetainCount: 3,
  purgeIntervalMs: 60_000,
  snapshotTrustEmpty: 0,
});

export const NO_FLAWS: Readonly<Flaws> = Object.freeze({
  fle_epoch_unguarded_sid_tiebreak: false,
  follower_ack_newleader_before_persist: false,
  follower_epoch_before_log_durable: false,
  trunc_reload_newest_snapshot: false,
  newleader_no_epoch_marker: false,
  leader_keeps_acks_across_resync: false,
  epoch_from_last_logged_zxid: false,
  sync_diff_without_divergence_check: false,
  election_advertises_in_memory_zxid: false,
  zxid_counter_overflow_carries_into_epoch: false,
  trunc_keeps_first_txn_above_target: false,
  follower_newleader_persist_async: false,
  shutdown_leaves_log_writer_running: false,
  follower_starts_processors_before_newleader_ack: false,
  learner_retains_partial_snap_on_abort: false,
  learner_sets_lastzxid_on_diff_header: false,
  follower_newleader_clears_pending: false,
  learner_sync_skips_committedlog_append: false,
  leader_queues_newleader_before_snapshot: false,
  sync_trunc_cuts_to_be_applied: false,
});

/** Names of the flaw switches, for the CLI and docs. */
export const FLAW_NAMES = Object.keys(NO_FLAWS) as (keyof Flaws)[];

/** Builds a configuration with voters s1..sN and observers s(N+1)..s(N+M). */
export function makeClusterConfig(
  voterCount: number,
  observerCount = 0,
  params: Partial<ProtocolParams> = {},
  flaws: Partial<Flaws> = {},
): ClusterConfig {
  if (!Number.isInteger(voterCount) || voterCount < 1) {
    throw new Error(`makeClusterConfig: voterCount must be a positive integer, got ${voterCount}`);
  }
  const voters: Sid[] = [];
  for (let i = 1; i <= voterCount; i++) voters.push(i);
  const observers: Sid[] = [];
  for (let i = 1; i <= observerCount; i++) observers.push(voterCount + i);
  return Object.freeze({
    voters: Object.freeze(voters),
    observers: Object.freeze(observers),
    params: Object.freeze({ ...DEFAULT_PARAMS, ...params }),
    flaws: Object.freeze({ ...NO_FLAWS, ...flaws }),
  });
}

/**
 * The highest sid of the configuration: sids are 1..serverCount (voters, then observers), so a
 * loop over them is a counted loop (a for-in over a record keyed by sid collects its keys as
 * strings first: about 1 % of the broadcast workload's CPU profile, in the leader's two loops per txn).
 */
export function serverCount(cfg: ClusterConfig): number {
  return cfg.voters.length + cfg.observers.length;
}

/** Every server of the configuration, voters first. */
export function allServers(cfg: ClusterConfig): Sid[] {
  return [...cfg.voters, ...cfg.observers];
}

/** True when sid is a voting member (QuorumVerifier weight 1). */
export function isVoter(cfg: ClusterConfig, sid: Sid): boolean {
  // Voters are 1..N, so a range test is exact and O(1) on the hot path.
  return Number.isInteger(sid) && sid >= 1 && sid <= cfg.voters.length;
}

/** QuorumMaj: strictly more than half of the voters (§3.4). */
export function isQuorum(cfg: ClusterConfig, voterCount: number): boolean {
  return voterCount * 2 > cfg.voters.length;
}

/** Server name as printed everywhere: `s3`. */
export function serverName(sid: Sid): string {
  return `s${sid}`;
}
