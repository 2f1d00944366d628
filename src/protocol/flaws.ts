/**
 * The flaw catalogue: for every switch of `Flaws` (config.ts), the ZooKeeper ticket(s) it
 * reintroduces, a one-line title, the releases that have the bug and the one that fixed it (from
 * the Affected / Fixed columns of zab-bugs.md, which derives them from the release tags of
 * apache/zookeeper), the property that catches it and the command that finds it.
 *
 * `Record<keyof Flaws, FlawInfo>`: a new switch does not compile until it has its entry, and an
 * entry with its `affected` ranges joins the release profiles (`--zk VERSION`) by itself.
 *
 * Releases are named `MAJOR.MINOR.PATCH`. An `affected` item is one release (`3.5.3`), a range of
 * releases of one line (`3.4.0-3.4.3`), or a whole line (`3.7.x`); lines before 3.4 (`3.3.x`) are
 * accepted for the record and belong to no profile, since zabsim models Zab 1.0 (3.4.0 on).
 */
import type { Flaws } from './config.ts';

export interface FlawInfo {
  /** The bug's id in zab-bugs.md (`B9`), or null for a finding outside the catalogue. */
  readonly bug: string | null;
  /** ZooKeeper tickets, `ZOOKEEPER-NNNN`, first the one the switch is known by; empty if none. */
  readonly tickets: readonly string[];
  /** One line: what goes wrong. */
  readonly title: string;
  /** Releases that have the bug: `3.5.3`, `3.4.0-3.4.3`, `3.7.x`. */
  readonly affected: readonly string[];
  /** Releases that first carry the fix, one per line (`3.4.4, 3.5.0`), or why there is none. */
  readonly fixedIn: string;
  /** The checker properties (src/check/properties.ts) that catch it first, most frequent first. */
  readonly properties: readonly string[];
}

