/**
 * §5.2: a sync cut short leaves the learner with what it really holds. zab-bugs.md B8
 * (ZOOKEEPER-3642): a SNAP sync that ends before NEWLEADER leaves nothing of the snapshot in
 * memory, since nothing of it is on disk; B5 (ZOOKEEPER-2355): a DIFF cut short does not leave the
 * header's zxid. Step level: s3 (log <1,1>, <1,2>, epoch 1) follows s5 in a 5-voter ensemble,
 * gets its first sync packet, and loses the connection.
 */
import { describe, expect, it } from 'vitest';
import type { Flaws } from '../../src/protocol/config.ts';
import { awaitingSync, Node, z } from './driver.ts';

function snapThenDisconnect(flaws: Partial<Flaws>): Node {
  const n = awaitingSync(flaws);
  n.msg(5, { type: 'SNAP', zxid: z(1, 5), tree: n.state.db.tree, lastTxn: z(1, 5) });
  expect(n.state.db.lastProcessedZxid).toBe(z(1, 5));
  n.feed({ kind: 'disconnected', peer: 5 });
  expect(n.state.state).toBe('LOOKING');
  return n;
}

describe('§5.2 an aborted SNAP sync (ZOOKEEPER-3642)', () => {
  it('default: the learner goes back to the database it had before the SNAP and votes with <1,2>', () => {
    const n = snapThenDisconnect({});
    expect(n.state.db.lastProcessedZxid).toBe(z(1, 2));
    expect(n.state.fle.proposedZxid).toBe(z(1, 2));
  });

  it('learner_retains_partial_snap_on_abort: it keeps the snapshot it never wrote and votes with <1,5>', () => {
    const n = snapThenDisconnect({ learner_retains_partial_snap_on_abort: true });
    expect(n.state.db.lastProcessedZxid).toBe(z(1, 5));
    expect(n.state.fle.proposedZxid).toBe(z(1, 5));
    expect(n.effects.filter((e) => e.kind === 'persist')).toEqual([]);
  });
});

const TXN = { type: 'create', path: '/x', data: '', ephemeral: false, sequential: false, session: 0 } as const;

/** DIFF <1,4>, then PROPOSAL+COMMIT <1,3>, and the connection closes before PROPOSAL <1,4>. */
function diffThenDisconnect(flaws: Partial<Flaws>): Node {
  const n = awaitingSync(flaws);
  n.msg(5, { type: 'DIFF', zxid: z(1, 4) });
  n.msg(5, { type: 'PROPOSAL', zxid: z(1, 3), txn: TXN });
  n.msg(5, { type: 'COMMIT', zxid: z(1, 3) });
  n.feed({ kind: 'disconnected', peer: 5 });
  expect(n.state.state).toBe('LOOKING');
  return n;
}

describe('§5.2 a DIFF sync cut short (ZOOKEEPER-2355)', () => {
  it('default (3.4.11, 3.5.4 on): the learner votes with the last txn it holds, <1,2>', () => {
    const n = diffThenDisconnect({});
    expect(n.state.db.lastProcessedZxid).toBe(z(1, 2));
    expect(n.state.fle.proposedZxid).toBe(z(1, 2));
  });

  it("learner_sets_lastzxid_on_diff_header: it keeps the header's <1,4> as lastProcessedZxid and votes with it", () => {
    const n = diffThenDisconnect({ learner_sets_lastzxid_on_diff_header: true });
    expect(n.state.db.lastProcessedZxid).toBe(z(1, 4));
    expect(n.state.fle.proposedZxid).toBe(z(1, 4));
    expect(n.state.db.lastTxn).toBe(z(1, 2));
  });
});
