/**
 * The grammar of scenario commands (everything after the setup): processes, network, delivery
 * control, time, clients, marks and expectations. docs/scenarios.md is the reference.
 */
import type { ClientOpKind, MessageType } from '../protocol/types.ts';
import type { Zxid } from '../protocol/zxid.ts';
import { parseCondition } from './conditions.ts';
import { parseInjected } from './inject.ts';
import type { Cursor } from './lexer.ts';
import type { ClientOp, CommandBody, CrashPoint, FailingWrite, Force, MsgPattern, Pred, WritePattern } from './types.ts';

const ALL_TYPES: Record<MessageType, true> = {
  NOTIFICATION: true,
  FOLLOWERINFO: true,
  OBSERVERINFO: true,
  LEADERINFO: true,
  ACKEPOCH: true,
  DIFF: true,
  TRUNC: true,
  SNAP: true,
  NEWLEADER: true,
  ACK: true,
  UPTODATE: true,
  PROPOSAL: true,
  INFORM: true,
  COMMIT: true,
  REQUEST: true,
  PING: true,
  SYNC: true,
};
/** Every protocol message type a pattern may name. */
export const MESSAGE_TYPES = Object.keys(ALL_TYPES) as MessageType[];

/** The writes `fail next WRITE on sN` names, and the kernel's name for each. */
const FAILING_WRITES: Readonly<Record<string, FailingWrite>> = {
  log: 'appendLog',
  truncate: 'truncateLog',
  snapshot: 'snapshot',
  acceptedEpoch: 'acceptedEpoch',
  currentEpoch: 'currentEpoch',
  updatingEpoch: 'updatingEpoch',
};

/** How long `stabilize` runs at most unless told `within`. */
export const DEFAULT_STABILIZE_MS = 60_000;

/** One command line after its keyword. */
export function parseCommand(kw: string, c: Cursor): CommandBody {
  switch (kw) {
    case 'start': {
      const sids = c.done() ? [] : c.sids();
      c.end();
      return { kind: 'start', sids };
    }
    case 'restart': {
      if (c.isSid() && (c.peekAt(1) === 'after' || c.peekAt(1) === 'before')) {
        const sid = c.sid();
        const point = crashPoint(c, sid);
        c.end();
        return { kind: 'crash', sid, point, restart: true };
      }
      const sids = c.sids();
      c.end();
      return { kind: 'restart', sids };
    }
    case 'crash': {
      const sid = c.sid();
      if (c.accept('with')) {
        const damage = c.oneOf(['torn', 'corrupt'] as const, "'torn' or 'corrupt' (crash sN with torn tail)");
        c.keyword('tail', "'tail'");
        c.end();
        return { kind: 'crash', sid, point: null, restart: false, damage };
      }
      const point = c.done() ? null : crashPoint(c, sid);
      c.end();
      return { kind: 'crash', sid, point, restart: false };
    }
    case 'partition':
      return partition(c);
    case 'heal':
      c.end();
      return { kind: 'heal' };
    case 'slow': {
      const from = c.sid();
      c.keyword('->', "'->' (slow s1 -> s2 100ms)");
      const to = c.sid();
      const extraMs = c.duration('an extra delay such as 100ms');
      c.end();
      return { kind: 'slow', from, to, extraMs };
    }
    case 'fail': {
      c.keyword('next', "'next WRITE on sN'");
      const w = c.oneOf(Object.keys(FAILING_WRITES) as (keyof typeof FAILING_WRITES)[], `a write to fail: ${Object.keys(FAILING_WRITES).join(', ')}`);
      c.keyword('on', "'on sN'");
      const sid = c.sid();
      c.end();
      return { kind: 'failWrite', sid, op: FAILING_WRITES[w] as FailingWrite };
    }
    case 'disk': {
      const full = c.oneOf(['full', 'free'] as const, "'full' or 'free' (disk full sN)") === 'full';
      const sid = c.sid();
      c.end();
      return { kind: 'disk', sid, full };
    }
    case 'repair': {
      const sid = c.sid();
      c.end();
      return { kind: 'repair', sid };
    }
    case 'corrupt': {
      const sid = c.sid();
      c.keyword('snapshot', "'snapshot' (corrupt sN snapshot [ZXID|all])");
      const zxid = c.peek() === null ? null : c.accept('all') ? 'all' : c.zxid();
      c.end();
      return { kind: 'corruptSnapshot', sid, zxid };
    }
    case 'hold':
    case 'release':
      if (c.accept('fsync')) {
        const sid = c.sid();
        c.end();
        return { kind: kw === 'hold' ? 'holdFsync' : 'releaseFsync', sid };
      }
      if (kw === 'release') return { kind: 'release', pat: c.done() ? null : msgPattern(c) };
      return { kind: 'hold', pat: msgPattern(c) };
    case 'deliver':
    case 'drop':
      return { kind: kw, pat: msgPattern(c) };
    case 'run': {
      if (c.accept('until')) {
        const t = c.duration('a virtual time such as 12s');
        c.end();
        return { kind: 'run', untilMs: t, forMs: null };
      }
      const d = c.duration("a duration such as 500ms, or 'until TIME'");
      c.end();
      return { kind: 'run', untilMs: null, forMs: d };
    }
    case 'stabilize': {
      let until: Pred = { kind: 'quiet' };
      if (c.accept('until')) until = parseCondition(c, true);
      let withinMs = DEFAULT_STABILIZE_MS;
      if (c.accept('within')) withinMs = c.duration('a bound such as 10s');
      c.end();
      return { kind: 'stabilize', until, withinMs };
    }
    case 'mark': {
      const name = c.text('a name for this point of the trace');
      c.end();
      return { kind: 'mark', name };
    }
    case 'expect': {
      const p = parseCondition(c, false);
      c.end();
      return { kind: 'expect', pred: p };
    }
    case 'inject': {
      const from = c.sid();
      c.keyword('->', "'->' (inject s2 -> s1 COMMIT <1,1>)");
      const to = c.sid();
      if (to === from) c.fail(`expected a receiver other than the sender s${from}`);
      return { kind: 'inject', from, to, msg: parseInjected(c, from) };
    }
    case 'force': {
      const sid = c.sid();
      const what = force(c);
      c.end();
      return { kind: 'force', sid, what };
    }
    case 'wipe': {
      const sid = c.sid();
      c.end();
      return { kind: 'wipe', sid };
    }
    default:
      return { kind: 'client', op: clientOp(kw, c) };
  }
}

