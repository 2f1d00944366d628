/**
 * The replicated data tree (datatree.ts): applyTxn semantics that every server must reproduce
 * identically when it applies the committed txns in zxid order (zab-protocol.md §6), and the
 * incremental digest that lets checkers compare trees.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyTxn, EMPTY_TREE, getData, nodeCount, parentOf, type DataTree, type Txn, type TxnResult } from '../../src/protocol/datatree.ts';
import { zxid } from '../../src/protocol/zxid.ts';

const create = (path: string, data = '', o: { ephemeral?: boolean; sequential?: boolean; session?: number } = {}): Txn => ({
  type: 'create',
  path,
  data,
  ephemeral: o.ephemeral ?? false,
  sequential: o.sequential ?? false,
  session: o.session ?? 0,
});
const setData = (path: string, data: string, version = -1): Txn => ({ type: 'setData', path, data, version });
const del = (path: string, version = -1): Txn => ({ type: 'delete', path, version });
const createSession = (session: number): Txn => ({ type: 'createSession', session, timeoutMs: 10_000 });
const closeSession = (session: number): Txn => ({ type: 'closeSession', session });

/** Applies txns at zxids (1,1), (1,2), ...; returns the final tree and every result. */
function run(txns: readonly Txn[], from: DataTree = EMPTY_TREE): { tree: DataTree; results: TxnResult[] } {
  let tree = from;
  const results: TxnResult[] = [];
  txns.forEach((t, k) => {
    const r = applyTxn(tree, zxid(1, k + 1), t);
    tree = r.tree;
    results.push(r.result);
  });
  return { tree, results };
}

function applyOne(tree: DataTree, t: Txn, c = 99): { tree: DataTree; result: TxnResult } {
  return applyTxn(tree, zxid(1, c), t);
}

/** The digest recomputed from scratch: FNV-1a of (path, data, version, owner) summed mod 2^32. */
function digestFromScratch(tree: DataTree): number {
  let sum = 0;
  for (const [path, n] of Object.entries(tree.nodes)) {
    const s = `${path}\u0000${n.data}\u0000${n.version}\u0000${n.ephemeralOwner}`;
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    sum = (sum + (h >>> 0)) >>> 0;
  }
  return sum;
}

