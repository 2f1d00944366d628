/**
 * The scenario language beyond the classic commands (docs/scenarios.md): inject, force, wipe,
 * per-server parameters, preloaded txns and snapshots, and the conditions not, follows, votes,
 * round, memory epochs, counts and settled. Each is shown to act, and to fail when it should;
 * each malformed form is one sentence `file:line: ...`.
 */
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/scenario/lexer.ts';
import { parseScenario } from '../../src/scenario/parse.ts';
import { runScenario, type ScenarioResult } from '../../src/scenario/runner.ts';

const HEADER = 'scenario t\ntitle t\nstory t\noutcome t\n';
/** Three servers, 5 ms hops, 2 ms fsyncs; s3 leads once stable. Body lines start at line 10. */
const SETUP = ['servers 3', 'delay 5', 'fsync 2', 'start', 'stabilize'];

function run(...body: string[]): ScenarioResult {
  return runScenario(parseScenario(HEADER + [...SETUP, ...body].join('\n'), 't.scenario'));
}

/** Runs lines with no setup of their own (they give it). */
function runRaw(...lines: string[]): ScenarioResult {
  return runScenario(parseScenario(HEADER + lines.join('\n'), 't.scenario'));
}

function passes(r: ScenarioResult): void {
  const f = r.failure;
  expect(f, f === null ? '' : `line ${f.src.line}: ${f.src.text}\n  ${f.message}\n${f.state}`).toBeNull();
}

function error(text: string): string {
  try {
    parseScenario(text, 't.scenario');
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return (e as Error).message;
  }
  throw new Error('expected a ScenarioError');
}

describe('inject', () => {
  it('a crafted NOTIFICATION from a server that never started moves a LOOKING server to its vote', () => {
    const lines = ['servers 3', 'delay 5', 'start s1', 'run 50ms', 'expect s1 votes s1'];
    passes(runRaw(...lines));
    const r = runRaw(...lines, 'inject s3 -> s1 NOTIFICATION leader=s3 zxid=<5,0> peerEpoch=5 electionEpoch=1 state=LOOKING', 'run 20ms', 'expect s1 votes s3', 'expect trace has "s3 -> s1 deliver NOTIFICATION"');
    passes(r);
    const rendered = r.trace.filter((e) => e.type === 'note' && e.text.startsWith('injected'));
    expect(rendered).toHaveLength(1);
  });

  it('a COMMIT injected on the leader\'s connection for a txn the follower lacks (nothing pending): it only warns, as FollowerZooKeeperServer.commit does (audit D11), and MessageLegality fires', () => {
    passes(run('inject s3 -> s1 COMMIT <1,7>', 'run 100ms', 'expect s1 is FOLLOWING/BROADCAST', 'expect trace has "s1 note Committing <1,7> without seeing txn: ignored"', 'expect violated MessageLegality', 'expect committed = none'));
    // Without the stray packet nothing fires.
    expect(run('run 1s', 'expect violated MessageLegality').failure?.message).toBe('no property was violated');
  });

  it('parses every message type with its fields', () => {
    const sc = parseScenario(
      HEADER +
        [
          'start',
          'inject s1 -> s2 NOTIFICATION <1,2> state=FOLLOWING leader=s3 electionEpoch=4 peerEpoch=1 version=1',
          'inject s1 -> s3 FOLLOWERINFO <2,0>', 'inject s1 -> s3 OBSERVERINFO zxid=<2,0>', 'inject s3 -> s1 LEADERINFO <3,0>',
          'inject s1 -> s3 ACKEPOCH <1,4> currentEpoch=-1', 'inject s3 -> s1 DIFF <1,4>', 'inject s3 -> s1 TRUNC <1,2>',
          'inject s3 -> s1 SNAP <1,4> tree=s3 lastTxn=<1,3>', 'inject s3 -> s1 NEWLEADER <2,0>', 'inject s1 -> s3 ACK <2,0>', 'inject s3 -> s1 UPTODATE',
          'inject s3 -> s1 PROPOSAL <2,1> setData /a "v" version=3', 'inject s3 -> s1 INFORM <2,2> createSession 9 timeout=5s', 'inject s3 -> s1 COMMIT <2,1>',
          'inject s1 -> s3 REQUEST create /e "x" ephemeral session=9', 'inject s1 -> s3 REQUEST sync server=s1 client=2 cxid=5', 'inject s3 -> s1 PING <2,1> sessions=9,10',
          'inject s3 -> s1 SYNC server=s1 client=2 cxid=5', 'expect s1 leads',
        ].join('\n'),
      't.scenario',
    );
    const msgs = sc.commands.filter((c) => c.kind === 'inject').map((c) => (c.kind === 'inject' ? c.msg.msg : null));
    expect(msgs).toHaveLength(18);
    expect(msgs[0]).toEqual({ type: 'NOTIFICATION', state: 'FOLLOWING', leader: 3, zxid: 2 ** 32 + 2, electionEpoch: 4, peerEpoch: 1, version: 1 });
    expect(msgs[4]).toEqual({ type: 'ACKEPOCH', zxid: 2 ** 32 + 4, currentEpoch: -1 });
    expect(msgs[11]).toEqual({ type: 'PROPOSAL', zxid: 2 * 2 ** 32 + 1, txn: { type: 'setData', path: '/a', data: 'v', version: 3 } });
    expect(msgs[12]).toMatchObject({ type: 'INFORM', txn: { type: 'createSession', session: 9, timeoutMs: 5000 } });
    expect(msgs[14]).toEqual({ type: 'REQUEST', request: { kind: 'write', txn: { type: 'create', path: '/e', data: 'x', ephemeral: true, sequential: false, session: 9 } } });
    expect(msgs[15]).toEqual({ type: 'REQUEST', request: { kind: 'sync', origin: { server: 1, client: 2, cxid: 5 } } });
    expect(msgs[16]).toEqual({ type: 'PING', zxid: 2 * 2 ** 32 + 1, sessions: [9, 10] });
  });
});

