/**
 * The scenario parser: a mistake in a file is one sentence naming the file, the line and what was
 * expected there, never a stack trace.
 */
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/scenario/lexer.ts';
import { parseScenario } from '../../src/scenario/parse.ts';

const HEADER = ['scenario demo', 'title    A demo', 'story    Three servers elect', '         a leader.', 'outcome  s3 leads.', ''];

/** Parses a header plus `body` lines; the body starts at line 7. */
function parse(...body: string[]): ReturnType<typeof parseScenario> {
  return parseScenario([...HEADER, ...body].join('\n'), 'demo.scenario');
}

function error(...body: string[]): string {
  try {
    parse(...body);
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return (e as Error).message;
  }
  throw new Error('expected a ScenarioError');
}

describe('scenario parser', () => {
  it('reads the header, the setup and the commands with their lines', () => {
    const sc = parse('servers 5', 'observers 1', 'seed 7', 'delay 5', 'fsync 1..3', 'set syncLimitTicks 2', 'flaw follower_epoch_before_log_durable', 'preload s2 log <1,1>..<1,3> currentEpoch 1', 'start', 'stabilize until s5 leads within 10s', 'expect s5 leads   # a comment');
    expect(sc.name).toBe('demo');
    expect(sc.story).toBe('Three servers elect a leader.');
    expect(sc.setup).toMatchObject({ voters: 5, observers: 1, seed: 7, delay: { kind: 'constant', ms: 5 }, fsync: { kind: 'uniform', minMs: 1, maxMs: 3 }, params: { syncLimitTicks: 2 }, flaws: { follower_epoch_before_log_durable: true } });
    expect(sc.setup.preload[0]).toMatchObject({ sid: 2, log: [2 ** 32 + 1, 2 ** 32 + 2, 2 ** 32 + 3].map((zxid) => ({ zxid, txn: null })), currentEpoch: 1, acceptedEpoch: null });
    expect(sc.commands.map((c) => [c.kind, c.src.line])).toEqual([['start', 15], ['stabilize', 16], ['expect', 17]]);
    expect(sc.commands[2]?.src.text).toBe('expect s5 leads');
  });

  it('parses every command form', () => {
    const sc = parse(
      'start', 'crash s1', 'crash s2 after fsync <1,5>', 'crash s2 after fsync currentEpoch 2 tmp', 'crash s3 after sending ACK <2,0> to s1',
      'crash s3 before receiving NEWLEADER', 'crash s3 after receiving SNAP from s1', 'partition s1 | s2 s3', 'partition s1,s2 -/-> s3', 'heal',
      'slow s1 -> s2 100ms', 'fail next truncate on s3', 'hold COMMIT,PROPOSAL from s3 to s1', 'hold fsync s2', 'deliver COMMIT <1,2>', 'drop *',
      'release fsync s2', 'release', 'run 2s', 'run until 20s', 'mark here', 'open session alice on s1 timeout 10s as o', 'create s1 /e "v" ephemeral in alice as c',
      'set s2 /e "w"', 'read s2 /e as r', 'sync s2', 'delete s1 /e', 'close session alice', 'expect s1 s2 s3 agree', 'expect reply r ok value "w"', 'expect trace since here has "s1 -> s3 send TRUNC"',
      'restart s1', 'restart s2 after receiving COMMIT', 'expect committed = <1,1>..<1,2>', 'expect s1 applied lacks <1,3>', 'expect s2 lastProcessed = <2,0>', 'expect s2 is FOLLOWING/BROADCAST', 'expect s3 acceptedEpoch = 2', 'expect s1 lacks /e', 'expect checkers pass',
      'fail next log on s1', 'fail next currentEpoch on s2', 'disk full s3', 'disk free s3', 'crash s1 with corrupt tail', 'repair s1',
    );
    expect(sc.commands).toHaveLength(46);
    expect(sc.commands.slice(40)).toMatchObject([
      { kind: 'failWrite', sid: 1, op: 'appendLog' },
      { kind: 'failWrite', sid: 2, op: 'currentEpoch' },
      { kind: 'disk', sid: 3, full: true },
      { kind: 'disk', sid: 3, full: false },
      { kind: 'crash', sid: 1, point: null, damage: 'corrupt' },
      { kind: 'repair', sid: 1 },
    ]);
    expect(sc.commands[31]).toMatchObject({ kind: 'restart', sids: [1] });
    expect(sc.commands[32]).toMatchObject({ kind: 'crash', sid: 2, restart: true, point: { kind: 'afterReceive', pat: { types: ['COMMIT'], to: 2 } } });
    expect(sc.commands[4]).toMatchObject({ kind: 'crash', sid: 3, point: { kind: 'send', pat: { types: ['ACK'], from: 3, to: 1, zxid: 2 * 2 ** 32 } } });
    expect(sc.commands[7]).toMatchObject({ kind: 'partition', desc: '{s1} | {s2,s3}', links: [[1, 2], [1, 3], [2, 1], [3, 1]] });
    expect(sc.commands[8]).toMatchObject({ kind: 'partition', desc: '{s1,s2} -/-> {s3}', links: [[1, 3], [2, 3]] });
  });

  it.each([
    [['bogus s1'], /^demo.scenario:7: expected a command \(start, .*\), found 'bogus'$/],
    [['start', 'crash'], "demo.scenario:8: expected a server such as s1, found the end of the line"],
    [['start', 'crash s4'], "demo.scenario:8: expected a server s1..s3, found 's4'"],
    [['start', 'crash s1 after lunch'], "demo.scenario:8: expected 'fsync', 'sending' or 'receiving' after 'after', found 'lunch'"],
    [['start', 'hold COMMITT'], /^demo.scenario:8: expected a message type \(NOTIFICATION, .*\) or '\*', found 'COMMITT'$/],
    [['start', 'hold COMMIT <1,x>'], "demo.scenario:8: expected a zxid, 'from sN' or 'to sN' in the message pattern, found '<1,x>'"],
    [['start', 'run soon'], "demo.scenario:8: expected a duration such as 500ms, or 'until TIME', found 'soon'"],
    [['start', 'stabilize until s1 leads within ever'], "demo.scenario:8: expected a bound such as 10s, found 'ever'"],
    [['start', 'expect s1 is BOSS'], "demo.scenario:8: expected a role (LOOKING, FOLLOWING, LEADING, OBSERVING, DOWN, UP), optionally with a phase such as LEADING/BROADCAST, found 'BOSS'"],
    [['start', 'expect s1 logged = <1,3>..<1,1>'], "demo.scenario:8: expected a range within one epoch such as <1,1>..<1,5>, found '<1,3>..<1,1>'"],
    [['start', 'expect s1 leads now'], "demo.scenario:8: expected the end of the line, found 'now'"],
    [['start', 'expect violated Happiness'], /^demo.scenario:8: expected a property name \(.*Agreement.*\), found 'Happiness'$/],
    [['start', 'expect reply w9 ok'], "demo.scenario:8: expected the name of an earlier operation ('as w9'), found 'w9'"],
    [['start', 'create s1 /e "v" ephemeral'], "demo.scenario:8: expected 'in SESSION': an ephemeral node belongs to a session"],
    [['start', 'expect trace has TRUNC'], "demo.scenario:8: expected the trace text in double quotes, found 'TRUNC'"],
    [['start', 'expect trace has "TRUNC'], 'demo.scenario:8: expected a closing " for the text started here'],
    [['start', 'servers 5'], "demo.scenario:8: expected 'servers' before the first command: setup (servers, observers, seed, set, delay, fsync, rename, threads, flaw, preload) comes first"],
    [['servers 0'], 'demo.scenario:7: expected 1 to 9 voting servers, found 0'],
    [['set tickTime 2000'], /^demo.scenario:7: expected a protocol parameter \(tickTimeMs, .*\), found 'tickTime'$/],
    [['flaw nope'], /^demo.scenario:7: expected a flaw name \(.*\), found 'nope'$/],
    [['start'], "demo.scenario:7: expected at least one 'expect' line: a scenario must check something"],
    [['start', '  expect s1 leads'], 'demo.scenario:8: expected a command at the start of the line (only story and outcome continue on indented lines)'],
    [['start', 'partition s1 | s1 s2'], 'demo.scenario:8: expected two disjoint groups of servers'],
    [['start', 'mark m', 'mark m'], "demo.scenario:9: expected a new mark name: 'm' is already used"],
  ])('%j → %s', (body, message) => {
    const got = error(...body);
    if (typeof message === 'string') expect(got).toBe(message);
    else expect(got).toMatch(message);
    expect(got).not.toContain('\n');
  });

  it('the header must come first and be complete', () => {
    expect(() => parseScenario('title x\n', 'f.scenario')).toThrow("f.scenario:1: expected the file to begin with 'scenario NAME'");
    expect(() => parseScenario('scenario x\ntitle t\nstory s\nstart\n', 'f.scenario')).toThrow("f.scenario:4: expected the 'outcome' line in the header (scenario, title, story, outcome)");
    expect(() => parseScenario('scenario Bad_Name\n', 'f.scenario')).toThrow("f.scenario:1: expected a scenario name of lower-case letters, digits and dashes, found 'Bad_Name'");
  });
});
