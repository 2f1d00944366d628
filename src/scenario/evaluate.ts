/**
 * Conditions at run time: what `expect` checks and `stabilize until` waits for, evaluated
 * against the running simulation, with a sentence saying what was found.
 */
import type { Checkers } from '../check/index.ts';
import { formatDigest } from '../protocol/format.ts';
import { serverName, type Sid } from '../protocol/config.ts';
import { getData } from '../protocol/datatree.ts';
import { formatZxid, type Zxid } from '../protocol/zxid.ts';
import type { ServerRuntime, Simulation } from '../sim/kernel.ts';
import { roleOf, zxidList, type Replies, type TraceLog } from './state.ts';
import type { CmpOp, Pred, Quantity, Source } from './types.ts';

/** A scenario failure at a line: thrown by commands and conditions, caught by the runner. */
export class Failed extends Error {
  constructor(
    readonly src: Source,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** The outcome of checking a condition: whether it holds and what was found. */
export interface Check {
  readonly ok: boolean;
  readonly found: string;
}

/** What a condition can see of a run. */
export interface RunView {
  readonly sim: Simulation;
  readonly log: TraceLog;
  readonly replies: Replies;
  readonly checkers: Checkers;
  readonly marks: ReadonlyMap<string, number>;
}


/** Checks a condition now: whether it holds, and what was found (for the failure message). */
export function evaluate(v: RunView, p: Pred, src: Source): Check {
  const sim = v.sim;
  switch (p.kind) {
    case 'not': {
      const r = evaluate(v, p.pred, src);
      return { ok: !r.ok, found: r.ok ? `it holds: ${r.found}` : r.found };
    }
    case 'compare': {
      const { n, found } = quantity(v, p.q, src);
      return { ok: n !== null && cmp(n, p.op, p.value), found };
    }
    case 'follows': {
      const rt = sim.server(p.sid);
      const s = rt.state;
      const ok = rt.up && (s.state === 'FOLLOWING' || s.state === 'OBSERVING') && s.zabState === 'BROADCAST' && s.learner?.leader === p.leader;
      return { ok, found: roleOf(sim, p.sid) };
    }
    case 'votes': {
      const rt = up(v, p.sid, src);
      const f = rt.state.fle;
      return { ok: f.proposedLeader === p.leader, found: `${serverName(p.sid)} votes (${serverName(f.proposedLeader)}, ${formatZxid(f.proposedZxid)}, ${f.proposedEpoch}) in round ${f.logicalclock}` };
    }
    case 'settled':
      return p.sid === null ? allSettled(v) : settled(v, p.sid);
    case 'role': {
      const rt = sim.server(p.sid);
      const found = roleOf(sim, p.sid);
      if (p.state === 'DOWN' || p.state === 'UP') return { ok: rt.up === (p.state === 'UP'), found };
      return { ok: rt.up && rt.state.state === p.state && (p.phase === null || rt.state.zabState === p.phase), found };
    }
    case 'leader': {
      const rt = sim.server(p.sid);
      return { ok: rt.up && rt.state.state === 'LEADING' && rt.state.zabState === 'BROADCAST', found: roleOf(sim, p.sid) };
    }
    case 'quiet':
      return quiet(v);
    case 'zxids': {
      const got = zxids(v, p.sid, p.set, src);
      const who = p.sid === null ? 'the committed set' : `${serverName(p.sid)} ${p.set}`;
      if (p.op === '=') return { ok: got.length === p.zxids.length && got.every((z, i) => z === p.zxids[i]), found: `${who}: ${zxidList(got)}` };
      const missing = p.zxids.filter((z) => !got.includes(z));
      const present = p.zxids.filter((z) => got.includes(z));
      if (p.op === 'has') return { ok: missing.length === 0, found: `${who} lacks ${zxidList(missing)} (has ${zxidList(got)})` };
      return { ok: present.length === 0, found: `${who} has ${zxidList(present)}` };
    }
    case 'lastProcessed': {
      const rt = up(v, p.sid, src);
      return { ok: rt.state.db.lastProcessedZxid === p.zxid, found: `${serverName(p.sid)}'s lastProcessedZxid is ${formatZxid(rt.state.db.lastProcessedZxid)}` };
    }
    case 'value': {
      const rt = up(v, p.sid, src);
      const data = getData(rt.state.db.tree, p.path);
      const found = data === null ? `${serverName(p.sid)} has no ${p.path}` : `${serverName(p.sid)} has ${p.path} = ${JSON.stringify(data)}`;
      if (p.any) return { ok: data !== null, found };
      return { ok: data === p.value, found };
    }
    case 'agree': {
      const parts = p.sids.map((sid) => {
        const rt = up(v, sid, src);
        return { sid, digest: rt.state.db.tree.digest, last: rt.state.db.lastTxn };
      });
      const a = parts[0] as (typeof parts)[number];
      const ok = parts.every((x) => x.digest === a.digest && x.last === a.last);
      return { ok, found: parts.map((x) => `${serverName(x.sid)} applied up to ${formatZxid(x.last)} (digest ${formatDigest(x.digest)})`).join(', ') };
    }
    case 'checkers': {
      const vs = v.checkers.violations;
      return { ok: vs.length === 0, found: vs.length === 0 ? 'no violation' : `${vs.length} violation(s), the first: ${vs[0]?.property} at record ${vs[0]?.i} (${vs[0]?.t}ms): ${vs[0]?.message}` };
    }
    case 'violated': {
      const vs = v.checkers.violations;
      const hit = vs.find((x) => x.property === p.property);
      return { ok: hit !== undefined, found: vs.length === 0 ? 'no property was violated' : `${p.property} was not violated; violated: ${[...new Set(vs.map((x) => x.property))].join(', ')}` };
    }
    case 'trace': {
      const from = p.since === null ? 0 : (v.marks.get(p.since) ?? Infinity);
      if (from === Infinity) throw new Failed(src, `expected mark '${p.since}' to have been passed before this line`);
      const i = v.log.find(p.text, from);
      const where = p.since === null ? 'the trace' : `the trace since '${p.since}'`;
      if (p.before !== null) {
        const j = v.log.find(p.before, from);
        if (i < 0) return { ok: false, found: `${where} has no line containing "${p.text}"` };
        return { ok: j < 0 || i < j, found: `${where} has "${p.before}" first: ${v.log.line(j)}` };
      }
      return p.has ? { ok: i >= 0, found: `${where} has no line containing "${p.text}"` } : { ok: i < 0, found: `${where} has: ${i >= 0 ? v.log.line(i) : ''}` };
    }
    case 'reply': {
      const r = v.replies.get(p.label);
      const found = r === undefined ? `${p.label} got no reply` : `${p.label} got ${r.ok ? 'ok' : r.error ?? 'an error'} zxid=${formatZxid(r.zxid)}${r.value !== undefined ? ` value=${JSON.stringify(r.value)}` : ''}`;
      if (p.outcome === 'none') return { ok: r === undefined, found };
      if (r === undefined) return { ok: false, found };
      const outcomeOk = p.outcome === 'ok' ? r.ok : !r.ok && r.error === p.outcome;
      return { ok: outcomeOk && (p.value === undefined || r.value === p.value), found };
    }
  }
}

function cmp(a: number, op: CmpOp, b: number): boolean {
  switch (op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

/** A quantity's value now (null: an epoch file that does not exist), and a sentence about it. */
function quantity(v: RunView, q: Quantity, src: Source): { n: number | null; found: string } {
  switch (q.kind) {
    case 'round': {
      const n = up(v, q.sid, src).state.fle.logicalclock;
      return { n, found: `${serverName(q.sid)} is in election round ${n}` };
    }
    case 'epoch': {
      if (q.memory) {
        const n = up(v, q.sid, src).state[q.file];
        return { n, found: `${serverName(q.sid)}'s ${q.file} in memory is ${n}` };
      }
      const n = v.sim.server(q.sid).disk.image[q.file];
      return { n, found: `${serverName(q.sid)}'s ${q.file} file holds ${n ?? 'nothing (no file)'}` };
    }
    case 'traceCount': {
      const from = q.since === null ? 0 : (v.marks.get(q.since) ?? Infinity);
      if (from === Infinity) throw new Failed(src, `expected mark '${q.since}' to have been passed before this line`);
      const n = v.log.count(q.text, from);
      return { n, found: `${q.since === null ? 'the trace' : `the trace since '${q.since}'`} has ${n} line(s) containing "${q.text}"` };
    }
    case 'setCount': {
      const n = zxids(v, q.sid, q.set, src).length;
      return { n, found: `${q.sid === null ? 'the committed set' : `${serverName(q.sid)} ${q.set}`} holds ${n} txn(s)` };
    }
  }
}

/**
 * One server has settled: it is up and in BROADCAST, leading (with no proposal outstanding) or
 * following an established leader that is up, with the leader's last txn applied, no write
 * pending on its disk, and no operation of its clients waiting for a reply.
 */
function settled(v: RunView, sid: Sid): Check {
  const sim = v.sim;
  const rt = sim.server(sid);
  if (!rt.up) return { ok: false, found: `${serverName(sid)} is DOWN` };
  const s = rt.state;
  if (s.zabState !== 'BROADCAST') return { ok: false, found: `${roleOf(sim, sid)}, not in BROADCAST` };
  if (rt.disk.pendingCount > 0) return { ok: false, found: `${serverName(sid)} has ${rt.disk.pendingCount} pending disk write(s)` };
  if (v.replies.pendingAt(sid) > 0) return { ok: false, found: `${v.replies.pendingAt(sid)} client operation(s) at ${serverName(sid)} waiting for a reply` };
  if (s.state === 'LEADING') {
    const n = s.leader?.outstanding.length ?? 0;
    return n > 0 ? { ok: false, found: `${serverName(sid)} has ${n} outstanding proposal(s)` } : { ok: true, found: `${serverName(sid)} leads, settled` };
  }
  const leader = s.learner?.leader ?? null;
  const lrt = leader === null ? null : sim.server(leader);
  if (lrt === null || !lrt.up || lrt.state.state !== 'LEADING' || lrt.state.zabState !== 'BROADCAST') return { ok: false, found: `${roleOf(sim, sid)}, whose leader is not established` };
  if (s.db.lastTxn !== lrt.state.db.lastTxn) return { ok: false, found: `${serverName(sid)} applied up to ${formatZxid(s.db.lastTxn)}, its leader ${serverName(lrt.sid)} up to ${formatZxid(lrt.state.db.lastTxn)}` };
  return { ok: true, found: `${roleOf(sim, sid)}, settled` };
}

/** Every running server has settled (at least one runs), all under one leader. */
function allSettled(v: RunView): Check {
  const sim = v.sim;
  const up = sim.sids.filter((s) => sim.server(s).up);
  if (up.length === 0) return { ok: false, found: 'no server is up' };
  for (const sid of up) {
    const r = settled(v, sid);
    if (!r.ok) return r;
  }
  const leaders = up.filter((s) => sim.server(s).state.state === 'LEADING');
  if (leaders.length !== 1) return { ok: false, found: `${leaders.length} servers lead: ${leaders.map(serverName).join(', ')}` };
  return { ok: true, found: `all ${up.length} running servers settled under ${serverName(leaders[0] as Sid)}` };
}

function up(v: RunView, sid: Sid, src: Source): ServerRuntime {
  const rt = v.sim.server(sid);
  if (!rt.up) throw new Failed(src, `expected ${serverName(sid)} to be up to read its memory, but it is down`);
  return rt;
}

function zxids(v: RunView, sid: Sid | null, set: 'logged' | 'applied' | 'committed', src: Source): Zxid[] {
  if (sid === null) return v.log.committedZxids();
  if (set === 'logged') return v.sim.server(sid).disk.image.log.map((e) => e.zxid);
  const c = up(v, sid, src).state.db.committed;
  const out: Zxid[] = [];
  for (let i = 0; i < c.length; i++) out.push(c.at(i).zxid);
  return out;
}

/**
 * Quiet: one established leader; every running server it can reach both ways follows it in
 * BROADCAST and has applied what it applied; no write is pending on a running server's disk or queued to its log writer
 * and no proposal is outstanding. Servers cut off from the leader are left out.
 */
function quiet(v: RunView): Check {
  const sim = v.sim;
  const up = sim.sids.filter((s) => sim.server(s).up);
  const leaders = up.filter((s) => sim.server(s).state.state === 'LEADING' && sim.server(s).state.zabState === 'BROADCAST');
  if (leaders.length === 0) return { ok: false, found: 'no established leader' };
  const leader = leaders.reduce((a, b) => (sim.server(b).state.currentEpoch > sim.server(a).state.currentEpoch ? b : a));
  const ls = sim.server(leader).state;
  if (v.replies.pending > 0) return { ok: false, found: `${v.replies.pending} client operation(s) waiting for a reply` };
  if (ls.leader !== null && ls.leader.outstanding.length > 0) return { ok: false, found: `${serverName(leader)} has ${ls.leader.outstanding.length} outstanding proposal(s)` };
  for (const sid of up) {
    const rt = sim.server(sid);
    if (rt.disk.pendingCount > 0) return { ok: false, found: `${serverName(sid)} has ${rt.disk.pendingCount} pending disk write(s)` };
    const queued = rt.state.logWriter.queue.length;
    if (queued > 0) return { ok: false, found: `${serverName(sid)} has ${queued} txn(s) queued to its log writer` };
    if (sid === leader || sim.network.isBlocked(sid, leader) || sim.network.isBlocked(leader, sid)) continue;
    const s = rt.state;
    if (s.zabState !== 'BROADCAST' || s.learner?.leader !== leader) return { ok: false, found: `${roleOf(sim, sid)}, not following ${serverName(leader)} in BROADCAST` };
    if (s.db.lastTxn !== ls.db.lastTxn) return { ok: false, found: `${serverName(sid)} applied up to ${formatZxid(s.db.lastTxn)}, ${serverName(leader)} up to ${formatZxid(ls.db.lastTxn)}` };
  }
  return { ok: true, found: `quiet under ${serverName(leader)}` };
}
