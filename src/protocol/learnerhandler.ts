/**
 * The leader's LearnerHandler thread during a SNAP sync (zab-protocol.md §5.1; zab-bugs.md B7).
 *
 * In ZooKeeper each learner has its own LearnerHandler thread. `LearnerHandler.run` calls
 * `syncFollower`, whose `leader.startForwarding` puts the handler in the broadcast set at once:
 * from then on the leader's commits queue PROPOSAL/COMMIT (and PING) in the handler's
 * `queuedPackets`. For a SNAP the thread then serialises the leader's data tree straight onto the
 * socket and only afterwards starts the sender thread (`startSendingPackets`), which writes the
 * queue. Commits go on meanwhile, so the snapshot reflects txns whose PROPOSAL and COMMIT are also
 * in the queue; the learner replays them over it, and by the time it reads NEWLEADER the replay has
 * caught up with the snapshot, because NEWLEADER is queued after it (3.5.5+, ZOOKEEPER-3104's fix).
 *
 * zabsim runs that thread as a stage per learner (`handler.<sid>`): `startSnapSync` is the part of
 * `LearnerHandler.run` up to `syncFollower` (on the step that decided the sync), then two steps of
 * its own, each scheduled by the kernel: `newleader` (where the SNAP's label is read, and where
 * releases before 3.5.5 queued NEWLEADER, flaw `leader_queues_newleader_before_snapshot`) and
 * `serialize` (the tree read, then the SNAP, the queue and NEWLEADER sent). The leader applies
 * commits between the two, so the SNAP's content can be ahead of its label: a fuzzy SNAP, as
 * ZooKeeper's, which reads the label before `serializeSnapshot` walks the live tree. With the flaw
 * the label is read on the `serialize` step, with the tree: the window of ZOOKEEPER-3104 is the
 * one between NEWLEADER queued and the label read (the snapshot throttle in between), and two
 * steps place one window (docs/protocol.md). A role change or a dropped learner ends the thread:
 * a later step finds no handler, or none in a SNAP sync, and does nothing.
 */
import type { Sid } from './config.ts';
import { send, type StepContext } from './context.ts';
import { own, ownHandler } from './cow.ts';
import type { HandlerSnapSync, LearnerHandler, Message, ServerState, SnapPacket } from './types.ts';
import { zxid } from './zxid.ts';

type S = ServerState;

/** The stage name of one learner's handler thread. */
export function handlerStage(sid: Sid): `handler.${number}` {
  return `handler.${sid}`;
}

/**
 * A packet for a learner: written now, or, while its handler's thread still serialises a SNAP,
 * added to its `queuedPackets` (LearnerHandler.queuePacket) to be sent after the snapshot.
 */
export function sendToLearner(ctx: StepContext, s: S, h: LearnerHandler, msg: Message): void {
  if (h.snapSync === null) send(ctx, h.sid, msg);
  else queuePacket(ctx, s, h.sid, msg);
}

/** LearnerHandler.queuePacket while its thread serialises a SNAP. */
function queuePacket(ctx: StepContext, s: S, sid: Sid, msg: Message): void {
  const sync = own(ctx, ownHandler(ctx, s, sid), 'snapSync');
  if (sync === null) throw new Error(`s${s.sid}: queued a packet for s${sid}, whose handler is not in a SNAP sync`);
  own(ctx, sync, 'queuedPackets').push(msg);
}

/** The handler decided SNAP and is in the broadcast set: its thread goes on in its own steps. */
export function startSnapSync(ctx: StepContext, s: S, sid: Sid): void {
  ownHandler(ctx, s, sid).snapSync = { step: 'newleader', queuedPackets: [], label: null };
  ctx.effects.push({ kind: 'wake', stage: handlerStage(sid) });
}

/** One step of a learner's handler thread (the kernel's `handler.<sid>` stage). */
export function runLearnerHandler(s: S, ctx: StepContext, sid: Sid): void {
  const l = s.leader;
  const h = l?.learners[sid];
  if (l === null || h === undefined || h.snapSync === null) return;
  const newLeader: Message = { type: 'NEWLEADER', zxid: zxid(l.epoch, 0) };
  if (h.snapSync.step === 'newleader') {
    // Before 3.5.5, LearnerHandler.run queued NEWLEADER right after syncFollower.
    if (ctx.cfg.flaws.leader_queues_newleader_before_snapshot) queuePacket(ctx, s, sid, newLeader);
    const sync = own(ctx, ownHandler(ctx, s, sid), 'snapSync') as HandlerSnapSync;
    // The SNAP header: `zxidToSend = getDataTreeLastProcessedZxid()`, written before the tree is
    // serialised (3.5.5+). Before 3.5.5 the window that matters is the one between NEWLEADER
    // queued and the label read (ZOOKEEPER-3104), so the flaw reads it on the next step.
    if (!ctx.cfg.flaws.leader_queues_newleader_before_snapshot) sync.label = s.db.lastProcessedZxid;
    sync.step = 'serialize';
    ctx.effects.push({ kind: 'wake', stage: handlerStage(sid) });
    return;
  }
  // serializeSnapshot: the tree as the thread reads it now, with every commit the leader applied
  // since the label was read (a fuzzy SNAP: its content may be ahead of its label; `lastTxn` says
  // how far, and the learner passes over those txns when their COMMITs come, db.ts applyCommitted).
  const sync = h.snapSync;
  const label = sync.label ?? s.db.lastProcessedZxid;
  const snap: SnapPacket = { type: 'SNAP', zxid: label, tree: s.db.tree, lastTxn: s.db.lastTxn };
  send(ctx, sid, snap);
  // startSendingPackets: the sender thread writes the queue in order; later packets go straight on.
  for (const m of sync.queuedPackets) send(ctx, sid, m);
  if (!ctx.cfg.flaws.leader_queues_newleader_before_snapshot) send(ctx, sid, newLeader);
  ownHandler(ctx, s, sid).snapSync = null;
}
