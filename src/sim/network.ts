/**
 * The simulated network. Every ordered pair of servers has two one-way channels, one per lane
 * (FLE's election connection, the learner/leader quorum connection), each behaving like one
 * direction of a TCP stream:
 *
 * - FIFO: a message is never delivered before one sent earlier on the same channel
 *   (arrival = max(now + delay, previous arrival)). Different channels interleave freely.
 * - A loss resets the connection: the lost message and everything in flight on it are gone.
 *   An election channel reconnects on the next send (QuorumCnxManager.connectOne). A quorum
 *   connection exists only after a learner opens it with FOLLOWERINFO/OBSERVERINFO (which
 *   always starts a new connection); once reset it stays broken in both directions until
 *   reopened, and both ends are told it was reset.
 * - A partition blocks chosen directed links. A message sent over, or arriving on, a blocked link
 *   is dropped and breaks its connection silently: the ends find out through their timeouts.
 * - Slow links add a fixed delay to one direction.
 * - Two faults that break ZAB's channel assumption are off unless asked for: duplication and
 *   FIFO violation within a channel (a message may overtake earlier ones).
 *
 * The network only decides; the kernel schedules deliveries and writes the trace.
 */
import { laneOf, opensConnection, type Lane, type Message } from '../protocol/types.ts';
import type { Sid } from '../protocol/config.ts';
import { PROBE, type ProbeSink } from '../protocol/probes.ts';
import { drawMs, type DelayDist, type Rng } from './rng.ts';

export interface NetworkConfig {
  /** One-way delay of a message. */
  readonly delay: DelayDist;
  /** Probability that a message is lost (resetting its connection). */
  readonly lossProb: number;
  /** Probability that a delivered message is delivered twice (breaks TCP semantics; 0 by default). */
  readonly duplicateProb: number;
  /** Probability that a message ignores FIFO order within its channel (breaks TCP; 0 by default). */
  readonly reorderProb: number;
  /**
   * Probability that an ACK (learner to leader) ignores FIFO order: reordering aimed at the
   * leader's commit order alone, so that a bug there shows without the noise of reordering every
   * packet (issue 12 §2). 0 by default; nothing is drawn for it when 0.
   */
  readonly ackReorderProb: number;
}

export const DEFAULT_NETWORK: NetworkConfig = Object.freeze({
  delay: Object.freeze({ kind: 'uniform', minMs: 1, maxMs: 10 }) as DelayDist,
  lossProb: 0,
  duplicateProb: 0,
  reorderProb: 0,
  ackReorderProb: 0,
});

interface Channel {
  /** Incremented on every reset; a message carries the generation it was sent on. */
  gen: number;
  /** Quorum lane only: false once broken, until reopened. */
  open: boolean;
  /** Arrival time of the last message sent on this channel (the FIFO floor). */
  lastArrival: number;
}

export type DropReason = 'loss' | 'partition' | 'connection-broken' | 'connection-reset' | 'receiver-down';

export type SendOutcome =
  /** Delivered at `at`, and again at `again` when duplicated (null: once), on connection generation `gen`. */
  | { readonly ok: true; readonly gen: number; readonly at: number; readonly again: number | null }
  | { readonly ok: false; readonly reason: DropReason; readonly notify: readonly [Sid, Sid][] };

export class Network {
  private readonly channels: Channel[] = [];
  private readonly blocked: Uint8Array;
  private readonly slowMs: Float64Array;
  private readonly width: number;

  /** After calm(): no more loss, duplication or reordering (the end of a faulty period). */
  private calmed = false;
  /** Coverage probes (set by the kernel), null when coverage is off. */
  probe: ProbeSink | null = null;

  constructor(
    readonly size: number,
    private readonly cfg: NetworkConfig,
    private readonly rng: Rng,
  ) {
    this.width = size + 1;
    const pairs = this.width * this.width;
    // Election channels are always usable; quorum connections exist only once a learner opens one.
    for (let i = 0; i < pairs * 2; i++) this.channels.push({ gen: 0, open: i % 2 === 0, lastArrival: 0 });
    this.blocked = new Uint8Array(pairs);
    this.slowMs = new Float64Array(pairs);
  }

