/**
 * The node contract: what a server receives (Input), what it asks the kernel to do (Effect), what
 * survives a crash (DurableImage) and what does not (ServerState). Everything here is plain,
 * JSON-serialisable data so that the kernel can trace it and tests can deep-freeze it.
 */
import type { Sid } from './config.ts';
import type { DataTree, Txn, TxnOrigin } from './datatree.ts';
import type { Db, SnapshotThread } from './db.ts';
import type { Fifo } from './fifo.ts';
import type { Zxid } from './zxid.ts';

/** QuorumPeer.ServerState (zab-protocol.md §1.2). */
export type PeerStateName = 'LOOKING' | 'FOLLOWING' | 'LEADING' | 'OBSERVING';

/** QuorumPeer.ZabState (§1.2). */
export type ZabState = 'ELECTION' | 'DISCOVERY' | 'SYNCHRONIZATION' | 'BROADCAST';

// ---------------------------------------------------------------------------------------------
// Messages

/** FLE notification (§2.1). The sender's sid is not in the payload: it comes from the connection. */
export interface Notification {
  readonly type: 'NOTIFICATION';
  readonly state: PeerStateName;
  /** Proposed leader sid. */
  readonly leader: Sid;
  /** The proposed leader's zxid (the sender's lastLoggedZxid for its own vote). */
  readonly zxid: Zxid;
  /** The sender's round (logicalclock). */
  readonly electionEpoch: number;
  /** The proposed leader's currentEpoch. */
  readonly peerEpoch: number;
  /** Notification format version; ZooKeeper 3.9 sends 2. */
  readonly version: number;
}

/** FOLLOWERINFO (11) / OBSERVERINFO (16): the first packet of a learner connection (§2.2, §4). */
export interface LearnerInfo {
  readonly type: 'FOLLOWERINFO' | 'OBSERVERINFO';
  /** acceptedEpoch << 32. */
  readonly zxid: Zxid;
}

/** LEADERINFO (17), the paper's NEWEPOCH: newEpoch << 32 (§4). */
export interface LeaderInfo {
  readonly type: 'LEADERINFO';
  readonly zxid: Zxid;
}

/** ACKEPOCH (18): the learner's lastLoggedZxid and its currentEpoch, or -1 for an equal epoch. */
export interface AckEpoch {
  readonly type: 'ACKEPOCH';
  readonly zxid: Zxid;
  readonly currentEpoch: number;
}

/** DIFF (13) / TRUNC (14): the first sync packet (§5.1). */
export interface SyncOpPacket {
  readonly type: 'DIFF' | 'TRUNC';
  readonly zxid: Zxid;
}

/** SNAP (15): the leader's lastProcessedZxid and its serialized data tree. */
export interface SnapPacket {
  readonly type: 'SNAP';
  readonly zxid: Zxid;
  readonly tree: DataTree;
  /** The last txn the tree reflects (the label may be (e,0)). */
  readonly lastTxn?: Zxid;
}

/** NEWLEADER (10): newEpoch << 32, no history. */
export interface NewLeader {
  readonly type: 'NEWLEADER';
  readonly zxid: Zxid;
}

/** ACK (3): of NEWLEADER (counter 0), of a PROPOSAL, or of UPTODATE (e << 32, ignored). */
export interface Ack {
  readonly type: 'ACK';
  readonly zxid: Zxid;
}

/** UPTODATE (12): start serving. */
export interface UpToDate {
  readonly type: 'UPTODATE';
}

/** PROPOSAL (2) to followers, INFORM (8) to observers: a txn with its zxid. */
export interface TxnPacket {
  readonly type: 'PROPOSAL' | 'INFORM';
  readonly zxid: Zxid;
  readonly txn: Txn;
}

/** COMMIT (4). */
export interface Commit {
  readonly type: 'COMMIT';
  readonly zxid: Zxid;
}

/** A write or a `sync` a learner forwards to the leader. */
export type ForwardedRequest = { readonly kind: 'write'; readonly txn: Txn } | { readonly kind: 'sync'; readonly origin: TxnOrigin };

