/**
 * Test driver for one server's pure step function: start it from a hand-made durable image, then
 * feed it notifications, packets and timers, keeping the current state and the last effects.
 */
import { produce, type Draft } from 'immer';
import { makeClusterConfig, type ClusterConfig, type Flaws, type Sid } from '../../src/protocol/config.ts';
import { NOTIFICATION_VERSION, TIMER_FINALIZE } from '../../src/protocol/election.ts';
import { blankState, step } from '../../src/protocol/peer.ts';
import { EMPTY_SNAPSHOT } from '../../src/protocol/db.ts';
import type { Txn } from '../../src/protocol/datatree.ts';
import type { DurableImage, Effect, Input, LogEntry, Message, Notification, PeerStateName, ServerState } from '../../src/protocol/types.ts';
import { formatZxid, zxid, type Zxid } from '../../src/protocol/zxid.ts';

/** A txn that always applies: the creation of a node named after its zxid. */
export function txnFor(z: Zxid): Txn {
  return { type: 'create', path: `/t${formatZxid(z).replace(/[<>,]/g, '_')}`, data: '', ephemeral: false, sequential: false, session: 0 };
}

/** Log entries for the given zxids (increasing). */
export function logOf(zxids: readonly Zxid[]): LogEntry[] {
  return zxids.map((z) => ({ zxid: z, txn: txnFor(z) }));
}

/**
 * A durable image whose log holds the given zxids, with both epoch files set to `epoch`, and the
 * empty snapshot.0 its server wrote at its first start on a fresh directory.
 */
export function image(zxids: readonly Zxid[] = [], epoch = 0, over: Partial<DurableImage> = {}): DurableImage {
  return { log: logOf(zxids), snapshots: [EMPTY_SNAPSHOT], acceptedEpoch: epoch, currentEpoch: epoch, acceptedEpochTmp: null, currentEpochTmp: null, updatingEpoch: false, ...over };
}

/** A notification; `version` defaults to ZooKeeper 3.9's. */
export function note(state: PeerStateName, leader: Sid, z: Zxid, round: number, peerEpoch: number, version = NOTIFICATION_VERSION): Notification {
  return { type: 'NOTIFICATION', state, leader, zxid: z, electionEpoch: round, peerEpoch, version };
}

export type Send = Extract<Effect, { kind: 'send' }>;
export type SetTimer = Extract<Effect, { kind: 'setTimer' }>;

export class Node {
  /** Effects of the last input. */
  effects: readonly Effect[] = [];
  /** Every state so far, oldest first (the first is the blank state). */
  readonly history: ServerState[] = [];
  /** Persist tokens whose fsync has not been fed back yet, oldest first. */
  pending: number[] = [];
  /** The coverage probes the steps pass (src/protocol/probes.ts), once a test sets it to []; null: probes off. */
  probes: number[] | null = null;

  constructor(
    readonly cfg: ClusterConfig,
    public state: ServerState,
  ) {
    this.history.push(state);
  }

  /** A server `sid` started from `durable`. */
  static start(cfg: ClusterConfig, sid: Sid, durable: DurableImage = image()): Node {
    const n = new Node(cfg, blankState(sid));
    n.feed({ kind: 'start', durable });
    return n;
  }

  get sid(): Sid {
    return this.state.sid;
  }

  /**
   * Feeds one input. A thread it wakes (a `wake` effect: the log writer) runs right after, with
   * no delay, and its effects are returned with the input's, as one step would have them.
   */
  feed(input: Input): readonly Effect[] {
    const probes = this.probes;
    const sink = probes === null ? null : (id: number): void => void probes.push(id);
    const r = step(this.cfg, this.state, input, sink);
    this.state = r.state;
    this.history.push(r.state);
    let effects = r.effects;
    for (const e of r.effects) {
      // A process that exited (a halt) runs no thread: the kernel drops its wake-ups.
      if (e.kind !== 'wake' || !this.state.up) continue;
      const w = step(this.cfg, this.state, { kind: 'stage', stage: e.stage }, sink);
      this.state = w.state;
      this.history.push(w.state);
      effects = [...effects, ...w.effects];
    }
    this.effects = effects;
    for (const e of effects) if (e.kind === 'persist') this.pending.push(e.token);
    return effects;
  }

  /** Reports every pending write as durable, oldest first (disks complete in order); returns all effects. */
  flush(): Effect[] {
    const all: Effect[] = [];
    while (this.pending.length > 0) {
      const token = this.pending.shift() as number;
      all.push(...this.feed({ kind: 'fsyncDone', token }));
    }
    return all;
  }

  msg(from: Sid, m: Message): readonly Effect[] {
    return this.feed({ kind: 'message', from, msg: m });
  }

  /** Delivers notification `n` from `from`. */
  n(from: Sid, n: Notification): readonly Effect[] {
    return this.msg(from, n);
  }

  /** Delivers the same notification from several senders, in order. */
  nFrom(froms: readonly Sid[], n: Notification): void {
    for (const f of froms) this.n(f, n);
  }

  timer(name: string): readonly Effect[] {
    return this.feed({ kind: 'timer', timer: name });
  }

  /** Edits the state outside the protocol (to reach a corner a test needs). */
  edit(fn: (d: Draft<ServerState>) => void): void {
    this.state = produce(this.state, fn);
  }

  // --- effect queries on the last step -------------------------------------------------------

  sends(): Send[] {
    return this.effects.filter((e): e is Send => e.kind === 'send');
  }

  notificationsSent(): { to: Sid; n: Notification }[] {
    return this.sends().flatMap((e) => (e.msg.type === 'NOTIFICATION' ? [{ to: e.to, n: e.msg }] : []));
  }

  timersSet(name?: string): SetTimer[] {
    return this.effects.filter((e): e is SetTimer => e.kind === 'setTimer' && (name === undefined || e.timer === name));
  }

  timersCancelled(): string[] {
    return this.effects.flatMap((e) => (e.kind === 'cancelTimer' ? [e.timer] : []));
  }

  notes(): string[] {
    return this.effects.flatMap((e) => (e.kind === 'note' ? [e.text] : []));
  }

  /** The proposal as (leader, zxid, peerEpoch, round). */
  proposal(): { leader: Sid; zxid: Zxid; peerEpoch: number; round: number } {
    const f = this.state.fle;
    return { leader: f.proposedLeader, zxid: f.proposedZxid, peerEpoch: f.proposedEpoch, round: f.logicalclock };
  }
}

/** zxid shorthand for tests. */
export const z = zxid;

/**
 * s3 of five voters (its log <1,1> <1,2>, epoch 1) has followed s5 through Discovery: it read
 * LEADERINFO for epoch 2 and waits for the sync stream (the learner's `sync` phase).
 */
export function awaitingSync(flaws: Partial<Flaws>): Node {
  const n = Node.start(makeClusterConfig(5, 0, {}, flaws), 3, image([z(1, 1), z(1, 2)], 1));
  n.nFrom([4, 5, 3], note('LOOKING', 5, z(1, 5), 1, 1));
  n.timer(TIMER_FINALIZE);
  n.msg(5, { type: 'LEADERINFO', zxid: z(2, 0) });
  n.flush();
  if (n.state.learner?.phase !== 'sync') throw new Error(`awaitingSync: s3 is ${n.state.state} in phase ${n.state.learner?.phase ?? '-'}, not waiting for the sync stream`);
  return n;
}