  private channel(from: Sid, to: Sid, lane: Lane): Channel {
    return this.channels[(from * this.width + to) * 2 + (lane === 'quorum' ? 1 : 0)] as Channel;
  }

  /** True while the directed link from → to is partitioned. */
  isBlocked(from: Sid, to: Sid): boolean {
    return this.blocked[from * this.width + to] === 1;
  }

  /** Blocks (or unblocks) the directed link from → to. */
  setBlocked(from: Sid, to: Sid, blocked: boolean): void {
    if (from === to) return;
    this.blocked[from * this.width + to] = blocked ? 1 : 0;
  }

  /** Unblocks every link. */
  healAll(): void {
    this.blocked.fill(0);
  }

  /** Stops loss, duplication and reordering for the rest of the run; delays stay as they are. */
  calm(): void {
    this.calmed = true;
  }

  /** Adds `extraMs` to every message on the directed link from → to (0 restores it). */
  setSlow(from: Sid, to: Sid, extraMs: number): void {
    this.slowMs[from * this.width + to] = extraMs;
  }

  /**
   * One drawn one-way delay for from → to, slow-link extra included. A hop between two servers
   * takes at least 1 ms: FLE's immediate replies (an observer and a lagging voter answer each
   * other, §3.2) would otherwise livelock at a single virtual instant.
   */
  drawDelay(from: Sid, to: Sid): number {
    return Math.max(1, drawMs(this.rng, this.cfg.delay) + (this.slowMs[from * this.width + to] as number));
  }

  /** The configured one-way delay (clients draw their own from the workload stream). */
  get delay(): DelayDist {
    return this.cfg.delay;
  }

  /** True when the quorum connection from → to is usable without reopening. */
  isOpen(from: Sid, to: Sid): boolean {
    return this.channel(from, to, 'quorum').open;
  }

  /**
   * Decides the fate of a message sent now. On success returns the channel generation and the
   * arrival time(s) (two with duplication). On a drop, `notify` lists the (receiver, peer) pairs
   * that must be told their quorum connection was reset.
   */
  send(now: number, from: Sid, to: Sid, msg: Message): SendOutcome {
    const lane = laneOf(msg);
    const ch = this.channel(from, to, lane);
    if (from === to) {
      // Loopback (FLE's own notification): no network, no faults, FIFO with itself.
      const at = Math.max(now, ch.lastArrival);
      ch.lastArrival = at;
      return { ok: true, gen: ch.gen, at, again: null };
    }
    if (lane === 'quorum') {
      // FOLLOWERINFO/OBSERVERINFO always travel on a new connection, replacing any old one.
      if (opensConnection(msg)) this.connect(from, to);
      else if (!ch.open) return { ok: false, reason: 'connection-broken', notify: [] };
    }
    if (this.isBlocked(from, to)) {
      this.reset(from, to, lane);
      return { ok: false, reason: 'partition', notify: [] };
    }
    if (!this.calmed && this.rng.chance(this.cfg.lossProb)) {
      this.reset(from, to, lane);
      return { ok: false, reason: 'loss', notify: lane === 'quorum' ? [[from, to], [to, from]] : [] };
    }
    const base = now + this.drawDelay(from, to);
    let at = !this.calmed && this.rng.chance(this.cfg.reorderProb) ? base : Math.max(base, ch.lastArrival);
    if (at < ch.lastArrival) this.probe?.(PROBE['fault.reorder']);
    else if (this.cfg.ackReorderProb > 0 && msg.type === 'ACK' && !this.calmed && this.rng.chance(this.cfg.ackReorderProb) && base < ch.lastArrival) {
      at = base;
      this.probe?.(PROBE['fault.ack-reorder']);
    }
    ch.lastArrival = Math.max(ch.lastArrival, at);
    if (!this.calmed && this.rng.chance(this.cfg.duplicateProb)) {
      const again = Math.max(at, now + this.drawDelay(from, to));
      this.probe?.(PROBE['fault.duplicate']);
      ch.lastArrival = Math.max(ch.lastArrival, again);
      return { ok: true, gen: ch.gen, at, again };
    }
    return { ok: true, gen: ch.gen, at, again: null };
  }

