/**
 * The grammar of conditions, shared by `expect` and `stabilize until`: a server's role, epochs,
 * logs and data; the committed set; replies; the trace; the checkers.
 */
import { PROPERTY_NAMES } from '../check/index.ts';
import type { PeerStateName, ZabState } from '../protocol/types.ts';
import type { Cursor } from './lexer.ts';
import type { Pred } from './types.ts';

const ROLES = ['LOOKING', 'FOLLOWING', 'LEADING', 'OBSERVING', 'DOWN', 'UP'] as const;
const PHASES: readonly ZabState[] = ['ELECTION', 'DISCOVERY', 'SYNCHRONIZATION', 'BROADCAST'];
/**
 * A condition: what `expect` checks and `stabilize until` waits for. `waiting`: for stabilize,
 * which cannot wait for the checkers.
 */
export function parseCondition(c: Cursor, waiting: boolean): Pred {
  if (c.accept('quiet')) return { kind: 'quiet' };
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
    const w = c.word('the text of a trace line in quotes, such as "s1 -> s3 send TRUNC <1,4>"');
    if (!w.quoted) c.fail(`expected the trace text in double quotes, found '${w.text}'`);
    const norm = (t: string): string => t.replace(/\s+/g, ' ').trim();
    let before: string | null = null;
    if (has && c.accept('before')) {
      const b = c.word('the text of a later trace line, in quotes');
      if (!b.quoted) c.fail(`expected the trace text in double quotes, found '${b.text}'`);
      before = norm(b.text);
    }
    return { kind: 'trace', has, text: norm(w.text), since, before };
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
    return { kind: 'zxids', sid: null, set: 'committed', op, zxids: c.zxids() };
  }
  const sids = c.sids("a server such as s1, or one of: quiet, checkers, violated, trace, reply, committed");
  if (sids.length > 1 || c.peek() === 'agree') {
    c.keyword('agree', "'agree' after several servers (s1 s2 s3 agree)");
    if (sids.length < 2) c.fail("expected at least two servers before 'agree'");
    return { kind: 'agree', sids };
  }
  const sid = sids[0] as number;
  const what = c.oneOf(['is', 'leads', 'acceptedEpoch', 'currentEpoch', 'logged', 'applied', 'lastProcessed', 'has', 'lacks'] as const, "'is', 'leads', 'acceptedEpoch', 'currentEpoch', 'logged', 'applied', 'lastProcessed', 'has' or 'lacks'");
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
    case 'acceptedEpoch':
    case 'currentEpoch':
      c.keyword('=', "'='");
      return { kind: 'epoch', sid, file: what, value: c.int('an epoch') };
    case 'logged':
    case 'applied': {
      const op = c.oneOf(['=', 'has', 'lacks'] as const, "'=', 'has' or 'lacks'");
      return { kind: 'zxids', sid, set: what, op, zxids: c.zxids() };
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