/** Every flaw switch, in the order of `Flaws`. Adding a switch is adding one entry here. */
export const FLAW_CATALOGUE: Readonly<Record<keyof Flaws, FlawInfo>> = {
  fle_epoch_unguarded_sid_tiebreak: {
    bug: 'B3',
    tickets: ['ZOOKEEPER-1419'],
    title: 'FLE vote order whose sid tie-break ignores the epoch: not a total order, the election never settles',
    affected: ['3.4.0-3.4.3'],
    fixedIn: '3.4.4, 3.5.0',
    properties: ['Liveness'],
  },
  follower_ack_newleader_before_persist: {
    bug: 'B9',
    tickets: ['ZOOKEEPER-3911'],
    title: 'the follower ACKs NEWLEADER while the DIFF txns are only in memory: a committed txn is lost',
    affected: ['3.4.10-3.4.14', '3.5.3-3.5.8', '3.6.0-3.6.2'],
    fixedIn: '3.5.9, 3.6.3, 3.7.0',
    properties: ['Establishment', 'TruncSafety', 'CommittedNeverLost', 'CommittedDurability'],
  },
  follower_epoch_before_log_durable: {
    bug: 'B11',
    tickets: ['ZOOKEEPER-4643', 'ZOOKEEPER-4785'],
    title: 'the follower writes currentEpoch before the synced txns are durable: a newer-epoch, shorter-log node leads and truncates committed txns',
    affected: ['3.5.9-3.5.10', '3.6.3-3.6.4', '3.7.x', '3.8.0-3.8.4', '3.9.0-3.9.1'],
    fixedIn: '3.8.5, 3.9.2',
    properties: ['TruncSafety', 'CommittedNeverLost', 'CommittedDurability'],
  },
  trunc_reload_newest_snapshot: {
    bug: null,
    tickets: ['ZOOKEEPER-1549'],
    title: 'TRUNC reloads the newest snapshot although it reflects txns above the truncation point: truncated txns stay in the tree',
    affected: ['3.4.x', '3.5.x', '3.6.x', '3.7.x', '3.8.x', '3.9.x'],
    fixedIn: 'none (the ticket is open); zabsim reloads a snapshot at or below the point',
    properties: ['Integrity'],
  },
  newleader_no_epoch_marker: {
    bug: 'B4',
    tickets: ['ZOOKEEPER-1653', 'ZOOKEEPER-2354'],
    title: 'no updatingEpoch marker: a crash between the NEWLEADER writes and currentEpoch leaves a server that refuses to start',
    affected: ['3.4.0-3.4.5', '3.5.x', '3.6.x', '3.7.x', '3.8.x', '3.9.x'],
    fixedIn: '3.4.6 (branch-3.4 only); later lines still refuse to start',
    properties: ['EpochFileSanity'],
  },
  leader_keeps_acks_across_resync: {
    bug: null,
    tickets: [],
    title: "the leader counts a re-synced learner's earlier ACK although a TRUNC cut the txn: a commit durable on less than a quorum",
    affected: ['3.4.x', '3.5.x', '3.6.x', '3.7.x', '3.8.x', '3.9.x'],
    fixedIn: 'none (a zabsim finding, no ticket); zabsim withdraws the ACKs',
    properties: ['CommittedDurability'],
  },
  epoch_from_last_logged_zxid: {
    bug: 'B1',
    tickets: ['ZOOKEEPER-335'],
    title: 'a new leader takes its epoch from its last logged zxid and nothing persists it: two leaders reuse an epoch and its zxids',
    affected: ['3.3.x'],
    fixedIn: '3.4.0 (Zab 1.0: acceptedEpoch and currentEpoch files)',
    properties: ['Leadership', 'ZxidUniqueness'],
  },
  sync_diff_without_divergence_check: {
    bug: 'B2',
    tickets: ['ZOOKEEPER-1154', 'ZOOKEEPER-1156'],
    title: "DIFF for a learner whose zxid is inside committedLog without checking it is in the leader's history: its uncommitted tail survives",
    affected: ['3.3.0-3.3.3'],
    fixedIn: '3.3.4, 3.4.0',
    properties: ['HistoryConsistency', 'Integrity'],
  },
  election_advertises_in_memory_zxid: {
    bug: 'B6',
    tickets: ['ZOOKEEPER-2845'],
    title: 'a server back in LOOKING keeps its in-memory database and advertises its zxid, hiding a logged uncommitted txn: DIFF instead of TRUNC',
    affected: ['3.4.10-3.4.11', '3.5.3'],
    fixedIn: '3.4.12, 3.5.4, 3.6.0',
    properties: ['HonestAdvertisement', 'HistoryConsistency'],
  },
  zxid_counter_overflow_carries_into_epoch: {
    bug: 'B16',
    tickets: ['ZOOKEEPER-1277'],
    title: 'the 32-bit zxid counter rolls over into the epoch half: zxids of an epoch no leader established',
    affected: ['3.3.0-3.3.4', '3.4.0-3.4.3'],
    fixedIn: '3.3.5, 3.4.4, 3.5.0',
    properties: ['LocalPrimaryOrder', 'EpochFileSanity', 'ZxidUniqueness'],
  },
  trunc_keeps_first_txn_above_target: {
    bug: null,
    tickets: [],
    title: 'TRUNC to a zxid the learner lacks (such as <0,0>) keeps the first txn above it (FileTxnLog.truncate): an uncommitted txn survives',
    affected: ['3.4.x', '3.5.x', '3.6.x', '3.7.x', '3.8.x', '3.9.x'],
    fixedIn: 'none (a zabsim finding, no ticket); zabsim cuts exactly at the zxid',
    properties: ['Integrity', 'HistoryConsistency'],
  },
  follower_newleader_persist_async: {
    bug: 'B10',
    tickets: ['ZOOKEEPER-4646', 'ZOOKEEPER-3023'],
    title: 'at NEWLEADER the follower only queues the DIFF txns to its log writer and ACKs at once: the ACK overtakes the fsync, a crash loses a committed txn',
    affected: ['3.5.9-3.5.10', '3.6.3-3.6.4', '3.7.x', '3.8.0-3.8.4', '3.9.0-3.9.1'],
    fixedIn: '3.8.5, 3.9.2 (the ZOOKEEPER-4785 change); reworked in 3.9.3',
    properties: ['Establishment', 'CommittedDurability', 'CommittedNeverLost', 'TruncSafety'],
  },
  shutdown_leaves_log_writer_running: {
    bug: 'B14',
    tickets: ['ZOOKEEPER-4712'],
    title: "a follower's shutdown leaves its log writer running: it appends a queued proposal after the database was fast-forwarded and the server voted without it",
    affected: ['3.4.12-3.4.14', '3.5.4-3.5.10', '3.6.x', '3.7.x', '3.8.x', '3.9.0-3.9.2'],
    fixedIn: '3.9.3',
    properties: ['HonestAdvertisement', 'HistoryConsistency'],
  },
  follower_starts_processors_before_newleader_ack: {
    bug: 'B12',
    tickets: ['ZOOKEEPER-4685'],
    title: 'the follower starts its processors at NEWLEADER and ACKs a DIFF proposal before the NEWLEADER ACK: the leader never counts its NEWLEADER ACK',
    affected: ['3.5.9-3.5.10', '3.6.3-3.6.4', '3.7.x', '3.8.0-3.8.4', '3.9.0-3.9.1'],
    fixedIn: '3.8.5, 3.9.2; reworked in 3.9.3',
    properties: ['MessageLegality', 'Liveness'],
  },
  learner_retains_partial_snap_on_abort: {
    bug: 'B8',
    tickets: ['ZOOKEEPER-3642'],
    title: 'a SNAP sync aborted before NEWLEADER leaves the snapshot in memory only; a later DIFF never writes it, a restart loses acknowledged txns',
    affected: ['3.5.0-3.5.9', '3.6.0-3.6.2'],
    fixedIn: '3.5.10, 3.6.3, 3.7.0',
    properties: ['HonestAdvertisement', 'RestartStability'],
  },
  learner_sets_lastzxid_on_diff_header: {
    bug: 'B5',
    tickets: ['ZOOKEEPER-2355'],
    title: "the learner sets lastProcessedZxid to the DIFF header's zxid before the txns arrive: a sync cut short claims txns it never got",
    affected: ['3.4.0-3.4.10', '3.5.0-3.5.3'],
    fixedIn: '3.4.11, 3.5.4, 3.6.0',
    properties: ['HonestAdvertisement', 'Agreement'],
  },
  follower_newleader_clears_pending: {
    bug: 'B13',
    tickets: ['ZOOKEEPER-4394'],
    title: 'the follower clears its buffered proposals at NEWLEADER: a COMMIT between NEWLEADER and UPTODATE hits a NullPointerException and the follower drops out of the sync',
    affected: ['3.5.9-3.5.10', '3.6.3-3.6.4', '3.7.x', '3.8.x', '3.9.0-3.9.2'],
    fixedIn: '3.9.3 (not on branch-3.8)',
    properties: ['MessageLegality'],
  },
  learner_sync_skips_committedlog_append: {
    bug: 'B15',
    tickets: ['ZOOKEEPER-4925'],
    title: "the learner's sync applies txns without adding them to committedLog: as leader, its DIFF skips the hole and a stale follower never gets those txns",
    affected: ['3.9.3'],
    fixedIn: '3.9.4',
    properties: ['HonestAdvertisement', 'HistoryConsistency', 'Agreement', 'TruncSafety'],
  },
  leader_queues_newleader_before_snapshot: {
    bug: 'B7',
    tickets: ['ZOOKEEPER-3104', 'ZOOKEEPER-3589'],
    title: "the leader's LearnerHandler queues NEWLEADER before it serialises the SNAP: the learner re-applies older COMMITs over the newer snapshot, writes that, and keeps it across a restart",
    affected: ['3.4.x', '3.5.0-3.5.4'],
    fixedIn: '3.5.5, 3.6.0 (3.4: ZOOKEEPER-3589, in no release)',
    properties: ['Agreement'],
  },
  sync_trunc_cuts_to_be_applied: {
    bug: null,
    tickets: [],
    title: 'syncFollower TRUNCs a learner to the last txn the leader applied, cutting txns it has committed and not yet applied (toBeApplied)',
    affected: ['3.4.x', '3.5.x', '3.6.x', '3.7.x', '3.8.x', '3.9.x'],
    fixedIn: 'none (a zabsim finding, no ticket); zabsim syncs such a learner without the cut',
    properties: ['TruncSafety'],
  },
};