/** REQUEST (1). */
export interface RequestPacket {
  readonly type: 'REQUEST';
  readonly request: ForwardedRequest;
}

/** PING (5): the leader sends lastProposed; the learner echoes it with the sessions it saw. */
export interface Ping {
  readonly type: 'PING';
  readonly zxid: Zxid;
  readonly sessions?: readonly number[];
}

/** SYNC (7): the leader's answer to a forwarded `sync`, sent once it is safe to read. */
export interface SyncReply {
  readonly type: 'SYNC';
  readonly origin: TxnOrigin;
}

/** Every message a server can send. */
export type Message =
  | Notification
  | LearnerInfo
  | LeaderInfo
  | AckEpoch
  | SyncOpPacket
  | SnapPacket
  | NewLeader
  | Ack
  | UpToDate
  | TxnPacket
  | Commit
  | RequestPacket
  | Ping
  | SyncReply;

export type MessageType = Message['type'];

/**
 * The two kinds of connection ZooKeeper keeps between servers: the election connections of
 * QuorumCnxManager (one per pair, reconnected on the next send) and the learner connections of
 * the quorum port (opened by FOLLOWERINFO/OBSERVERINFO, dead until reopened once broken).
 */
export type Lane = 'election' | 'quorum';

export function laneOf(msg: Message): Lane {
  return msg.type === 'NOTIFICATION' ? 'election' : 'quorum';
}

/** True for the packet a learner opens its connection with. */
export function opensConnection(msg: Message): boolean {
  return msg.type === 'FOLLOWERINFO' || msg.type === 'OBSERVERINFO';
}

// ---------------------------------------------------------------------------------------------
// Durable state

/** A transaction as it sits in the txn log. */
export interface LogEntry {
  readonly zxid: Zxid;
  readonly txn: Txn;
}

/**
 * A snapshot of the data tree, labelled (like ZooKeeper's snapshot file name) with the server's
 * lastProcessedZxid. That label can be a new-epoch zxid (e,0) (§1.1's quirk), so the snapshot
 * also records the zxid of the last txn it really reflects; absent, it equals the label.
 */
export interface Snapshot {
  readonly zxid: Zxid;
  readonly data: DataTree;
  readonly lastTxn?: Zxid;
  /**
   * On a disk only: the file fails its CRC (a storage fault), so FileSnap.deserialize skips it
   * and tries the previous one. Absent: the file reads back whole.
   */
  readonly corrupt?: boolean;
}

/** The epoch files, each replaced atomically through a `.tmp` file (§1.1). */
export type EpochFile = 'acceptedEpoch' | 'currentEpoch';

/**
 * What survives a crash: exactly the writes whose fsync completed. Owned and mutated by the
 * kernel's disk; the protocol only reads it, at start.
 */
export interface DurableImage {
  readonly log: readonly LogEntry[];
  /** Every snapshot written, oldest first; start-up loads the newest. */
  readonly snapshots: readonly Snapshot[];
  /** null: the file does not exist (a fresh data directory). */
  readonly acceptedEpoch: number | null;
  readonly currentEpoch: number | null;
  /** A `.tmp` file left behind by a crash between its fsync and its rename. */
  readonly acceptedEpochTmp: number | null;
  readonly currentEpochTmp: number | null;
  /**
   * The `updatingEpoch` marker file (ZooKeeper 3.4.6's fix for ZOOKEEPER-1653): it exists while a
   * learner is between the first write of its NEWLEADER steps and its currentEpoch write.
   */
  readonly updatingEpoch: boolean;
  /**
   * A damaged record after the last whole txn of the log, left by a crash that caught an unsynced
   * append half written (a storage fault): `torn`, a partial record FileTxnLog's reader takes as
   * the end of the file; `corrupt`, a whole-length record whose CRC does not match, on which the
   * reader throws "CRC check failed". Absent or null: the log ends cleanly.
   */
  readonly damagedTail?: DamagedTail | null;
}

/** How a crash left the record after the log's last whole txn (see DurableImage.damagedTail). */
export type DamagedTail = 'torn' | 'corrupt';

