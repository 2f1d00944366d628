/**
 * The node contract: what a server receives (Input), what it asks the kernel to do (Effect), what
 * survives a crash (DurableImage) and what does not (ServerState). Everything here is plain,
 * JSON-serialisable data so that the kernel can trace it and tests can deep-freeze it.
 */
import type { Sid } from './config.ts';
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

/** PING (5): the leader sends lastProposed; the learner echoes it (§2.2, §7). */
export interface Ping {
  readonly type: 'PING';
  readonly zxid: Zxid;
}

/** Every message a server can send. Later phases extend this union. */
export type Message = Notification | LearnerInfo | Ping;

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

/** A transaction as it sits in the txn log. The payload grows with the data tree (issue 3). */
export interface LogEntry {
  readonly zxid: Zxid;
  readonly txn: unknown;
}

/** A snapshot of the data tree, tagged with the zxid of the last txn it reflects. */
export interface Snapshot {
  readonly zxid: Zxid;
  readonly data: unknown;
}

/** The epoch files, each replaced atomically through a `.tmp` file (§1.1). */
export type EpochFile = 'acceptedEpoch' | 'currentEpoch';

/**
 * What survives a crash: exactly the writes whose fsync completed. Owned and mutated by the
 * kernel's disk; the protocol only reads it, at start.
 */
export interface DurableImage {
  readonly log: readonly LogEntry[];
  readonly snapshot: Snapshot | null;
  /** null: the file does not exist (a fresh data directory). */
  readonly acceptedEpoch: number | null;
  readonly currentEpoch: number | null;
  /** A `.tmp` file left behind by a crash between its fsync and its rename. */
  readonly acceptedEpochTmp: number | null;
  readonly currentEpochTmp: number | null;
}

/** A write the protocol asks for; the kernel reports its fsync with the token. */
export type PersistOp =
  | { readonly op: 'appendLog'; readonly entry: LogEntry }
  | { readonly op: 'truncateLog'; readonly zxid: Zxid }
  | { readonly op: 'snapshot'; readonly snapshot: Snapshot }
  | { readonly op: 'writeEpoch'; readonly file: EpochFile; readonly value: number };

// ---------------------------------------------------------------------------------------------
// Clients

export type ClientOpKind = 'write' | 'read' | 'sync';

export interface ClientRequest {
  readonly client: number;
  /** Per-client operation number (ZooKeeper's cxid). */
  readonly cxid: number;
  readonly op: ClientOpKind;
  readonly path: string;
  readonly value?: string;
}

export interface ClientReply {
  readonly client: number;
  readonly cxid: number;
  readonly ok: boolean;
  /** ZooKeeper error code name when !ok, e.g. CONNECTIONLOSS. */
  readonly error?: string;
  readonly value?: string | null;
  /** The zxid the answering server had applied. */
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
  /** The quorum connection with `peer` was closed or reset. */
  | { readonly kind: 'disconnected'; readonly peer: Sid }
  | { readonly kind: 'clientRequest'; readonly request: ClientRequest };

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
  | { readonly kind: 'halt'; readonly reason: string };

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

/** The leader's view of one learner connection (LearnerHandler, §1.2, §7). */
export interface LearnerHandler {
  readonly sid: Sid;
  readonly observer: boolean;
  /** tickOfNextAckDeadline: the handler is synced while tick <= this. */
  deadlineTick: number;
}

/** Leader-only state (Leader.java). */
export interface LeaderState {
  /** Leader.tick: incremented every second ping wake-up. */
  tick: number;
  /** Ping wake-ups since leading started; every second one advances `tick`. */
  wakeups: number;
  /** True once a quorum of voters (with the leader) connected and the ping loop runs. */
  quorumFormed: boolean;
  /** Learner handlers by sid. */
  learners: Record<Sid, LearnerHandler>;
}

/** Follower/observer-only state (Learner.java). */
export interface LearnerState {
  readonly leader: Sid;
  /** True once a packet from the leader arrived on this connection. */
  connected: boolean;
  /** Connection attempts so far (Learner.connectToLeader makes at most 5). */
  connectTries: number;
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
  /** lastLoggedZxid: the last txn in the log after replay (§1.1). */
  lastLoggedZxid: Zxid;
  /** QuorumPeer.currentVote: the last decided vote (or the initial one). */
  currentVote: Vote;
  fle: ElectionState;
  leader: LeaderState | null;
  learner: LearnerState | null;
  /** Next token for a persist effect. */
  nextToken: number;
}
