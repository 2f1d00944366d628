/**
 * `zabsim scenario`: list, run, and the two kinds of "no": a malformed file (one sentence, exit 2)
 * and a failed expectation (its line and the state, exit 1).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cli } from './run-cli.ts';

const HEADER = 'scenario demo\ntitle A demo\nstory Three servers elect.\noutcome s3 leads.\n\nservers 3\ndelay 5\nstart\nstabilize\n';

function scenarioFile(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'zabsim-scenario-'));
  const file = join(dir, 'demo.scenario');
  writeFileSync(file, HEADER + body);
  return file;
}

describe('zabsim scenario', () => {
  afterEach(() => vi.restoreAllMocks());

  it('list shows every scenario with its one-line title', () => {
    const r = cli('scenario', 'list');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    // The catalogue's bugs (b01...), the three storage-fault cases (disk1, disk2, disk3), the twenty
    // classic cases, then zabsim's own findings (x01...).
    expect(lines).toHaveLength(40);
    expect(lines[0]).toMatch(/^b01-two-leaders-one-epoch\s+B1 \(ZOOKEEPER-335\)\. /);
    expect(lines[2]).toMatch(/^b03-election-never-settles\s+B3\. ZOOKEEPER-1419: /);
    expect(lines[3]).toMatch(/^b05-diff-header-zxid-before-txns\s+B5\. ZOOKEEPER-2355: /);
    expect(lines[5]).toMatch(/^b07-newleader-queued-before-snap\s+B7\. ZOOKEEPER-3104: /);
    expect(lines[9]).toMatch(/^b13-commit-after-newleader\s+B13\. ZOOKEEPER-4394: /);
    expect(lines[11]).toMatch(/^b15-committedlog-hole-in-diff\s+B15\. ZOOKEEPER-4925: /);
    expect(lines[13]).toMatch(/^disk1-damaged-log-tail\s+A crash leaves half of an unsynced txn log record /);
    expect(lines[14]).toMatch(/^disk2-epoch-write-and-full-disk\s+A learner's acceptedEpoch write fails/);
    expect(lines[15]).toMatch(/^disk3-corrupt-snapshot\s+Snapshot files that fail their CRC/);
    expect(lines[16]).toMatch(/^s01-leader-dies-before-commit\s+S1\. /);
    expect(lines[36]).toMatch(/^x01-resync-withdraws-stale-ack\s+A follower's ACK /);
    expect(lines[37]).toMatch(/^x02-stray-commit-for-missing-txn\s+A stray COMMIT /);
    expect(lines[38]).toMatch(/^x03-trunc-to-a-zxid-the-log-lacks\s+A TRUNC to a zxid /);
    expect(lines[39]).toMatch(/^x04-trunc-reloads-dirty-snapshot\s+ZOOKEEPER-1549: /);
  });

  it('run NAME passes with exit 0; a prefix names it too', () => {
    const r = cli('scenario', 'run', 's01');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^PASS s01-leader-dies-before-commit/);
  });

  it('a malformed line: one sentence file:line: what was expected, exit 2, no stack trace', () => {
    const file = scenarioFile('expect s3 leeds\n');
    const r = cli('scenario', 'run', file);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`zabsim: ${file}:10: expected 'is', 'leads', 'follows', 'votes', 'settled', 'round', 'memory', 'acceptedEpoch', 'currentEpoch', 'logged', 'applied', 'lastProcessed', 'has' or 'lacks', found 'leeds'\n`);
    expect(r.out).toBe('');
  });

  it('a malformed inject line: file:line, exit 2', () => {
    const file = scenarioFile('inject s3 -> s1 COMMIT\nexpect s3 leads\n');
    const r = cli('scenario', 'run', file);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`zabsim: ${file}:10: expected the zxid of the COMMIT, such as <1,3>, found the end of the line\n`);
  });

  it('a failed expectation: exit 1 with the failing line and the state that broke it', () => {
    const file = scenarioFile('expect s3 leads\nexpect s1 leads   # wrong on purpose\n');
    const r = cli('scenario', 'run', file);
    expect(r.code).toBe(1);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('FAIL demo');
    expect(lines[1]).toBe(`${file}:11: expect s1 leads`);
    expect(lines[2]).toBe('  s1 is FOLLOWING/BROADCAST leader=s3');
    expect(r.out).toMatch(/\n {2}s1\s+FOLLOWING\s+BROADCAST\s+s3/);
    expect(r.err).toBe('');
  });

  it('--rewrite writes the golden trace; a changed trace then fails though the expectations hold', () => {
    const file = scenarioFile('expect s3 leads\n');
    expect(cli('scenario', 'run', file, '--rewrite').code).toBe(0);
    const golden = file.replace(/\.scenario$/, '.trace');
    expect(readFileSync(golden, 'utf8')).toMatch(/s3 {11}state {5}LEADING\/BROADCAST/);
    expect(cli('scenario', 'run', file).out).toMatch(/^PASS demo .*golden trace equal/);
    writeFileSync(file, HEADER.replace('delay 5', 'delay 6') + 'expect s3 leads\n');
    const r = cli('scenario', 'run', file);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^FAIL demo: its expectations hold, but trace line \d+ differs from the golden trace: expected '.*', got '.*'/);
  });

  it('--trace prints the trace as it runs', () => {
    const r = cli('scenario', 'run', 's01', '--trace');
    expect(r.code).toBe(0);
    expect(r.out).toContain('s3 -> s1     send      COMMIT <1,3>');
  });

  it('bad usage: exit 2 with a sentence and the usage', () => {
    expect(cli('scenario', 'run').err.split('\n')[0]).toBe('zabsim: zabsim scenario run needs a scenario: a NAME from zabsim scenario list, a FILE, or all.');
    expect(cli('scenario', 'run', 'no-such-thing').code).toBe(2);
    expect(cli('scenario', 'frob').err.split('\n')[0]).toBe("zabsim: unknown scenario command 'frob'; expected 'list' or 'run'.");
  });

  // The audit's silent passes and stack traces on paths (ux-audit.md §3): each is now a sentence and exit 2.
  it.each([
    [['run', 'all', '--dir', '/no/such/folder'], "zabsim: --dir '/no/such/folder' does not exist; expected a folder of .scenario files."],
    [['list', '--dir', '/no/such/folder'], "zabsim: --dir '/no/such/folder' does not exist; expected a folder of .scenario files."],
    [['list', '--dir', 'README.md'], "zabsim: --dir 'README.md' is a file; expected a folder of .scenario files."],
    [['run', 'scenarios/'], "zabsim: 'scenarios/' is a folder, not a scenario file; zabsim scenario run all --dir scenarios/ runs every scenario in it."],
    [['list', '--trace'], 'zabsim: --trace applies to zabsim scenario run, not list.'],
    [['run', 's1'], "zabsim: no scenario named 's1' in scenarios; did you mean s01, s10, s11?"],
    [['run', 's20-truncate-fail'], "zabsim: no scenario named 's20-truncate-fail' in scenarios; did you mean s20?"],
    [['run', 'zzzzzz'], "zabsim: no scenario named 'zzzzzz' in scenarios; zabsim scenario list shows 40 names."],
  ])('scenario %j: one sentence, exit 2', (args, first) => {
    const r = cli('scenario', ...args);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toBe(first);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('run all on a folder without scenarios is an error, not a silent pass; list says it is empty', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zabsim-empty-'));
    const r = cli('scenario', 'run', 'all', '--dir', dir);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toMatch(/^zabsim: no scenario files \(\*\.scenario\) in .*zabsim-empty-.*: nothing to run\.$/);
    const l = cli('scenario', 'list', '--dir', dir);
    expect(l.code).toBe(0);
    expect(l.out).toMatch(/^no scenario files \(\*\.scenario\) in /);
  });

  it('a .scenario path that is a folder is a sentence, not EISDIR', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zabsim-dir-'));
    const odd = join(dir, 'x.scenario');
    mkdirSync(odd);
    const r = cli('scenario', 'run', odd);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toBe(`zabsim: '${odd}' is a folder, not a scenario file; zabsim scenario run all --dir ${odd} runs every scenario in it.`);
  });
});
