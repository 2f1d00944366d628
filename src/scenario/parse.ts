/**
 * The scenario parser: text in, a {@link Scenario} out, or a {@link ScenarioError} naming the file,
 * the line and what was expected there. This file reads the header and the setup and checks names
 * across lines; commands.ts and conditions.ts hold the rest of the grammar. What a command does
 * at run time is in runner.ts. docs/scenarios.md documents every command.
 */
import { DEFAULT_PARAMS, FLAW_NAMES, type Flaws, type ProtocolParams, type Sid } from '../protocol/config.ts';
import type { Txn } from '../protocol/datatree.ts';
import { flawByName, nearFlawNames } from '../protocol/flaws.ts';
import type { Zxid } from '../protocol/zxid.ts';
import type { DelayDist } from '../sim/rng.ts';
import { parseCommand } from './commands.ts';
import { Cursor, ScenarioError, withoutComment, words } from './lexer.ts';
import { parseTxn } from './txns.ts';
import type { Command, CommandBody, Pred, Preload, Scenario, Source } from './types.ts';

const PARAM_NAMES = Object.keys(DEFAULT_PARAMS) as (keyof ProtocolParams)[];
const SETUP = ['servers', 'observers', 'seed', 'set', 'delay', 'fsync', 'rename', 'threads', 'flaw', 'preload'];
const COMMANDS = [
  'start', 'restart', 'crash', 'partition', 'heal', 'slow', 'fail', 'hold', 'release', 'deliver', 'drop', 'run', 'stabilize', 'mark',
  'create', 'set', 'delete', 'read', 'sync', 'open', 'close', 'expect', 'inject', 'force', 'wipe', 'disk', 'repair',
  'corrupt',
];
/**
 * The values `zabsim run` accepts for the parameters it has flags for (src/cli/run.ts), and sane
 * bounds for the others: a scenario cannot set what the command line would refuse.
 */
const PARAM_RANGES: Readonly<Record<keyof ProtocolParams, readonly [number, number]>> = {
  tickTimeMs: [2, 3_600_000],
  initLimitTicks: [1, 1000],
  syncLimitTicks: [1, 1000],
  finalizeWaitMs: [1, 3_600_000],
  minNotificationIntervalMs: [1, 3_600_000],
  maxNotificationIntervalMs: [1, 3_600_000],
  observerElectionDelayMs: [1, 3_600_000],
  commitLogCount: [1, 10_000_000],
  snapCount: [2, 10_000_000],
  snapshotSizeFactor: [0.000001, 1_000_000],
  zxidCounterLimit: [2, 0xffff_ffff],
  snapRetainCount: [3, 1000],
  purgeIntervalMs: [0, 3_600_000_000],
  snapshotTrustEmpty: [0, 1],
};
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
  preload: MutablePreload[];
  serverParams: Record<Sid, Partial<ProtocolParams>>;
  /** Setup lines that may appear once, with the line of the first: `servers`, `set tickTimeMs`, `set s2 tickTimeMs`... */
  seen: Map<string, number>;
}

interface MutablePreload {
  sid: Sid;
  line: number;
  log: { zxid: Zxid; txn: Txn | null }[];
  snapshots: { zxid: Zxid; purge: boolean }[];
  acceptedEpoch: number | null;
  currentEpoch: number | null;
}

/** Characters that end a line in some editors but not here: the file would be misread. */
const STRAY_BREAKS: Readonly<Record<string, string>> = {
  '\r': 'a carriage return (CR) inside the line; save the file with LF or CRLF line endings',
  '\u2028': 'a line separator (U+2028), often pasted from a web page; use a plain newline',
  '\u2029': 'a paragraph separator (U+2029), often pasted from a web page; use a plain newline',
  '\u0085': 'a next-line character (U+0085); use a plain newline',
};

