/**
 * The replicated state: a small ZooKeeper-like data tree with sessions, as an immutable value.
 * Every server applies the same committed txns in zxid order (zab-protocol.md §6) through
 * {@link applyTxn}; the checks ZooKeeper's PrepRequestProcessor makes against the leader's
 * outstanding changes are made here at apply time instead, which yields the same outcome because
 * every server applies the same total order. A failed check makes the txn a no-op with an error
 * (ZooKeeper's error txn), still consuming its zxid.
 *
 * The tree is persistent: an update builds a new {@link DataTree} sharing all but O(log n) of the
 * old one's node map (a hash array mapped trie), so a step never copies the tree whole, a txn
 * costs the same however large the tree, and a snapshot is just a reference to the tree.
 * `digest` is an additive hash of every node, updated incrementally (ZooKeeper's DigestCalculator
 * idea), so two trees can be compared in O(1).
 */
import type { Sid } from './config.ts';
import type { Zxid } from './zxid.ts';

/** Who asked for a txn: the client's session and request number, and the server it came through. */
export interface TxnOrigin {
  readonly server: Sid;
  readonly client: number;
  readonly cxid: number;
}

export type Txn = (
  | { readonly type: 'createSession'; readonly session: number; readonly timeoutMs: number }
  | { readonly type: 'closeSession'; readonly session: number }
  | {
      readonly type: 'create';
      readonly path: string;
      readonly data: string;
      readonly ephemeral: boolean;
      readonly sequential: boolean;
      readonly session: number;
    }
  | { readonly type: 'setData'; readonly path: string; readonly data: string; readonly version: number }
  | { readonly type: 'delete'; readonly path: string; readonly version: number }
) & { readonly origin?: TxnOrigin };

export type TxnType = Txn['type'];

export interface ZNode {
  readonly data: string;
  /** Data version: +1 per setData. */
  readonly version: number;
  /** Child version: +1 per child created or deleted (names sequential children). */
  readonly cversion: number;
  /** Owning session of an ephemeral node, 0 for a persistent one. */
  readonly ephemeralOwner: number;
  readonly numChildren: number;
  readonly czxid: Zxid;
  readonly mzxid: Zxid;
}

/**
 * `parent` with a child more (+1) or fewer (-1): numChildren and cversion change. Written out
 * field by field, as setData's update is: nodes are frozen, and a spread of a frozen object takes
 * V8's slow path (about 4x a plain object's, 9x a literal's).
 */
function childrenChanged(parent: ZNode, delta: 1 | -1): ZNode {
  return { data: parent.data, version: parent.version, cversion: parent.cversion + 1, ephemeralOwner: parent.ephemeralOwner, numChildren: parent.numChildren + delta, czxid: parent.czxid, mzxid: parent.mzxid };
}

export interface SessionInfo {
  readonly timeoutMs: number;
  /** Paths of the session's ephemeral nodes, in creation order. */
  readonly ephemerals: readonly string[];
}

/**
 * The data tree: a persistent (immutable, structurally shared) map from path to znode, the
 * sessions, and the digest. The nodes live in a hash array mapped trie ({@link NodeMap}), so an
 * update copies O(log32 n) small arrays instead of the whole node map; `nodes` builds the plain
 * record on demand (traces, reports, tests), with the keys in the order a plain object would hold
 * them (creation order: see `seq`). A class, so a step's copy-on-write (cow.ts) never copies or
 * freezes into it.
 */
export class DataTree {
  constructor(
    /** Internal: the trie of nodes. */
    readonly trie: NodeMap,
    /** Number of znodes, root included. */
    readonly size: number,
    /** Internal: the creation number the next new path gets (orders `nodes`). */
    readonly nextSeq: number,
    /**
     * Internal: the sessions, ascending by id. A short sorted list, copied on a change: a record
     * keyed by session ids (large integers) was a slow, dictionary-mode copy at every ephemeral
     * create and delete. Read one with `session(id)`, all with `sessions`.
     */
    readonly sessionList: SessionList,
    /** Sum of every node's hash, modulo 2^32. */
    readonly digest: number,
  ) {
    Object.freeze(this);
  }