/** A write the protocol asks for; the kernel reports its fsync with the token. */
export type PersistOp =
  | { readonly op: 'appendLog'; readonly entry: LogEntry }
  /** Cut the log after zxid; unless keepNewerSnapshots, also delete snapshots reflecting txns after it. */
  | { readonly op: 'truncateLog'; readonly zxid: Zxid; readonly keepNewerSnapshots?: boolean; readonly keepFirstAbove?: boolean }
  /** `noFsync`: written without an fsync (FileTxnSnapLog.save(..., syncSnap = false) of `snapshot.0`). */
  | { readonly op: 'snapshot'; readonly snapshot: Snapshot; readonly noFsync?: boolean }
  | { readonly op: 'writeEpoch'; readonly file: EpochFile; readonly value: number }
  /** Create (`exists`) or delete the `updatingEpoch` marker file. */
  | { readonly op: 'updatingEpoch'; readonly exists: boolean }
  /**
   * PurgeTxnLog.purge: delete all but the newest `snapRetainCount` snapshots, and the txn log
   * files before the one holding `logFrom` (every txn below it). File deletions: no fsync.
   */
  | { readonly op: 'purge'; readonly snapRetainCount: number; readonly logFrom: Zxid };

// ---------------------------------------------------------------------------------------------
// Clients

export type ClientOpKind = 'createSession' | 'closeSession' | 'create' | 'setData' | 'delete' | 'read' | 'sync' | 'ping';

/** One client operation as it reaches the server the client is connected to. */
export interface ClientRequest {
  readonly client: number;
  /** Per-client operation number (ZooKeeper's cxid). */
  readonly cxid: number;
  /** The client's session id (0 before it has one). */
  readonly session: number;
  readonly op: ClientOpKind;
  readonly path: string;
  readonly data?: string;
  /** Expected version for setData/delete; -1 matches any. */
  readonly version?: number;
  readonly ephemeral?: boolean;
  readonly sequential?: boolean;
  /** Session timeout asked for by createSession. */
  readonly timeoutMs?: number;
  /** The newest zxid the client has seen (ZooKeeper's ConnectRequest.lastZxidSeen). */
  readonly lastZxidSeen?: Zxid;
}

export interface ClientReply {
  readonly client: number;
  readonly cxid: number;
  readonly ok: boolean;
  /** ZooKeeper error code name when !ok, e.g. CONNECTIONLOSS, NONODE, BADVERSION. */
  readonly error?: string;
  /** For a read: the value (null when the node does not exist). */
  readonly value?: string | null;
  /** For a create: the created path (sequential names are decided at apply time). */
  readonly path?: string;
  /** The zxid of the txn (writes) or the zxid the answering server had applied (reads, sync). */
  readonly zxid: Zxid;
}

// ---------------------------------------------------------------------------------------------
// Inputs and effects

/** Timer names: a fixed name, or a name with a peer suffix such as `handler.readTimeout.3`. */
export type TimerName = string;

export type Input =
  /** Process start with the durable image (fresh, or what a crash left). */
  | { readonly kind: 'start'; readonly durable: DurableImage }
  | { readonly kind: 'message'; readonly from: Sid; readonly msg: Message }
  | { readonly kind: 'timer'; readonly timer: TimerName }
  | { readonly kind: 'fsyncDone'; readonly token: number }
  /**
   * The write with this token failed (an injected storage fault: an I/O error at its fsync, or a
   * full disk); the image does not have it. `durable` is the image as it stands, from which the
   * server restores what the failed write would have changed (QuorumPeer.setAcceptedEpoch sets
   * the field only after its file is written).
   */
  | { readonly kind: 'writeFailed'; readonly token: number; readonly write: PersistOp; readonly durable: DurableImage }
  /** The quorum connection with `peer` was closed or reset. */
  | { readonly kind: 'disconnected'; readonly peer: Sid }
  | { readonly kind: 'clientRequest'; readonly request: ClientRequest }
  /**
   * The role's thread failed (an unexpected exception, such as an IOException outside the
   * modelled ones): QuorumPeer.run shuts the role down and looks for a leader. Only a scenario's
   * `force sN LOOKING` sends it.
   */
  | { readonly kind: 'roleFailed'; readonly reason: string }
  /** A thread of this server gets the CPU: it runs one step over its queue (issue 11 §1). */
  | { readonly kind: 'stage'; readonly stage: StageName };

