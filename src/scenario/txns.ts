/**
 * The txn grammar shared by `preload sN txn` and `inject ... PROPOSAL`: any txn type the data tree
 * knows (src/protocol/datatree.ts), written as ZooKeeper names its operations.
 *
 *   create PATH DATA [ephemeral] [sequential] [session=N]
 *   setData PATH DATA [version=N]
 *   delete PATH [version=N]
 *   createSession N [timeout=DURATION]
 *   closeSession N
 */
import type { Txn, TxnType } from '../protocol/datatree.ts';
import type { Cursor } from './lexer.ts';

export const TXN_TYPES: readonly TxnType[] = ['create', 'setData', 'delete', 'createSession', 'closeSession'];

/** A session id as the data tree keys it: a positive whole number. */
function sessionId(c: Cursor): number {
  const n = c.int('a session id (a whole number)', 2 ** 53 - 1);
  if (n === 0) c.fail('expected a session id above 0 (0 means no session)');
  return n;
}

/** `-1` (any version) or a version number. */
function version(c: Cursor): number {
  if (c.accept('-1')) return -1;
  return c.int("a version (a whole number, or -1 for any)", 2 ** 31 - 1);
}

/** One txn, to the end of what it takes (the caller checks the end of the line). */
export function parseTxn(c: Cursor): Txn {
  const type = c.oneOf(TXN_TYPES, `a txn type (${TXN_TYPES.join(', ')})`);
  switch (type) {
    case 'create': {
      const path = c.path();
      if (path === '/') c.fail("expected a znode path other than '/'");
      const data = c.text('the data of the node, such as "v1"');
      let ephemeral = false;
      let sequential = false;
      let session = 0;
      for (;;) {
        if (c.accept('ephemeral')) ephemeral = true;
        else if (c.accept('sequential')) sequential = true;
        else {
          const f = c.field(['session'] as const);
          if (f === null) break;
          session = sessionId(f.value);
        }
      }
      if (ephemeral && session === 0) c.fail("expected 'session=N': an ephemeral node belongs to a session");
      return { type, path, data, ephemeral, sequential, session };
    }
    case 'setData': {
      const path = c.path();
      const data = c.text('the data to set, such as "v2"');
      const f = c.field(['version'] as const);
      return { type, path, data, version: f === null ? -1 : version(f.value) };
    }
    case 'delete': {
      const path = c.path();
      if (path === '/') c.fail("expected a znode path other than '/'");
      const f = c.field(['version'] as const);
      return { type, path, version: f === null ? -1 : version(f.value) };
    }
    case 'createSession': {
      const session = sessionId(c);
      const f = c.field(['timeout'] as const);
      return { type, session, timeoutMs: f === null ? 30_000 : f.value.duration('a session timeout such as 30s') };
    }
    case 'closeSession':
      return { type, session: sessionId(c) };
  }
}
