/**
 * Shards: deterministic slices of an exploration's seed space, so that a sweep can run as many
 * independent jobs (one per shard) on a job engine and be merged into one result
 * (docs/scaling.md). Shard I of N (1 <= I <= N, numbered from 1 like vitest's and Playwright's
 * `--shard`) of the seeds from..from+seeds-1 runs every N-th seed starting at from+I-1: the seeds
 * s with (s - from) mod N = I - 1. Interleaving, rather than N contiguous blocks, gives every shard
 * the same mix of seeds, so that shards take about as long as each other.
 */

/** Shard `index` (from 1) of `count`. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** The largest shard count accepted (a bound on typos, far above any sweep's needs). */
export const MAX_SHARDS = 1_000_000;

/** Parses `I/N`; returns the shard or one sentence saying what was expected. */
export function parseShard(text: string): Shard | { readonly error: string } {
  const m = /^(\d{1,7})\/(\d{1,7})$/.exec(text.trim());
  if (m === null) return { error: `--shard expects I/N (shard I of N, counted from 1, e.g. 1/4), got '${text}'.` };
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > MAX_SHARDS) return { error: `--shard ${text}: the shard count N must be from 1 to ${MAX_SHARDS}.` };
  if (index < 1 || index > count) return { error: `--shard ${text}: the shard index I must be from 1 to N (${count}).` };
  return { index, count };
}

/** `I/N`. */
export function formatShard(s: Shard): string {
  return `${s.index}/${s.count}`;
}

/** How many of `seeds` seeds the shard runs (all of them without a shard). */
export function shardSize(seeds: number, shard: Shard | undefined): number {
  if (shard === undefined) return seeds;
  const first = shard.index - 1;
  return seeds <= first ? 0 : Math.ceil((seeds - first) / shard.count);
}

/** The k-th seed (from 0) the shard runs. */
export function shardSeed(from: number, shard: Shard | undefined, k: number): number {
  return shard === undefined ? from + k : from + shard.index - 1 + k * shard.count;
}