  /** A session, or undefined (O(log n)). */
  session(id: number): SessionInfo | undefined {
    const i = findSession(this.sessionList, id);
    return i >= 0 ? (this.sessionList[i] as SessionEntry)[1] : undefined;
  }

  /** Every session by id, as a frozen record (built once per tree, on demand). */
  get sessions(): Readonly<Record<number, SessionInfo>> {
    let r = SESSION_RECORDS.get(this);
    if (r === undefined) {
      const o: Record<number, SessionInfo> = {};
      for (const [id, info] of this.sessionList) o[id] = info;
      r = Object.freeze(o);
      SESSION_RECORDS.set(this, r);
    }
    return r;
  }

  /** The znode at a path, or undefined (O(log32 n)). */
  get(path: string): ZNode | undefined {
    return lookup(this.trie, path, pathHash(path))?.v;
  }

  /** Every znode by path, as a frozen record in creation order (built once per tree, on demand). */
  get nodes(): Readonly<Record<string, ZNode>> {
    let r = RECORDS.get(this);
    if (r === undefined) {
      const leaves: Leaf[] = [];
      collect(this.trie, leaves);
      leaves.sort((a, b) => a.seq - b.seq);
      const o: Record<string, ZNode> = {};
      for (const l of leaves) o[l.k] = l.v;
      r = Object.freeze(o);
      RECORDS.set(this, r);
    }
    return r;
  }

  /** What a serialised state shows: the plain record, as the tree was before it became a trie. */
  toJSON(): object {
    return { nodes: this.nodes, sessions: this.sessions, digest: this.digest };
  }
}

const RECORDS = new WeakMap<DataTree, Readonly<Record<string, ZNode>>>();
const SESSION_RECORDS = new WeakMap<DataTree, Readonly<Record<number, SessionInfo>>>();

type SessionEntry = readonly [number, SessionInfo];
type SessionList = readonly SessionEntry[];

/** The index of session `id` in a sorted list, or -(insertion point) - 1. */
function findSession(list: SessionList, id: number): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = (list[mid] as SessionEntry)[0];
    if (v < id) lo = mid + 1;
    else if (v > id) hi = mid - 1;
    else return mid;
  }
  return -lo - 1;
}

// ---- The node map: a hash array mapped trie (Bagwell), persistent: no node changes once built.

/** A path's znode, its hash, and its creation number (a plain object's key order). */
class Leaf {
  constructor(
    readonly k: string,
    readonly v: ZNode,
    readonly h: number,
    readonly seq: number,
  ) {}
}

/** Several paths with the same 32-bit hash. */
class Collision {
  constructor(
    readonly h: number,
    readonly leaves: readonly Leaf[],
  ) {}
}

/** An inner node: one bit per present 5-bit slot, the children in slot order. */
class Branch {
  constructor(
    readonly bitmap: number,
    readonly items: readonly (Leaf | Collision | Branch)[],
  ) {}
}

type NodeMap = Branch;
type Item = Leaf | Collision | Branch;

const EMPTY_MAP: NodeMap = new Branch(0, []);

/** FNV-1a of a path. */
function pathHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

function lookup(root: Branch, k: string, h: number): Leaf | undefined {
  let node: Item = root;
  let shift = 0;
  for (;;) {
    if (node instanceof Branch) {
      const bit = 1 << ((h >>> shift) & 31);
      if ((node.bitmap & bit) === 0) return undefined;
      node = node.items[popcount(node.bitmap & (bit - 1))] as Item;
      shift += 5;
    } else if (node instanceof Leaf) return node.k === k ? node : undefined;
    else {
      for (const l of node.leaves) if (l.k === k) return l;
      return undefined;
    }
  }
}

