/**
 * ZooKeeper transaction ids. A zxid is 64 bits: epoch in the high 32 bits, counter in the low 32
 * (zab-protocol.md, preamble). zabsim stores it as a JavaScript number `epoch * 2^32 + counter`,
 * which is exact while epoch < 2^21 (the sum stays below 2^53): comparison with `<` and equality
 * with `===` are then exact, and far cheaper than bigint on the hot path. {@link zxid} refuses an
 * epoch that would lose precision, so an impossible zxid throws instead of silently rounding.
 */
export type Zxid = number;

const TWO_32 = 0x1_0000_0000;

/** Largest epoch whose zxids are exact in a double (2^21 - 1). */
export const MAX_EPOCH = 0x1f_ffff;

/** Largest counter value; ZooKeeper forces a new election when the counter reaches it (§6). */
export const MAX_COUNTER = 0xffff_ffff;

/** "No zxid": a reinitialized server (FLE ignores such votes, §3.3 step 1). */
export const ZXID_NONE: Zxid = -1;

/**
 * Java's Long.MIN_VALUE stand-in: an observer's FLE vote uses it for id, zxid and epoch (§3.1).
 * Any value below every real sid/zxid/epoch works; this one is exact and prints as "MIN".
 */
export const MIN_VALUE = Number.MIN_SAFE_INTEGER;

/** Builds the zxid (epoch, counter). */
export function zxid(epoch: number, counter: number): Zxid {
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > MAX_EPOCH) {
    throw new Error(`zxid: epoch ${epoch} out of range 0..${MAX_EPOCH}`);
  }
  if (!Number.isInteger(counter) || counter < 0 || counter > MAX_COUNTER) {
    throw new Error(`zxid: counter ${counter} out of range 0..${MAX_COUNTER}`);
  }
  return epoch * TWO_32 + counter;
}

/** The epoch half (high 32 bits). */
export function epochOf(z: Zxid): number {
  return Math.floor(z / TWO_32);
}

/** The counter half (low 32 bits). */
export function counterOf(z: Zxid): number {
  return z % TWO_32;
}

/** Prints a zxid one way everywhere: `<epoch,counter>`; -1 as `-1` and Long.MIN_VALUE as `MIN`. */
export function formatZxid(z: Zxid): string {
  if (z === ZXID_NONE) return '-1';
  if (z === MIN_VALUE) return 'MIN';
  return `<${epochOf(z)},${counterOf(z)}>`;
}

/** Prints an epoch or sid that may be Long.MIN_VALUE. */
export function formatLong(n: number): string {
  return n === MIN_VALUE ? 'MIN' : String(n);
}
