/**
 * Swarm testing (as in TigerBeetle's VOPR and FoundationDB): each seed draws its own fault mix,
 * so different seeds explore different regions (a calm cluster with heavy load, a lossy one with
 * short partitions, crashes aimed at leaders, slow disks, 7 voters...) instead of one average mix.
 *
 * The draw produces run settings (the flags of `zabsim run`), from the seed's own `swarm` stream (it
 * perturbs no other stream). Flags given on the command line override drawn ones, and the run
 * prints the merged flags first, so `zabsim run --swarm --seed N` (plus the same overrides)
 * replays any explored seed exactly.
 */
import { RngRoot, type Rng } from '../sim/rng.ts';
import type { SettingValue } from './settings.ts';

function weighted<T>(r: Rng, choices: readonly (readonly [T, number])[]): T {
  const total = choices.reduce((a, [, w]) => a + w, 0);
  let x = r.next() * total;
  for (const [v, w] of choices) {
    x -= w;
    if (x < 0) return v;
  }
  return (choices[choices.length - 1] as readonly [T, number])[0];
}

/** How the swarm draws one setting: weighted choices, a uniform integer range, or a constant. */
export type SwarmDraw =
  | { readonly choices: readonly (readonly [SettingValue, number])[]; readonly unless?: SettingValue }
  | { readonly int: readonly [number, number] }
  | { readonly constant: SettingValue };

/** `unless` compares by identity: the choice and the exception are this one value. */
const NO_COMMIT_DELAY: readonly [number, number] = [0, 0];

/** What the swarm draws, in the order it draws and prints them (times in ms, weights in %). */
export const SWARM_DRAWS: readonly (readonly [string, SwarmDraw])[] = [
  ['servers', { choices: [[3, 45], [5, 45], [7, 10]] }],
  ['observers', { choices: [[0, 60], [1, 25], [2, 15]] }],
  ['delay', { choices: [[[1, 2], 20], [[1, 5], 25], [[1, 10], 30], [[1, 30], 15], [[1, 100], 10]] }],
  ['loss', { choices: [[0, 50], [0.001, 20], [0.005, 20], [0.02, 10]] }],
  ['fsync', { choices: [[[1, 5], 50], [[1, 20], 30], [[5, 50], 20]] }],
  ['crash-every', { choices: [[0, 15], [1500, 25], [4000, 35], [10_000, 25]] }],
  ['crash-target', { choices: [['any', 75], ['leader', 25]] }],
  ['crash-points', { choices: [[0, 40], [0.05, 30], [0.2, 30]] }],
  ['restart-after', { choices: [[[100, 2000], 40], [[1000, 10_000], 60]] }],
  ['partition-every', { choices: [[0, 20], [3000, 25], [8000, 35], [20_000, 20]] }],
  ['partition-for', { choices: [[[300, 5000], 50], [[1000, 20_000], 50]] }],
  ['one-way', { choices: [[0, 40], [0.25, 40], [0.6, 20]] }],
  ['faults-until', { choices: [[20_000, 30], [40_000, 40], [80_000, 30]] }],
  ['clients', { int: [1, 6] }],
  ['ops-per-sec', { choices: [[2, 30], [10, 40], [40, 30]] }],
  ['write-ratio', { choices: [[0.3, 25], [0.6, 50], [0.9, 25]] }],
  ['keys', { choices: [[2, 30], [8, 50], [32, 20]] }],
  ['clients-from', { constant: 1000 }],
  ['snap-count', { choices: [[20, 25], [100, 50], [1000, 25]] }],
  ['commit-log-count', { choices: [[20, 30], [500, 70]] }],
  // Counter exhaustion (§6, ZOOKEEPER-1277) in reach for one seed in ten; drawn after the rest, so
  // their draws stay what they were, and left out of the settings when it is ZooKeeper's 2^32 - 1.
  ['zxid-counter-limit', { choices: [[0, 90], [30, 5], [300, 5]], unless: 0 }],
  // A descheduled log writer (issue 11 §1): how long a server's SyncRequestProcessor waits to run.
  ['thread-delay', { choices: [[[0, 0], 25], [[0, 5], 25], [[0, 20], 25], [[5, 60], 25]] }],
  // Durable history on the disks (src/sim/history.ts) for about 3 seeds in 10, so that syncs that
  // need history (TRUNC, SNAP, DIFF over forks) are reached; left out when 0 (fresh disks).
  ['history', { choices: [[0, 70], [2, 15], [5, 15]], unless: 0 }],
  // Storage faults (issue 13 §2), each for a minority of seeds and left out when 0: failing
  // writes, full disks, and crashes that leave a torn or corrupt record at the log's end.
  ['write-errors', { choices: [[0, 80], [0.002, 10], [0.01, 10]], unless: 0 }],
  ['disk-full-every', { choices: [[0, 85], [8000, 10], [25_000, 5]], unless: 0 }],
  ['torn-tail', { choices: [[0, 75], [0.3, 15], [1, 10]], unless: 0 }],
  ['corrupt-tail', { choices: [[0, 80], [0.3, 15], [1, 5]], unless: 0 }],
  // A descheduled CommitProcessor (issue 11 §1): commit is not apply. Left out when [0, 0], so
  // that those seeds keep their trajectories.
  ['commit-delay', { choices: [[NO_COMMIT_DELAY, 50], [[0, 10], 25], [[5, 60], 25]], unless: NO_COMMIT_DELAY }],
  // ACKs that overtake earlier packets on a learner's link to the leader (issue 12 §2), for one
  // seed in five: a leader must still commit in zxid order. Left out when 0.
  ['ack-reorder', { choices: [[0, 80], [0.05, 10], [0.3, 10]], unless: 0 }],
  // Snapshot files that fail their CRC (issue 13 §2, fidelity2): the server loads the one before.
  // Drawn after ack-reorder and left out when 0, so that the seeds without it keep their trajectories.
  ['corrupt-snapshot', { choices: [[0, 85], [0.2, 10], [0.5, 5]], unless: 0 }],
  // The re-sync window (issue 11 §2, the re-sync ACK finding): a follower that ACKed an
  // outstanding proposal re-syncs with the same leader while the other disks stall, for about one
  // seed in seven. Drawn last and left out when 0, so that the seeds without it keep their
  // trajectories.
  ['ack-resets', { choices: [[0, 85], [0.05, 10], [0.3, 5]], unless: 0 }],
];

/** The settings a seed draws, in the order they are printed. */
export function swarmSettings(seed: number): Map<string, SettingValue> {
  const r = new RngRoot(seed).stream('swarm');
  const m = new Map<string, SettingValue>();
  for (const [name, d] of SWARM_DRAWS) {
    const v = 'choices' in d ? weighted(r, d.choices) : 'int' in d ? r.int(d.int[0], d.int[1]) : d.constant;
    if (!('unless' in d) || v !== d.unless) m.set(name, v);
  }
  return m;
}

/** A draw as help text: `3 (45%), 5 (45%) or 7 (10%)`, `1 to 6`, `1000`. */
export function describeDraw(d: SwarmDraw): string {
  const show = (v: SettingValue): string => (Array.isArray(v) && typeof v[0] === 'number' ? `${v[0]}..${v[1]}` : String(v));
  if ('int' in d) return `${d.int[0]} to ${d.int[1]}`;
  if ('constant' in d) return show(d.constant);
  const parts = d.choices.map(([v, w]) => `${show(v)} (${w}%)`);
  return parts.length === 1 ? (parts[0] as string) : `${parts.slice(0, -1).join(', ')} or ${parts.at(-1) as string}`;
}
