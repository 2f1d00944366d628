/**
 * Coverage probes (issue 12 §3): named marks in the protocol and the kernel, as FoundationDB's
 * code probes and TigerBeetle's marks. This file is the one table of cells, each with a one-line
 * meaning. A probe site is `ctx.probe?.(PROBE['sync.rule1'])`: with coverage off the sink is null
 * and the optional call skips its argument, so a probe costs one null check and nothing else.
 *
 * Three kinds of cell: named marks placed in the code (sync rules and modes, the learner's sync,
 * the log writer stage, the flaw-relevant windows); fault kinds and crash points, marked by the
 * kernel and the fault injector; and the step function's (role, phase, input kind) cells, marked
 * by the kernel before each step from the state the step starts in.
 */
import type { InputKind, PeerStateName, ZabState } from './types.ts';

/** Receives a probe id (an index into {@link PROBES}). */
export type ProbeSink = (id: number) => void;

/** The named probes: [name, meaning]. Appending a row is safe; ids are positions. */
const NAMED = [
  // The leader's syncFollower (syncplan.ts, zab-protocol.md §5.1): which rule decided.
  ['sync.rule1', 'leader: learner at my lastProcessedZxid: empty DIFF (§5.1 rule 1)'],
  ['sync.rule2', 'leader: learner past maxCommittedLog: TRUNC (§5.1 rule 2)'],
  ['sync.rule3.diff', 'leader: learner within committedLog: DIFF (§5.1 rule 3)'],
  ['sync.rule3.trunc', 'leader: learner within committedLog but diverged: TRUNC then proposals (§5.1 rule 3)'],
  ['sync.rule3.snap', 'leader: learner within committedLog, forked across an epoch: SNAP (§5.1 rule 3)'],
  ['sync.rule3.flaw1154', 'leader: ZOOKEEPER-1154 flaw: DIFF within committedLog without a divergence check'],
  ['sync.rule4.diff', 'leader: learner below committedLog, served from the txn log: DIFF (§5.1 rule 4)'],
  ['sync.rule4.trunc', 'leader: learner below committedLog, served from the txn log: TRUNC then proposals (§5.1 rule 4)'],
  ['sync.rule4.snap', 'leader: gap between the txn log and committedLog, or a fork: SNAP (§5.1 rule 4)'],
  ['sync.rule5.nolog', 'leader: learner below committedLog and the txn log cannot serve it: SNAP (§5.1 rule 5)'],
  ['sync.rule5', 'leader: no other rule applies (a learner at a new epoch past maxCommittedLog, or txn-log sync off): SNAP (§5.1 rule 5)'],
  // The sync mode sent, whatever rule chose it.
  ['sync.mode.empty-diff', 'leader sent a DIFF with no proposals'],
  ['sync.mode.diff', 'leader sent a DIFF followed by proposals'],
  ['sync.mode.trunc', 'leader sent a TRUNC with no proposals'],
  ['sync.mode.trunc+diff', 'leader sent a TRUNC followed by proposals'],
  ['sync.mode.snap', 'leader sent a SNAP'],
  // The learner's sync (Learner.syncWithLeader, §5.2).
  ['learner.diff', 'learner: DIFF header received'],
  ['learner.snap', 'learner: SNAP loaded in memory'],
  ['learner.trunc', 'learner: TRUNC cut its log and reloaded the database'],
  ['learner.bad-first', 'learner: first sync packet not DIFF/SNAP/TRUNC: the process exits'],
  ['learner.proposal', 'learner: PROPOSAL buffered during sync'],
  ['learner.commit-applied', 'learner: COMMIT before NEWLEADER applied at once (SNAP/TRUNC mode)'],
  ['learner.commit-held', 'learner: COMMIT held for NEWLEADER/UPTODATE (DIFF mode, or after NEWLEADER)'],
  ['learner.inform', 'learner (observer): INFORM during sync'],
  ['learner.newleader', 'learner: NEWLEADER received'],
  ['learner.await-log', 'learner: NEWLEADER waits for the synced txns to be durable'],
  ['learner.await-epoch', 'learner: NEWLEADER waits for currentEpoch to be durable'],
  ['learner.newleader-ack', 'learner: ACK of NEWLEADER sent'],
  ['learner.uptodate', 'learner: UPTODATE received: serving'],
  // The learner's log writer (SyncRequestProcessor), a stage of its own (logwriter.ts).
  ['logwriter.wake', 'log writer: work queued while idle: the thread is woken'],
  ['logwriter.run', 'log writer: its step ran over a non-empty queue'],
  ['logwriter.run-empty', 'log writer: its step ran and found the queue empty (drained at a role end)'],
  ['logwriter.drain', 'log writer: drained at a role end (shutdown) before fast-forward'],
  ['logwriter.skip', 'log writer: skipped a txn the log already holds'],
  ['logwriter.stale-role', 'log writer: wrote a txn queued by a role that ended'],
  // Flaw-relevant windows.
  ['window.newleader-ack-log-pending', 'learner sent its NEWLEADER ACK with txns still queued for its log writer or an ACK-carrying write pending'],
  ['window.commit-between-newleader-uptodate', 'learner got a COMMIT after NEWLEADER, before UPTODATE'],
  ['window.resync-drops-ack', 'leader re-sent a proposal to a re-synced learner whose ACK it held'],
  ['window.ack-from-syncing-learner', 'leader got a proposal ACK from a learner before its NEWLEADER ACK (an ACK in flight when NEWLEADER arrived)'],
  ['window.crash-log-durable-epoch-pending', 'crash of a learner whose synced txns are durable and currentEpoch is not yet'],
  ['window.crash-epoch-durable-log-pending', 'crash of a learner whose currentEpoch is written but synced txns are not all durable'],
  ['window.crash-in-sync', 'crash of a learner between ACKEPOCH and UPTODATE'],
  ['window.crash-updating-epoch-marker', 'crash while the updatingEpoch marker is on disk'],
  // Fault kinds (the kernel and the fault injector).
  ['fault.crash', 'fault: a server crashed'],
  ['fault.crash-leader', 'fault: a leading server crashed'],
  ['fault.halt', 'fault: a server exited by itself (halt)'],
  ['fault.restart', 'fault: a crashed server restarted'],
  ['fault.partition', 'fault: a symmetric partition'],
  ['fault.partition-one-way', 'fault: a one-way partition'],
  ['fault.heal', 'fault: every partition healed'],
  ['fault.drop.loss', 'fault: a message lost (its connection resets)'],
  ['fault.drop.partition', 'fault: a message dropped by a partition'],
  ['fault.drop.connection-reset', 'fault: a message dropped on a reset connection'],
  ['fault.drop.connection-broken', 'fault: a send on a broken connection'],
  ['fault.drop.receiver-down', 'fault: a message reached a down server'],
  ['fault.duplicate', 'fault: a message delivered twice'],
  ['fault.reorder', 'fault: a message overtook FIFO order on its channel'],
  ['fault.ack-reorder', 'fault: a follower->leader ACK overtook FIFO order (--ack-reorder)'],
  ['fault.ack-reset', "fault: a follower's connection reset right after its ACK of an outstanding proposal, the other disks stalled while it re-syncs (--ack-resets)"],
  ['fault.disk-fail', 'fault: a disk write failed'],
  ['fault.torn-write', 'fault: a crash lost unsynced writes'],
  ['crashpoint.newleader-ack', 'crash point: right after a learner sent its NEWLEADER ACK'],
  ['crashpoint.epoch-durable', 'crash point: right after a currentEpoch write became durable'],
  ['crashpoint.commit', 'crash point: right after a leader sent a COMMIT'],
  ['crashpoint.log-durable', 'crash point: right after a learner synced log write became durable at NEWLEADER'],
  ['crashpoint.resync-commit', 'crash point: right after a leader sent the COMMIT of a proposal it re-sent to a learner that had ACKed it'],
] as const;

