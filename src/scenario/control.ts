/**
 * The scenario's hand on the kernel (a {@link KernelControl}): message holds and what is held, and
 * the armed crash points. A held message waits at its receiver's door; what follows it on the
 * same connection waits behind it, since a TCP stream delivers in order.
 */
import type { Sid } from '../protocol/config.ts';
import type { Message, PersistOp } from '../protocol/types.ts';
import type { DiskStage } from '../sim/disk.ts';
import type { InFlight, KernelControl, Simulation } from '../sim/kernel.ts';
import type { CrashPoint, MsgPattern, Source, WritePattern } from './types.ts';

/** True when the message matches the pattern. */
export function matches(p: MsgPattern, from: Sid, to: Sid, msg: Message): boolean {
  if (p.types !== null && !p.types.includes(msg.type)) return false;
  if (p.from !== null && p.from !== from) return false;
  if (p.to !== null && p.to !== to) return false;
  if (p.zxid !== null && !('zxid' in msg && msg.zxid === p.zxid)) return false;
  return true;
}

function writeMatches(p: WritePattern, w: PersistOp, stage: DiskStage): boolean {
  switch (p.op) {
    case 'appendLog':
      return w.op === 'appendLog' && (p.zxid === null || w.entry.zxid === p.zxid);
    case 'truncateLog':
    case 'snapshot':
      return w.op === p.op;
    case 'writeEpoch':
      return w.op === 'writeEpoch' && w.file === p.file && (p.value === null || w.value === p.value) && stage === (p.tmp ? 'tmp' : 'done');
  }
}

/** A crash armed for a precise point. */
export interface Trigger {
  readonly sid: Sid;
  readonly point: CrashPoint;
  readonly src: Source;
  /** Start the server again once the current event is over. */
  readonly restart: boolean;
  fired: boolean;
}

export class ScenarioControl implements KernelControl {
  private readonly holds: MsgPattern[] = [];
  /** Held messages in arrival order. */
  readonly held: InFlight[] = [];
  readonly triggers: Trigger[] = [];
  private armed = 0;

  constructor(private readonly sim: Simulation) {}

  // ---------------------------------------------------------------------------------------------
  // KernelControl

  arriving(m: InFlight): boolean {
    // The receiver crashes instead of reading it: the message meets a dead process, never a hold.
    if (this.armed > 0 && this.fire((t) => t.point.kind === 'beforeReceive' && t.sid === m.to && matches(t.point.pat, m.from, m.to, m.msg))) return false;
    if (this.held.length > 0 && this.held.some((h) => sameConnection(h, m))) {
      this.held.push(m);
      return true;
    }
    if (this.holds.some((p) => matches(p, m.from, m.to, m.msg))) {
      this.held.push(m);
      return true;
    }
    return false;
  }

  received(m: InFlight): void {
    if (this.armed > 0) this.fire((t) => t.point.kind === 'afterReceive' && t.sid === m.to && matches(t.point.pat, m.from, m.to, m.msg));
  }

  sent(from: Sid, to: Sid, msg: Message): void {
    if (this.armed > 0) this.fire((t) => t.point.kind === 'send' && t.sid === from && matches(t.point.pat, from, to, msg));
  }

  written(sid: Sid, write: PersistOp, stage: DiskStage | 'failed'): void {
    if (this.armed > 0 && stage !== 'failed') this.fire((t) => t.point.kind === 'fsync' && t.sid === sid && writeMatches(t.point.write, write, stage));
  }

  /** Crashes the server of the first armed trigger that matches (each fires once); true if one did. */
  private fire(match: (t: Trigger) => boolean): boolean {
    for (const t of this.triggers) {
      if (t.fired || !match(t)) continue;
      t.fired = true;
      this.armed--;
      if (this.sim.server(t.sid).up) this.sim.crash(t.sid);
      // Not inside the hook: the event that reached the point must finish on the dead process.
      if (t.restart) this.sim.at(this.sim.now, () => this.sim.start(t.sid));
      return true;
    }
    return false;
  }

  // ---------------------------------------------------------------------------------------------
  // Commands

  arm(sid: Sid, point: CrashPoint, src: Source, restart: boolean): void {
    this.triggers.push({ sid, point, src, restart, fired: false });
    this.armed++;
  }

  hold(p: MsgPattern): void {
    this.holds.push(p);
  }

  /**
   * Stops holding what `p` names (every hold when null), then delivers each held message that no
   * remaining hold keeps, with what precedes it on its connection. Returns how many went.
   */
  release(p: MsgPattern | null): number {
    if (p === null) this.holds.length = 0;
    else {
      const before = this.holds.length;
      for (let i = this.holds.length - 1; i >= 0; i--) if ((this.holds[i] as MsgPattern).text === p.text) this.holds.splice(i, 1);
      if (this.holds.length === before) return -1;
    }
    return this.deliverWhere((m) => !this.holds.some((h) => matches(h, m.from, m.to, m.msg)));
  }

  /** Delivers the held messages matching `p` now, each after what precedes it on its connection. */
  deliver(p: MsgPattern): number {
    return this.deliverWhere((m) => matches(p, m.from, m.to, m.msg));
  }

  private deliverWhere(pick: (m: InFlight) => boolean): number {
    // Per connection, everything up to the last picked message goes, in order.
    const go: InFlight[] = [];
    for (let i = 0; i < this.held.length; i++) {
      const m = this.held[i] as InFlight;
      let last = -1;
      for (let j = i; j < this.held.length; j++) {
        const x = this.held[j] as InFlight;
        if (sameConnection(x, m) && pick(x)) last = j;
      }
      if (last >= i) go.push(m);
    }
    if (go.length === 0) return 0;
    for (const m of go) this.held.splice(this.held.indexOf(m), 1);
    for (const m of go) this.sim.redeliver(m);
    return go.length;
  }

  /**
   * The held messages matching `p` are lost, as on a network loss: the connection resets, so
   * what was held behind them on it dies too. Returns how many matched.
   */
  drop(p: MsgPattern): number {
    const hit = this.held.filter((m) => matches(p, m.from, m.to, m.msg));
    for (const m of hit) {
      const i = this.held.indexOf(m);
      if (i < 0) continue; // already gone with an earlier drop on its connection
      this.held.splice(i, 1);
      this.sim.lose(m);
      // The connection is reset: what waited behind the lost message is dropped with it.
      const behind = this.held.filter((x) => sameConnection(x, m));
      for (const x of behind) this.held.splice(this.held.indexOf(x), 1);
      for (const x of behind) this.sim.redeliver(x);
    }
    return hit.length;
  }

  /** Patterns currently held, for failure reports. */
  holdTexts(): string[] {
    return this.holds.map((h) => h.text);
  }
}

function sameConnection(a: InFlight, b: InFlight): boolean {
  return a.from === b.from && a.to === b.to && a.lane === b.lane;
}
