/**
 * The grammar of conditions, shared by `expect` and `stabilize until`: a server's role, epochs,
 * logs and data; the committed set; replies; the trace; the checkers.
 */
import { PROPERTY_NAMES } from '../check/index.ts';
import type { PeerStateName, ZabState } from '../protocol/types.ts';
import type { Cursor } from './lexer.ts';
import type { CmpOp, Pred, Quantity } from './types.ts';

const OPS: readonly (CmpOp | '==')[] = ['=', '==', '!=', '<', '<=', '>', '>='];

/** `OP N`: a comparison with a whole number, refusing the ones that cannot fail or cannot hold. */
function compare(c: Cursor, q: Quantity, what: string): Pred {
  const w = c.oneOf(OPS, `a comparison (${OPS.join(', ')})`);
  const op: CmpOp = w === '==' ? '=' : w;
  const value = c.int(what);
  // Every quantity is a whole number ≥ 0: `>= 0` always holds and `< 0` never does.
  if (value === 0 && (op === '>=' || op === '<')) c.fail(`expected a comparison that can fail: '${w} 0' ${op === '>=' ? 'always holds' : 'never holds'}`);
  return { kind: 'compare', q, op, value };
}

/** Trace text in double quotes; empty text is in every line, so it would check nothing. */
function traceText(c: Cursor, what: string): string {
  const w = c.word(what);
  if (!w.quoted) c.fail(`expected the trace text in double quotes, found '${w.text}'`);
  const t = w.text.replace(/\s+/g, ' ').trim();
  if (t === '') c.fail('expected some trace text: "" is in every line, so the condition could not fail');
  return t;
}

const ROLES = ['LOOKING', 'FOLLOWING', 'LEADING', 'OBSERVING', 'DOWN', 'UP'] as const;
const PHASES: readonly ZabState[] = ['ELECTION', 'DISCOVERY', 'SYNCHRONIZATION', 'BROADCAST'];
/**
 * A condition: what `expect` checks and `stabilize until` waits for. `waiting`: for stabilize,
 * which cannot wait for the checkers.
 */
