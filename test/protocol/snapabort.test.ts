/**
 * §5.2 / zab-bugs.md B8 (ZOOKEEPER-3642): a SNAP sync that ends before NEWLEADER leaves nothing
 * of the snapshot in memory, since nothing of it is on disk. Step level: s3 (log <1,1>, <1,2>,
 * epoch 1) follows s5 in a 5-voter ensemble, gets SNAP <1,5>, and loses the connection.
 */
import { describe, expect, it } from 'vitest';
import { makeClusterConfig, type Flaws } from '../../src/protocol/config.ts';
import { TIMER_FINALIZE } from '../../src/protocol/election.ts';
import { image, Node, note, z } from './driver.ts';

function snapThenDisconnect(flaws: Partial<Flaws>): Node {
  const n = Node.start(makeClusterConfig(5, 0, {}, flaws), 3, image([z(1, 1), z(1, 2)], 1));
  n.nFrom([4, 5, 3], note('LOOKING', 5, z(1, 5), 1, 1));
  n.timer(TIMER_FINALIZE);
  n.msg(5, { type: 'LEADERINFO', zxid: z(2, 0) });
  n.flush();
  expect(n.state.learner?.phase).toBe('sync');
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