describe('applyTxn: create', () => {
  it('§6 apply: creates a node under an existing parent, bumps the parent\'s numChildren and cversion, stamps czxid/mzxid', () => {
    const { tree, results } = run([create('/a', 'x'), create('/a/b', 'y')]);
    expect(results).toEqual([{ ok: true, path: '/a' }, { ok: true, path: '/a/b' }]);
    expect(tree.nodes['/a']).toMatchObject({ data: 'x', version: 0, numChildren: 1, cversion: 1, ephemeralOwner: 0, czxid: zxid(1, 1), mzxid: zxid(1, 1) });
    expect(tree.nodes['/a/b']).toMatchObject({ data: 'y', czxid: zxid(1, 2) });
    expect(tree.nodes['/']).toMatchObject({ numChildren: 1, cversion: 1 });
    expect(getData(tree, '/a/b')).toBe('y');
    expect(getData(tree, '/nope')).toBeNull();
    expect(nodeCount(tree)).toBe(3);
    expect(parentOf('/a/b')).toBe('/a');
    expect(parentOf('/a')).toBe('/');
  });

  it('§6 apply: NODEEXISTS for an existing path; NONODE when the parent is missing; a failed txn leaves the tree untouched', () => {
    const { tree } = run([create('/a', 'x')]);
    const dup = applyOne(tree, create('/a', 'other'));
    expect(dup.result).toEqual({ ok: false, error: 'NODEEXISTS' });
    expect(dup.tree).toBe(tree);
    const orphan = applyOne(tree, create('/missing/child'));
    expect(orphan.result).toEqual({ ok: false, error: 'NONODE' });
    expect(orphan.tree).toBe(tree);
    expect(getData(tree, '/a')).toBe('x');
  });

  it('§6 apply: sequential names come from the parent\'s cversion, zero-padded to 10 digits, and never repeat after deletes', () => {
    const { tree, results } = run([
      create('/q'),
      create('/q/job-', 'a', { sequential: true }), // cversion 0
      create('/q/job-', 'b', { sequential: true }), // cversion 1
      create('/q/other'), // cversion 2
      del('/q/job-0000000000'), // cversion 3 -> 4
      create('/q/job-', 'c', { sequential: true }), // cversion 4
    ]);
    expect(results.map((r) => (r.ok ? r.path : r.error))).toEqual(['/q', '/q/job-0000000000', '/q/job-0000000001', '/q/other', '/q/job-0000000000', '/q/job-0000000004']);
    expect(Object.keys(tree.nodes).filter((p) => p.startsWith('/q/')).sort()).toEqual(['/q/job-0000000001', '/q/job-0000000004', '/q/other']);
    expect(tree.nodes['/q']).toMatchObject({ cversion: 5, numChildren: 3 });
    // Under the root, the root's cversion counts.
    const root = run([create('/x'), create('/s-', '', { sequential: true })]);
    expect(root.results[1]).toEqual({ ok: true, path: '/s-0000000001' });
  });

  it('§6 apply: an ephemeral node records its owner; it needs a live session and cannot have children', () => {
    const { tree, results } = run([createSession(7), create('/e', 'v', { ephemeral: true, session: 7 })]);
    expect(results[1]).toEqual({ ok: true, path: '/e' });
    expect(tree.nodes['/e']?.ephemeralOwner).toBe(7);
    expect(tree.sessions[7]?.ephemerals).toEqual(['/e']);
    expect(applyOne(tree, create('/e/child')).result).toEqual({ ok: false, error: 'NOCHILDRENFOREPHEMERALS' });
    expect(applyOne(tree, create('/e2', '', { ephemeral: true, session: 8 })).result).toEqual({ ok: false, error: 'SESSIONEXPIRED' });
    // A persistent node ignores the session field.
    expect(applyOne(tree, create('/p', '', { session: 8 })).result).toEqual({ ok: true, path: '/p' });
  });

  it('§6 apply: ephemeralOwner 0 is a persistent node, so session 0 lists no ephemeral and its close deletes nothing (DataTree.createNode: ephemeralOwner != 0)', () => {
    // No client of a run has session 0 (scenarios refuse it, swarm clients start at id·10⁶+1);
    // applyTxn is still ZooKeeper's DataTree for it.
    const { tree } = run([createSession(0), create('/e', 'v', { ephemeral: true, session: 0 }), del('/e'), create('/e', 'w'), closeSession(0)]);
    expect(getData(tree, '/e')).toBe('w');
    const once = run([createSession(0), create('/e', 'v', { ephemeral: true, session: 0 }), closeSession(0)]).tree;
    expect(getData(once, '/e')).toBe('v');
  });

  it('§6 apply: closeSession deletes the session\'s ephemerals (and only those), updating their parents', () => {
    const { tree } = run([
      createSession(1),
      createSession(2),
      create('/d'),
      create('/d/e1', '', { ephemeral: true, session: 1 }),
      create('/d/e2', '', { ephemeral: true, session: 2 }),
      create('/top', '', { ephemeral: true, session: 1, sequential: true }),
      create('/keep'),
    ]);
    expect(tree.sessions[1]?.ephemerals).toEqual(['/d/e1', '/top0000000001']);
    const closed = applyOne(tree, closeSession(1));
    expect(closed.result).toEqual({ ok: true });
    const t = closed.tree;
    expect(Object.keys(t.nodes).sort()).toEqual(['/', '/d', '/d/e2', '/keep']);
    expect(t.sessions[1]).toBeUndefined();
    expect(t.sessions[2]?.ephemerals).toEqual(['/d/e2']);
    expect(t.nodes['/d']).toMatchObject({ numChildren: 1, cversion: 3 });
    expect(t.nodes['/']).toMatchObject({ numChildren: 2 });
    // Closing an unknown session is a no-op success.
    const again = applyOne(t, closeSession(1));
    expect(again.result).toEqual({ ok: true });
    expect(again.tree).toBe(t);
  });

  it('§6 apply: deleting an ephemeral node removes it from its session\'s list', () => {
    const { tree } = run([createSession(3), create('/e', '', { ephemeral: true, session: 3 }), del('/e')]);
    expect(tree.nodes['/e']).toBeUndefined();
    expect(tree.sessions[3]?.ephemerals).toEqual([]);
  });

  it('§6 apply: deleting one ephemeral removes only that path from its session\'s list (DataTree.deleteNode: ephemerals.get(owner).remove(path))', () => {
    const { tree } = run([createSession(3), create('/e1', '', { ephemeral: true, session: 3 }), create('/e2', '', { ephemeral: true, session: 3 }), create('/e3', '', { ephemeral: true, session: 3 }), del('/e2')]);
    expect(tree.sessions[3]?.ephemerals).toEqual(['/e1', '/e3']);
    // So closing the session still deletes the others.
    expect(Object.keys(applyOne(tree, closeSession(3)).tree.nodes)).toEqual(['/']);
  });

  it('§6 apply: createSession of a session that exists changes nothing (SessionTracker.commitSession adds only an unknown id): its ephemerals and timeout stay', () => {
    const { tree, results } = run([createSession(4), create('/e', '', { ephemeral: true, session: 4 }), { type: 'createSession', session: 4, timeoutMs: 1 }]);
    expect(results[2]).toEqual({ ok: true });
    expect(tree.sessions[4]).toEqual({ timeoutMs: 10_000, ephemerals: ['/e'] });
    expect(Object.keys(applyOne(tree, closeSession(4)).tree.nodes)).toEqual(['/']);
  });
});

