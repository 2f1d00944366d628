/**
 * The protocol's value printers (src/protocol/format.ts): the forms docs/trace.md gives, which the
 * trace, the checkers' reports and the summaries share.
 */
import { describe, expect, it } from 'vitest';
import { EMPTY_TREE } from '../../src/protocol/datatree.ts';
import { formatDigest, formatTxn, formatWrite } from '../../src/protocol/format.ts';
import { zxid } from '../../src/protocol/zxid.ts';

describe('value printers', () => {
  it('a digest is 8 hex digits, whatever its sign', () => {
    expect(formatDigest(0xc0ffee)).toBe('00c0ffee');
    expect(formatDigest(0)).toBe('00000000');
    expect(formatDigest(-1)).toBe('ffffffff');
    expect(formatDigest(0x80000000 | 0)).toBe('80000000');
  });

  it('a txn names its operation, path or session, data and the request it came from (docs/trace.md)', () => {
    const origin = { client: 1, cxid: 7, server: 2 };
    expect(formatTxn({ type: 'setData', path: '/k1', data: 'c1.7', version: -1, origin })).toBe('setData /k1 "c1.7" v=-1 c1#7@s2');
    expect(formatTxn({ type: 'create', path: '/k3-e', data: 'c3.2', ephemeral: true, sequential: true, session: 3000001, origin: { client: 3, cxid: 2, server: 1 } })).toBe('create /k3-e+seq ephemeral "c3.2" c3#2@s1');
    expect(formatTxn({ type: 'closeSession', session: 2000001 })).toBe('closeSession 2000001');
    expect(formatTxn({ type: 'delete', path: '/k2', version: 3 })).toBe('delete /k2 v=3');
  });

  it('a write names the file and what it holds', () => {
    expect(formatWrite({ op: 'truncateLog', zxid: zxid(3, 32) })).toBe('truncateLog to <3,32>');
    // The empty tree holds the root.
    expect(formatWrite({ op: 'snapshot', snapshot: { zxid: zxid(3, 35), data: EMPTY_TREE } })).toBe('snapshot <3,35> (1 znodes)');
    expect(formatWrite({ op: 'writeEpoch', file: 'currentEpoch', value: 2 })).toBe('currentEpoch := 2');
    expect(formatWrite({ op: 'updatingEpoch', exists: true })).toBe('create updatingEpoch');
  });
});
