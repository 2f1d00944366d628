/**
 * The scenario parser: text in, a {@link Scenario} out, or a {@link ScenarioError} naming the file,
 * the line and what was expected there. This file reads the header and the setup and checks names
 * across lines; commands.ts and conditions.ts hold the rest of the grammar. What a command does
 * at run time is in runner.ts. docs/scenarios.md documents every command.
 */
import { DEFAULT_PARAMS, FLAW_NAMES, type Flaws, type ProtocolParams } from '../protocol/config.ts';
import type { Zxid } from '../protocol/zxid.ts';
import type { DelayDist } from '../sim/rng.ts';
import { parseCommand } from './commands.ts';
import { Cursor, ScenarioError, withoutComment, words } from './lexer.ts';
import type { Command, CommandBody, Preload, Scenario, Source } from './types.ts';

const PARAM_NAMES = Object.keys(DEFAULT_PARAMS) as (keyof ProtocolParams)[];
const SETUP = ['servers', 'observers', 'seed', 'set', 'delay', 'fsync', 'rename', 'threads', 'flaw', 'preload'];
const COMMANDS = [
  'start', 'restart', 'crash', 'partition', 'heal', 'slow', 'fail', 'hold', 'release', 'deliver', 'drop', 'run', 'stabilize', 'mark',
  'create', 'set', 'delete', 'read', 'sync', 'open', 'close', 'expect',
];
const HEADER = ['scenario', 'title', 'story', 'outcome'] as const;
interface MutableSetup {
  voters: number;
  observers: number;
  seed: number;
  params: Partial<ProtocolParams>;
  flaws: Partial<Flaws>;
  delay: DelayDist | null;
  fsync: DelayDist | null;
  rename: DelayDist | null;
  threads: DelayDist | null;
  preload: Preload[];
}

/** Parses a scenario file's text. `file` is how errors name it. */
export function parseScenario(text: string, file: string): Scenario {
  const lines = text.split(/\r?\n/);
  const header = parseHeader(lines, file);
  const setup: MutableSetup = { voters: 3, observers: 0, seed: 1, params: {}, flaws: {}, delay: null, fsync: null, rename: null, threads: null, preload: [] };
  const commands: Command[] = [];
  let inSetup = true;
  const labels = new Set<string>();
  const marks = new Set<string>();
  const sessions = new Set<string>();
  for (let n = header.bodyStart; n < lines.length; n++) {
    const raw = lines[n] as string;
    const ws = words(file, n + 1, raw);
    if (ws === null) continue;
    const src: Source = { file, line: n + 1, text: withoutComment(raw).trim() };
    const head = ws[0] as { text: string; quoted: boolean };
    if (/^\s/.test(raw)) throw new ScenarioError(file, n + 1, 'expected a command at the start of the line (only story and outcome continue on indented lines)');
    if (inSetup && SETUP.includes(head.text) && !(head.text === 'set' && ws[1]?.text.startsWith('s') === true && /^s\d+$/.test(ws[1].text))) {
      const c = new Cursor(src, ws.slice(1), 99);
      parseSetup(head.text, c, setup);
      continue;
    }
    if (SETUP.includes(head.text) && (head.text !== 'set' || (PARAM_NAMES as string[]).includes(ws[1]?.text ?? ''))) {
      throw new ScenarioError(file, n + 1, `expected '${head.text}' before the first command: setup (${SETUP.join(', ')}) comes first`);
    }
    if (inSetup) {
      inSetup = false;
      checkPreloads(setup, src);
    }
    const c = new Cursor(src, ws.slice(1), setup.voters + setup.observers);
    if (!COMMANDS.includes(head.text) || head.quoted) {
      throw new ScenarioError(file, n + 1, `expected a command (${COMMANDS.join(', ')}), found '${head.text}'`);
    }
    const body = parseCommand(head.text, c);
    if (body.kind === 'client' && body.op.label !== null) {
      if (labels.has(body.op.label)) c.fail(`expected a new name after 'as': '${body.op.label}' already names an operation`);
      labels.add(body.op.label);
    }
    if (body.kind === 'mark') {
      if (marks.has(body.name)) c.fail(`expected a new mark name: '${body.name}' is already used`);
      marks.add(body.name);
    }
    if (body.kind === 'client' && body.op.op === 'createSession') {
      if (sessions.has(body.op.session as string)) c.fail(`expected a new session name: '${body.op.session}' is already open or was used`);
      sessions.add(body.op.session as string);
    } else if (body.kind === 'client' && body.op.session !== null && !sessions.has(body.op.session)) {
      c.fail(`expected the name of a session opened earlier (open session NAME on sN), found '${body.op.session}'`);
    }
    checkReferences(body, c, labels, marks);
    commands.push({ ...body, src });
  }
  if (commands.length === 0) throw new ScenarioError(file, lines.length, 'expected commands after the header and setup (at least start and one expect)');
  if (!commands.some((c) => c.kind === 'expect' || (c.kind === 'stabilize' && c.until.kind !== 'quiet'))) throw new ScenarioError(file, lines.length, "expected at least one 'expect' line: a scenario must check something");
  return { file, name: header.name, title: header.title, story: header.story, outcome: header.outcome, setup, commands };
}