export type ProbeName = (typeof NAMED)[number][0];

/** Roles and their phases as a server can be in them at a step. */
const ROLE_PHASES: readonly (readonly [PeerStateName, ZabState])[] = [
  ['LOOKING', 'ELECTION'],
  ['FOLLOWING', 'DISCOVERY'],
  ['FOLLOWING', 'SYNCHRONIZATION'],
  ['FOLLOWING', 'BROADCAST'],
  ['OBSERVING', 'DISCOVERY'],
  ['OBSERVING', 'SYNCHRONIZATION'],
  ['OBSERVING', 'BROADCAST'],
  ['LEADING', 'DISCOVERY'],
  ['LEADING', 'SYNCHRONIZATION'],
  ['LEADING', 'BROADCAST'],
];

/** Input kinds of the step function, in the order of types.ts. */
const INPUT_KINDS: readonly InputKind[] = ['start', 'message', 'timer', 'fsyncDone', 'writeFailed', 'disconnected', 'clientRequest', 'roleFailed', 'stage'];

const INPUT_INDEX: Readonly<Record<InputKind, number>> = Object.fromEntries(INPUT_KINDS.map((k, i) => [k, i])) as Record<InputKind, number>;

/** Index of a (role, phase): a 4x4 lookup; -1 where the pair cannot occur. */
const ROLE_CODES: Readonly<Record<PeerStateName, number>> = { LOOKING: 0, FOLLOWING: 1, OBSERVING: 2, LEADING: 3 };
const PHASE_CODES: Readonly<Record<ZabState, number>> = { ELECTION: 0, DISCOVERY: 1, SYNCHRONIZATION: 2, BROADCAST: 3 };
const ROLE_PHASE_INDEX = new Int16Array(16).fill(-1);
ROLE_PHASES.forEach(([r, p], i) => (ROLE_PHASE_INDEX[ROLE_CODES[r] * 4 + PHASE_CODES[p]] = i));

export interface ProbeCell {
  readonly name: string;
  readonly meaning: string;
}

/** Every cell: the named probes, then one per (role, phase, input kind). */
export const PROBES: readonly ProbeCell[] = Object.freeze([
  ...NAMED.map(([name, meaning]) => ({ name, meaning })),
  ...ROLE_PHASES.flatMap(([r, p]) => INPUT_KINDS.map((k) => ({ name: `step.${r}.${p}.${k}`, meaning: `step: a ${r} server in ${p} handles a ${k} input` }))),
]);