// ---------------------------------------------------------------------------------------------
// Releases

/** Every release of the lines zabsim models, newest patch last per line (release tags of apache/zookeeper). */
export const RELEASE_LINES: Readonly<Record<string, number>> = Object.freeze({
  '3.4': 14,
  '3.5': 10,
  '3.6': 4,
  '3.7': 2,
  '3.8': 6,
  '3.9': 5,
});

/** Every modelled release, oldest first: 3.4.0 … 3.9.5. */
export const RELEASES: readonly string[] = Object.freeze(
  Object.entries(RELEASE_LINES).flatMap(([line, last]) => Array.from({ length: last + 1 }, (_, i) => `${line}.${i}`)),
);

/** The release the default behaviour is measured against (with zabsim's fixes on top). */
export const NEWEST_RELEASE = RELEASES[RELEASES.length - 1] as string;

type Version = readonly [number, number, number];

function parseVersion(v: string): Version | null {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  return m === null ? null : [Number(m[1]), Number(m[2]), Number(m[3])];
}

function cmp(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/**
 * Does the `affected` item contain `release`? Throws on an item that is not a release, a range
 * within one line, or `LINE.x` (a table mistake, caught by the catalogue's test).
 */
export function itemContains(item: string, release: string): boolean {
  const r = parseVersion(release);
  if (r === null) throw new Error(`itemContains: '${release}' is not a release`);
  const line = /^(\d+)\.(\d+)\.x$/.exec(item);
  if (line !== null) return r[0] === Number(line[1]) && r[1] === Number(line[2]);
  const [fromText, toText = fromText] = item.split('-') as [string, string?];
  const from = parseVersion(fromText);
  const to = parseVersion(toText);
  if (from === null || to === null || from[0] !== to[0] || from[1] !== to[1] || cmp(from, to) > 0) {
    throw new Error(`flaw catalogue: '${item}' is not a release, a range of one line or LINE.x`);
  }
  return cmp(from, r) <= 0 && cmp(r, to) <= 0;
}

/** The flaws a release has, in the order of the catalogue. */
export function flawsOfRelease(release: string): (keyof Flaws)[] {
  return (Object.keys(FLAW_CATALOGUE) as (keyof Flaws)[]).filter((f) => FLAW_CATALOGUE[f].affected.some((item) => itemContains(item, release)));
}

/** A profile chosen by `--zk`: the releases it stands for and the flaws they have. */
export interface ReleaseProfile {
  /** As the user should read it: `3.8.4`, or `3.7.x (3.7.0-3.7.2)`. */
  readonly name: string;
  readonly flaws: readonly (keyof Flaws)[];
}

/**
 * Resolves `--zk VERSION`: a release (`3.8.4`) or a line (`3.8`, `3.8.x`) whose releases all
 * have the same flaws. Returns the profile, or one sentence saying what was expected.
 */
export function releaseProfile(text: string): ReleaseProfile | string {
  const t = text.trim();
  const lines = Object.keys(RELEASE_LINES);
  const expected = `a ZooKeeper release from 3.4.0 to ${NEWEST_RELEASE} (such as 3.8.4) or a line (${lines.map((l) => `${l}.x`).join(', ')})`;
  if (RELEASES.includes(t)) return { name: t, flaws: flawsOfRelease(t) };
  const m = /^(\d+\.\d+)(?:\.x)?$/.exec(t);
  const line = m?.[1];
  if (line === undefined || RELEASE_LINES[line] === undefined) return `--zk expects ${expected}, got '${text}'.`;
  const members = RELEASES.filter((r) => r.startsWith(`${line}.`));
  const groups: { from: string; to: string; flaws: string }[] = [];
  for (const r of members) {
    const key = flawsOfRelease(r).join(',');
    const g = groups[groups.length - 1];
    if (g !== undefined && g.flaws === key) g.to = r;
    else groups.push({ from: r, to: r, flaws: key });
  }
  if (groups.length > 1) {
    const parts = groups.map((g) => (g.from === g.to ? g.from : `${g.from}-${g.to}`));
    return `--zk ${text}: the ${line} releases differ in their bugs (${parts.join(', ')}); give one release, such as ${groups[groups.length - 1]?.to}.`;
  }
  return { name: `${line}.x (${members[0]}-${members[members.length - 1]})`, flaws: flawsOfRelease(members[0] as string) };
}

// ---------------------------------------------------------------------------------------------
// Names

/** Switch names and tickets, each mapped to its switch. */
const BY_NAME: ReadonlyMap<string, keyof Flaws> = new Map(
  (Object.keys(FLAW_CATALOGUE) as (keyof Flaws)[]).flatMap((f) => [[f, f] as const, ...FLAW_CATALOGUE[f].tickets.map((t) => [t, f] as const)]),
);

/** Every accepted spelling: switch names, then tickets. */
export function flawSpellings(): string[] {
  return [...BY_NAME.keys()];
}

/** The switch a name or ticket (`ZOOKEEPER-3911`, `zookeeper-3911`, `ZK-3911`) stands for, or null. */
export function flawByName(name: string): keyof Flaws | null {
  const n = name.trim();
  const direct = BY_NAME.get(n);
  if (direct !== undefined) return direct;
  const t = /^(?:zookeeper|zk)-(\d+)$/i.exec(n);
  return t === null ? null : (BY_NAME.get(`ZOOKEEPER-${t[1]}`) ?? null);
}

/**
 * Edit distance (Levenshtein), for suggesting a near name; the inputs are a few dozen characters.
 * The CLI's "did you mean" for flags, commands and scenario names uses it too (src/cli/args.ts).
 */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur.push(Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length] as number;
}