describe('applyTxn: setData and delete', () => {
  it('§6 apply: setData checks the version (BADVERSION), -1 matches any, and bumps version and mzxid', () => {
    const { tree } = run([create('/a', 'v0')]);
    const ok = applyTxn(tree, zxid(2, 1), setData('/a', 'v1', 0));
    expect(ok.result).toEqual({ ok: true, path: '/a' });
    expect(ok.tree.nodes['/a']).toMatchObject({ data: 'v1', version: 1, czxid: zxid(1, 1), mzxid: zxid(2, 1) });
    const stale = applyOne(ok.tree, setData('/a', 'v2', 0));
    expect(stale.result).toEqual({ ok: false, error: 'BADVERSION' });
    expect(stale.tree).toBe(ok.tree);
    const any = applyOne(ok.tree, setData('/a', 'v2', -1));
    expect(any.tree.nodes['/a']).toMatchObject({ data: 'v2', version: 2 });
    expect(applyOne(tree, setData('/none', 'x')).result).toEqual({ ok: false, error: 'NONODE' });
  });

  it('§6 apply: delete checks the version (BADVERSION), refuses a node with children (NOTEMPTY), a missing node or the root (NONODE)', () => {
    const { tree } = run([create('/a'), create('/a/b'), setData('/a/b', 'x')]);
    expect(applyOne(tree, del('/a/b', 0)).result).toEqual({ ok: false, error: 'BADVERSION' });
    expect(applyOne(tree, del('/a')).result).toEqual({ ok: false, error: 'NOTEMPTY' });
    expect(applyOne(tree, del('/zz')).result).toEqual({ ok: false, error: 'NONODE' });
    expect(applyOne(tree, del('/')).result).toEqual({ ok: false, error: 'NONODE' });
    const d1 = applyOne(tree, del('/a/b', 1));
    expect(d1.result).toEqual({ ok: true, path: '/a/b' });
    expect(d1.tree.nodes['/a']).toMatchObject({ numChildren: 0, cversion: 2 });
    const d2 = applyOne(d1.tree, del('/a'));
    expect(d2.result.ok).toBe(true);
    expect(Object.keys(d2.tree.nodes)).toEqual(['/']);
  });

  it('§6 apply: applyTxn is pure: the input tree is never changed', () => {
    const { tree } = run([create('/a', 'x')]);
    const before = JSON.stringify(tree);
    applyOne(tree, setData('/a', 'y'));
    applyOne(tree, del('/a'));
    applyOne(tree, create('/b'));
    expect(JSON.stringify(tree)).toBe(before);
    expect(Object.isFrozen(tree)).toBe(true);
    expect(Object.isFrozen(tree.nodes)).toBe(true);
  });
});