describe('force and wipe', () => {
  it('force vote sets a LOOKING server\'s proposal and round', () => {
    passes(runRaw('servers 3', 'delay 5', 'start s1', 'run 10ms', 'force s1 vote leader=s2 round=7', 'expect s1 votes s2', 'expect s1 round = 7', 'expect trace has "s1 note forced by the scenario: vote (s2, <0,0>, 0) round 7"'));
    expect(runRaw('servers 3', 'delay 5', 'start s1', 'run 10ms', 'expect s1 round = 7').failure?.message).toBe('s1 is in election round 1');
  });

  it('force LOOKING ends the leader\'s role; an election in a new round follows', () => {
    passes(run('expect s3 round = 1', 'force s3 LOOKING', 'expect s3 is LOOKING', 'expect trace has "s3 note going LOOKING: the scenario failed its role"', 'stabilize until all settled within 30s', 'expect s3 round = 2', 'expect s1 follows s3'));
    passes(runRaw('servers 3', 'delay 5', 'start s1', 'run 10ms', 'force s1 LOOKING', 'expect trace has "s1 note ignored the failure (the scenario failed its role (force LOOKING)): already LOOKING, no role to end"', 'expect s1 round = 1'));
  });

  it('force EPOCH changes memory only; the file keeps its value', () => {
    passes(run('force s1 acceptedEpoch 9', 'expect s1 memory acceptedEpoch = 9', 'expect s1 acceptedEpoch = 1', 'expect s1 memory currentEpoch = 1'));
    expect(run('expect s1 memory acceptedEpoch = 9').failure?.message).toBe("s1's acceptedEpoch in memory is 1");
  });

  it('force zxidCounter sets the next proposal\'s counter; it needs a leader', () => {
    passes(run('force s3 zxidCounter 41', 'create s3 /a "1"', 'stabilize', 'expect committed = <1,42>', 'expect s1 has /a = "1"'));
    expect(run('force s1 zxidCounter 41', 'expect s3 leads').failure?.message).toBe('expected s1 to lead to set its zxid counter, but it is FOLLOWING/BROADCAST leader=s3');
    // A zxid is never reused.
    expect(run('create s3 /a "1"', 'create s3 /b "2"', 'stabilize', 'force s3 zxidCounter 1', 'expect s3 leads').failure?.message).toBe('expected a counter of at least 2: s3 already proposed <1,2>');
  });

  it('wipe gives a down server a fresh data directory; it comes back by SNAP', () => {
    passes(run('create s3 /a "1"', 'stabilize', 'crash s1', 'wipe s1', 'expect s1 logged = none', 'expect not s1 currentEpoch = 1', 'start s1', 'stabilize until all settled within 30s', 'expect s1 has /a = "1"', 'expect trace has "s3 -> s1 send SNAP"'));
    expect(run('wipe s1', 'expect s3 leads').failure?.message).toBe('expected s1 to be down before wiping its disk, but it is up');
  });
});

