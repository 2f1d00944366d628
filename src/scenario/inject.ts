/**
 * The grammar of `inject sA -> sB TYPE ...`: a message of any protocol type (src/protocol/types.ts)
 * with every field given, including values a correct server never sends. The zxid may be written
 * alone after the type; the other fields are `name=value`, named as in types.ts:
 *
 *   NOTIFICATION  state= leader= zxid= electionEpoch= peerEpoch= version=
 *   FOLLOWERINFO, OBSERVERINFO, LEADERINFO, NEWLEADER, DIFF, TRUNC, ACK, COMMIT  zxid
 *   ACKEPOCH      zxid currentEpoch=   (-1: "my epoch equals yours")
 *   SNAP          zxid [tree=sN|empty] [lastTxn=]
 *   PROPOSAL, INFORM  zxid TXN         (txns.ts)
 *   REQUEST       TXN | sync [server= client= cxid=]
 *   PING          zxid [sessions=1,2]
 *   SYNC          server= client= cxid=
 *   UPTODATE
 */
import type { Sid } from '../protocol/config.ts';
import type { TxnOrigin } from '../protocol/datatree.ts';
import type { Message, MessageType, PeerStateName } from '../protocol/types.ts';
import { epochOf, type Zxid } from '../protocol/zxid.ts';
import { MESSAGE_TYPES } from './commands.ts';
import type { Cursor } from './lexer.ts';
import { parseTxn } from './txns.ts';
import type { InjectMsg } from './types.ts';

const STATES: readonly PeerStateName[] = ['LOOKING', 'FOLLOWING', 'LEADING', 'OBSERVING'];
const EPOCH_MAX = 2 ** 31 - 1;

/** The zxid of a message: written alone, or as `zxid=`. */
function zxidField(c: Cursor, type: MessageType): Zxid {
  if (c.isZxid()) return c.zxid();
  const f = c.field(['zxid'] as const);
  if (f === null) return c.expected(`the zxid of the ${type}, such as <1,3>`);
  return f.value.zxid();
}

/** `server=sN client=N cxid=N` (defaults: the sender, 1, 1): whom the leader's SYNC answer is for. */
function origin(c: Cursor, from: Sid): TxnOrigin {
  let server: Sid = from;
  let client = 1;
  let cxid = 1;
  for (let f = c.field(['server', 'client', 'cxid'] as const); f !== null; f = c.field(['server', 'client', 'cxid'] as const)) {
    if (f.key === 'server') server = f.value.sid();
    else if (f.key === 'client') client = f.value.int('a client number', 2 ** 31 - 1);
    else cxid = f.value.int('a cxid', 2 ** 31 - 1);
  }
  return { server, client, cxid };
}

/** The message after `inject sA -> sB`, to the end of the line. */
export function parseInjected(c: Cursor, from: Sid): InjectMsg {
  const w = c.peek();
  if (w === null || !(MESSAGE_TYPES as string[]).includes(w)) return c.expected(`a message type (${MESSAGE_TYPES.join(', ')})`);
  c.word('a message type');
  const type = w as MessageType;
  let snapTreeOf: Sid | null | undefined;
  let msg: Message;
  switch (type) {
    case 'NOTIFICATION': {
      let state: PeerStateName = 'LOOKING';
      let leader = from;
      let zxid: Zxid = 0;
      let electionEpoch = 1;
      let peerEpoch: number | null = null;
      let version = 2;
      if (c.isZxid()) zxid = c.zxid();
      const keys = ['state', 'leader', 'zxid', 'electionEpoch', 'peerEpoch', 'version'] as const;
      for (let f = c.field(keys); f !== null; f = c.field(keys)) {
        if (f.key === 'state') state = f.value.oneOf(STATES, `a state (${STATES.join(', ')})`);
        else if (f.key === 'leader') leader = f.value.sid();
        else if (f.key === 'zxid') zxid = f.value.zxid();
        else if (f.key === 'electionEpoch') electionEpoch = f.value.int('a round (electionEpoch)', EPOCH_MAX);
        else if (f.key === 'peerEpoch') peerEpoch = f.value.int('an epoch', EPOCH_MAX);
        else version = f.value.int('a notification version', EPOCH_MAX);
      }
      msg = { type, state, leader, zxid, electionEpoch, peerEpoch: peerEpoch ?? epochOf(zxid), version };
      break;
    }
    case 'FOLLOWERINFO':
    case 'OBSERVERINFO':
    case 'LEADERINFO':
    case 'NEWLEADER':
    case 'DIFF':
    case 'TRUNC':
    case 'ACK':
    case 'COMMIT':
      msg = { type, zxid: zxidField(c, type) } as Message;
      break;
    case 'ACKEPOCH': {
      const zxid = zxidField(c, type);
      const f = c.field(['currentEpoch'] as const);
      if (f === null) return c.expected("'currentEpoch=E' (the learner's currentEpoch, or -1 when it equals the new epoch)");
      const currentEpoch = f.value.accept('-1') ? -1 : f.value.int('an epoch, or -1', EPOCH_MAX);
      msg = { type, zxid, currentEpoch };
      break;
    }
    case 'SNAP': {
      const zxid = zxidField(c, type);
      let lastTxn: Zxid | undefined;
      snapTreeOf = null;
      for (let f = c.field(['tree', 'lastTxn'] as const); f !== null; f = c.field(['tree', 'lastTxn'] as const)) {
        if (f.key === 'lastTxn') lastTxn = f.value.zxid();
        else snapTreeOf = f.value.accept('empty') ? null : f.value.isSid() ? f.value.sid() : f.value.expected("'empty' or a server whose data tree to send, such as s3");
      }
      msg = { type, zxid, tree: undefined as never, ...(lastTxn !== undefined ? { lastTxn } : {}) };
      break;
    }
    case 'PROPOSAL':
    case 'INFORM': {
      const zxid = zxidField(c, type);
      msg = { type, zxid, txn: parseTxn(c) };
      break;
    }
    case 'REQUEST':
      msg = { type, request: c.accept('sync') ? { kind: 'sync', origin: origin(c, from) } : { kind: 'write', txn: parseTxn(c) } };
      break;
    case 'PING': {
      const zxid = zxidField(c, type);
      const f = c.field(['sessions'] as const);
      if (f === null) msg = { type, zxid };
      else {
        const text = f.value.text('session ids');
        if (!/^\d+(,\d+)*$/.test(text)) f.value.fail(`expected session ids such as sessions=1,2, found '${text}'`);
        msg = { type, zxid, sessions: text.split(',').map(Number) };
      }
      break;
    }
    case 'SYNC':
      msg = { type, origin: origin(c, from) };
      break;
    case 'UPTODATE':
      msg = { type };
      break;
  }
  c.end();
  return snapTreeOf === undefined ? { msg } : { msg, snapTreeOf };
}