/** What `force sN` overwrites: `vote ...`, `LOOKING`, `zxidCounter N`, `acceptedEpoch N`, `currentEpoch N`. */
function force(c: Cursor): Force {
  const what = c.oneOf(['vote', 'LOOKING', 'zxidCounter', 'acceptedEpoch', 'currentEpoch'] as const, "'vote', 'LOOKING', 'zxidCounter', 'acceptedEpoch' or 'currentEpoch'");
  switch (what) {
    case 'vote': {
      let leader: number | null = null;
      let zxid: Zxid | null = null;
      let peerEpoch: number | null = null;
      let round: number | null = null;
      const keys = ['leader', 'zxid', 'peerEpoch', 'round'] as const;
      for (let f = c.field(keys); f !== null; f = c.field(keys)) {
        if (f.key === 'leader') leader = f.value.sid();
        else if (f.key === 'zxid') zxid = f.value.zxid();
        else if (f.key === 'peerEpoch') peerEpoch = f.value.int('an epoch', 2 ** 31 - 1);
        else round = f.value.int('a round', 2 ** 31 - 1);
      }
      if (leader === null && zxid === null && peerEpoch === null && round === null) c.expected('leader=sN, zxid=<e,c>, peerEpoch=N or round=N');
      return { kind: 'vote', leader, zxid, peerEpoch, round };
    }
    case 'LOOKING':
      return { kind: 'looking' };
    case 'zxidCounter':
      return { kind: 'zxidCounter', counter: c.int('a zxid counter', 0xffff_fffe) };
    default:
      return { kind: 'epoch', file: what, value: c.int('an epoch', 2 ** 31 - 1) };
  }
}

function partition(c: Cursor): CommandBody {
  const left = c.sids('servers on one side, such as s1 s2');
  const sep = c.oneOf(['|', '-/->'] as const, "'|' (both ways) or '-/->' (one way)");
  const right = c.sids('servers on the other side');
  c.end();
  if (left.some((s) => right.includes(s))) c.fail('expected two disjoint groups of servers');
  const links: [number, number][] = [];
  for (const a of left) for (const b of right) links.push([a, b]);
  if (sep === '|') for (const b of right) for (const a of left) links.push([b, a]);
  const names = (xs: number[]): string => `{${xs.map((x) => `s${x}`).join(',')}}`;
  return { kind: 'partition', links, desc: `${names(left)} ${sep} ${names(right)}` };
}

function crashPoint(c: Cursor, sid: number): CrashPoint {
  if (c.accept('after')) {
    if (c.accept('fsync')) {
      const start = c.peek() ?? '';
      const write = writePattern(c);
      return { kind: 'fsync', write, text: start };
    }
    if (c.accept('sending')) return { kind: 'send', pat: msgPattern(c, { from: sid }) };
    if (c.accept('receiving')) return { kind: 'afterReceive', pat: msgPattern(c, { to: sid }) };
    return c.expected("'fsync', 'sending' or 'receiving' after 'after'");
  }
  if (c.accept('before')) {
    c.keyword('receiving', "'receiving' (crash sN before receiving TYPE)");
    return { kind: 'beforeReceive', pat: msgPattern(c, { to: sid }) };
  }
  return c.expected("the end of the line, 'after fsync|sending|receiving ...' or 'before receiving ...'");
}