/** A branch holding two items of different hashes, from `shift` down. */
function pair(a: Leaf | Collision, b: Leaf, shift: number): Branch {
  const ia = (a.h >>> shift) & 31;
  const ib = (b.h >>> shift) & 31;
  if (ia === ib) return new Branch(1 << ia, [pair(a, b, shift + 5)]);
  return new Branch((1 << ia) | (1 << ib), ia < ib ? [a, b] : [b, a]);
}

function replaced<T>(items: readonly T[], i: number, x: T): T[] {
  const next = items.slice();
  next[i] = x;
  return next;
}

/** The branch with `leaf` in it (replacing the leaf of the same path). */
function insert(node: Branch, shift: number, leaf: Leaf): Branch {
  const bit = 1 << ((leaf.h >>> shift) & 31);
  const i = popcount(node.bitmap & (bit - 1));
  if ((node.bitmap & bit) === 0) {
    const items = node.items.slice();
    items.splice(i, 0, leaf);
    return new Branch(node.bitmap | bit, items);
  }
  const child = node.items[i] as Item;
  let next: Item;
  if (child instanceof Branch) next = insert(child, shift + 5, leaf);
  else if (child instanceof Leaf) {
    if (child.k === leaf.k) next = leaf;
    else if (child.h === leaf.h) next = new Collision(leaf.h, [child, leaf]);
    else next = pair(child, leaf, shift + 5);
  } else if (child.h === leaf.h) {
    const j = child.leaves.findIndex((l) => l.k === leaf.k);
    next = new Collision(leaf.h, j < 0 ? [...child.leaves, leaf] : replaced(child.leaves, j, leaf));
  } else next = pair(child, leaf, shift + 5);
  return new Branch(node.bitmap, replaced(node.items, i, next));
}

/** The branch without path k (which it holds); a branch left with one leaf or collision collapses into it. */
function remove(node: Branch, shift: number, k: string, h: number): Item | null {
  const bit = 1 << ((h >>> shift) & 31);
  const i = popcount(node.bitmap & (bit - 1));
  const child = node.items[i] as Item;
  let next: Item | null;
  if (child instanceof Branch) next = remove(child, shift + 5, k, h);
  else if (child instanceof Leaf) next = null;
  else {
    const rest = child.leaves.filter((l) => l.k !== k);
    next = rest.length === 1 ? (rest[0] as Leaf) : new Collision(h, rest);
  }
  if (next === null) {
    if (node.items.length === 1) return null;
    if (node.items.length === 2 && shift > 0) {
      const other = node.items[1 - i] as Item;
      if (!(other instanceof Branch)) return other;
    }
    const items = node.items.slice();
    items.splice(i, 1);
    return new Branch(node.bitmap & ~bit, items);
  }
  if (node.items.length === 1 && shift > 0 && !(next instanceof Branch)) return next;
  return new Branch(node.bitmap, replaced(node.items, i, next));
}

function collect(node: Item, out: Leaf[]): void {
  if (node instanceof Branch) for (const c of node.items) collect(c, out);
  else if (node instanceof Leaf) out.push(node);
  else for (const l of node.leaves) out.push(l);
}

export type TxnError = 'NONODE' | 'NODEEXISTS' | 'BADVERSION' | 'NOTEMPTY' | 'NOCHILDRENFOREPHEMERALS' | 'SESSIONEXPIRED';

export type TxnResult = { readonly ok: true; readonly path?: string } | { readonly ok: false; readonly error: TxnError };

const ROOT: ZNode = Object.freeze({ data: '', version: 0, cversion: 0, ephemeralOwner: 0, numChildren: 0, czxid: 0, mzxid: 0 });

export const EMPTY_TREE: DataTree = new DataTree(insert(EMPTY_MAP, 0, new Leaf('/', ROOT, pathHash('/'), 0)), 1, 1, Object.freeze([]), nodeHash('/', ROOT));