describe('digest', () => {
  it('§6 / §8.1 digest: equal trees have equal digests, whatever the order of the txns that built them', () => {
    const a = run([create('/x', '1'), create('/y', '2'), create('/x/c', '3')]).tree;
    const b = run([create('/y', '2'), create('/x', '1'), create('/x/c', '3')]).tree;
    expect(b.nodes).not.toBe(a.nodes);
    expect(b.digest).toBe(a.digest);
    // Creating then deleting a node comes back to the same digest.
    const c = run([create('/x', '1'), create('/tmp', 't'), create('/y', '2'), del('/tmp'), create('/x/c', '3')]).tree;
    expect(c.digest).toBe(a.digest);
    expect(EMPTY_TREE.digest).toBe(digestFromScratch(EMPTY_TREE));
  });

  it('§6 / §8.1 digest: the digest changes on every successful update and not on a failed one', () => {
    const t0 = run([create('/a', 'x')]).tree;
    const seen = new Set([EMPTY_TREE.digest, t0.digest]);
    const t1 = applyOne(t0, setData('/a', 'y')).tree;
    const t2 = applyOne(t1, setData('/a', 'y')).tree; // same data, new version
    const t3 = applyOne(t2, create('/b', '')).tree;
    for (const t of [t1, t2, t3]) {
      expect(seen.has(t.digest)).toBe(false);
      seen.add(t.digest);
    }
    expect(applyOne(t3, setData('/a', 'z', 0)).tree.digest).toBe(t3.digest);
  });

  const pathArb = fc.constantFrom('/a', '/b', '/a/x', '/a/y', '/b/x', '/a/x/z', '/s-', '/a/s-');
  const sessionArb = fc.integer({ min: 1, max: 3 });
  const txnArb: fc.Arbitrary<Txn> = fc.oneof(
    fc.record({ path: pathArb, data: fc.string({ maxLength: 3 }), ephemeral: fc.boolean(), sequential: fc.boolean(), session: sessionArb }).map((r) => create(r.path, r.data, r)),
    fc.record({ path: pathArb, data: fc.string({ maxLength: 3 }), version: fc.integer({ min: -1, max: 2 }) }).map((r) => setData(r.path, r.data, r.version)),
    fc.record({ path: pathArb, version: fc.integer({ min: -1, max: 1 }) }).map((r) => del(r.path, r.version)),
    sessionArb.map(createSession),
    sessionArb.map(closeSession),
  );

  it('§6 / §8.1 digest: the incremental digest equals the digest recomputed from scratch over random txn sequences (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(txnArb, { maxLength: 60 }), (txns) => {
        let tree = EMPTY_TREE;
        txns.forEach((t, k) => {
          tree = applyTxn(tree, zxid(1, k + 1), t).tree;
          expect(tree.digest).toBe(digestFromScratch(tree));
        });
        // Structural invariants the digest does not see.
        for (const [path, n] of Object.entries(tree.nodes)) {
          const children = Object.keys(tree.nodes).filter((p) => p !== '/' && p !== path && parentOf(p) === path);
          expect(n.numChildren, path).toBe(children.length);
          if (path !== '/') expect(tree.nodes[parentOf(path)], path).toBeDefined();
          if (n.ephemeralOwner !== 0) expect(tree.sessions[n.ephemeralOwner]?.ephemerals, path).toContain(path);
        }
        for (const [id, s] of Object.entries(tree.sessions)) {
          for (const p of s.ephemerals) expect(tree.nodes[p]?.ephemeralOwner, p).toBe(Number(id));
        }
      }),
      { numRuns: 300, seed: 4242 },
    );
  });

  it('§6 / §8.1 digest: replaying the same txns from scratch yields the same digest (determinism across servers)', () => {
    fc.assert(
      fc.property(fc.array(txnArb, { maxLength: 40 }), (txns) => {
        expect(run(txns).tree.digest).toBe(run(txns).tree.digest);
        expect(run(txns).tree).toEqual(run(txns).tree);
      }),
      { numRuns: 100, seed: 7 },
    );
  });
});