function writePattern(c: Cursor): WritePattern {
  if (c.isZxid()) return { op: 'appendLog', zxid: c.zxid() };
  const w = c.oneOf(['log', 'truncate', 'snapshot', 'acceptedEpoch', 'currentEpoch'] as const, "a write: a zxid such as <1,5>, 'log', 'truncate', 'snapshot', 'acceptedEpoch [N] [tmp]' or 'currentEpoch [N] [tmp]'");
  switch (w) {
    case 'log':
      return { op: 'appendLog', zxid: null };
    case 'truncate':
      return { op: 'truncateLog' };
    case 'snapshot':
      return { op: 'snapshot' };
    default: {
      const value = c.peek() !== null && /^\d+$/.test(c.peek() as string) ? c.int() : null;
      const tmp = c.accept('tmp');
      return { op: 'writeEpoch', file: w, value, tmp };
    }
  }
}

/** `TYPE[,TYPE] [<e,c>] [from sN] [to sN]`, `*` or `any` for every type; to the end of the line. */
function msgPattern(c: Cursor, fixed: { from?: number; to?: number } = {}): MsgPattern {
  const parts: string[] = [];
  let types: MessageType[] | null = null;
  let from: number | null = fixed.from ?? null;
  let to: number | null = fixed.to ?? null;
  let z: Zxid | null = null;
  const t = c.peek();
  if (t === '*' || t === 'any') {
    c.word('a type');
    parts.push(t);
  } else {
    const w = t ?? '';
    const names = w.split(',');
    if (t === null || !names.every((n) => (MESSAGE_TYPES as string[]).includes(n))) {
      return c.expected(`a message type (${MESSAGE_TYPES.join(', ')}) or '*'`);
    }
    c.word('a type');
    types = names as MessageType[];
    parts.push(w);
  }
  while (!c.done()) {
    if (c.isZxid() && z === null) {
      const w = c.peek() as string;
      z = c.zxid();
      parts.push(w);
    } else if (c.accept('from')) {
      if (fixed.from !== undefined) c.fail(`expected no 'from': the sender is s${fixed.from}`);
      from = c.sid();
      parts.push(`from s${from}`);
    } else if (c.accept('to')) {
      if (fixed.to !== undefined) c.fail(`expected no 'to': the receiver is s${fixed.to}`);
      to = c.sid();
      parts.push(`to s${to}`);
    } else {
      c.expected("a zxid, 'from sN' or 'to sN' in the message pattern");
    }
  }
  return { types, from, to, zxid: z, text: parts.join(' ') };
}

function clientOp(kw: string, c: Cursor): ClientOp {
  if (kw === 'open' || kw === 'close') {
    c.keyword('session', `'session' (${kw} session NAME${kw === 'open' ? ' on sN' : ''})`);
    const name = c.text('a session name');
    let sid = 0;
    if (kw === 'open' || c.peek() === 'on') {
      c.keyword('on', "'on sN'");
      sid = c.sid();
    }
    let timeoutMs: number | undefined;
    if (kw === 'open' && c.accept('timeout')) timeoutMs = c.duration('a session timeout such as 30s');
    const label = c.accept('as') ? c.text('a name for the operation') : null;
    c.end();
    return { sid, op: kw === 'open' ? 'createSession' : 'closeSession', path: '', session: name, label, ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
  }
  const sid = c.sid();
  const op: ClientOpKind = kw === 'set' ? 'setData' : (kw as ClientOpKind);
  const path = kw === 'sync' ? '' : c.path();
  let data: string | undefined;
  if (kw === 'create' || kw === 'set') data = c.text(`the data to ${kw === 'set' ? 'set' : 'create'}, such as "v1"`);
  let ephemeral = false;
  let sequential = false;
  let session: string | null = null;
  let label: string | null = null;
  while (!c.done()) {
    if (kw === 'create' && c.accept('ephemeral')) ephemeral = true;
    else if (kw === 'create' && c.accept('sequential')) sequential = true;
    else if (c.accept('in')) session = c.text('a session name (opened with open session)');
    else if (c.accept('as')) label = c.text('a name for the operation');
    else c.expected(`${kw === 'create' ? "'ephemeral', 'sequential', " : ''}'in SESSION' or 'as NAME'`);
  }
  if (ephemeral && session === null) c.fail("expected 'in SESSION': an ephemeral node belongs to a session");
  return { sid, op, path, session, label, ...(data !== undefined ? { data } : {}), ...(ephemeral ? { ephemeral } : {}), ...(sequential ? { sequential } : {}) };
}