/** FNV-1a over the node's identity and content. */
function nodeHash(path: string, n: ZNode): number {
  const s = `${path}\u0000${n.data}\u0000${n.version}\u0000${n.ephemeralOwner}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** A value at a path, or null when the node does not exist. */
export function getData(tree: DataTree, path: string): string | null {
  return tree.get(path)?.data ?? null;
}

class Builder {
  trie: NodeMap;
  size: number;
  nextSeq: number;
  sessions: SessionEntry[] | null = null;
  digest: number;

  constructor(readonly base: DataTree) {
    this.trie = base.trie;
    this.size = base.size;
    this.nextSeq = base.nextSeq;
    this.digest = base.digest;
  }

  node(path: string): ZNode | undefined {
    return lookup(this.trie, path, pathHash(path))?.v;
  }

  putNode(path: string, n: ZNode | undefined): void {
    const h = pathHash(path);
    const old = lookup(this.trie, path, h);
    if (old !== undefined) this.digest = (this.digest - nodeHash(path, old.v)) >>> 0;
    if (n === undefined) {
      if (old === undefined) return;
      this.trie = (remove(this.trie, 0, path, h) as Branch | null) ?? EMPTY_MAP;
      this.size--;
    } else {
      // A path keeps its place when updated; a new (or re-created) one goes last, as in a plain object.
      const seq = old === undefined ? this.nextSeq++ : old.seq;
      if (old === undefined) this.size++;
      this.trie = insert(this.trie, 0, new Leaf(path, Object.freeze(n), h, seq));
      this.digest = (this.digest + nodeHash(path, n)) >>> 0;
    }
  }

  session(id: number): SessionInfo | undefined {
    const list = this.sessions ?? this.base.sessionList;
    const i = findSession(list, id);
    return i >= 0 ? (list[i] as SessionEntry)[1] : undefined;
  }

  putSession(id: number, s: SessionInfo | undefined): void {
    const list = (this.sessions ??= this.base.sessionList.slice());
    const i = findSession(list, id);
    if (s === undefined) {
      if (i >= 0) list.splice(i, 1);
    } else if (i >= 0) list[i] = Object.freeze([id, Object.freeze(s)] as const);
    else list.splice(-i - 1, 0, Object.freeze([id, Object.freeze(s)] as const));
  }

  build(): DataTree {
    if (this.trie === this.base.trie && this.sessions === null) return this.base;
    return new DataTree(this.trie, this.size, this.nextSeq, this.sessions === null ? this.base.sessionList : Object.freeze(this.sessions), this.digest);
  }

  deleteNode(path: string): void {
    const n = this.node(path);
    if (n === undefined) return;
    this.putNode(path, undefined);
    const parentPath = parentOf(path);
    const parent = this.node(parentPath);
    if (parent !== undefined) {
      this.putNode(parentPath, childrenChanged(parent, -1));
    }
    if (n.ephemeralOwner !== 0) {
      const s = this.session(n.ephemeralOwner);
      if (s !== undefined) this.putSession(n.ephemeralOwner, { ...s, ephemerals: s.ephemerals.filter((p) => p !== path) });
    }
  }
}

export interface Applied {
  readonly tree: DataTree;
  readonly result: TxnResult;
}

/**
 * The last {@link APPLIED_MEMO} applications, by the tree applied to, the zxid and the txn object.
 * Every server applies the same txn objects (a PROPOSAL carries the leader's) in the same order
 * from the same trees, and the safety checker's ghost applies them once more: the first of them
 * computes each txn, the others find it here and share the resulting tree. applyTxn is pure, so
 * the memo changes which object holds a tree, never its value; it holds only the newest entries,
 * so it keeps no tree alive for long (a memo keyed weakly by tree would chain every later tree to
 * an old snapshot's).
 */
const APPLIED_MEMO = 64;
const memoBase: (DataTree | null)[] = new Array<DataTree | null>(APPLIED_MEMO).fill(null);
const memoZxid: Zxid[] = new Array<Zxid>(APPLIED_MEMO).fill(0);
const memoTxn: (Txn | null)[] = new Array<Txn | null>(APPLIED_MEMO).fill(null);
const memoOut: (Applied | null)[] = new Array<Applied | null>(APPLIED_MEMO).fill(null);
let memoNext = 0;

/** Applies one committed txn. Pure: returns the new tree and the outcome for the client. */
export function applyTxn(tree: DataTree, zxid: Zxid, txn: Txn): Applied {
  for (let i = 0; i < APPLIED_MEMO; i++) {
    if (memoBase[i] === tree && memoTxn[i] === txn && memoZxid[i] === zxid) return memoOut[i] as Applied;
  }
  const b = new Builder(tree);
  const result = apply(b, zxid, txn);
  const out: Applied = Object.freeze({ tree: result.ok ? b.build() : tree, result: Object.freeze(result) });
  const i = memoNext;
  memoBase[i] = tree;
  memoZxid[i] = zxid;
  memoTxn[i] = txn;
  memoOut[i] = out;
  memoNext = (i + 1) % APPLIED_MEMO;
  return out;
}

function apply(b: Builder, zxid: Zxid, txn: Txn): TxnResult {
  switch (txn.type) {
    case 'createSession':
      if (b.session(txn.session) === undefined) b.putSession(txn.session, { timeoutMs: txn.timeoutMs, ephemerals: [] });
      return { ok: true };
    case 'closeSession': {
      const s = b.session(txn.session);
      if (s === undefined) return { ok: true };
      for (const path of s.ephemerals) b.deleteNode(path);
      b.putSession(txn.session, undefined);
      return { ok: true };
    }
    case 'create': {
      const parentPath = parentOf(txn.path);
      const parent = b.node(parentPath);
      if (parent === undefined) return { ok: false, error: 'NONODE' };
      if (parent.ephemeralOwner !== 0) return { ok: false, error: 'NOCHILDRENFOREPHEMERALS' };
      const path = txn.sequential ? txn.path + String(parent.cversion).padStart(10, '0') : txn.path;
      if (b.node(path) !== undefined) return { ok: false, error: 'NODEEXISTS' };
      let owner = 0;
      if (txn.ephemeral) {
        const s = b.session(txn.session);
        if (s === undefined) return { ok: false, error: 'SESSIONEXPIRED' };
        owner = txn.session;
        // DataTree.createNode lists an ephemeral under its owner only when the owner is not 0:
        // ephemeralOwner 0 is a persistent node.
        if (owner !== 0) b.putSession(txn.session, { ...s, ephemerals: [...s.ephemerals, path] });
      }
      b.putNode(path, { data: txn.data, version: 0, cversion: 0, ephemeralOwner: owner, numChildren: 0, czxid: zxid, mzxid: zxid });
      b.putNode(parentPath, childrenChanged(parent, 1));
      return { ok: true, path };
    }
    case 'setData': {
      const n = b.node(txn.path);
      if (n === undefined) return { ok: false, error: 'NONODE' };
      if (txn.version !== -1 && txn.version !== n.version) return { ok: false, error: 'BADVERSION' };
      b.putNode(txn.path, { data: txn.data, version: n.version + 1, cversion: n.cversion, ephemeralOwner: n.ephemeralOwner, numChildren: n.numChildren, czxid: n.czxid, mzxid: zxid });
      return { ok: true, path: txn.path };
    }
    case 'delete': {
      const n = b.node(txn.path);
      if (n === undefined || txn.path === '/') return { ok: false, error: 'NONODE' };
      if (txn.version !== -1 && txn.version !== n.version) return { ok: false, error: 'BADVERSION' };
      if (n.numChildren > 0) return { ok: false, error: 'NOTEMPTY' };
      b.deleteNode(txn.path);
      return { ok: true, path: txn.path };
    }
  }
}

/** Number of znodes, root included. */
export function nodeCount(tree: DataTree): number {
  return tree.size;
}