describe('setup: per-server parameters, preloaded txns and snapshots', () => {
  it('set sN PARAM gives one server its own tickTime: the leader pings four times as often', () => {
    const pings = (extra: string[]): ScenarioResult => runRaw('servers 3', 'delay 5', 'fsync 2', ...extra, 'start', 'stabilize', 'mark m', 'run 4s', 'expect count trace since m "s3 -> s1 send PING" >= 14');
    passes(pings(['set s3 tickTimeMs 500ms']));
    expect(pings([]).failure?.message).toMatch(/^the trace since 'm' has [0-9] line\(s\) containing "s3 -> s1 send PING"$/);
    const sc = parseScenario(HEADER + 'set s3 tickTimeMs 500ms\nset s2 syncLimitTicks 2\nset initLimitTicks 4\nset s2 /a "x"\nexpect s1 leads', 't.scenario');
    expect(sc.setup.serverParams).toEqual({ 3: { tickTimeMs: 500 }, 2: { syncLimitTicks: 2 } });
    expect(sc.setup.params).toEqual({ initLimitTicks: 4 });
    expect(sc.commands[0]).toMatchObject({ kind: 'client', op: { op: 'setData', sid: 2, path: '/a' } });
  });

  it('preload txn writes any txn type; a snapshot with purge replaces the log below it', () => {
    passes(
      runRaw(
        'servers 3',
        'preload s1 txn <1,1> createSession 77 timeout=10s',
        'preload s1 txn <1,2> create /e "x" ephemeral session=77',
        'preload s1 txn <1,3> setData /e "y"',
        'preload s1 txn <1,4> create /gone "z"',
        'preload s1 txn <1,5> delete /gone',
        'preload s1 snapshot <1,3> purge',
        'preload s1 acceptedEpoch 1 currentEpoch 1',
        'start s1',
        'expect s1 has /e = "y"',
        'expect s1 lacks /gone',
        'expect s1 logged = <1,4> <1,5>',
        'expect s1 lastProcessed = <1,5>',
        'expect count s1 applied == 2',
      ),
    );
  });
});

describe('conditions', () => {
  it.each([
    ['expect s1 follows s3', null],
    ['expect s1 follows s2', 's1 is FOLLOWING/BROADCAST leader=s3'],
    ['expect not s3 leads', 'it holds: s3 is LEADING/BROADCAST'],
    ['expect not s1 leads', null],
    ['expect count trace "send UPTODATE" == 2', null],
    ['expect count trace "send UPTODATE" != 2', 'the trace has 2 line(s) containing "send UPTODATE"'],
    ['expect count trace "send UPTODATE" < 2', 'the trace has 2 line(s) containing "send UPTODATE"'],
    ['expect count trace "send UPTODATE" <= 2', null],
    ['expect count trace "send UPTODATE" > 1', null],
    ['expect count committed == 1', 'the committed set holds 0 txn(s)'],
    ['expect count s1 logged == 0', null],
    ['expect s2 currentEpoch >= 2', "s2's currentEpoch file holds 1"],
    ['expect s2 round = 1', null],
    ['expect all settled', null],
    ['expect s1 settled', null],
  ])('%s', (line, found) => {
    const r = run(line);
    if (found === null) passes(r);
    else expect(r.failure?.message).toBe(found);
  });

  it('all settled waits for every running server, where quiet leaves out the ones cut off', () => {
    passes(run('partition s1 | s2 s3', 'create s3 /a "1"', 'stabilize', 'expect s1 lacks /a'));
    const r = run('partition s1 | s2 s3', 'create s3 /a "1"', 'stabilize until all settled within 5s');
    expect(r.failure?.message).toMatch(/^expected 'all settled' within 5000ms, but at \d+ms: s1 is (LOOKING\/ELECTION|FOLLOWING\/\w+ leader=s3), not in BROADCAST$|whose leader is not established$|s1 applied up to/);
    passes(run('partition s1 | s2 s3', 'create s3 /a "1"', 'stabilize', 'heal', 'stabilize until all settled within 60s', 'expect s1 has /a = "1"'));
  });

  it('stabilize until not COND waits for COND to end', () => {
    passes(run('crash s3', 'stabilize until not s1 is FOLLOWING within 30s', 'expect s1 is LOOKING'));
  });
});

