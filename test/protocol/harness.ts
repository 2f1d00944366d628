/**
 * The kernel harness of the end-to-end rule tests (zab.test.ts, rules.test.ts): an ensemble with
 * fixed delays (5 ms one way, 2 ms fsync, 1 ms rename) recording its trace, durable images to
 * pre-load, client requests, and queries over the trace.
 */
import { expect } from 'vitest';
import type { Sid } from '../../src/protocol/config.ts';
import { EMPTY_SNAPSHOT } from '../../src/protocol/db.ts';
import type { ClientReply, ClientRequest, LogEntry, Message, PersistOp } from '../../src/protocol/types.ts';
import { formatZxid, zxid, type Zxid } from '../../src/protocol/zxid.ts';
import type { MutableDurableImage } from '../../src/sim/disk.ts';
import type { TraceEvent } from '../../src/sim/events.ts';
import { Simulation, type SimOptions } from '../../src/sim/kernel.ts';
import { createRun } from '../../src/run/run.ts';
import { renderEvent } from '../../src/trace/text.ts';

// ---------------------------------------------------------------------------------------------
// Kernel harness shared by the end-to-end rule tests

export type SendEv = Extract<TraceEvent, { type: 'send' }>;
export type DeliverEv = Extract<TraceEvent, { type: 'deliver' }>;
export type PersistEv = Extract<TraceEvent, { type: 'persist' }>;
export type FsyncEv = Extract<TraceEvent, { type: 'fsync' }>;
export type NoteEv = Extract<TraceEvent, { type: 'note' }>;

export interface Boot {
  readonly sim: Simulation;
  readonly trace: TraceEvent[];
}

export interface BootOptions extends Partial<SimOptions> {
  readonly voters: number;
  /** Durable images to pre-load, by sid (merged into the empty image before the first start). */
  readonly images?: Record<Sid, Partial<MutableDurableImage>>;
  /** Start times by sid (default 0); null: never started by the harness. */
  readonly startAt?: Record<Sid, number | null>;
}

/** Fixed delays: 5 ms one way, 2 ms fsync, 1 ms rename. */
export const FIXED: Partial<SimOptions> = {
  seed: 1,
  network: { delay: { kind: 'constant', ms: 5 } },
  disk: { fsyncLatency: { kind: 'constant', ms: 2 }, renameLatency: { kind: 'constant', ms: 1 } },
};

/**
 * An ensemble recording its trace. Without custom start times it is a plain createRun (every
 * server starts at 0); with them the servers are started by hand on a bare Simulation.
 */
export function boot(o: BootOptions): Boot {
  const trace: TraceEvent[] = [];
  const sink = (e: TraceEvent): void => {
    trace.push(e);
  };
  const opts = { ...FIXED, ...o, seed: o.seed ?? 1 };
  let sim: Simulation;
  if (o.startAt === undefined) {
    sim = createRun({ ...opts, untilMs: Infinity }, sink).sim;
  } else {
    sim = new Simulation(opts, sink);
    for (const sid of sim.sids) {
      const t = o.startAt[sid] === undefined ? 0 : o.startAt[sid];
      if (t !== null) sim.at(t, () => sim.start(sid));
    }
  }
  // Before the first runUntil nothing has started: the images are what each start will load.
  // A disk with a txn log also holds the empty snapshot.0 its server wrote on its fresh data
  // directory (FileTxnSnapLog.restore), unless the image says which snapshots it holds.
  for (const [sid, img] of Object.entries(o.images ?? {})) {
    const withSnap = img.log !== undefined && img.log.length > 0 && img.snapshots === undefined ? { ...img, snapshots: [EMPTY_SNAPSHOT] } : img;
    // Each disk gets arrays of its own: the disk appends to its log in place, so an image object
    // given to several servers would otherwise make their logs one array.
    const own = Object.fromEntries(Object.entries(withSnap).map(([k, v]) => [k, Array.isArray(v) ? [...(v as unknown[])] : v]));
    Object.assign(sim.server(Number(sid)).disk.image, own);
  }
  return { sim, trace };
}

/** A txn creating its own znode, so that applied history shows in the tree. */
export function entry(e: number, c: number): LogEntry {
  return { zxid: zxid(e, c), txn: { type: 'create', path: `/t${e}_${c}`, data: `${e}.${c}`, ephemeral: false, sequential: false, session: 0 } };
}

export function log(...zs: [number, number][]): LogEntry[] {
  return zs.map(([e, c]) => entry(e, c));
}

export let cxid = 0;
/** A client write arriving at `sid` now. */
export function write(sim: Simulation, sid: Sid, path: string, data = 'v'): void {
  const req: ClientRequest = { client: 1, cxid: ++cxid, session: 0, op: 'create', path, data };
  sim.clientRequest(sid, req);
}

export const isSend = (e: TraceEvent): e is SendEv => e.type === 'send';

/** The message of a type (an intersection, since DIFF/TRUNC and PROPOSAL/INFORM share an interface). */
export type MsgOf<T extends Message['type']> = Message & { readonly type: T };

/** Sends of protocol messages of a type, optionally filtered by sender and receiver. */
export function sends<T extends Message['type']>(trace: readonly TraceEvent[], type: T, from?: Sid, to?: Sid): (SendEv & { msg: MsgOf<T> })[] {
  return trace.filter((e): e is SendEv & { msg: MsgOf<T> } => isSend(e) && e.msg.type === type && (from === undefined || e.from === from) && (to === undefined || e.to === to));
}