/** Up to three accepted spellings near `name`: by edit distance, or sharing a word or the ticket's digits. */
export function nearFlawNames(name: string): string[] {
  const n = name.trim().toLowerCase();
  const words = n.split(/[^a-z0-9]+/).filter((w) => w.length >= 4);
  const scored = flawSpellings().map((s) => {
    const l = s.toLowerCase();
    let d = l.includes(n) ? 0 : editDistance(n, l);
    if (words.some((w) => l.includes(w))) d = Math.min(d, Math.ceil(l.length / 3));
    return { s, d, limit: Math.max(3, Math.ceil(l.length / 3)) };
  });
  return scored
    .filter((x) => x.d <= x.limit)
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map((x) => x.s);
}

/** One sentence for an unknown flaw name, naming the near ones (or how to list them all). */
export function unknownFlawMessage(where: string, name: string): string {
  const near = nearFlawNames(name);
  return near.length > 0
    ? `${where} '${name}' is not a flaw; did you mean ${near.map((x) => `'${x}'`).join(' or ')}? ('zabsim flaws' lists them all)`
    : `${where} '${name}' is not a flaw name or ticket; 'zabsim flaws' lists them all.`;
}

/** The command that finds a flaw from the swarm. */
export function exploreCommandFor(f: keyof Flaws): string {
  return `npx zabsim explore --flaw ${f} --max-failures 1`;
}