describe('representation: the node map is a persistent hash trie', () => {
  // Paths whose FNV-1a hashes collide (found by search), so the trie's collision lists are used.
  const colliding = ['/c710959', '/c1127602', '/c710958', '/c1127603'];
  const paths = [...colliding, ...Array.from({ length: 200 }, (_, i) => `/n${i}`)];

  it('§6 agrees with a plain record, key order included (what traces print), over random creates, updates and deletes (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...paths), fc.integer({ min: 0, max: 2 })), { maxLength: 400 }), (ops) => {
        let tree = EMPTY_TREE;
        const trees: { tree: DataTree; keys: string[]; data: Record<string, string> }[] = [];
        const model: Record<string, string> = { '/': '' };
        ops.forEach(([path, op], k) => {
          const exists = model[path] !== undefined;
          const txn = op === 0 ? create(path, `v${k}`) : op === 1 ? setData(path, `w${k}`) : del(path);
          const { result, tree: next } = applyOne(tree, txn, k + 1);
          expect(result.ok).toBe(op === 0 ? !exists : exists);
          if (result.ok) {
            if (op === 2) delete model[path];
            else model[path] = op === 0 ? `v${k}` : `w${k}`;
          }
          tree = next;
          trees.push({ tree, keys: Object.keys(model), data: { ...model } });
        });
        // Every version stays as it was (persistence), with the keys in a plain object's order.
        for (const v of trees) {
          expect(Object.keys(v.tree.nodes)).toEqual(v.keys);
          expect(nodeCount(v.tree)).toBe(v.keys.length);
          for (const p of paths) expect(getData(v.tree, p)).toBe(v.data[p] ?? null);
          expect(v.tree.digest).toBe(digestFromScratch(v.tree));
        }
      }),
      { numRuns: 40, seed: 99 },
    );
  });

  it('§6 colliding paths: each is found, replaced and deleted alone', () => {
    const t = run(colliding.map((p, i) => create(p, String(i)))).tree;
    colliding.forEach((p, i) => expect(getData(t, p)).toBe(String(i)));
    const u = applyOne(applyOne(t, setData('/c1127602', 'x')).tree, del('/c710959')).tree;
    expect(Object.keys(u.nodes)).toEqual(['/', '/c1127602', '/c710958', '/c1127603']);
    expect(getData(u, '/c1127602')).toBe('x');
    expect(getData(u, '/c710959')).toBeNull();
    const empty = colliding.reduce((acc, p) => applyOne(acc, del(p)).tree, t);
    expect(Object.keys(empty.nodes)).toEqual(['/']);
    expect(empty.digest).toBe(EMPTY_TREE.digest);
  });
});

