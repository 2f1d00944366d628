/**
 * The classes of protocol bug a ZooKeeper developer writes (issue 12 §2), each reintroduced by
 * hand into a copy of `src/` and hunted by the plain swarm, as a user's `zabsim explore` would hunt
 * a bug in their own change. Stryker's mutants are one-token changes chosen by a machine; these are
 * the bugs people make: a quorum off by one, an ACK sent before the fsync, the vote order inverted,
 * a TRUNC ignored, a SNAP that keeps the old log, an epoch without its +1, a stale LEADERINFO
 * accepted, commits out of zxid order, a restart that rebuilds its promise from the log, a channel
 * that reorders or duplicates.
 *
 * `npm run mutate:classes [-- NAME...] [--budget N]` (test/mutation/hunt.ts) prints, for each, the runs and the time to
 * the first failure and the property that caught it (docs/checkers.md, "Bug classes");
 * test/mutation/classes.test.ts checks that each patch still applies (npm test) and that
 * exploration catches each within the budget (test:deep).
 *
 * Each bug is a text patch of one file: `find` must occur exactly once, so a patch that no longer
 * matches the source fails loudly instead of testing nothing.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StrategyName } from '../../src/run/strategy.ts';

export interface BugClass {
  /** Short name, also the folder of its patched copy. */
  readonly name: string;
  /** The class of issue 12 §2 it stands for. */
  readonly cls: string;
  /** What the patch does, in the words of a code review. */
  readonly bug: string;
  /** The file under src/, and the text replaced (exactly one occurrence). */
  readonly file: string;
  readonly find: string;
  readonly replace: string;
  /**
   * How exploration catches it when not by a property: `internal error`, an exception inside the
   * run that `explore` reports with the seed's replay command.
   */
  readonly caughtAs?: 'internal error';
  /** The property that must catch it, where the class has one (the hunt checks it is that one). */
  readonly property?: string;
  /**
   * The strategy that hunts it when the swarm does not reach its window within the budget
   * (src/run/strategy.ts; `npm run mutate:classes -- NAME` uses it unless --strategy is given).
   */
  readonly strategy?: StrategyName;
  /** Why exploration does not yet catch it within the budget (docs/checkers.md); the open work. */
  readonly open?: string;
}