describe('storage faults', () => {
  const failsAt = (r: ScenarioResult, line: number, msg: RegExp): void => {
    expect(r.failure?.src.line).toBe(line);
    expect(r.failure?.message).toMatch(msg);
  };
  it('crash sN with torn tail fails the line when no unsynced append is pending (it could not leave a record)', () => {
    failsAt(run('crash s1 with torn tail', 'expect s1 is DOWN'), 10, /^expected an unsynced log append on s1 to leave a torn record, but none was pending/);
  });
  it('repair fails the line on an up server, and on a log that ends cleanly', () => {
    failsAt(run('repair s1', 'expect s1 is DOWN'), 10, /^expected s1 to be down before repairing its disk/);
    failsAt(run('crash s1', 'repair s1', 'expect s1 is DOWN'), 11, /^expected a corrupt record at the end of s1's txn log, or snapshots none of which reads back, to remove, but its disk has neither/);
  });
  it('corrupt sN snapshot fails the line when the disk holds no such snapshot; a corrupt newest one is skipped at the next start', () => {
    failsAt(run('corrupt s1 snapshot <7,7>', 'expect s1 is UP'), 10, /^expected s1's disk to hold a snapshot labelled <7,7> to corrupt, but it holds snapshot\.<0,0>/);
    failsAt(run('corrupt s1 snapshot', 'corrupt s1 snapshot', 'expect s1 is UP'), 11, /^expected s1's disk to hold a snapshot that reads back to corrupt/);
    // Only snapshot.0, now unreadable, and an empty log: the server refuses to start.
    passes(run('crash s1', 'corrupt s1 snapshot <0,0>', 'start s1', 'expect s1 is DOWN', 'expect trace has "s1 HALT Unable to load database on disk: Not able to find valid snapshots"'));
  });
  it('fail next WRITE on sN fails exactly that kind of write', () => {
    const r = run('fail next snapshot on s2', 'create s3 /a "1"', 'stabilize', 'expect s2 is FOLLOWING/BROADCAST', 'expect trace lacks "DISKFAIL"');
    passes(r);
  });
});

describe('§6 FollowerZooKeeperServer.commit (audit D11)', () => {
  it('a COMMIT with nothing pending only warns ("Committing Z without seeing txn") and is ignored: the follower stays; a mismatched head still exits (x02)', () => {
    const r = run('mark here', 'inject s3 -> s1 COMMIT <1,5>', 'run 50ms', 'expect s1 follows s3', 'expect s1 is FOLLOWING/BROADCAST', 'expect trace since here has "s1 note Committing <1,5> without seeing txn: ignored"', 'expect trace since here lacks "HALT"', 'expect s1 applied lacks <1,5>');
    passes(r);
  });
});

describe('malformed lines and settings the CLI refuses: one sentence, file:line', () => {
  const body = (...lines: string[]): string => HEADER + ['servers 3', ...lines].join('\n');
  it.each([
    [body('start', 'inject s1 s2 COMMIT <1,1>', 'expect s1 leads'), "t.scenario:7: expected '->' (inject s2 -> s1 COMMIT <1,1>), found 's2'"],
    [body('start', 'inject s1 -> s1 COMMIT <1,1>', 'expect s1 leads'), 't.scenario:7: expected a receiver other than the sender s1'],
    [body('start', 'inject s1 -> s2 COMIT <1,1>', 'expect s1 leads'), /^t.scenario:7: expected a message type \(NOTIFICATION, .*\), found 'COMIT'$/],
    [body('start', 'inject s1 -> s2 COMMIT', 'expect s1 leads'), 't.scenario:7: expected the zxid of the COMMIT, such as <1,3>, found the end of the line'],
    [body('start', 'inject s1 -> s2 NOTIFICATION leader=s9', 'expect s1 leads'), "t.scenario:7: expected a server s1..s3, found 's9'"],
    [body('start', 'inject s1 -> s2 NOTIFICATION colour=red', 'expect s1 leads'), "t.scenario:7: expected a field (state=, leader=, zxid=, electionEpoch=, peerEpoch=, version=), found 'colour=red'"],
    [body('start', 'inject s1 -> s2 ACKEPOCH <1,1>', 'expect s1 leads'), "t.scenario:7: expected 'currentEpoch=E' (the learner's currentEpoch, or -1 when it equals the new epoch), found the end of the line"],
    [body('start', 'inject s3 -> s1 PROPOSAL <1,1> rename /a', 'expect s1 leads'), "t.scenario:7: expected a txn type (create, setData, delete, createSession, closeSession), found 'rename'"],
    [body('start', 'inject s3 -> s1 PROPOSAL <1,1> create /e "x" ephemeral', 'expect s1 leads'), "t.scenario:7: expected 'session=N': an ephemeral node belongs to a session"],
    [body('start', 'inject s3 -> s1 SNAP <1,1> tree=everything', 'expect s1 leads'), "t.scenario:7: expected 'empty' or a server whose data tree to send, such as s3, found 'everything'"],
    [body('start', 'inject s3 -> s1 UPTODATE now', 'expect s1 leads'), "t.scenario:7: expected the end of the line, found 'now'"],
    [body('start', 'force s1 leader', 'expect s1 leads'), "t.scenario:7: expected 'vote', 'LOOKING', 'zxidCounter', 'acceptedEpoch' or 'currentEpoch', found 'leader'"],
    [body('start', 'force s1 vote', 'expect s1 leads'), 't.scenario:7: expected leader=sN, zxid=<e,c>, peerEpoch=N or round=N, found the end of the line'],
    [body('start', 'force s3 zxidCounter 4294967295', 'expect s1 leads'), "t.scenario:7: expected a zxid counter of at most 4294967294, found '4294967295'"],
    [body('start', 'wipe', 'expect s1 leads'), 't.scenario:7: expected a server such as s1, found the end of the line'],
    [body('start', 'force s1 LOOKING now', 'expect s1 leads'), "t.scenario:7: expected the end of the line, found 'now'"],
    [body('start', 'force s1 acceptedEpoch', 'expect s1 leads'), 't.scenario:7: expected an epoch, found the end of the line'],
    [body('start', 'force s1 vote zxid=5', 'expect s1 leads'), "t.scenario:7: expected a zxid such as <1,5>, found '5'"],
    [body('start', 'wipe s1 s2', 'expect s1 leads'), "t.scenario:7: expected the end of the line, found 's2'"],
    [body('preload s1 snapshot', 'start', 'expect s1 leads'), 't.scenario:6: expected a zxid such as <1,5>, found the end of the line'],
    [body('preload s1 log', 'start', 'expect s1 leads'), "t.scenario:6: expected zxids such as <1,1> <1,2>, a range <1,1>..<1,5>, or 'none', found the end of the line"],
    [body('start', 'stabilize until', 'expect s1 leads'), /^t.scenario:7: expected a server such as s1, or one of: not, quiet, all settled, .*found the end of the line$/],
    [body('start', 'stabilize until s1 leads within forever', 'expect s1 leads'), "t.scenario:7: expected a bound such as 10s, found 'forever'"],
    [body('start', 'fail next fsync on s1', 'expect s1 leads'), "t.scenario:7: expected a write to fail: log, truncate, snapshot, acceptedEpoch, currentEpoch, updatingEpoch, found 'fsync'"],
    [body('start', 'fail next log s1', 'expect s1 leads'), "t.scenario:7: expected 'on sN', found 's1'"],
    [body('start', 'disk empty s1', 'expect s1 leads'), "t.scenario:7: expected 'full' or 'free' (disk full sN), found 'empty'"],
    [body('start', 'crash s1 with bad tail', 'expect s1 leads'), "t.scenario:7: expected 'torn' or 'corrupt' (crash sN with torn tail), found 'bad'"],
    [body('start', 'crash s1 with torn', 'expect s1 leads'), "t.scenario:7: expected 'tail', found the end of the line"],
    [body('start', 'repair', 'expect s1 leads'), 't.scenario:7: expected a server such as s1, found the end of the line'],
    [body('start', 'corrupt s1', 'expect s1 leads'), "t.scenario:7: expected 'snapshot' (corrupt sN snapshot [ZXID|all]), found the end of the line"],
    [body('start', 'corrupt s1 snapshot newest', 'expect s1 leads'), /^t.scenario:7: expected a zxid .*found 'newest'/],
    [body('set s2 tickTimeMs 1ms', 'start', 'expect s1 leads'), 't.scenario:6: expected tickTimeMs from 2 to 3600000ms, found 1'],
    [body('set s4 tickTimeMs 1s', 'start', 'expect s1 leads'), "t.scenario:6: expected a server s1..s3 (this ensemble has 3 voters and 0 observers), found s4"],
    [body('set s2 tickTimeMs 1s', 'set s2 tickTimeMs 2s', 'start', 'expect s1 leads'), "t.scenario:7: expected one 'set s2 tickTimeMs' line, found a second (the first is line 6)"],
    [body('start', 'set s2 tickTimeMs 1s', 'expect s1 leads'), /^t.scenario:7: expected 'set' before the first command/],
    [body('set snapCount 1', 'start', 'expect s1 leads'), 't.scenario:6: expected snapCount from 2 to 10000000, found 1'],
    [body('set syncLimitTicks 1001', 'start', 'expect s1 leads'), 't.scenario:6: expected syncLimitTicks from 1 to 1000, found 1001'],
    [body('preload s1 txn <1,2> create /a "1"', 'preload s1 txn <1,1> create /b "1"', 'start', 'expect s1 leads'), 't.scenario:7: expected the log zxids in increasing order, each after those preloaded before'],
    [body('preload s1 snapshot <1,2> keep', 'start', 'expect s1 leads'), "t.scenario:6: expected 'log', 'txn', 'snapshot', 'acceptedEpoch' or 'currentEpoch', found 'keep'"],
    [body('preload s5 log <1,1>', 'start', 'expect s1 leads'), 't.scenario:6: expected a server s1..s3 (this ensemble has 3 voters and 0 observers), found s5'],
    [body('servers 5', 'start', 'expect s1 leads'), "t.scenario:6: expected one 'servers' line, found a second (the first is line 5)"],
    [HEADER + 'servers 0x3\nstart\nexpect s1 leads', "t.scenario:5: expected the number of voting servers, found '0x3'"],
    [body('delay 5', 'delay 6', 'start', 'expect s1 leads'), "t.scenario:7: expected one 'delay' line, found a second (the first is line 6)"],
    [body('flaw newleader_no_epoch_marker', 'flaw newleader_no_epoch_marker', 'start', 'expect s1 leads'), "t.scenario:7: expected one 'flaw newleader_no_epoch_marker' line, found a second (the first is line 6)"],
    [body('start', 'run 99999999999m', 'expect s1 leads'), "t.scenario:7: expected a duration such as 500ms, or 'until TIME' of at most 24h (86400000ms), found '99999999999m'"],
    [body('start', 'expect trace has ""'), 't.scenario:7: expected some trace text: "" is in every line, so the condition could not fail'],
    [body('start', 'expect trace lacks "  "'), 't.scenario:7: expected some trace text: "" is in every line, so the condition could not fail'],
    [body('start', 'expect trace has "send ACK <1,0>" before "ACK"'), 't.scenario:7: expected two different texts: every line with "send ACK <1,0>" contains "ACK", so this could never hold'],
    [body('start', 'expect committed has none'), "t.scenario:7: expected zxids after 'has': 'has none' always holds (write '= none' for an empty set)"],
    [body('start', 'expect s1 logged lacks none'), "t.scenario:7: expected zxids after 'lacks': 'lacks none' always holds (write '= none' for an empty set)"],
    [body('start', 'expect count trace "SNAP" >= 0'), "t.scenario:7: expected a comparison that can fail: '>= 0' always holds"],
    [body('start', 'expect count trace "SNAP" < 0'), "t.scenario:7: expected a comparison that can fail: '< 0' never holds"],
    [body('start', 'expect count trace "SNAP" ~ 1'), "t.scenario:7: expected a comparison (=, ==, !=, <, <=, >, >=), found '~'"],
    [body('start', 'expect count trace since nowhere "SNAP" == 1'), "t.scenario:7: expected the name of an earlier mark, found 'nowhere'"],
    [body('start', 'expect not not s1 leads'), "t.scenario:7: expected a condition after 'not', found a second 'not'"],
    [body('start', 'expect s1 follows s1'), "t.scenario:7: expected another server: s1 cannot follow itself (write 's1 leads')"],
    [body('start', 'expect s1 memory lastZxid = 1'), "t.scenario:7: expected 'acceptedEpoch' or 'currentEpoch' (its value in memory), found 'lastZxid'"],
    [body('start', 'expect s1 round 3'), "t.scenario:7: expected a comparison (=, ==, !=, <, <=, >, >=), found '3'"],
    [body('start', 'expect s1 votes'), 't.scenario:7: expected a server such as s1, found the end of the line'],
    [body('start', 'expect count s1 proposed == 1'), "t.scenario:7: expected 'logged' or 'applied' (count s1 logged >= 3), found 'proposed'"],
    [body('preload s1 txn <1,1> frob /a', 'start', 'expect s1 leads'), "t.scenario:6: expected a txn type (create, setData, delete, createSession, closeSession), found 'frob'"],
    [body('preload s1 txn <1,1> createSession 0', 'start', 'expect s1 leads'), 't.scenario:6: expected a session id above 0 (0 means no session)'],
    [body('preload s1 txn <1,1> setData /a "x" version=new', 'start', 'expect s1 leads'), "t.scenario:6: expected a version (a whole number, or -1 for any), found 'new'"],
    [body('preload s1 currentEpoch 1', 'preload s1 currentEpoch 2', 'start', 'expect s1 leads'), 't.scenario:7: expected one currentEpoch for s1, found a second'],
    [body('start', 'expect all quiet'), "t.scenario:7: expected 'settled' (all settled), found 'quiet'"],
    [body('start', 'stabilize until not checkers pass'), "t.scenario:7: expected a condition on the state: 'checkers pass' is only for expect"],
  ])('%#: %s', (text, message) => {
    const got = error(text);
    if (typeof message === 'string') expect(got).toBe(message);
    else expect(got).toMatch(message);
    expect(got).not.toContain('\n');
  });
});

describe('text the parser must not misread', () => {
  const good = HEADER + 'servers 3\nstart\nstabilize\nexpect s3 leads\n';

  it('a UTF-8 byte order mark is skipped', () => {
    expect(parseScenario('\uFEFF' + good, 't.scenario').name).toBe('t');
  });

  it.each([
    ['a lone CR in the title', good.replace('title t', 'title t\rmore'), 't.scenario:2: expected one line here, found a carriage return (CR) inside the line; save the file with LF or CRLF line endings'],
    ['old Mac line endings (CR only)', good.replace(/\n/g, '\r'), 't.scenario:1: expected one line here, found a carriage return (CR) inside the line; save the file with LF or CRLF line endings'],
    ['U+2028 in the title', good.replace('title t', 'title t\u2028more'), 't.scenario:2: expected one line here, found a line separator (U+2028), often pasted from a web page; use a plain newline'],
    ['U+2029 in a command', good.replace('start', 'start\u2029'), 't.scenario:6: expected one line here, found a paragraph separator (U+2029), often pasted from a web page; use a plain newline'],
  ])('%s', (_what, text, message) => {
    expect(error(text)).toBe(message);
  });

  it('CRLF files still parse', () => {
    expect(parseScenario(good.replace(/\n/g, '\r\n'), 't.scenario').commands).toHaveLength(3);
  });

  it('an error at the end of a file names its last line, not one past it', () => {
    expect(error('')).toBe("t.scenario:1: expected the 'scenario' line in the header (scenario, title, story, outcome)");
    expect(error(HEADER)).toBe('t.scenario:4: expected commands after the header and setup (at least start and one expect)');
    expect(error(HEADER + 'start\n')).toBe("t.scenario:5: expected at least one 'expect' line: a scenario must check something");
  });
});