/** Probe ids by name. */
export const PROBE: Readonly<Record<ProbeName, number>> = Object.freeze(Object.fromEntries(NAMED.map(([n], i) => [n, i])) as Record<ProbeName, number>);

const STEP_BASE = NAMED.length;

/**
 * The step cell of a server in (role, phase) about to handle an input of `kind`; -1 for a down
 * server (its blank state says LOOKING/ELECTION; only `start` reaches it, counted as such).
 */
export function stepCell(role: PeerStateName, phase: ZabState, kind: InputKind): number {
  const rp = ROLE_PHASE_INDEX[ROLE_CODES[role] * 4 + PHASE_CODES[phase]] as number;
  if (rp < 0) return -1;
  return STEP_BASE + rp * INPUT_KINDS.length + INPUT_INDEX[kind];
}

/** The id of a probe name, or undefined. */
export function probeId(name: string): number | undefined {
  const i = PROBES.findIndex((c) => c.name === name);
  return i < 0 ? undefined : i;
}

/**
 * Cells the default swarm does not reach, and why: no execution can, or only a flag, a flaw, a
 * scenario or the targeted strategy does. The coverage map lists them apart, the suite does not ask
 * a sweep to reach them, and it checks that a plain swarm sweep reaches none of them (a reason gone
 * out of date, as the swarm grows, shows as a cell reached here).
 */
export const NOT_REACHABLE: ReadonlyMap<string, string> = new Map([
  ...notReachable(),
]);


function notReachable(): [string, string][] {
  const FLAW_EPOCH_FIRST = 'only with a flaw that lets currentEpoch (or the ACK) go before the synced txns are durable (ZOOKEEPER-3911, -4643, -4646, -4685): the fixed order makes the log durable first';
  const out: [string, string][] = [
    ['sync.rule3.trunc', "needs a learner holding a txn of epoch e that the leader lacks while the leader holds a later txn of e: one leader proposes e's txns in order over FIFO links, so no execution makes it (ZooKeeper handles it defensively)"],
    ['sync.rule4.trunc', 'as sync.rule3.trunc, within the txn log'],
    ['sync.rule3.flaw1154', 'only with the ZOOKEEPER-1154 flaw (sync_diff_without_divergence_check)'],
    ['learner.bad-first', 'a leader sends DIFF, TRUNC or SNAP first; only a scenario (inject) sends anything else'],
    ['logwriter.skip', 'the learner never queues a txn its log or this role\'s queue holds (NEWLEADER and UPTODATE check both); defensive, as in SyncRequestProcessor; only the ZOOKEEPER-4712 flaw (shutdown_leaves_log_writer_running) reaches it, when the next role has logged or applied the stray txn, or queued it again itself'],
    ['logwriter.stale-role', 'only with the ZOOKEEPER-4712 flaw (shutdown_leaves_log_writer_running): the fixed shutdown drains the writer'],
    ['window.newleader-ack-log-pending', FLAW_EPOCH_FIRST],
    ['window.ack-from-syncing-learner', 'only with the ZOOKEEPER-4685 flaw (follower_starts_processors_before_newleader_ack), or ZOOKEEPER-4646 (follower_newleader_persist_async) with --ack-reorder: otherwise nothing is logged with an ACK before the NEWLEADER ACK leaves'],
    ['window.crash-epoch-durable-log-pending', FLAW_EPOCH_FIRST],
    ['fault.duplicate', 'not drawn by the swarm: duplication breaks TCP, which ZAB assumes (--duplicate sets it)'],
    ['fault.reorder', 'not drawn by the swarm: reordering breaks TCP, which ZAB assumes (--reorder sets it)'],
    ['crashpoint.log-durable', "only a scheduled crash (`crash sN after log-durable`, the targeted strategy) fires it; --crash-points draws newleader-ack, epoch-durable and commit, and --ack-resets crashes at resync-commit"],
  ];
  for (const [r, p] of ROLE_PHASES) {
    const cell = (k: InputKind): string => `step.${r}.${p}.${k}`;
    if (r !== 'LOOKING') out.push([cell('start'), 'a start input reaches a down server, whose blank state is LOOKING/ELECTION']);
    out.push([cell('roleFailed'), "only a scenario's `force sN LOOKING` sends it"]);
    if (r === 'LEADING' && p === 'DISCOVERY') out.push([cell('stage'), "not reached by 2,000 swarm seeds: a leader's stages (log writer, CommitProcessor, LearnerHandler threads) start with its sync, so only one woken in the role before can fire here, within the thread and commit delays (<= 60 ms); FLE ends that fast only on its out-of-election path, with a quorum still following the server"]);
    if (r === 'OBSERVING' && p === 'DISCOVERY') out.push([cell('stage'), "an observer's stages (log writer, CommitProcessor) start with its sync, and one woken in the role before fires within the thread and commit delays (<= 60 ms), before the observer looks for a leader again (observerElectionDelayMs, 200 ms)"]);
  }
  return out;
}
