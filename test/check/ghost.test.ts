/**
 * The ghost's committed sequence (src/check/ghost.ts): which zxids are committed, the digest of the
 * committed state after each, and what compaction forgets: the answers the safety and client
 * checkers rely on, before and after a compaction.
 */
import { describe, expect, it } from 'vitest';
import { Ghost } from '../../src/check/ghost.ts';
import { applyTxn, EMPTY_TREE, type DataTree, type Txn } from '../../src/protocol/datatree.ts';
import { zxid, type Zxid } from '../../src/protocol/zxid.ts';

const create = (path: string): Txn => ({ type: 'create', path, data: '', ephemeral: false, sequential: false, session: 0 });
const setX = (data: string): Txn => ({ type: 'setData', path: '/x', data, version: -1 });

/** A ghost with /x created at (1,1) and n setData txns after it, all committed; the digests the tree had after each. */
function committedRun(n: number): { ghost: Ghost; zs: Zxid[]; digests: Map<Zxid, number> } {
  const ghost = new Ghost();
  const digests = new Map<Zxid, number>();
  let tree: DataTree = EMPTY_TREE;
  const zs: Zxid[] = [];
  let pred: Zxid = 0;
  for (let i = 0; i <= n; i++) {
    // Two epochs, so the zxids are not one counter.
    const z = i < n / 2 ? zxid(1, i + 1) : zxid(2, i + 1);
    const txn = i === 0 ? create('/x') : setX(`v${i}`);
    ghost.assign(z, txn, pred, 1);
    tree = applyTxn(tree, z, txn).tree;
    digests.set(z, tree.digest);
    zs.push(z);
    pred = z;
  }
  // Commit in a few walks, as leaders do: each walk commits everything down to cmax.
  for (let i = 7; i < zs.length; i += 7) expect(ghost.commitThrough(zs[i] as Zxid).ok).toBe(true);
  expect(ghost.commitThrough(zs[zs.length - 1] as Zxid).ok).toBe(true);
  return { ghost, zs, digests };
}

describe('the ghost\'s committed sequence', () => {
  it('answers committed, held and digest for every committed zxid, and no for the others', () => {
    const { ghost, zs, digests } = committedRun(40);
    expect(ghost.committedCount).toBe(41);
    expect(ghost.cmax).toBe(zs[zs.length - 1]);
    for (const z of zs) {
      expect(ghost.isCommitted(z)).toBe(true);
      expect(ghost.committed.has(z)).toBe(true);
      expect(ghost.digestAfter(z)).toBe(digests.get(z));
    }
    for (const z of [zxid(1, 100), zxid(2, 1), zxid(3, 1), (zs[3] as Zxid) + 0.5]) {
      expect(ghost.isCommitted(z)).toBe(false);
      expect(ghost.committed.has(z)).toBe(false);
      expect(ghost.digestAfter(z)).toBeUndefined();
    }
    // 0 is "before any txn": committed, with the empty tree's digest, and not a held entry.
    expect(ghost.isCommitted(0)).toBe(true);
    expect(ghost.committed.has(0)).toBe(false);
    expect(ghost.digestAfter(0)).toBe(EMPTY_TREE.digest);
  });

  it('a commit whose history does not pass through cmax commits nothing', () => {
    const { ghost, zs } = committedRun(10);
    const fork = zxid(3, 1);
    ghost.assign(fork, setX('fork'), zs[4] as Zxid, 2);
    expect(ghost.commitThrough(fork)).toEqual({ ok: false, at: zs[4] });
    expect(ghost.isCommitted(fork)).toBe(false);
    expect(ghost.committedCount).toBe(11);
  });

  it('compaction forgets the prefix below the floor (committed by the floor, no digest, not held), and keeps the rest exact', () => {
    const { ghost, zs, digests } = committedRun(3000);
    const floor = zs[2500] as Zxid;
    ghost.compact(floor);
    expect(ghost.retained().committed).toBe(zs.length - 2500);
    expect(ghost.retained().digests).toBe(zs.length - 2500);
    for (const z of zs.slice(2490, 2500)) {
      expect(ghost.isCommitted(z)).toBe(true);
      expect(ghost.committed.has(z)).toBe(false);
      expect(ghost.digestAfter(z)).toBeUndefined();
    }
    for (const z of zs.slice(2500)) {
      expect(ghost.committed.has(z)).toBe(true);
      expect(ghost.digestAfter(z)).toBe(digests.get(z));
    }
    // Commits go on after it, and a second compaction counts from where the first left.
    const next = zxid(2, 5000);
    ghost.assign(next, setX('after'), ghost.cmax, 1);
    expect(ghost.commitThrough(next).ok).toBe(true);
    expect(ghost.committed.has(next)).toBe(true);
    ghost.compact(zs[2990] as Zxid);
    expect(ghost.retained().committed).toBe(zs.length - 2990 + 1);
    expect(ghost.committed.has(zs[2989] as Zxid)).toBe(false);
    expect(ghost.digestAfter(zs[2995] as Zxid)).toBe(digests.get(zs[2995] as Zxid));
  });
});
