/**
 * `zabsim scenario`: list, run, and the two kinds of "no": a malformed file (one sentence, exit 2)
 * and a failed expectation (its line and the state, exit 1).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
    // The catalogue's bugs (b05...), the twenty classic cases, then zabsim's own findings (x01...).
    expect(lines).toHaveLength(26);
    expect(lines[0]).toMatch(/^b05-diff-header-zxid-before-txns\s+B5\. ZOOKEEPER-2355: /);
    expect(lines[5]).toMatch(/^s01-leader-dies-before-commit\s+S1\. /);
    expect(lines[25]).toMatch(/^x01-resync-withdraws-stale-ack\s+A follower's ACK /);
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
    expect(r.err).toBe(`zabsim: ${file}:10: expected 'is', 'leads', 'acceptedEpoch', 'currentEpoch', 'logged', 'applied', 'lastProcessed', 'has' or 'lacks', found 'leeds'\n`);
    expect(r.out).toBe('');
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
});