interface Header {
  name: string;
  title: string;
  story: string;
  outcome: string;
  bodyStart: number;
}

/** `scenario NAME`, `title ...`, `story ...`, `outcome ...`; story and outcome continue on indented lines. */
function parseHeader(lines: readonly string[], file: string): Header {
  const got: Partial<Record<(typeof HEADER)[number], { text: string; line: number }>> = {};
  let n = 0;
  let last: (typeof HEADER)[number] | null = null;
  for (; n < lines.length; n++) {
    const raw = lines[n] as string;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      last = null;
      continue;
    }
    if (/^\s/.test(raw)) {
      if (last !== 'story' && last !== 'outcome') throw new ScenarioError(file, n + 1, 'expected a header line (scenario, title, story, outcome): only story and outcome continue on indented lines');
      const prev = got[last] as { text: string; line: number };
      got[last] = { text: `${prev.text} ${trimmed}`, line: prev.line };
      continue;
    }
    const m = /^(\S+)\s*(.*)$/.exec(trimmed) as RegExpExecArray;
    const key = m[1] as string;
    if (!(HEADER as readonly string[]).includes(key)) break;
    const k = key as (typeof HEADER)[number];
    if (got[k] !== undefined) throw new ScenarioError(file, n + 1, `expected one '${k}' line, found a second`);
    if (Object.keys(got).length === 0 && k !== 'scenario') throw new ScenarioError(file, n + 1, "expected the file to begin with 'scenario NAME'");
    const value = (m[2] as string).trim();
    if (value === '') throw new ScenarioError(file, n + 1, `expected text after '${k}'`);
    if (k === 'scenario' && !/^[a-z0-9][a-z0-9-]*$/.test(value)) throw new ScenarioError(file, n + 1, `expected a scenario name of lower-case letters, digits and dashes, found '${value}'`);
    got[k] = { text: value, line: n + 1 };
    last = k;
  }
  for (const k of HEADER) {
    if (got[k] === undefined) throw new ScenarioError(file, n + 1, `expected the '${k}' line in the header (scenario, title, story, outcome)`);
  }
  const g = got as Record<(typeof HEADER)[number], { text: string; line: number }>;
  return { name: g.scenario.text, title: g.title.text, story: g.story.text, outcome: g.outcome.text, bodyStart: n };
}

// ---------------------------------------------------------------------------------------------
// Setup

function range(c: Cursor, what: string): DelayDist {
  const w = c.peek();
  const m = w === null ? null : /^(\d+)(?:ms)?(?:\.\.(\d+)(?:ms)?)?$/.exec(w);
  if (m === null) return c.expected(`${what}: milliseconds such as 5 or a range such as 1..10`);
  c.word(what);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (hi < lo) c.fail(`expected ${what} as MIN..MAX with MIN ≤ MAX, found '${w}'`);
  return lo === hi ? { kind: 'constant', ms: lo } : { kind: 'uniform', minMs: lo, maxMs: hi };
}