export function delivers<T extends Message['type']>(trace: readonly TraceEvent[], type: T, from?: Sid, to?: Sid): (DeliverEv & { msg: MsgOf<T> })[] {
  return trace.filter(
    (e): e is DeliverEv & { msg: MsgOf<T> } => e.type === 'deliver' && e.msg.type === type && (from === undefined || e.from === from) && (to === undefined || e.to === to),
  );
}

export function persists(trace: readonly TraceEvent[], sid: Sid, pred: (w: PersistOp) => boolean = () => true): PersistEv[] {
  return trace.filter((e): e is PersistEv => e.type === 'persist' && e.sid === sid && pred(e.write));
}

/** Fully durable writes (for epoch files: the rename, not the tmp stage). */
/** A write as the learner-order tests list it: `appendLog <1,2>`, `snapshot <1,3>`, `currentEpoch := 2`, `create updatingEpoch`. */
export function writeName(w: PersistOp): string {
  switch (w.op) {
    case 'appendLog':
      return `appendLog ${formatZxid(w.entry.zxid)}`;
    case 'snapshot':
      return `snapshot ${formatZxid(w.snapshot.zxid)}`;
    case 'writeEpoch':
      return `${w.file} := ${w.value}`;
    case 'updatingEpoch':
      return `${w.exists ? 'create' : 'delete'} updatingEpoch`;
    case 'truncateLog':
      return `truncateLog ${formatZxid(w.zxid)}`;
    case 'purge':
      return `purge from ${formatZxid(w.logFrom)}`;
  }
}

/** Each persist and each completed fsync among `events`, as `persist appendLog <1,2>` or `fsync currentEpoch := 2`. */
export function writeSteps(events: readonly TraceEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'persist' || (e.type === 'fsync' && e.stage === 'done') ? [`${e.type} ${writeName(e.write)}`] : []));
}

export function fsyncs(trace: readonly TraceEvent[], sid: Sid, pred: (w: PersistOp) => boolean = () => true): FsyncEv[] {
  return trace.filter((e): e is FsyncEv => e.type === 'fsync' && e.stage === 'done' && e.sid === sid && pred(e.write));
}

export function notes(trace: readonly TraceEvent[], sid: Sid | null, re: RegExp): NoteEv[] {
  return trace.filter((e): e is NoteEv => e.type === 'note' && (sid === null || e.sid === sid) && re.test(e.text));
}

export const epochWrite = (file: 'acceptedEpoch' | 'currentEpoch', value?: number) => (w: PersistOp): boolean =>
  w.op === 'writeEpoch' && w.file === file && (value === undefined || w.value === value);
export const appendOf = (z: Zxid) => (w: PersistOp): boolean => w.op === 'appendLog' && w.entry.zxid === z;

/** Exactly one element, with a readable failure. */
export function one<T>(xs: readonly T[], what: string): T {
  expect(xs, what).toHaveLength(1);
  return xs[0] as T;
}

export function first<T>(xs: readonly T[], what: string): T {
  expect(xs.length, what).toBeGreaterThan(0);
  return xs[0] as T;
}

/** The protocol part of a trace as text, for failure messages. */
export function excerpt(trace: readonly TraceEvent[], from = 0, to = Infinity): string {
  return trace
    .filter((e) => e.t >= from && e.t <= to && e.type !== 'vote' && !((e.type === 'send' || e.type === 'deliver' || e.type === 'drop') && e.msg.type === 'NOTIFICATION'))
    .map((e) => renderEvent(e))
    .join('\n');
}

export function leaderOf(sim: Simulation): Sid | null {
  const ls = sim.sids.filter((sid) => sim.server(sid).up && sim.server(sid).state.state === 'LEADING' && sim.server(sid).state.zabState === 'BROADCAST');
  return ls.length === 1 ? (ls[0] as Sid) : null;
}

/** Zxids of a server's durable log. */
export const durableZxids = (sim: Simulation, sid: Sid): Zxid[] => sim.server(sid).disk.image.log.map((e) => e.zxid);

/** Delays one kind of write on one server's disk by `extraMs` (a slow fsync on that server). */
export function slowDisk(sim: Simulation, sid: Sid, extraMs: number, which: (w: PersistOp) => boolean): void {
  const disk = sim.server(sid).disk;
  const submit = disk.submit.bind(disk);
  disk.submit = (now, token, w) => submit(which(w) ? now + extraMs : now, token, w);
}


export type ReplyEv = Extract<TraceEvent, { type: 'reply' }>;

export function request(sim: Simulation, sid: Sid, op: ClientRequest['op'], path: string, data?: string): number {
  const req: ClientRequest = { client: 1, cxid: ++cxid, session: 0, op, path, ...(data !== undefined ? { data } : {}) };
  sim.clientRequest(sid, req);
  return req.cxid;
}

export function replies(trace: readonly TraceEvent[], sid: Sid, cx: number): ClientReply[] {
  return trace.filter((e): e is ReplyEv => e.type === 'reply' && e.sid === sid && e.reply.cxid === cx).map((e) => e.reply);
}

export function established(o: BootOptions, leader: Sid, atMs = 1000): Boot {
  const b = boot(o);
  b.sim.runUntil(atMs);
  expect(leaderOf(b.sim), excerpt(b.trace)).toBe(leader);
  return b;
}

/** Calls `fn` once, at the first millisecond at which `cond` holds (polled every 1 ms). */
export function when(sim: Simulation, cond: () => boolean, fn: () => void): void {
  const poll = (): void => {
    if (cond()) fn();
    else sim.at(sim.now + 1, poll);
  };
  sim.at(sim.now, poll);
}