export type InputKind = Input['kind'];

export type Effect =
  | { readonly kind: 'send'; readonly to: Sid; readonly msg: Message }
  | { readonly kind: 'persist'; readonly token: number; readonly write: PersistOp }
  /** Sets (or re-arms) the named timer; the kernel adds a uniform [0, jitterMs) delay if given. */
  | { readonly kind: 'setTimer'; readonly timer: TimerName; readonly delayMs: number; readonly jitterMs?: number }
  | { readonly kind: 'cancelTimer'; readonly timer: TimerName }
  /** Close the quorum connection with `peer` (the peer learns it as `disconnected`). */
  | { readonly kind: 'disconnect'; readonly peer: Sid }
  | { readonly kind: 'reply'; readonly reply: ClientReply }
  /** A decision worth showing in the trace, e.g. why a message was ignored. */
  | { readonly kind: 'note'; readonly text: string }
  /** The process exits (ZooKeeper calls System.exit or refuses to start): the kernel crashes it. */
  | { readonly kind: 'halt'; readonly reason: string }
  /**
   * Work was queued for a thread that was idle: the kernel schedules its step (a `stage` input)
   * as an event of its own, after a delay drawn from the `threads` stream (a descheduled thread).
   */
  | { readonly kind: 'wake'; readonly stage: StageName }
  /**
   * Writes issued after `afterToken` were never issued after all (the synchronous write at
   * `afterToken` failed first): the disk drops them, pending, except purges (another thread's).
   */
  | { readonly kind: 'dropWrites'; readonly afterToken: number };

/**
 * The threads of a server the kernel schedules on their own (docs/protocol.md, "Threads and
 * queues"). `logWriter` is the learner's SyncRequestProcessor (queue, group flush) followed by
 * SendAckRequestProcessor; `commitProcessor` is the learner's CommitProcessor followed by its
 * FinalRequestProcessor (commit, then apply); `protocol` is the learner's protocol thread resuming after it yielded
 * the CPU between two of its own steps (a finer grain, used where a bug needs it).
 */
export type StageName = 'logWriter' | 'protocol' | 'commitProcessor' | `handler.${number}`;

// ---------------------------------------------------------------------------------------------
// Volatile state

/** A vote (id, zxid, electionEpoch, peerEpoch), as FLE's Vote class. */
export interface Vote {
  readonly leader: Sid;
  readonly zxid: Zxid;
  readonly electionEpoch: number;
  readonly peerEpoch: number;
}

/** A vote stored in recvset/outofelection: it keeps the sender's state and notification version. */
export interface StoredVote extends Vote {
  readonly state: PeerStateName;
  readonly version: number;
}

/** FastLeaderElection's state (§1.2). */
export interface ElectionState {
  /** The round; 0 in a new process, +1 per lookForLeader. */
  logicalclock: number;
  proposedLeader: Sid;
  proposedZxid: Zxid;
  proposedEpoch: number;
  /** Current-round votes by sender sid. */
  recvset: Record<Sid, StoredVote>;
  /** FOLLOWING/LEADING votes from any round, by sender sid. */
  outofelection: Record<Sid, StoredVote>;
  /** The poll timeout: 200 ms doubling to 60 s, never reset within a round. */
  notTimeoutMs: number;
  /** True while polling with finalizeWait after the proposal reached a quorum. */
  finalizing: boolean;
  /** True while lookForLeader runs (false during an observer's pre-election delay). */
  running: boolean;
  /** recvqueue contents received while LOOKING but before lookForLeader started. */
  queued: { from: Sid; n: Notification }[];
}

/** ZooKeeper's SyncLimitCheck: tracks the oldest two PROPOSALs sent to a learner and not ACKed. */
export interface SyncLimitCheck {
  started: boolean;
  currentZxid: Zxid;
  /** Leader clock (ms) when it was sent; 0 when none is outstanding. */
  currentTime: number;
  nextZxid: Zxid;
  nextTime: number;
}