function parseSetup(kw: string, c: Cursor, s: MutableSetup): void {
  switch (kw) {
    case 'servers': {
      const n = c.int('the number of voting servers');
      if (n < 1 || n > 9) c.fail(`expected 1 to 9 voting servers, found ${n}`);
      s.voters = n;
      break;
    }
    case 'observers': {
      const n = c.int('the number of observers');
      if (n > 5) c.fail(`expected 0 to 5 observers, found ${n}`);
      s.observers = n;
      break;
    }
    case 'seed': {
      const n = c.int('a seed (a whole number)');
      if (n > 0xffff_ffff) c.fail(`expected a seed from 0 to ${0xffff_ffff}, found ${n}`);
      s.seed = n;
      break;
    }
    case 'set': {
      const name = c.oneOf(PARAM_NAMES, `a protocol parameter (${PARAM_NAMES.join(', ')})`);
      const v = name.endsWith('Ms') ? c.duration() : name === 'snapshotSizeFactor' ? Number(c.text('a number')) : c.int();
      if (!Number.isFinite(v) || v <= 0) c.fail(`expected a positive value for ${name}`);
      s.params = { ...s.params, [name]: v };
      break;
    }
    case 'delay':
      s.delay = range(c, 'the one-way message delay');
      break;
    case 'fsync':
      s.fsync = range(c, 'the fsync latency');
      break;
    case 'rename':
      s.rename = range(c, 'the epoch file rename latency');
      break;
    case 'threads':
      s.threads = range(c, "the delay before a server's log writer runs");
      break;
    case 'flaw': {
      const f = c.oneOf(FLAW_NAMES, `a flaw name (${FLAW_NAMES.join(', ')})`);
      s.flaws = { ...s.flaws, [f]: true };
      break;
    }
    case 'preload': {
      const sidWord = c.peek();
      const m = sidWord === null ? null : /^s(\d+)$/.exec(sidWord);
      if (m === null) return c.expected('a server such as s1');
      c.word('a server');
      const sid = Number(m[1]);
      let log: Zxid[] = [];
      let acceptedEpoch: number | null = null;
      let currentEpoch: number | null = null;
      if (c.done()) c.expected("'log', 'acceptedEpoch' or 'currentEpoch'");
      while (!c.done()) {
        const what = c.oneOf(['log', 'acceptedEpoch', 'currentEpoch'] as const, "'log', 'acceptedEpoch' or 'currentEpoch'");
        if (what === 'log') {
          log = c.zxids();
          for (let i = 1; i < log.length; i++) if ((log[i] as number) <= (log[i - 1] as number)) c.fail('expected the log zxids in increasing order');
        } else if (what === 'acceptedEpoch') acceptedEpoch = c.int('an epoch');
        else currentEpoch = c.int('an epoch');
      }
      const prev = s.preload.find((p) => p.sid === sid);
      const merged: Preload = {
        sid,
        log: log.length > 0 ? log : prev?.log ?? [],
        acceptedEpoch: acceptedEpoch ?? prev?.acceptedEpoch ?? null,
        currentEpoch: currentEpoch ?? prev?.currentEpoch ?? null,
      };
      s.preload = [...s.preload.filter((p) => p.sid !== sid), merged].sort((a, b) => a.sid - b.sid);
      break;
    }
  }
  c.end();
}

function checkPreloads(s: MutableSetup, src: Source): void {
  const n = s.voters + s.observers;
  for (const p of s.preload) {
    if (p.sid > n) throw new ScenarioError(src.file, src.line, `expected preloaded servers within s1..s${n}, found s${p.sid} (declare 'servers' first)`);
  }
}

/** Names must be defined before use: an operation's `as`, a session's `open`, a `mark`. */
function checkReferences(body: CommandBody, c: Cursor, labels: Set<string>, marks: Set<string>): void {
  if (body.kind !== 'expect' && body.kind !== 'stabilize') return;
  const p = body.kind === 'expect' ? body.pred : body.until;
  if (p.kind === 'reply' && !labels.has(p.label)) c.fail(`expected the name of an earlier operation ('as ${p.label}'), found '${p.label}'`);
  if (p.kind === 'trace' && p.since !== null && !marks.has(p.since)) c.fail(`expected the name of an earlier mark, found '${p.since}'`);
}
