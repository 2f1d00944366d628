/**
 * Trace records: one JSON-serialisable object per thing that happens in a run, stamped with its
 * index `i` (0, 1, 2, ... in emission order) and virtual time `t` in milliseconds. The kernel
 * emits them; renderers in src/trace turn them into text or JSON lines. docs/trace.md documents
 * every field.
 */
import type { Sid } from '../protocol/config.ts';
import type {
  ClientReply,
  ClientRequest,
  Message,
  PeerStateName,
  PersistOp,
  ZabState,
} from '../protocol/types.ts';
import type { Zxid } from '../protocol/zxid.ts';
import type { DiskStage } from './disk.ts';
import type { DropReason } from './network.ts';

/** What a trace shows travelling on a connection: a protocol message, or a connection close. */
export type WireMessage = Message | { readonly type: 'CLOSE' };

export type TraceBody =
  | { type: 'start'; sid: Sid; restart: boolean }
  | { type: 'send'; from: Sid; to: Sid; id: number; msg: WireMessage }
  | { type: 'deliver'; from: Sid; to: Sid; id: number; msg: WireMessage }
  | { type: 'drop'; from: Sid; to: Sid; id: number; msg: WireMessage; reason: DropReason }
  | { type: 'timer'; sid: Sid; timer: string }
  | { type: 'persist'; sid: Sid; token: number; write: PersistOp }
  | { type: 'fsync'; sid: Sid; token: number; write: PersistOp; stage: DiskStage }
  | { type: 'diskfail'; sid: Sid; token: number; write: PersistOp; reason?: 'io' | 'full' }
  | { type: 'crash'; sid: Sid; lostWrites: number }
  /**
   * A snapshot file changed outside the server's own writes: it now fails its CRC (`corrupt`, a
   * storage fault: injected, or left by a crash while it was being written), or an operator
   * deleted it (`removed`). `lastTxn`: the newest txn its data reflects.
   */
  | { type: 'snapfile'; sid: Sid; zxid: Zxid; lastTxn: Zxid; change: 'corrupt' | 'removed' }
  | { type: 'halt'; sid: Sid; reason: string }
  | { type: 'partition'; desc: string; links: [Sid, Sid][] }
  | { type: 'heal' }
  | { type: 'slow'; from: Sid; to: Sid; extraMs: number }
  | { type: 'state'; sid: Sid; state: PeerStateName; zabState: ZabState; leader: Sid | null }
  | { type: 'vote'; sid: Sid; round: number; leader: Sid; zxid: Zxid; peerEpoch: number }
  | { type: 'note'; sid: Sid; text: string }
  | { type: 'client'; sid: Sid; request: ClientRequest }
  | { type: 'reply'; sid: Sid; reply: ClientReply };

export type TraceEvent = TraceBody & { i: number; t: number };

export type TraceType = TraceEvent['type'];

/** Receives every trace record as it is emitted. */
export type TraceSink = (ev: TraceEvent) => void;

// The JSON trace's summary line (docs/trace.md), shared by the code that writes it (src/run,
// src/check) and the code that reads a saved trace (src/trace/load.ts).

/** One broken property as a report and the summary line carry it (src/check narrows the names). */
export interface ViolationFacts {
  readonly property: string;
  readonly kind: string;
  /** Index of the last trace record emitted when it was detected, and its virtual time (ms). */
  readonly i: number;
  readonly t: number;
  readonly servers: readonly number[];
  readonly zxids: readonly number[];
  /** One sentence. */
  readonly message: string;
  /** The few facts that explain it. */
  readonly facts: readonly string[];
}

/** What the summary reports of one server (the JSON summary's `servers` entries). */
export interface ServerSummary {
  readonly sid: number;
  readonly up: boolean;
  readonly role: string;
  readonly phase: string;
  readonly leader: number | null;
  readonly acceptedEpoch: number | null;
  readonly currentEpoch: number | null;
  readonly lastZxid: number | null;
  /** Last zxid in the server's log. */
  readonly lastLogged: number | null;
  /** Txns applied since the server last loaded its database. */
  readonly applied: number | null;
  /** Digest of the data tree (equal digests: equal trees). */
  readonly digest: number | null;
  readonly vote: { leader: number; zxid: number; electionEpoch: number; peerEpoch: number } | null;
  readonly round: number | null;
}
