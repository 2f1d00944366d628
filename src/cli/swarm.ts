/**
 * Swarm testing (as in TigerBeetle's VOPR and FoundationDB): each seed draws its own fault mix,
 * so different seeds explore different regions (a calm cluster with heavy load, a lossy one with
 * short partitions, crashes aimed at leaders, slow disks, 7 voters...) instead of one average mix.
 *
 * The draw produces values for `zabsim run` flags, from the seed's own `swarm` stream (it
 * perturbs no other stream). Flags given on the command line override drawn ones, and the run
 * prints the merged flags first, so `zabsim run --swarm --seed N` (plus the same overrides)
 * replays any explored seed exactly.
 */
import { RngRoot, type Rng } from '../sim/rng.ts';
import { shellQuote, type FlagValue } from './args.ts';

function weighted<T>(r: Rng, choices: readonly (readonly [T, number])[]): T {
  const total = choices.reduce((a, [, w]) => a + w, 0);
  let x = r.next() * total;
  for (const [v, w] of choices) {
    x -= w;
    if (x < 0) return v;
  }
  return (choices[choices.length - 1] as readonly [T, number])[0];
}

/** The flags a seed draws, in the order they are printed. */
export function swarmFlags(seed: number): Map<string, FlagValue> {
  const r = new RngRoot(seed).stream('swarm');
  const m = new Map<string, FlagValue>();
  const servers = weighted(r, [[3, 45], [5, 45], [7, 10]]);
  m.set('servers', servers);
  m.set('observers', weighted(r, [[0, 60], [1, 25], [2, 15]]));
  m.set('delay', [1, weighted(r, [[2, 20], [5, 25], [10, 30], [30, 15], [100, 10]])] as const);
  m.set('loss', weighted(r, [[0, 50], [0.001, 20], [0.005, 20], [0.02, 10]]));
  m.set('fsync', weighted(r, [[[1, 5] as const, 50], [[1, 20] as const, 30], [[5, 50] as const, 20]]));
  m.set('crash-every', weighted(r, [[0, 15], [1500, 25], [4000, 35], [10_000, 25]]));
  m.set('crash-target', weighted(r, [['any', 75], ['leader', 25]]));
  m.set('crash-points', weighted(r, [[0, 40], [0.05, 30], [0.2, 30]]));
  m.set('restart-after', weighted(r, [[[100, 2000] as const, 40], [[1000, 10_000] as const, 60]]));
  m.set('partition-every', weighted(r, [[0, 20], [3000, 25], [8000, 35], [20_000, 20]]));
  m.set('partition-for', weighted(r, [[[300, 5000] as const, 50], [[1000, 20_000] as const, 50]]));
  m.set('one-way', weighted(r, [[0, 40], [0.25, 40], [0.6, 20]]));
  m.set('faults-until', weighted(r, [[20_000, 30], [40_000, 40], [80_000, 30]]));
  m.set('clients', r.int(1, 6));
  m.set('ops-per-sec', weighted(r, [[2, 30], [10, 40], [40, 30]]));
  m.set('write-ratio', weighted(r, [[0.3, 25], [0.6, 50], [0.9, 25]]));
  m.set('keys', weighted(r, [[2, 30], [8, 50], [32, 20]]));
  m.set('clients-from', 1000);
  m.set('snap-count', weighted(r, [[20, 25], [100, 50], [1000, 25]]));
  m.set('commit-log-count', weighted(r, [[20, 30], [500, 70]]));
  // Drawn last, so that the draws above stay what they were for every seed.
  const history = weighted(r, [[0, 70], [2, 15], [5, 15]]);
  if (history > 0) m.set('history', history);
  return m;
}

/** The drawn flags as command-line text. */
export function formatFlags(m: ReadonlyMap<string, FlagValue>): string {
  const parts: string[] = [];
  for (const [k, v] of m) {
    if (v === true) parts.push(`--${k}`);
    else if (Array.isArray(v) && typeof v[0] === 'number') parts.push(`--${k} ${v[0]}..${v[1]}`);
    else if (Array.isArray(v)) for (const x of v) parts.push(`--${k} ${shellQuote(String(x))}`);
    else parts.push(`--${k} ${shellQuote(String(v))}`);
  }
  return parts.join(' ');
}