/**
 * Where a LearnerHandler is in its life: `epoch`, waiting for the epoch decision before
 * LEADERINFO (Leader.getEpochToPropose); `ackepoch`, LEADERINFO sent, waiting for the learner's
 * ACKEPOCH; `epoch-quorum`, its ACKEPOCH read, waiting for a quorum of them
 * (Leader.waitForEpochAck); `sync` (sync stream and NEWLEADER queued, waiting for the NEWLEADER
 * ACK); `synced` (waiting for the leader to start up before UPTODATE); or `broadcast` (UPTODATE
 * sent).
 */
export type HandlerStage = 'epoch' | 'ackepoch' | 'epoch-quorum' | 'sync' | 'synced' | 'broadcast';

/** The leader's view of one learner connection (LearnerHandler, §1.2, §7). */
export interface LearnerHandler {
  readonly sid: Sid;
  readonly observer: boolean;
  stage: HandlerStage;
  /** The learner's acceptedEpoch from FOLLOWERINFO. */
  readonly acceptedEpoch: number;
  /** The learner's last zxid from ACKEPOCH. */
  peerLastZxid: Zxid;
  /** tickOfNextAckDeadline: the handler is synced while tick <= this. */
  deadlineTick: number;
  /** In forwardingFollowers / observingLearners: live broadcasts go to it. */
  forwarding: boolean;
  syncCheck: SyncLimitCheck;
  /**
   * A SNAP sync still on the handler's own thread (LearnerHandler.run between syncFollower and
   * startSendingPackets), or null: while it is set, packets for the learner wait in its queue.
   */
  snapSync: HandlerSnapSync | null;
}

/**
 * The LearnerHandler thread's SNAP sync (learnerhandler.ts): the step it runs next, and
 * `queuedPackets`, which its sender thread starts writing only after the snapshot.
 */
export interface HandlerSnapSync {
  /** `newleader`: where releases before 3.5.5 queue NEWLEADER; `serialize`: the snapshot is serialised and the queue starts. */
  step: 'newleader' | 'serialize';
  queuedPackets: Message[];
  /**
   * The SNAP's label (`zxidToSend = getDataTreeLastProcessedZxid()`), read on the first step, before
   * the tree is serialised on the second: commits applied in between show in the tree (a fuzzy
   * SNAP). null until read.
   */
  label: Zxid | null;
}

/** An outstanding proposal: logged and sent, not yet committed. */
export interface Proposal {
  readonly zxid: Zxid;
  readonly txn: Txn;
  /** Voters (the leader included once its fsync is done) that ACKed it. */
  readonly acks: readonly Sid[];
}

/** A `sync` waiting for the leader's last proposal at request time to commit. */
export interface PendingSync {
  readonly waitFor: Zxid;
  readonly origin: TxnOrigin;
}

/** Leader-only state (Leader.java). */
export interface LeaderState {
  /** Leader.tick: incremented every second ping wake-up, once established. */
  tick: number;
  /** Ping wake-ups since establishment; the leader clock is wakeups · tickTime/2. */
  wakeups: number;
  /** getEpochToPropose's running value, then the new epoch; -1 before anyone called it. */
  epoch: number;
  /** The epoch is decided (a quorum connected) and acceptedEpoch was written. */
  epochDecided: boolean;
  /** acceptedEpoch := epoch is durable: LEADERINFO may be sent. */
  epochDurable: boolean;
  /** Voters (the leader included) that called getEpochToPropose before the decision. */
  connecting: readonly Sid[];
  /** leaderStateSummary: (currentEpoch, lastZxid) when leading started. */
  readonly summaryEpoch: number;
  readonly summaryZxid: Zxid;
  /** Voters whose ACKEPOCH counts (waitForEpochAck), the leader included. */
  electing: readonly Sid[];
  /** A quorum ACKed the epoch: SYNCHRONIZATION. */
  electionFinished: boolean;
  /** Voters that ACKed NEWLEADER (the leader included). */
  newLeaderAcks: readonly Sid[];
  /** A quorum ACKed NEWLEADER: BROADCAST. */
  established: boolean;
  lastProposed: Zxid;
  lastCommitted: Zxid;
  /** Outstanding proposals in zxid order. */
  outstanding: Fifo<Proposal>;
  /**
   * Leader.toBeApplied: committed proposals its CommitProcessor has not yet applied, in zxid
   * order (ToBeAppliedRequestProcessor removes each once FinalRequestProcessor applied it).
   * startForwarding sends them to a learner as PROPOSAL and COMMIT.
   */
  toBeApplied: Fifo<Proposal>;
  pendingSyncs: Fifo<PendingSync>;
  /** Learner handlers by sid. */
  learners: Record<Sid, LearnerHandler>;
  /** Session expiry times on the leader clock (SessionTracker). */
  sessionExpiry: Record<number, number>;
}