describe('representation: the record views and the trie\'s shape', () => {
  it('§6 nodes is built once per tree: the same frozen record on every read', () => {
    const t = run([create('/a', 'x'), create('/b', 'y')]).tree;
    expect(t.nodes).toBe(t.nodes);
    expect(Object.isFrozen(t.nodes)).toBe(true);
  });

  it('§6 a serialised tree shows the plain record of nodes, the sessions and the digest (toJSON)', () => {
    const t = run([createSession(2), create('/a', 'x'), create('/a/e', 'y', { ephemeral: true, session: 2 })]).tree;
    expect(JSON.parse(JSON.stringify(t))).toEqual({ nodes: t.nodes, sessions: { 2: { timeoutMs: 10_000, ephemerals: ['/a/e'] } }, digest: t.digest });
    expect(Object.keys(JSON.parse(JSON.stringify(t)).nodes)).toEqual(['/', '/a', '/a/e']);
  });

  // Three paths with one FNV-1a hash (115389616, found by search): a collision list of three.
  const triple = ['/t8288390', '/t10731440', '/t15180267'];

  it('§6 three colliding paths: each is added, replaced (first, middle, last) and deleted alone', () => {
    let t = run(triple.map((p, i) => create(p, String(i)))).tree;
    triple.forEach((p, i) => expect(getData(t, p)).toBe(String(i)));
    expect(Object.keys(t.nodes)).toEqual(['/', ...triple]);
    triple.forEach((p) => (t = applyOne(t, setData(p, `new${p}`)).tree));
    triple.forEach((p) => expect(getData(t, p)).toBe(`new${p}`));
    expect(nodeCount(t)).toBe(4);
    expect(t.digest).toBe(digestFromScratch(t));
    for (const gone of triple) {
      const u = applyOne(t, del(gone)).tree;
      expect(Object.keys(u.nodes)).toEqual(['/', ...triple.filter((p) => p !== gone)]);
      for (const p of triple) expect(getData(u, p)).toBe(p === gone ? null : `new${p}`);
      // ... and then a second one: the last one stands alone.
      for (const second of triple.filter((p) => p !== gone)) {
        const v = applyOne(u, del(second)).tree;
        const last = triple.filter((p) => p !== gone && p !== second);
        expect(Object.keys(v.nodes)).toEqual(['/', ...last]);
        for (const p of triple) expect(getData(v, p)).toBe(last.includes(p) ? `new${p}` : null);
      }
    }
  });

  /** The trie's shape with the paths as leaves: what a lookup walks. */
  type Shape = string | { h: number; keys: string[] } | { bitmap: number; items: Shape[] };
  function shape(item: unknown): Shape {
    const o = item as { k?: string; h?: number; leaves?: { k: string }[]; bitmap?: number; items?: unknown[] };
    if (o.k !== undefined) return o.k;
    if (o.leaves !== undefined) return { h: o.h as number, keys: o.leaves.map((l) => l.k).sort() };
    return { bitmap: o.bitmap as number, items: (o.items ?? []).map(shape) };
  }

  // '/r110' shares the root's slot (low 5 hash bits) with '/', but not the next level's.
  const many = ['/r110', '/c710959', '/c1127602', '/c710958', '/c1127603', ...triple, ...Array.from({ length: 3000 }, (_, i) => `/n${i}`)];

  it('§6 after deletes, the trie is the one a fresh build of the remaining paths gives (a branch left with one leaf or collision collapses), so lookups stay O(log32 n) however much churn', () => {
    let t = run(many.map((p) => create(p))).tree;
    for (const p of many) expect(getData(t, p), p).toBe('');
    // Delete every other path, checking after each delete that every path is found or not, as it should.
    const gone = new Set<string>();
    many.forEach((p, k) => {
      if (k % 2 === 1) return;
      t = applyOne(t, del(p)).tree;
      gone.add(p);
      if (k % 64 === 0 || k < 16) for (const q of many) expect(getData(t, q), q).toBe(gone.has(q) ? null : '');
    });
    for (const q of many) expect(getData(t, q), q).toBe(gone.has(q) ? null : '');
    expect(nodeCount(t)).toBe(1 + many.length - gone.size);
    const fresh = run(many.filter((p) => !gone.has(p)).map((p) => create(p))).tree;
    expect(shape(t.trie)).toEqual(shape(fresh.trie));
    // Then the rest, down to the root alone, whose trie is the empty tree's again.
    many.forEach((p) => {
      if (!gone.has(p)) t = applyOne(t, del(p)).tree;
    });
    expect(Object.keys(t.nodes)).toEqual(['/']);
    expect(shape(t.trie)).toEqual(shape(EMPTY_TREE.trie));
    expect(t.digest).toBe(EMPTY_TREE.digest);
  });

  it('§6 the root stays a branch when every other path is gone from its slot: a path sharing the root\'s slot, deleted, then another created', () => {
    const t = run([create('/r110', 'a'), del('/r110'), create('/b', 'b'), create('/r110', 'c')]).tree;
    expect(Object.keys(t.nodes)).toEqual(['/', '/b', '/r110']);
    expect(getData(t, '/r110')).toBe('c');
    expect(shape(t.trie)).toEqual(shape(run([create('/b', 'b'), create('/r110', 'c')]).tree.trie));
  });
});