/** Parses a scenario file's text. `file` is how errors name it. */
export function parseScenario(text: string, file: string): Scenario {
  // A UTF-8 byte order mark, written by some editors, is not part of the text.
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lines = body.split(/\r?\n/);
  // The line that an error "at the end" names: the last line of the file, never one past it.
  const lastLine = Math.max(1, body.endsWith('\n') ? lines.length - 1 : lines.length);
  lines.forEach((line, n) => {
    const bad = /[\r\u2028\u2029\u0085]/.exec(line);
    if (bad !== null) throw new ScenarioError(file, n + 1, `expected one line here, found ${STRAY_BREAKS[bad[0]]}`);
  });
  const header = parseHeader(lines, file, lastLine);
  const setup: MutableSetup = { voters: 3, observers: 0, seed: 1, params: {}, flaws: {}, delay: null, fsync: null, rename: null, threads: null, preload: [], serverParams: {}, seen: new Map() };
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
    // `set s2 tickTimeMs 500` is setup (one server's parameter); `set s2 /a "v"` is a client write.
    const serverParam = head.text === 'set' && /^s\d+$/.test(ws[1]?.text ?? '') && (PARAM_NAMES as string[]).includes(ws[2]?.text ?? '');
    const isSetup = !head.quoted && SETUP.includes(head.text) && (head.text !== 'set' || serverParam || !/^s\d+$/.test(ws[1]?.text ?? ''));
    if (inSetup && isSetup) {
      const c = new Cursor(src, ws.slice(1), 99);
      parseSetup(head.text, c, setup);
      continue;
    }
    if (isSetup) {
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
  if (commands.length === 0) throw new ScenarioError(file, lastLine, 'expected commands after the header and setup (at least start and one expect)');
  if (!commands.some((c) => c.kind === 'expect' || (c.kind === 'stabilize' && c.until.kind !== 'quiet'))) throw new ScenarioError(file, lastLine, "expected at least one 'expect' line: a scenario must check something");
  const { seen: _seen, preload, ...rest } = setup;
  return { file, name: header.name, title: header.title, story: header.story, outcome: header.outcome, setup: { ...rest, preload: preload.map(finishPreload) }, commands };
}

interface Header {
  name: string;
  title: string;
  story: string;
  outcome: string;
  bodyStart: number;
}

/** `scenario NAME`, `title ...`, `story ...`, `outcome ...`; story and outcome continue on indented lines. */
function parseHeader(lines: readonly string[], file: string, lastLine: number): Header {
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
    const m = /^(\S+)\s*([\s\S]*)$/.exec(trimmed) as RegExpExecArray;
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
    if (got[k] === undefined) throw new ScenarioError(file, Math.min(n + 1, lastLine), `expected the '${k}' line in the header (scenario, title, story, outcome)`);
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
  // A setup line given twice would silently win or merge: say so instead.
  const once = (key: string, shown = key): void => {
    const first = s.seen.get(key);
    if (first !== undefined) c.fail(`expected one '${shown}' line, found a second (the first is line ${first})`);
    s.seen.set(key, c.src.line);
  };
  switch (kw) {
    case 'servers': {
      once('servers');
      const n = c.int('the number of voting servers');
      if (n < 1 || n > 9) c.fail(`expected 1 to 9 voting servers, found ${n}`);
      s.voters = n;
      break;
    }
    case 'observers': {
      once('observers');
      const n = c.int('the number of observers');
      if (n > 5) c.fail(`expected 0 to 5 observers, found ${n}`);
      s.observers = n;
      break;
    }
    case 'seed': {
      once('seed');
      s.seed = c.int('a seed (a whole number)', 0xffff_ffff);
      break;
    }
    case 'set': {
      const sid = c.isSid() ? serverWord(c) : null;
      const name = c.oneOf(PARAM_NAMES, `a protocol parameter (${PARAM_NAMES.join(', ')})`);
      once(sid === null ? `set ${name}` : `set s${sid} ${name}`);
      const v = paramValue(c, name);
      if (sid === null) s.params = { ...s.params, [name]: v };
      else s.serverParams = { ...s.serverParams, [sid]: { ...s.serverParams[sid], [name]: v } };
      break;
    }
    case 'delay':
      once('delay');
      s.delay = range(c, 'the one-way message delay');
      break;
    case 'fsync':
      once('fsync');
      s.fsync = range(c, 'the fsync latency');
      break;
    case 'rename':
      once('rename');
      s.rename = range(c, 'the epoch file rename latency');
      break;
    case 'threads':
      once('threads');
      s.threads = range(c, "the delay before a server's log writer runs");
      break;
    case 'flaw': {
      // A switch name or its ticket (ZOOKEEPER-3911), as --flaw takes them.
      const w = c.peek();
      const f = w === null ? null : flawByName(w);
      if (f === null) {
        const near = w === null ? [] : nearFlawNames(w);
        c.expected(`a flaw name (a switch or its ticket; ${near.length > 0 ? `near: ${near.join(', ')}` : `one of ${FLAW_NAMES.join(', ')}`})`);
      }
      c.word('a flaw name');
      once(`flaw ${f as string}`);
      s.flaws = { ...s.flaws, [f as keyof Flaws]: true };
      break;
    }
    case 'preload':
      preload(c, s);
      break;
  }
  c.end();
}

/** `sN` in setup, where the ensemble's size may not be known yet (checked once setup ends). */
function serverWord(c: Cursor): Sid {
  const w = c.peek();
  const m = w === null ? null : /^s(\d+)$/.exec(w);
  if (m === null || Number(m[1]) < 1) return c.expected('a server such as s1');
  c.word('a server');
  return Number(m[1]);
}

/** A parameter's value, within what `zabsim run` would accept (PARAM_RANGES). */
function paramValue(c: Cursor, name: keyof ProtocolParams): number {
  const [lo, hi] = PARAM_RANGES[name];
  let v: number;
  if (name.endsWith('Ms')) v = c.duration();
  else if (name === 'snapshotSizeFactor') {
    const t = c.text('a number such as 0.33');
    if (!/^\d+(\.\d+)?$/.test(t)) c.fail(`expected a number such as 0.33 for ${name}, found '${t}'`);
    v = Number(t);
  } else v = c.int(`a whole number for ${name}`, Number.MAX_SAFE_INTEGER);
  if (!(v >= lo && v <= hi)) c.fail(`expected ${name} from ${lo} to ${hi}${name.endsWith('Ms') ? 'ms' : ''}, found ${v}`);
  return v;
}

/**
 * `preload sN log ZXIDS`, `preload sN txn ZXID TXN`, `preload sN snapshot ZXID [purge]`,
 * `preload sN acceptedEpoch E currentEpoch E`: a server's disk before its first start.
 */
function preload(c: Cursor, s: MutableSetup): void {
  const sid = serverWord(c);
  let p = s.preload.find((x) => x.sid === sid);
  if (p === undefined) {
    p = { sid, line: c.src.line, log: [], snapshots: [], acceptedEpoch: null, currentEpoch: null };
    s.preload = [...s.preload, p].sort((a, b) => a.sid - b.sid);
  }
  const add = (zxid: Zxid, txn: Txn | null): void => {
    const last = p.log[p.log.length - 1];
    if (last !== undefined && zxid <= last.zxid) c.fail('expected the log zxids in increasing order, each after those preloaded before');
    p.log.push({ zxid, txn });
  };
  const kinds = ['log', 'txn', 'snapshot', 'acceptedEpoch', 'currentEpoch'] as const;
  const what = "'log', 'txn', 'snapshot', 'acceptedEpoch' or 'currentEpoch'";
  if (c.done()) c.expected(what);
  while (!c.done()) {
    const k = c.oneOf(kinds, what);
    if (k === 'log') for (const z of c.zxids()) add(z, null);
    else if (k === 'txn') {
      const z = c.zxid();
      add(z, parseTxn(c));
    } else if (k === 'snapshot') {
      const zxid = c.zxid();
      const purge = c.accept('purge');
      if (p.snapshots.some((x) => x.zxid >= zxid)) c.fail('expected the snapshots in increasing zxid order');
      p.snapshots.push({ zxid, purge });
    } else {
      if ((k === 'acceptedEpoch' ? p.acceptedEpoch : p.currentEpoch) !== null) c.fail(`expected one ${k} for s${sid}, found a second`);
      const e = c.int('an epoch', 2 ** 31 - 1);
      if (k === 'acceptedEpoch') p.acceptedEpoch = e;
      else p.currentEpoch = e;
    }
  }
}

function finishPreload(p: MutablePreload): Preload {
  return { sid: p.sid, log: p.log, snapshots: p.snapshots, acceptedEpoch: p.acceptedEpoch, currentEpoch: p.currentEpoch };
}

function checkPreloads(s: MutableSetup, src: Source): void {
  const n = s.voters + s.observers;
  for (const p of s.preload) {
    if (p.sid > n) throw new ScenarioError(src.file, p.line, `expected a server s1..s${n} (this ensemble has ${s.voters} voters and ${s.observers} observers), found s${p.sid}`);
  }
  for (const key of Object.keys(s.serverParams)) {
    if (Number(key) > n) throw new ScenarioError(src.file, s.seen.get([...s.seen.keys()].find((k) => k.startsWith(`set s${key} `)) ?? '') ?? src.line, `expected a server s1..s${n} (this ensemble has ${s.voters} voters and ${s.observers} observers), found s${key}`);
  }
}

/** Names must be defined before use: an operation's `as`, a session's `open`, a `mark`. */
function checkReferences(body: CommandBody, c: Cursor, labels: Set<string>, marks: Set<string>): void {
  if (body.kind !== 'expect' && body.kind !== 'stabilize') return;
  let p: Pred = body.kind === 'expect' ? body.pred : body.until;
  while (p.kind === 'not') p = p.pred;
  if (p.kind === 'compare' && p.q.kind === 'traceCount' && p.q.since !== null && !marks.has(p.q.since)) c.fail(`expected the name of an earlier mark, found '${p.q.since}'`);
  if (p.kind === 'reply' && !labels.has(p.label)) c.fail(`expected the name of an earlier operation ('as ${p.label}'), found '${p.label}'`);
  if (p.kind === 'trace' && p.since !== null && !marks.has(p.since)) c.fail(`expected the name of an earlier mark, found '${p.since}'`);
}