/** Releases as ranges of consecutive ones: `3.4.10-3.4.11, 3.5.3`. */
function ranges(releases: readonly string[]): string {
  const out: string[] = [];
  let from: string | null = null;
  let prev = -2;
  let prevName = '';
  for (const r of releases) {
    const i = RELEASES.indexOf(r);
    const sameLine = prevName !== '' && prevName.slice(0, prevName.lastIndexOf('.')) === r.slice(0, r.lastIndexOf('.'));
    if (from !== null && i === prev + 1 && sameLine) {
      prev = i;
      prevName = r;
      continue;
    }
    if (from !== null) out.push(from === prevName ? from : `${from}-${prevName}`);
    from = r;
    prev = i;
    prevName = r;
  }
  if (from !== null) out.push(from === prevName ? from : `${from}-${prevName}`);
  return out.join(', ');
}

/**
 * Which ZooKeeper a set of switches stands for, for the run header: the releases with exactly
 * these flaws, else the newest release with zabsim's fixes (and the switches on top).
 */
export function describeProfile(flaws: Readonly<Flaws>): string {
  const on = (Object.keys(FLAW_CATALOGUE) as (keyof Flaws)[]).filter((f) => flaws[f]);
  const key = on.join(',');
  const same = RELEASES.filter((r) => flawsOfRelease(r).join(',') === key);
  if (same.length > 0) return `as ZooKeeper ${ranges(same)} (${on.length === 0 ? 'no flaws' : `its flaws: ${on.join(', ')}`})`;
  return `${NEWEST_RELEASE} with zabsim's fixes${on.length === 0 ? '' : `, plus ${on.join(', ')}`}`;
}