export function parseCondition(c: Cursor, waiting: boolean): Pred {
  if (c.accept('not')) {
    const inner = parseCondition(c, waiting);
    if (inner.kind === 'not') c.fail("expected a condition after 'not', found a second 'not'");
    return { kind: 'not', pred: inner };
  }
  if (c.accept('quiet')) return { kind: 'quiet' };
  if (c.accept('all')) {
    c.keyword('settled', "'settled' (all settled)");
    return { kind: 'settled', sid: null };
  }
  if (c.accept('count')) {
    if (c.accept('trace')) {
      const since = c.accept('since') ? c.text('a mark name') : null;
      const text = traceText(c, 'the text of a trace line in quotes, such as "send SNAP"');
      return compare(c, { kind: 'traceCount', text, since }, 'a number of lines');
    }
    if (c.accept('committed')) return compare(c, { kind: 'setCount', sid: null, set: 'committed' }, 'a number of txns');
    const sid = c.sid();
    const set = c.oneOf(['logged', 'applied'] as const, "'logged' or 'applied' (count s1 logged >= 3)");
    return compare(c, { kind: 'setCount', sid, set }, 'a number of txns');
  }
  if (c.accept('checkers')) {
    if (waiting) c.fail("expected a condition on the state: 'checkers pass' is only for expect");
    c.keyword('pass', "'pass'");
    return { kind: 'checkers' };
  }
  if (c.accept('violated')) {
    if (waiting) c.fail("expected a condition on the state: 'violated' is only for expect");
    const property = c.text('a property name such as Agreement');
    if (!(PROPERTY_NAMES as readonly string[]).includes(property)) c.fail(`expected a property name (${PROPERTY_NAMES.join(', ')}), found '${property}'`);
    return { kind: 'violated', property };
  }
  if (c.accept('trace')) {
    const since = c.accept('since') ? c.text('a mark name') : null;
    const has = c.oneOf(['has', 'lacks'] as const, "'has' or 'lacks'") === 'has';
    const text = traceText(c, 'the text of a trace line in quotes, such as "s1 -> s3 send TRUNC <1,4>"');
    let before: string | null = null;
    if (has && c.accept('before')) {
      before = traceText(c, 'the text of a later trace line, in quotes');
      // Every line with the first text also has the second: the first can never come before it.
      if (text.includes(before)) c.fail(`expected two different texts: every line with "${text}" contains "${before}", so this could never hold`);
    }
    return { kind: 'trace', has, text, since, before };
  }
  if (c.accept('reply')) {
    const label = c.text('the name of an operation (given with as NAME)');
    const outcome = c.text("'ok', 'none' or an error code such as CONNECTIONLOSS");
    if (!/^(ok|none|[A-Z]+)$/.test(outcome)) c.fail(`expected 'ok', 'none' or an error code such as CONNECTIONLOSS, found '${outcome}'`);
    let value: string | null | undefined;
    if (c.accept('value')) value = c.accept('none') ? null : c.text('the value read, in quotes');
    return { kind: 'reply', label, outcome, value };
  }
  if (c.accept('committed')) {
    const op = c.oneOf(['=', 'has', 'lacks'] as const, "'=', 'has' or 'lacks'");
    return { kind: 'zxids', sid: null, set: 'committed', op, zxids: zxidsFor(c, op) };
  }
  const sids = c.sids('a server such as s1, or one of: not, quiet, all settled, count, checkers, violated, trace, reply, committed');
  if (sids.length > 1 || c.peek() === 'agree') {
    c.keyword('agree', "'agree' after several servers (s1 s2 s3 agree)");
    if (sids.length < 2) c.fail("expected at least two servers before 'agree'");
    return { kind: 'agree', sids };
  }
  const sid = sids[0] as number;
  const what = c.oneOf(
    ['is', 'leads', 'follows', 'votes', 'settled', 'round', 'memory', 'acceptedEpoch', 'currentEpoch', 'logged', 'applied', 'lastProcessed', 'has', 'lacks'] as const,
    "'is', 'leads', 'follows', 'votes', 'settled', 'round', 'memory', 'acceptedEpoch', 'currentEpoch', 'logged', 'applied', 'lastProcessed', 'has' or 'lacks'",
  );
  switch (what) {
    case 'is': {
      const w = c.peek() ?? '';
      const [role, phase] = w.split('/');
      if (!(ROLES as readonly string[]).includes(role ?? '') || (phase !== undefined && !PHASES.includes(phase as ZabState))) {
        return c.expected(`a role (${ROLES.join(', ')}), optionally with a phase such as LEADING/BROADCAST`);
      }
      c.word('a role');
      if (phase !== undefined && (role === 'DOWN' || role === 'UP')) c.fail(`expected no phase after ${role}`);
      return { kind: 'role', sid, state: role as PeerStateName | 'DOWN' | 'UP', phase: (phase as ZabState | undefined) ?? null };
    }
    case 'leads':
      return { kind: 'leader', sid };
    case 'follows':
    case 'votes': {
      const leader = c.sid();
      if (what === 'follows' && leader === sid) c.fail(`expected another server: s${sid} cannot follow itself (write 's${sid} leads')`);
      return { kind: what, sid, leader };
    }
    case 'settled':
      return { kind: 'settled', sid };
    case 'round':
      return compare(c, { kind: 'round', sid }, 'a round');
    case 'memory': {
      const file = c.oneOf(['acceptedEpoch', 'currentEpoch'] as const, "'acceptedEpoch' or 'currentEpoch' (its value in memory)");
      return compare(c, { kind: 'epoch', sid, file, memory: true }, 'an epoch');
    }
    case 'acceptedEpoch':
    case 'currentEpoch':
      return compare(c, { kind: 'epoch', sid, file: what, memory: false }, 'an epoch');
    case 'logged':
    case 'applied': {
      const op = c.oneOf(['=', 'has', 'lacks'] as const, "'=', 'has' or 'lacks'");
      return { kind: 'zxids', sid, set: what, op, zxids: zxidsFor(c, op) };
    }
    case 'lastProcessed':
      c.keyword('=', "'='");
      return { kind: 'lastProcessed', sid, zxid: c.zxid() };
    case 'has': {
      const path = c.path();
      if (!c.accept('=')) return { kind: 'value', sid, path, value: null, any: true };
      return { kind: 'value', sid, path, value: c.text('the expected data, in quotes'), any: false };
    }
    case 'lacks':
      return { kind: 'value', sid, path: c.path(), value: null, any: false };
  }
}


/** The zxids after `=`, `has` or `lacks`; `has none` and `lacks none` would always hold. */
function zxidsFor(c: Cursor, op: '=' | 'has' | 'lacks'): number[] {
  if (op !== '=' && c.peek() === 'none') c.fail(`expected zxids after '${op}': '${op} none' always holds (write '= none' for an empty set)`);
  return c.zxids();
}
