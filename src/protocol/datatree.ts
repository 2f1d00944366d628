/**
 * The replicated state: a small ZooKeeper-like data tree with sessions, as an immutable value.
 * Every server applies the same committed txns in zxid order (zab-protocol.md §6) through
 * {@link applyTxn}; the checks ZooKeeper's PrepRequestProcessor makes against the leader's
 * outstanding changes are made here at apply time instead, which yields the same outcome because
 * every server applies the same total order. A failed check makes the txn a no-op with an error
 * (ZooKeeper's error txn), still consuming its zxid.
 *
 * The tree is copy-on-write: an update replaces the node map with a new frozen object, so a step
 * never goes through immer proxies for it and a snapshot is just a reference to the tree.
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

export interface SessionInfo {
  readonly timeoutMs: number;
  /** Paths of the session's ephemeral nodes, in creation order. */
  readonly ephemerals: readonly string[];
}

export interface DataTree {
  readonly nodes: Readonly<Record<string, ZNode>>;
  readonly sessions: Readonly<Record<number, SessionInfo>>;
  /** Sum of every node's hash, modulo 2^32. */
  readonly digest: number;
}

export type TxnError = 'NONODE' | 'NODEEXISTS' | 'BADVERSION' | 'NOTEMPTY' | 'NOCHILDRENFOREPHEMERALS' | 'SESSIONEXPIRED';

export type TxnResult = { readonly ok: true; readonly path?: string } | { readonly ok: false; readonly error: TxnError };

const ROOT: ZNode = Object.freeze({ data: '', version: 0, cversion: 0, ephemeralOwner: 0, numChildren: 0, czxid: 0, mzxid: 0 });

export const EMPTY_TREE: DataTree = Object.freeze({
  nodes: Object.freeze({ '/': ROOT }),
  sessions: Object.freeze({}),
  digest: nodeHash('/', ROOT),
});

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
  return tree.nodes[path]?.data ?? null;
}

class Builder {
  nodes: Record<string, ZNode> | null = null;
  sessions: Record<number, SessionInfo> | null = null;
  digest: number;

  constructor(readonly base: DataTree) {
    this.digest = base.digest;
  }

  node(path: string): ZNode | undefined {
    return (this.nodes ?? this.base.nodes)[path];
  }

  putNode(path: string, n: ZNode | undefined): void {
    this.nodes ??= { ...this.base.nodes };
    const old = this.nodes[path];
    if (old !== undefined) this.digest = (this.digest - nodeHash(path, old)) >>> 0;
    if (n === undefined) delete this.nodes[path];
    else {
      this.nodes[path] = Object.freeze(n);
      this.digest = (this.digest + nodeHash(path, n)) >>> 0;
    }
  }

  session(id: number): SessionInfo | undefined {
    return (this.sessions ?? this.base.sessions)[id];
  }

  putSession(id: number, s: SessionInfo | undefined): void {
    this.sessions ??= { ...this.base.sessions };
    if (s === undefined) delete this.sessions[id];
    else this.sessions[id] = Object.freeze(s);
  }

  build(): DataTree {
    if (this.nodes === null && this.sessions === null) return this.base;
    return Object.freeze({
      nodes: this.nodes === null ? this.base.nodes : Object.freeze(this.nodes),
      sessions: this.sessions === null ? this.base.sessions : Object.freeze(this.sessions),
      digest: this.digest,
    });
  }

  deleteNode(path: string): void {
    const n = this.node(path);
    if (n === undefined) return;
    this.putNode(path, undefined);
    const parentPath = parentOf(path);
    const parent = this.node(parentPath);
    if (parent !== undefined) {
      this.putNode(parentPath, { ...parent, numChildren: parent.numChildren - 1, cversion: parent.cversion + 1 });
    }
    if (n.ephemeralOwner !== 0) {
      const s = this.session(n.ephemeralOwner);
      if (s !== undefined) this.putSession(n.ephemeralOwner, { ...s, ephemerals: s.ephemerals.filter((p) => p !== path) });
    }
  }
}

/** Applies one committed txn. Pure: returns the new tree and the outcome for the client. */
export function applyTxn(tree: DataTree, zxid: Zxid, txn: Txn): { tree: DataTree; result: TxnResult } {
  const b = new Builder(tree);
  const result = apply(b, zxid, txn);
  return { tree: result.ok ? b.build() : tree, result };
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
        b.putSession(txn.session, { ...s, ephemerals: [...s.ephemerals, path] });
      }
      b.putNode(path, { data: txn.data, version: 0, cversion: 0, ephemeralOwner: owner, numChildren: 0, czxid: zxid, mzxid: zxid });
      b.putNode(parentPath, { ...parent, numChildren: parent.numChildren + 1, cversion: parent.cversion + 1 });
      return { ok: true, path };
    }
    case 'setData': {
      const n = b.node(txn.path);
      if (n === undefined) return { ok: false, error: 'NONODE' };
      if (txn.version !== -1 && txn.version !== n.version) return { ok: false, error: 'BADVERSION' };
      b.putNode(txn.path, { ...n, data: txn.data, version: n.version + 1, mzxid: zxid });
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
  return Object.keys(tree.nodes).length;
}