  /**
   * Checks a message on arrival: its connection must not have been reset since it was sent, and
   * the link must not be partitioned now (which breaks the connection).
   */
  arrive(from: Sid, to: Sid, lane: Lane, gen: number): DropReason | null {
    const ch = this.channel(from, to, lane);
    if (ch.gen !== gen) return 'connection-reset';
    if (from !== to && this.isBlocked(from, to)) {
      this.reset(from, to, lane);
      return 'partition';
    }
    return null;
  }

  /**
   * A message in flight on from → to is lost on arrival (a scenario's `drop`): the connection is
   * reset as a loss at send time resets it. Returns the (receiver, peer) pairs to tell, as
   * {@link send} does for a loss.
   */
  lose(from: Sid, to: Sid, lane: Lane): [Sid, Sid][] {
    this.reset(from, to, lane);
    return lane === 'quorum' ? [[from, to], [to, from]] : [];
  }

  /**
   * Closes the quorum connection between a and b (one side called close, or it was reset):
   * in-flight packets both ways are lost. Returns the generation of a → b after the close, which
   * a close notice travelling a → b must carry to be delivered.
   */
  closeQuorum(a: Sid, b: Sid): number {
    this.reset(a, b, 'quorum');
    return this.channel(a, b, 'quorum').gen;
  }

  /** Generation of a channel now (close notices compare against it). */
  generation(from: Sid, to: Sid, lane: Lane): number {
    return this.channel(from, to, lane).gen;
  }

  /** A crashed server loses every connection: in-flight messages to and from it are gone. */
  crash(sid: Sid): void {
    for (let peer = 1; peer <= this.size; peer++) {
      if (peer === sid) {
        const self = this.channel(sid, sid, 'election');
        self.gen++;
        self.lastArrival = 0;
        continue;
      }
      this.reset(sid, peer, 'election');
      this.reset(sid, peer, 'quorum');
    }
  }

  /**
   * Kills the connection between from and to on a lane. Both lanes are one TCP connection per
   * pair (QuorumCnxManager keeps one per pair too), so both directions lose what is in flight,
   * and the FIFO floor starts afresh for the next connection. A quorum connection also stays
   * closed until reopened; an election connection is reopened by the next send.
   */
  private reset(from: Sid, to: Sid, lane: Lane): void {
    const fwd = this.channel(from, to, lane);
    const back = this.channel(to, from, lane);
    fwd.gen++;
    back.gen++;
    fwd.lastArrival = 0;
    back.lastArrival = 0;
    if (lane === 'quorum') {
      fwd.open = false;
      back.open = false;
    }
  }

  /**
   * A learner opens a new connection to `to`: its side is usable at once, and the old connection
   * is dead both ways. The leader's side of the new connection exists only once the leader has
   * accepted it ({@link accept}): until then whatever the leader sends to this learner was meant
   * for the old socket and is lost.
   */
  private connect(from: Sid, to: Sid): void {
    const fwd = this.channel(from, to, 'quorum');
    const back = this.channel(to, from, 'quorum');
    fwd.gen++;
    back.gen++;
    fwd.lastArrival = 0;
    back.lastArrival = 0;
    fwd.open = true;
    back.open = false;
  }

  /**
   * The leader `to` received the connection-opening packet from `from`: the leader's side of
   * that connection is open. Called by the kernel on delivering FOLLOWERINFO/OBSERVERINFO.
   */
  accept(from: Sid, to: Sid): void {
    const back = this.channel(to, from, 'quorum');
    back.gen++;
    back.lastArrival = 0;
    back.open = true;
  }
}