/** The learner's sync buffers (Learner.syncWithLeader). */
export interface LearnerSync {
  /** Set by the first packet: DIFF, SNAP or TRUNC. */
  mode: 'DIFF' | 'SNAP' | 'TRUNC' | null;
  newLeaderSeen: boolean;
  newEpoch: number;
  /** Proposals (and observers' INFORMs) received and not yet logged. */
  packetsNotLogged: Fifo<LogEntry>;
  /** COMMIT zxids held back (DIFF mode before NEWLEADER, every mode after it). */
  packetsCommitted: Zxid[];
  /** The database before a SNAP was loaded: an aborted SNAP sync goes back to it (ZOOKEEPER-3642). */
  preSnapDb: Db | null;
  /** The DIFF header's zxid (the leader's last committed zxid), or null before a DIFF. */
  diffZxid: Zxid | null;
  /**
   * SNAP mode before NEWLEADER: txns at or below what the SNAP's tree reflects that were committed
   * since (DataTree.processTxn applies them again), while the replay has not yet reached the
   * snapshot's last txn (ZOOKEEPER-3104, sync.ts:applyNow).
   */
  replayed: LogEntry[];
  /**
   * The NEWLEADER handling created the `updatingEpoch` marker with write `token`; what memory held
   * before it. ZooKeeper's `createNewFile` is synchronous and throws before anything after it runs,
   * so a failed marker drops the writes issued after it and puts these back (docs/protocol.md,
   * Storage faults, "Failing updatingEpoch marker").
   */
  marker: NewLeaderMarker | null;
}

/** What the learner held when it created the updatingEpoch marker at NEWLEADER. */
export interface NewLeaderMarker {
  readonly token: number;
  readonly db: Db;
  readonly preSnapDb: Db | null;
  readonly currentEpoch: number;
  readonly logQueue: LogWriterState['queue'];
}

/** What a learner's protocol thread is blocked on: a synchronous disk write. */
export type LearnerBlock = 'ackepoch' | 'trunc' | 'newleader-log' | 'newleader-epoch' | 'yield';

/** Follower/observer-only state (Learner.java). */
export interface LearnerState {
  readonly leader: Sid;
  /** True once a packet from the leader arrived on this connection. */
  connected: boolean;
  /** Connection attempts so far (Learner.connectToLeader makes at most 5). */
  connectTries: number;
  /** Discovery (FOLLOWERINFO sent), sync (after ACKEPOCH) or broadcast (after UPTODATE). */
  phase: 'discovery' | 'sync' | 'broadcast';
  /** The epoch announced in LEADERINFO. */
  newEpoch: number;
  /** The synchronous write the learner waits for; packets from the leader queue meanwhile. */
  blocked: { readonly on: LearnerBlock; readonly token: number } | null;
  /** Where the NEWLEADER steps resume once the blocking write is durable. */
  resume: number | null;
  inbox: Fifo<Message>;
  sync: LearnerSync;
  /** Followers: logged proposals awaiting COMMIT, in zxid order. */
  pendingTxns: Fifo<LogEntry>;
  /** Sessions whose clients were heard from since the last PING reply. */
  touched: number[];
}

