/**
 * Seeded randomness. One root seed; each component draws from its own named stream, derived
 * from the root seed and the name, so that changing how often one component draws does not
 * reshuffle the others (e.g. more disk faults never change network delays). Streams use
 * seedrandom's Alea, which is fast and identical on every platform. Never Math.random.
 */
import seedrandom from 'seedrandom';

export class Rng {
  private readonly prng: seedrandom.PRNG;

  constructor(seed: string) {
    this.prng = seedrandom.alea(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.prng();
  }

  /** Uniform integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    if (hi < lo) throw new Error(`Rng.int: empty range [${lo}, ${hi}]`);
    return lo + Math.floor(this.prng() * (hi - lo + 1));
  }

  /** True with probability p (never for p <= 0, always for p >= 1). */
  chance(p: number): boolean {
    return p > 0 && this.prng() < p;
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: empty array');
    return items[Math.floor(this.prng() * items.length)] as T;
  }

  /** Exponential with the given mean, rounded up to whole milliseconds (at least 1). */
  exponentialMs(meanMs: number): number {
    return Math.max(1, Math.ceil(-Math.log(1 - this.prng()) * meanMs));
  }
}

/** The names of the kernel's streams; adding one never perturbs the others. */
export type StreamName = 'network' | 'disk' | 'crashes' | 'partitions' | 'startup' | 'timers' | 'workload' | 'swarm' | 'threads' | 'history' | 'storage' | 'pct' | 'explore' | 'commitThreads' | 'handlerThreads' | 'writerThreads' | 'resets' | 'halts' | 'ackResets';

export class RngRoot {
  private readonly streams = new Map<string, Rng>();

  constructor(readonly seed: number) {}

  /** The stream for `name`, created on first use from (seed, name). */
  stream(name: StreamName): Rng {
    let r = this.streams.get(name);
    if (r === undefined) {
      r = new Rng(`zabsim/${this.seed}/${name}`);
      this.streams.set(name, r);
    }
    return r;
  }
}

/** A distribution of whole-millisecond durations. */
export type DelayDist =
  | { readonly kind: 'uniform'; readonly minMs: number; readonly maxMs: number }
  /** minMs plus an exponential tail, so that the whole distribution has mean meanMs (>= minMs). */
  | { readonly kind: 'exponential'; readonly minMs: number; readonly meanMs: number }
  | { readonly kind: 'constant'; readonly ms: number };

/** Draws one duration in whole milliseconds. */
export function drawMs(rng: Rng, d: DelayDist): number {
  switch (d.kind) {
    case 'uniform':
      return rng.int(d.minMs, d.maxMs);
    case 'exponential':
      if (d.meanMs < d.minMs) throw new Error(`exponential delay: mean ${d.meanMs}ms below min ${d.minMs}ms`);
      return d.minMs + Math.round(-Math.log(1 - rng.next()) * (d.meanMs - d.minMs));
    case 'constant':
      return d.ms;
  }
}

/** `uniform(1..10ms)`, `exp(min 1ms, mean 5ms)`, `5ms`: how parameters are printed. */
export function formatDist(d: DelayDist): string {
  switch (d.kind) {
    case 'uniform':
      return `uniform(${d.minMs}..${d.maxMs}ms)`;
    case 'exponential':
      return `exp(min ${d.minMs}ms, mean ${d.meanMs}ms)`;
    case 'constant':
      return `${d.ms}ms`;
  }
}