export const BUG_CLASSES: readonly BugClass[] = [
  {
    name: 'quorum-off-by-one',
    cls: 'quorum arithmetic (off by one)',
    bug: 'QuorumMaj counts one vote too many: 2 of 5 is a quorum',
    file: 'protocol/config.ts',
    find: 'return voterCount * 2 > cfg.voters.length;',
    replace: 'return (voterCount + 1) * 2 > cfg.voters.length;',
  },
  {
    name: 'observer-acks-counted',
    cls: 'quorum arithmetic (observers counted)',
    bug: "the leader counts an observer's NEWLEADER ACK toward the establishing quorum",
    file: 'protocol/sync.ts',
    find: 'if (isVoter(ctx.cfg, sid) && !l.newLeaderAcks.includes(sid)) ownLeader(ctx, s).newLeaderAcks = [...l.newLeaderAcks, sid];',
    replace: 'if (!l.newLeaderAcks.includes(sid)) ownLeader(ctx, s).newLeaderAcks = [...l.newLeaderAcks, sid];',
  },
  {
    name: 'newleader-ack-twice',
    cls: 'quorum arithmetic (one learner counted twice)',
    bug: 'the leader counts every NEWLEADER ACK, so one learner acking twice makes a quorum',
    file: 'protocol/sync.ts',
    find: 'if (isVoter(ctx.cfg, sid) && !l.newLeaderAcks.includes(sid)) ownLeader(ctx, s).newLeaderAcks = [...l.newLeaderAcks, sid];',
    replace: 'if (isVoter(ctx.cfg, sid)) ownLeader(ctx, s).newLeaderAcks = [...l.newLeaderAcks, sid];',
    // A voter must ACK NEWLEADER twice before the leader is established (it lost its connection
    // during sync and synced again with the same leader), with 5 voters or more; the swarm did not
    // reach it in 300 runs. The targeted strategy's `--newleader-ack-resets 0.5` window does.
    strategy: 'targeted',
    property: 'Establishment',
  },
  {
    name: 'ack-before-fsync',
    cls: 'ACK before durability',
    bug: "the follower's log writer ACKs a proposal when it appends it, before the fsync",
    file: 'protocol/logwriter.ts',
    find: "persist(s, ctx, { op: 'appendLog', entry: q.entry }, ack ? { kind: 'ack', role: q.role, zxid: q.entry.zxid } : leaderAck ? { kind: 'leaderAck', role: q.role, zxid: q.entry.zxid } : null);",
    replace:
      "persist(s, ctx, { op: 'appendLog', entry: q.entry }, leaderAck ? { kind: 'leaderAck', role: q.role, zxid: q.entry.zxid } : null);\n  if (ack && s.learner !== null) ctx.effects.push({ kind: 'send', to: s.learner.leader, msg: { type: 'ACK', zxid: q.entry.zxid } });",
    // Judged at the first early ACK; before DurableAck, CommittedDurability needed a crash in the window.
    property: 'DurableAck',
  },
  {
    name: 'vote-zxid-inverted',
    cls: 'vote order',
    bug: 'FLE prefers the vote with the lower zxid within an epoch',
    file: 'protocol/vote.ts',
    find: '(newEpoch === curEpoch && (newZxid > curZxid || (newZxid === curZxid && newId > curId)))',
    replace: '(newEpoch === curEpoch && (newZxid < curZxid || (newZxid === curZxid && newId > curId)))',
  },
  {
    name: 'trunc-ignored',
    cls: 'ignoring TRUNC',
    bug: 'the learner takes TRUNC as its sync mode but never cuts its log',
    file: 'protocol/sync.ts',
    find: "sync.mode = 'TRUNC';\n        return truncate(s, ctx, msg);",
    replace: "sync.mode = 'TRUNC';\n        return null;",
  },
  {
    name: 'snap-keeps-log',
    cls: "ignoring SNAP's log reset",
    bug: 'loading a SNAP keeps the txn log the learner had before it',
    file: 'protocol/db.ts',
    find: 'return make({ tree: snapshot.data, lastProcessedZxid: snapshot.zxid, log: TxnLog.EMPTY,',
    replace: 'return make({ tree: snapshot.data, lastProcessedZxid: snapshot.zxid, log: db.log,',
  },
  {
    name: 'epoch-without-increment',
    cls: 'epoch choice (no +1)',
    bug: "getEpochToPropose proposes the greatest acceptedEpoch itself instead of one above it",
    file: 'protocol/discovery.ts',
    find: '} else if (lastAcceptedEpoch >= l.epoch) l.epoch = lastAcceptedEpoch + 1;',
    replace: '} else if (lastAcceptedEpoch >= l.epoch) l.epoch = lastAcceptedEpoch;',
  },
  {
    name: 'stale-leaderinfo-accepted',
    cls: 'epoch choice (accepting a stale LEADERINFO)',
    bug: 'a learner ACKs a LEADERINFO below its acceptedEpoch instead of going back to LOOKING',
    file: 'protocol/discovery.ts',
    find: "  return `Leaders epoch, ${newEpoch} is less than accepted epoch, ${s.acceptedEpoch}`;",
    replace: '  sendAckEpoch(s, ctx, -1);\n  return null;',
    // A learner must meet a leader whose epoch is below its acceptedEpoch (it accepted the epochs
    // of leaders that failed before establishing); the swarm meets it first at seed 1479. The
    // targeted strategy's `--accepted-ahead 2` window starts a quarter of its runs there.
    strategy: 'targeted',
    property: 'EpochPromise',
  },
  {
    name: 'commit-order-reversed',
    cls: 'commit order',
    bug: 'tryToCommit commits the quorum-acked prefix newest first',
    file: 'protocol/broadcast.ts',
    find: 'for (let i = 0; i < n; i++) commit(s, ctx, outstanding.at(i) as Proposal);',
    replace: 'for (let i = n - 1; i >= 0; i--) commit(s, ctx, outstanding.at(i) as Proposal);',
    // Only a batch of two or more quorum-acked proposals shows it: ACKs out of order (the swarm's
    // ack-reorder draw). Since the leader's CommitProcessor is a stage (threads4) the COMMITs
    // leave newest first and a follower applies them so (TotalOrder); before, the leader's own
    // database refused the older txn in the same step, an internal error.
    property: 'TotalOrder',
  },
  {
    name: 'restart-forgets-promise',
    cls: 'state rebuilt from volatile data on restart',
    bug: 'at start the server rebuilds acceptedEpoch from its log, as if its promise were only in memory',
    file: 'protocol/peer.ts',
    find: '  let acceptedEpoch = durable.acceptedEpoch;\n',
    replace: '  let acceptedEpoch: number | null = null;\n',
  },
  {
    name: 'channel-not-fifo',
    cls: 'FIFO fault in the channel',
    bug: 'the network forgets the FIFO floor: a message may overtake one sent before it on the same connection',
    file: 'sim/network.ts',
    find: 'let at = !this.calmed && this.rng.chance(this.cfg.reorderProb) ? base : Math.max(base, ch.lastArrival);',
    replace: 'let at = !this.calmed && this.rng.chance(this.cfg.reorderProb) ? base : base;',
  },
  {
    name: 'channel-duplicates',
    cls: 'duplication fault in the channel',
    bug: 'the network delivers every message on a connection twice',
    file: 'sim/network.ts',
    find: '    }\n    return { ok: true, gen: ch.gen, at, again: null };\n  }',
    replace: '    }\n    ch.lastArrival = at + 1;\n    return { ok: true, gen: ch.gen, at, again: at + 1 };\n  }',
  },
];