/** What a pending persist token means to the protocol when its fsync is reported. */
export type PendingWrite =
  | { readonly kind: 'block'; readonly role: number }
  | { readonly kind: 'ack'; readonly role: number; readonly zxid: Zxid }
  | { readonly kind: 'leaderAck'; readonly role: number; readonly zxid: Zxid }
  | { readonly kind: 'leaderAcceptedEpoch'; readonly role: number }
  | { readonly kind: 'leaderCurrentEpoch'; readonly role: number }
  /** An epoch file written by QuorumPeer.loadDataBase at start-up: its failure stops the process. */
  | { readonly kind: 'startup'; readonly role: number };

/** A pending write and its persist token. */
export interface PendingEntry {
  readonly token: number;
  readonly write: PendingWrite;
}

/** A txn handed to the log writer (SyncRequestProcessor.processRequest). */
export interface QueuedTxn {
  readonly entry: LogEntry;
  /** The role that queued it: an ACK is sent only while that role lasts. */
  readonly role: number;
  /** SendAckRequestProcessor ACKs it after the flush (a follower's proposals). */
  readonly ack: boolean;
}

/** SyncRequestProcessor's thread: its queue (queuedRequests), volatile, lost in a crash. */
export interface LogWriterState {
  queue: Fifo<QueuedTxn>;
  /** A `wake` effect is outstanding: the kernel will run the writer's step. */
  woken: boolean;
}

/** A request handed to the CommitProcessor: a committed txn to apply, or a `sync` to answer. */
export interface CommitItem {
  /** The txn to apply, or null for a `sync` reply. */
  readonly entry: LogEntry | null;
  /** The `sync` to answer (entry null). */
  readonly origin: TxnOrigin | null;
  /** The role that queued it (a role change drops the queue). */
  readonly role: number;
}

/** The CommitProcessor's thread: its queue (committedRequests), volatile, lost in a crash. */
export interface CommitProcessorState {
  queue: Fifo<CommitItem>;
  /** A `wake` effect is outstanding: the kernel will run the processor's step. */
  woken: boolean;
}

/** Everything a server holds in memory. Rebuilt from the DurableImage at start. */
export interface ServerState {
  readonly sid: Sid;
  /** False until the `start` input (and after a halt). */
  up: boolean;
  state: PeerStateName;
  zabState: ZabState;
  /** In-memory copies of the epoch files (ahead of the disk while a write is pending). */
  acceptedEpoch: number;
  currentEpoch: number;
  /** QuorumPeer.currentVote: the last decided vote (or the initial one). */
  currentVote: Vote;
  fle: ElectionState;
  /** The in-memory database; its lastProcessedZxid is the zxid this server votes with. */
  db: Db;
  leader: LeaderState | null;
  learner: LearnerState | null;
  /** Counts role entries; a pending write remembers the role it belongs to. */
  role: number;
  /** Next token for a persist effect. */
  nextToken: number;
  /**
   * The newest token whose fsync was reported. The disk completes writes in submission (token)
   * order, so every write is durable when this is nextToken - 1.
   */
  durableToken: number;
  /**
   * A role ended with writes still pending: the election waits until they are durable, as
   * ZooKeeper's shutdown flushes SyncRequestProcessor before the server looks for a leader.
   */
  flushing: boolean;
  /**
   * Persist tokens whose fsync matters to the protocol, oldest first (persist.ts): a few at a
   * time, replaced whole on a change (a record keyed by ever-growing tokens, written and deleted
   * at every fsync, cost a slow copy per step).
   */
  writes: readonly PendingEntry[];
  /** Number of snapshots this server took (varies the next snapshot's threshold). */
  snapshotsTaken: number;
  /**
   * SyncRequestProcessor's "Snapshot Thread" while it serialises the tree (a fuzzy snapshot,
   * persist.ts:maybeSnapshot); null when none runs.
   */
  snapThread: SnapshotThread | null;
  /** The learner's log writer thread; it outlives a role (its queue is drained or fenced then). */
  logWriter: LogWriterState;
  /** The learner's commit/apply path (CommitProcessor, FinalRequestProcessor). */
  commitProcessor: CommitProcessorState;
}