describe('§6 sessions: a sorted list read by session(id), and the record of all', () => {
  it('over random createSession, ephemeral create and delete, and closeSession, session(id) and the sessions record agree with a plain map, in ascending id order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('open', 'close', 'eph', 'del'), fc.integer({ min: 1, max: 40 }).map((x) => x * 1_000_003 % 97 + 1)), { maxLength: 80 }), (ops) => {
        let t: DataTree = EMPTY_TREE;
        const model = new Map<number, string[]>();
        let z = 1;
        for (const [op, id] of ops) {
          const path = `/e${id}`;
          const txn: Txn =
            op === 'open' ? { type: 'createSession', session: id, timeoutMs: 4000 }
            : op === 'close' ? { type: 'closeSession', session: id }
            : op === 'eph' ? { type: 'create', path, data: '', ephemeral: true, sequential: false, session: id }
            : { type: 'delete', path, version: -1 };
          const r = applyTxn(t, zxid(1, z++), txn);
          t = r.tree;
          if (op === 'open' && !model.has(id)) model.set(id, []);
          if (op === 'close') model.delete(id);
          if (op === 'eph' && r.result.ok) model.get(id)?.push(path);
          if (op === 'del' && r.result.ok) for (const [, eph] of model) if (eph.includes(path)) eph.splice(eph.indexOf(path), 1);
        }
        for (let id = 1; id <= 98; id++) expect(t.session(id)?.ephemerals ?? null).toEqual(model.get(id) ?? null);
        const ids = [...model.keys()].sort((a, b) => a - b);
        expect(Object.keys(t.sessions).map(Number)).toEqual(ids);
        for (const id of ids) expect(t.sessions[id]).toBe(t.session(id));
        expect(t.sessions).toBe(t.sessions);
      }),
      { numRuns: 200, seed: 12 },
    );
  });
});

describe('§6 applyTxn shares one application between the servers (the memo of the newest applications)', () => {
  const create = (path: string, data: string): Txn => ({ type: 'create', path, data, ephemeral: false, sequential: false, session: 0 });

  it('the same txn object applied at the same zxid to the same tree gives the same tree object, as every server and the ghost apply a PROPOSAL\'s txn', () => {
    const t0 = applyTxn(EMPTY_TREE, zxid(1, 1), create('/a', 'x')).tree;
    const txn = create('/b', 'y');
    const first = applyTxn(t0, zxid(1, 2), txn);
    const again = applyTxn(t0, zxid(1, 2), txn);
    expect(again.tree).toBe(first.tree);
    expect(again.result).toEqual({ ok: true, path: '/b' });
  });

  it('an equal-looking but different txn, another zxid or another tree is applied anew: the memo never answers for a different application', () => {
    const t0 = applyTxn(EMPTY_TREE, zxid(1, 1), create('/a', 'x')).tree;
    const a = create('/b', 'one');
    const first = applyTxn(t0, zxid(1, 2), a);
    // Another txn object at the same zxid on the same tree (a new leader's proposal of that zxid).
    const other = applyTxn(t0, zxid(1, 2), create('/b', 'two'));
    expect(getData(other.tree, '/b')).toBe('two');
    expect(getData(first.tree, '/b')).toBe('one');
    // The same txn at another zxid: czxid and mzxid follow the zxid.
    const later = applyTxn(t0, zxid(2, 1), a);
    expect(later.tree.get('/b')?.czxid).toBe(zxid(2, 1));
    expect(first.tree.get('/b')?.czxid).toBe(zxid(1, 2));
    // The same txn on another tree: /b exists there already, so it fails.
    const onOther = applyTxn(first.tree, zxid(1, 3), a);
    expect(onOther.result).toEqual({ ok: false, error: 'NODEEXISTS' });
    expect(onOther.tree).toBe(first.tree);
    // The same txn object at the same zxid on a tree of another value (a server whose state
    // diverged): its own outcome, never the other server's tree, or the Agreement check could
    // not see the divergence.
    const diverged = applyTxn(EMPTY_TREE, zxid(1, 1), create('/z', 'other')).tree;
    const onDiverged = applyTxn(diverged, zxid(1, 2), a);
    expect(onDiverged.tree).not.toBe(first.tree);
    expect(getData(onDiverged.tree, '/z')).toBe('other');
    expect(getData(onDiverged.tree, '/a')).toBeNull();
  });

  it('past the memo\'s size the oldest applications are computed again, to equal trees', () => {
    const txn = create('/c', 'z');
    const first = applyTxn(EMPTY_TREE, zxid(1, 1), txn);
    for (let i = 0; i < 200; i++) applyTxn(EMPTY_TREE, zxid(3, i + 1), create(`/n${i}`, 'v'));
    const again = applyTxn(EMPTY_TREE, zxid(1, 1), txn);
    expect(again.tree).not.toBe(first.tree);
    expect(again.tree.digest).toBe(first.tree.digest);
    expect(again.tree.nodes).toEqual(first.tree.nodes);
  });
});
