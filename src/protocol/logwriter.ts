/**
 * The log writer: ZooKeeper's SyncRequestProcessor thread and the processor after it, the
 * learner's SendAckRequestProcessor or the leader's AckRequestProcessor (zab-protocol.md §6;
 * issue 11 §1). On the leader the ProposalRequestProcessor hands it each proposal
 * (broadcast.ts:propose), and the leader's own ACK counts after its flush.
 *
 * The protocol thread hands it txns (`FollowerZooKeeperServer.logRequest` →
 * `SyncRequestProcessor.processRequest`: a queue) and goes on; the writer runs as a step of its
 * own, scheduled by the kernel after a drawn delay, so other inputs of the same server (a COMMIT,
 * a NEWLEADER, the connection closing) can come between the hand-over and the write. In its step
 * it takes everything queued (its group), appends each txn to the log and submits the writes;
 * the disk's fsync of each is the group flush, after which SendAckRequestProcessor ACKs it.
 *
 * The queue is volatile: a crash loses it. When a role ends, ZooKeeper 3.9.3 shuts the writer
 * down before fast-forwarding the database (`ZooKeeperServer.shutdown` →
 * `SyncRequestProcessor.shutdown`: the queue ahead of the request of death is written and
 * flushed), so {@link drainLogWriter} runs in that step; the flaw
 * `shutdown_leaves_log_writer_running` (ZOOKEEPER-4712) leaves the queue to a writer that keeps
 * running into the next role.
 */
import { note, type StepContext } from './context.ts';
import { logTxn } from './db.ts';
import { Fifo } from './fifo.ts';
import { maybeSnapshot, persist } from './persist.ts';
import { PROBE } from './probes.ts';
import type { LogEntry, LogWriterState, QueuedTxn, ServerState } from './types.ts';
import { formatZxid, type Zxid } from './zxid.ts';

type S = ServerState;

/** A log writer with nothing queued. */
export const IDLE_LOG_WRITER: LogWriterState = { queue: Fifo.empty<QueuedTxn>(), woken: false };

/** SyncRequestProcessor.processRequest: queue a txn; wake the writer if it was idle. */
export function enqueueLog(s: S, ctx: StepContext, entry: LogEntry, ack: boolean): void {
  const w = s.logWriter;
  s.logWriter = { queue: w.queue.push({ entry, role: s.role, ack }), woken: true };
  if (!w.woken) {
    ctx.probe?.(PROBE['logwriter.wake']);
    ctx.effects.push({ kind: 'wake', stage: 'logWriter' });
  }
}

/** The newest zxid handed to the log writer and not yet written, or `none`. */
export function lastQueuedZxid(s: S, none: Zxid): Zxid {
  const last = s.logWriter.queue.last();
  return last === undefined ? none : last.entry.zxid;
}

/** The writer's step (SyncRequestProcessor.run): the whole queue is one group. */
export function runLogWriter(s: S, ctx: StepContext): void {
  if (s.logWriter.woken) s.logWriter = { queue: s.logWriter.queue, woken: false };
  ctx.probe?.(s.logWriter.queue.length > 0 ? PROBE['logwriter.run'] : PROBE['logwriter.run-empty']);
  writeQueue(s, ctx);
}

/**
 * The role ends (ZooKeeper 3.9.3's shutdown): whatever is queued is written now, before the
 * database is fast-forwarded from the log, so the zxid the server then votes with covers it.
 */
export function drainLogWriter(s: S, ctx: StepContext): void {
  if (s.logWriter.queue.length === 0) return;
  ctx.probe?.(PROBE['logwriter.drain']);
  note(ctx, `log writer shut down: writing ${s.logWriter.queue.length} queued txns first`);
  writeQueue(s, ctx);
}

function writeQueue(s: S, ctx: StepContext): void {
  const queue = s.logWriter.queue;
  if (queue.length === 0) return;
  s.logWriter = { queue: Fifo.empty(), woken: s.logWriter.woken };
  for (let i = 0; i < queue.length; i++) write(s, ctx, queue.at(i) as QueuedTxn);
}

function write(s: S, ctx: StepContext, q: QueuedTxn): void {
  const current = q.role === s.role;
  // A writer left running past its role (ZOOKEEPER-4712) appends after whatever the new role
  // wrote; FileTxnLog only warns about an out-of-order zxid, zabsim's disk keeps the log sorted.
  const last = current ? s.db.log.lastZxid(0) : Math.max(s.db.log.lastZxid(0), s.db.lastProcessedZxid);
  if (q.entry.zxid <= last) {
    ctx.probe?.(PROBE['logwriter.skip']);
    note(ctx, `log writer: skipped ${formatZxid(q.entry.zxid)}, the log already reaches ${formatZxid(last)}`);
    return;
  }
  if (!current) ctx.probe?.(PROBE['logwriter.stale-role']);
  if (!current) note(ctx, `log writer: writing ${formatZxid(q.entry.zxid)}, queued by the role that ended`);
  s.db = logTxn(s.db, q.entry);
  const ack = q.ack && current && s.learner !== null && s.state === 'FOLLOWING';
  // The leader's AckRequestProcessor: its own ACK counts once the flush is done (peer.ts:onFsyncDone).
  const leaderAck = q.ack && current && s.leader !== null;
  persist(s, ctx, { op: 'appendLog', entry: q.entry }, ack ? { kind: 'ack', role: q.role, zxid: q.entry.zxid } : leaderAck ? { kind: 'leaderAck', role: q.role, zxid: q.entry.zxid } : null);
  maybeSnapshot(s, ctx);
}
