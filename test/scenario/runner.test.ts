/**
 * The scenario runner: a broken expectation fails at its line with the state that broke it; holds
 * keep a connection's order; crash points hit exactly where they say.
 */
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/parse.ts';
import { runScenario, type ScenarioResult } from '../../src/scenario/runner.ts';
import { renderEvent } from '../../src/trace/text.ts';

const HEADER = 'scenario t\ntitle t\nstory t\noutcome t\n';
/** Three servers, 5 ms hops, 2 ms fsyncs; s3 leads once stable. */
const SETUP = ['servers 3', 'delay 5', 'fsync 2', 'start', 'stabilize'];

function run(...body: string[]): ScenarioResult {
  return runScenario(parseScenario(HEADER + [...SETUP, ...body].join('\n'), 't.scenario'));
}

/** The trace as text, spaces collapsed, election traffic left out. */
function text(r: ScenarioResult): string[] {
  return r.trace.filter((e) => !('msg' in e && e.msg.type === 'NOTIFICATION')).map((e) => renderEvent(e).replace(/\s+/g, ' ').trim());
}

describe('scenario runner', () => {
  it('passes when every expectation holds', () => {
    const r = run('expect s3 leads', 'expect s1 is FOLLOWING/BROADCAST', 'expect s2 currentEpoch = 1', 'expect checkers pass');
    expect(r.failure).toBeNull();
  });

  it.each([
    ['expect s1 leads', 10, 's1 is FOLLOWING/BROADCAST leader=s3'],
    ['expect s2 currentEpoch = 7', 10, "s2's currentEpoch file holds 1"],
    ['expect s1 has /nothing = "x"', 10, 's1 has no /nothing'],
    ['expect s1 logged has <1,1>', 10, 's1 logged lacks <1,1> (has none)'],
    ['expect trace has "send TRUNC"', 10, 'the trace has no line containing "send TRUNC"'],
    ['expect violated Agreement', 10, 'no property was violated'],
    ['stabilize until s1 leads within 2s', 10, "expected 's1 leads' within 2000ms, but at "],
  ])('a broken expectation fails at its line: %s', (line, at, found) => {
    const r = run(line);
    expect(r.failure).not.toBeNull();
    expect(r.failure?.src).toMatchObject({ file: 't.scenario', line: at, text: line });
    expect(r.failure?.message).toContain(found);
    expect(r.failure?.state).toMatch(/^server\s+role\s+phase/);
    expect(r.failure?.state).toMatch(/\ns3\s+LEADING\s+BROADCAST/);
  });

  it('a crash point that never comes fails at its line', () => {
    const r = run('crash s1 after sending TRUNC', 'run 1s', 'expect s3 leads');
    expect(r.failure?.src.line).toBe(10);
    expect(r.failure?.message).toBe("the crash point never came: s1 did not reach 'after sending TRUNC'");
    expect(r.failure?.state).toContain('armed crash points: line 10: crash s1 after sending TRUNC');
  });

  it('hold keeps later messages of the connection behind the held one; deliver lets them go in order', () => {
    const r = run(
      'hold COMMIT to s1',
      'create s3 /a "1"',
      'create s3 /b "2"',
      'run 100ms',
      'expect s1 lacks /a',
      'expect s2 has /b = "2"',
      'expect s1 logged = <1,1> <1,2>', // the PROPOSAL of <1,2> came before COMMIT <1,1>
      'deliver COMMIT <1,2>', // the COMMIT of <1,1> goes first: it precedes it on the connection
      'expect s1 has /a = "1"',
      'expect s1 has /b = "2"',
      'expect checkers pass',
    );
    expect(r.failure).toBeNull();
    const t = text(r);
    const ia = t.findIndex((l) => l.includes('s3 -> s1 deliver COMMIT <1,1>'));
    const ib = t.findIndex((l) => l.includes('s3 -> s1 deliver COMMIT <1,2>'));
    expect(ia).toBeGreaterThan(0);
    expect(ib).toBeGreaterThan(ia);
  });

  it('drop loses a held message like a network loss: the connection resets and both ends are told', () => {
    const r = run('hold PING to s1', 'run 1500ms', 'drop PING', 'run 100ms', 'expect trace has "s3 -x s1 drop PING"', 'expect trace has "s1 -> s3 deliver CLOSE"');
    expect(r.failure).toBeNull();
    expect(text(r).some((l) => /s3 -x s1 drop PING .* \(loss\)/.test(l))).toBe(true);
  });

  it('deliver with nothing held that matches fails at its line', () => {
    const r = run('deliver COMMIT', 'expect s3 leads');
    expect(r.failure?.src.line).toBe(10);
    expect(r.failure?.message).toBe("expected a held message matching 'COMMIT' to deliver; held: nothing");
  });

  it('crash after sending crashes in the middle of a step: later sends of that step never happen', () => {
    const r = run('crash s3 after sending PROPOSAL to s1', 'create s3 /a "1"', 'run 50ms', 'expect s3 is DOWN');
    expect(r.failure).toBeNull();
    const t = text(r);
    expect(t.some((l) => l.includes('s3 -> s1 send PROPOSAL <1,1>'))).toBe(true);
    expect(t.some((l) => l.includes('s3 -> s2 send PROPOSAL <1,1>'))).toBe(false);
  });

  it('crash before receiving: the message is not read', () => {
    const r = run('crash s1 before receiving PROPOSAL', 'create s3 /a "1"', 'run 50ms', 'expect s1 is DOWN', 'expect s1 logged = none');
    expect(r.failure).toBeNull();
    expect(text(r).some((l) => /s3 -x s1 drop PROPOSAL <1,1> .*\(receiver-down\)/.test(l))).toBe(true);
  });

  it('crash after fsync: the write is durable, the ACK never leaves', () => {
    const r = run('crash s1 after fsync <1,1>', 'create s3 /a "1"', 'run 50ms', 'expect s1 is DOWN', 'expect s1 logged = <1,1>', 'expect trace lacks "s1 -> s3 send ACK <1,1>"');
    expect(r.failure).toBeNull();
  });

  it('restart at a point: the server crashes there and starts again once that event is over', () => {
    const r = run('restart s1 after fsync <1,1>', 'create s3 /a "1"', 'run 30ms', 'expect s1 is UP', 'expect s1 logged = <1,1>', 'expect trace lacks "s1 -> s3 send ACK <1,1>"', 'stabilize', 'expect s1 has /a = "1"', 'restart s1 s2', 'stabilize', 'expect s1 s2 s3 agree', 'expect checkers pass');
    expect(r.failure).toBeNull();
    const t = text(r);
    const crash = t.findIndex((l) => / s1 CRASH/.test(l));
    expect(t[crash - 1]).toMatch(/ s1 fsync appendLog <1,1> token \d+$/);
    const restart = t.findIndex((l) => / s1 RESTART$/.test(l));
    expect(restart).toBeGreaterThan(crash);
    expect(t[restart]?.split(' ')[0]).toBe(t[crash]?.split(' ')[0]); // the same virtual instant
    expect(t.filter((l) => / s2 RESTART$/.test(l))).toHaveLength(1);
  });

  it('hold fsync keeps a server\'s writes pending until released', () => {
    const r = run('hold fsync s1', 'create s3 /a "1"', 'run 500ms', 'expect s1 logged = none', 'expect trace lacks "s1 -> s3 send ACK <1,1>"', 'expect s2 has /a = "1"', 'release fsync s1', 'run 50ms', 'expect s1 logged = <1,1>', 'expect trace has "s1 -> s3 send ACK <1,1>"');
    expect(r.failure).toBeNull();
  });

  it('sessions and replies: an ephemeral node goes with its session', () => {
    const r = run('open session alice on s1 as o', 'run 100ms', 'create s1 /e "v" ephemeral in alice as c', 'run 100ms', 'expect reply o ok', 'expect reply c ok', 'expect s2 has /e = "v"', 'read s2 /e as r', 'expect reply r ok value "v"', 'close session alice as x', 'run 100ms', 'expect reply x ok', 'expect s2 lacks /e', 'expect s3 lacks /e');
    expect(r.failure).toBeNull();
  });

  it('the same scenario gives the same trace', () => {
    const a = run('create s3 /a "1"', 'crash s3', 'stabilize within 30s', 'expect s2 leads');
    const b = run('create s3 /a "1"', 'crash s3', 'stabilize within 30s', 'expect s2 leads');
    expect(a.failure).toBeNull();
    expect(JSON.stringify(a.trace)).toBe(JSON.stringify(b.trace));
  });
});