export const ROOT = resolve(import.meta.dirname, '../..');
/** Patched copies live inside the repository, so that their imports find node_modules. */
const WORK = join(ROOT, '.mutants');

/** The patched text of the bug's file; throws unless `find` occurs exactly once. */
export function patched(bug: BugClass, text: string): string {
  const at = text.indexOf(bug.find);
  if (at < 0 || text.indexOf(bug.find, at + 1) >= 0) {
    throw new Error(`${bug.name}: src/${bug.file} holds the text to replace ${at < 0 ? 'nowhere' : 'more than once'}; update the patch in test/mutation/classes.ts.`);
  }
  return text.slice(0, at) + bug.replace + text.slice(at + bug.find.length);
}

/** What exploration did against one bug. */
export interface Hunt {
  readonly name: string;
  /** Runs explored until the first failure (or the whole budget). */
  readonly runs: number;
  readonly seed: number | null;
  /** The property named, or `internal error` for an exception inside the run. */
  readonly caughtBy: string | null;
  readonly events: number;
  readonly wallMs: number;
}

const EXPLORE = `
import { explore } from './src/run/explore.ts';
import { settings } from './src/run/settings.ts';
const budget = Number(process.argv[2]);
const strategy = process.argv[3];
const t0 = performance.now();
const s = explore({ from: 1, seeds: budget, overrides: settings({}), maxFailures: 1, strategy });
const f = s.failures[0];
console.log(JSON.stringify({ runs: s.results.length, seed: f?.seed ?? null, caughtBy: f === undefined ? null : f.error !== null ? 'internal error' : f.violation?.property ?? null, events: s.events, wallMs: Math.round(performance.now() - t0) }));
`;

/**
 * Copies src/ with the bug patched in and explores `budget` runs from seed 1 with `strategy` in a
 * child process, stopping at the first failure.
 */
export async function hunt(bug: BugClass, budget: number, strategy: StrategyName = 'swarm'): Promise<Hunt> {
  const dir = join(WORK, bug.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(ROOT, 'src'), join(dir, 'src'), { recursive: true });
  const file = join(dir, 'src', bug.file);
  writeFileSync(file, patched(bug, readFileSync(file, 'utf8')));
  writeFileSync(join(dir, 'explore.mts'), EXPLORE);
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  try {
    const out = await new Promise<string>((ok, fail) => {
      execFile(process.execPath, ['--import', tsx, join(dir, 'explore.mts'), String(budget), strategy], { cwd: dir, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
        if (err !== null) fail(new Error(`${bug.name}: the exploration process failed: ${stderr.trim().split('\n').slice(-5).join(' | ')}`));
        else ok(stdout);
      });
    });
    return { name: bug.name, ...(JSON.parse(out.trim().split('\n').pop() as string) as Omit<Hunt, 'name'>) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
