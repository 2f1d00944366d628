/**
 * A parsed scenario: the header (name, title, story, outcome), the setup, and the commands, each
 * carrying the line it came from so that a failure can point at it. docs/scenarios.md is the
 * reference of the text form.
 */
import type { Flaws, ProtocolParams, Sid } from '../protocol/config.ts';
import type { Txn } from '../protocol/datatree.ts';
import type { ClientOpKind, EpochFile, Message, MessageType, PeerStateName, ZabState } from '../protocol/types.ts';
import type { Zxid } from '../protocol/zxid.ts';
import type { DelayDist } from '../sim/rng.ts';

/** Where a command came from: the file, its 1-based line, the line's text without its comment. */
export interface Source {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

/** Matches messages by type, sender, receiver and zxid; an absent field matches anything. */
export interface MsgPattern {
  /** null: any type. */
  readonly types: readonly MessageType[] | null;
  readonly from: Sid | null;
  readonly to: Sid | null;
  readonly zxid: Zxid | null;
  /** The pattern as written, for messages. */
  readonly text: string;
}

/** A write a storage fault can fail, as the kernel names it (src/sim/disk.ts FailingOp). */
export type FailingWrite = 'appendLog' | 'truncateLog' | 'snapshot' | 'acceptedEpoch' | 'currentEpoch' | 'updatingEpoch';

/** Matches a disk write: a log append of a zxid, a truncate, a snapshot, or an epoch file. */
export type WritePattern =
  | { readonly op: 'appendLog'; readonly zxid: Zxid | null }
  | { readonly op: 'truncateLog' }
  | { readonly op: 'snapshot' }
  | { readonly op: 'writeEpoch'; readonly file: EpochFile; readonly value: number | null; readonly tmp: boolean };

/** A precise point at which a crash happens, relative to the crashing server's own actions. */
export type CrashPoint =
  /** Right after the write reached the disk, before the server hears of it. */
  | { readonly kind: 'fsync'; readonly write: WritePattern; readonly text: string }
  /** Right after the server handed a matching message to the network. */
  | { readonly kind: 'send'; readonly pat: MsgPattern }
  /** A matching message arrives: the server crashes instead of reading it. */
  | { readonly kind: 'beforeReceive'; readonly pat: MsgPattern }
  /** Right after the server processed a matching message (its effects went out). */
  | { readonly kind: 'afterReceive'; readonly pat: MsgPattern };

export type ZxidSet = 'logged' | 'applied' | 'committed';

/** A comparison of two numbers; `=` and `==` are the same. */
export type CmpOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** A number a condition can compare: a server's round or epochs, or a count. */
export type Quantity =
  /** FLE's logicalclock (the election round); the server must be up. */
  | { readonly kind: 'round'; readonly sid: Sid }
  /** An epoch in memory (`memory`), or in its file on disk (absent file: no number). */
  | { readonly kind: 'epoch'; readonly sid: Sid; readonly file: EpochFile; readonly memory: boolean }
  /** How many trace lines contain the text (since a mark). */
  | { readonly kind: 'traceCount'; readonly text: string; readonly since: string | null }
  /** How many zxids a set holds (sid null: the committed set). */
  | { readonly kind: 'setCount'; readonly sid: Sid | null; readonly set: ZxidSet };

/** A condition on the run: an expectation, or what `stabilize until` waits for. */
export type Pred =
  | { readonly kind: 'not'; readonly pred: Pred }
  | { readonly kind: 'compare'; readonly q: Quantity; readonly op: CmpOp; readonly value: number }
  /** sid follows (or observes) leader, in BROADCAST. */
  | { readonly kind: 'follows'; readonly sid: Sid; readonly leader: Sid }
  /** The server's current FLE proposal names this leader. */
  | { readonly kind: 'votes'; readonly sid: Sid; readonly leader: Sid }
  /** A server (sid null: every running server) has settled: see docs/scenarios.md. */
  | { readonly kind: 'settled'; readonly sid: Sid | null }
  | { readonly kind: 'role'; readonly sid: Sid; readonly state: PeerStateName | 'DOWN' | 'UP'; readonly phase: ZabState | null }
  | { readonly kind: 'leader'; readonly sid: Sid }
  | { readonly kind: 'quiet' }
  /** sid null: the committed set of the run. */
  | { readonly kind: 'zxids'; readonly sid: Sid | null; readonly set: ZxidSet; readonly op: '=' | 'has' | 'lacks'; readonly zxids: readonly Zxid[] }
  | { readonly kind: 'lastProcessed'; readonly sid: Sid; readonly zxid: Zxid }
  /** The znode's data; null: the znode does not exist; any: it exists, whatever its data. */
  | { readonly kind: 'value'; readonly sid: Sid; readonly path: string; readonly value: string | null; readonly any: boolean }
  | { readonly kind: 'agree'; readonly sids: readonly Sid[] }
  | { readonly kind: 'checkers' }
  | { readonly kind: 'violated'; readonly property: string }
  /** With `before`: the first line with `text` comes before any line with `before` (which may be absent). */
  | { readonly kind: 'trace'; readonly has: boolean; readonly text: string; readonly since: string | null; readonly before: string | null }
  | { readonly kind: 'reply'; readonly label: string; readonly outcome: string; readonly value: string | null | undefined };

/** A client operation; a scenario's clients are numbered in order of their sessions. */
export interface ClientOp {
  /** The server the request goes to; 0 for `close session` without `on`: the session's server. */
  readonly sid: Sid;
  readonly op: ClientOpKind;
  readonly path: string;
  readonly data?: string;
  readonly ephemeral?: boolean;
  readonly sequential?: boolean;
  readonly timeoutMs?: number;
  /** The named session it runs in (`in NAME`), or for `session open`/`close`, the session itself. */
  readonly session: string | null;
  /** `as NAME`: the name `expect reply NAME` refers to. */
  readonly label: string | null;
}

export type CommandBody =
  /** Empty: every server not started yet. */
  | { readonly kind: 'start'; readonly sids: readonly Sid[] }
  /** Crash each that is up, then start it again. */
  | { readonly kind: 'restart'; readonly sids: readonly Sid[] }
  /** Now, or at a point; `restart`: start it again right after (`restart sN after ...`). */
  | { readonly kind: 'crash'; readonly sid: Sid; readonly point: CrashPoint | null; readonly restart: boolean; readonly damage?: 'torn' | 'corrupt' }
  | { readonly kind: 'partition'; readonly links: readonly [Sid, Sid][]; readonly desc: string }
  | { readonly kind: 'heal' }
  | { readonly kind: 'slow'; readonly from: Sid; readonly to: Sid; readonly extraMs: number }
  /** The next write of this kind on sN fails (a storage fault: an I/O error at its fsync). */
  | { readonly kind: 'failWrite'; readonly sid: Sid; readonly op: FailingWrite }
  /** sN's disk is full (`full`) or has space again. */
  | { readonly kind: 'disk'; readonly sid: Sid; readonly full: boolean }
  /** An operator removes the corrupt record at the end of a down server's txn log. */
  | { readonly kind: 'repair'; readonly sid: Sid }
  /** A storage fault: sN's newest snapshot file that reads back (or the one labelled `zxid`, or `all`) fails its CRC from now on. */
  | { readonly kind: 'corruptSnapshot'; readonly sid: Sid; readonly zxid: Zxid | 'all' | null }
  | { readonly kind: 'hold' | 'deliver' | 'drop'; readonly pat: MsgPattern }
  | { readonly kind: 'release'; readonly pat: MsgPattern | null }
  | { readonly kind: 'holdFsync' | 'releaseFsync'; readonly sid: Sid }
  | { readonly kind: 'run'; readonly untilMs: number | null; readonly forMs: number | null }
  | { readonly kind: 'stabilize'; readonly until: Pred; readonly withinMs: number }
  | { readonly kind: 'mark'; readonly name: string }
  | { readonly kind: 'client'; readonly op: ClientOp }
  | { readonly kind: 'expect'; readonly pred: Pred }
  /** A crafted message enters the network as if `from` sent it now. */
  | { readonly kind: 'inject'; readonly from: Sid; readonly to: Sid; readonly msg: InjectMsg }
  /** Overwrite part of a running server's volatile state. */
  | { readonly kind: 'force'; readonly sid: Sid; readonly what: Force }
  /** A down server's disk becomes a fresh data directory. */
  | { readonly kind: 'wipe'; readonly sid: Sid };

/**
 * A message to inject. A SNAP's tree is taken when the line runs: a server's (`tree sN`), or the
 * empty tree (null).
 */
export type InjectMsg = { readonly msg: Message; readonly snapTreeOf?: Sid | null };

/** What `force` overwrites in a running server's memory. */
export type Force =
  /** Its FLE proposal (and round): what its next notifications carry. Absent fields are kept. */
  | { readonly kind: 'vote'; readonly leader: Sid | null; readonly zxid: Zxid | null; readonly peerEpoch: number | null; readonly round: number | null }
  /** The role's thread exits (as on an IOException): the server shuts the role down and looks for a leader. */
  | { readonly kind: 'looking' }
  /** The leader's zxid counter: the next proposal gets counter + 1. */
  | { readonly kind: 'zxidCounter'; readonly counter: number }
  /** An epoch in memory (not its file). */
  | { readonly kind: 'epoch'; readonly file: EpochFile; readonly value: number };

export type Command = CommandBody & { readonly src: Source };

/** A durable image to load before a server's first start. */
export interface Preload {
  readonly sid: Sid;
  /** Its txn log, in zxid order: a zxid alone stands for the default create of preload.ts. */
  readonly log: readonly { readonly zxid: Zxid; readonly txn: Txn | null }[];
  /** Snapshots to write from the log's txns up to each zxid; `purge`: drop those txns from the log. */
  readonly snapshots: readonly { readonly zxid: Zxid; readonly purge: boolean }[];
  readonly acceptedEpoch: number | null;
  readonly currentEpoch: number | null;
}

export interface Setup {
  readonly voters: number;
  readonly observers: number;
  readonly seed: number;
  readonly params: Partial<ProtocolParams>;
  /** Parameters of one server that differ from `params` (set sN PARAM VALUE). */
  readonly serverParams: Readonly<Record<Sid, Partial<ProtocolParams>>>;
  readonly flaws: Partial<Flaws>;
  readonly delay: DelayDist | null;
  readonly fsync: DelayDist | null;
  readonly rename: DelayDist | null;
  /** `threads`: the delay before a server's log writer runs once woken (the kernel's stageDelay). */
  readonly threads: DelayDist | null;
  readonly preload: readonly Preload[];
}

export interface Scenario {
  readonly file: string;
  readonly name: string;
  /** One line: what `zabsim scenario list` shows. */
  readonly title: string;
  readonly story: string;
  readonly outcome: string;
  readonly setup: Setup;
  readonly commands: readonly Command[];
}
