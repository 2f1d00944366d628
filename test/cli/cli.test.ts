import { afterEach, describe, expect, it, vi } from 'vitest';
import { cli } from './run-cli.ts';

describe('zabsim CLI', () => {
  afterEach(() => vi.restoreAllMocks());

  it('an unknown flag gets one sentence naming it, one line pointing at --help (not the whole usage), and exit code 2', () => {
    const r = cli('run', '--bogus', '1');
    expect(r.code).toBe(2);
    expect(r.err).toBe("zabsim: unknown flag --bogus for zabsim run.\nRun 'zabsim run --help' for its flags.\n");
    expect(r.out).toBe('');
  });

  it('a bad value names the flag and what it accepts', () => {
    expect(cli('run', '--servers', 'x').err.split('\n')[0]).toBe("zabsim: --servers expects an integer from 1 to 15, got 'x'.");
    expect(cli('run', '--loss', '2').err.split('\n')[0]).toBe("zabsim: --loss expects a probability between 0 and 1, got '2'.");
    expect(cli('run', '--until').err.split('\n')[0]).toBe('zabsim: --until needs a value: a duration such as 500, 500ms, 2s, 1m or 1h from 1ms to 720h.');
    expect(cli('run', '--flaw', 'nope').code).toBe(2);
    const bad = cli('run', '--schedule', '1s crash s1; 2s crash s2 after lunch');
    expect(bad.code).toBe(2);
    expect(bad.err.split('\n')[0]).toBe("zabsim: --schedule: step 2 ('2s crash s2 after lunch'): expected 'crash sN' or 'crash sN after POINT' with POINT one of newleader-ack, epoch-durable, commit, log-durable, resync-commit.");
    expect(cli('frobnicate').err).toBe("zabsim: unknown command 'frobnicate'; the commands are: run, scenario, explore, flaws, view, export, merge.\nRun 'zabsim --help' for the commands.\n");
  });

  it('a failed check exits 1 and prints a replay command a shell reads back as the same arguments', () => {
    const schedule = '662ms crash s2 after newleader-ack; 1014ms partition s2|s1,s3; 1015ms heal; 1025ms crash s1';
    const args = ['--seed', '432003', '--servers', '3', '--clients', '2', '--ops-per-sec', '10', '--clients-from', '1s', '--faults-until', '30s', '--until', '250s', '--stop-early', '--schedule', schedule, '--flaw', 'follower_ack_newleader_before_persist'];
    const r = cli('run', ...args);
    expect(r.code).toBe(1);
    const replay = /^replay: (.*)$/m.exec(r.out)?.[1];
    expect(replay).toBe(`npx zabsim run ${args.slice(0, -4).join(' ')} --schedule '${schedule}' --flaw follower_ack_newleader_before_persist`);
  });

  it('--help prints the usage of a command and exits 0', () => {
    const r = cli('run', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('--check-determinism');
    expect(cli('--help').code).toBe(0);
  });

  it('no command at all is a usage error: the usage on stderr, nothing on stdout, exit 2 (ux-audit §1, exit codes)', () => {
    const r = cli();
    expect([r.code, r.out]).toEqual([2, '']);
    expect(r.err).toMatch(/^usage: zabsim <command>/);
    expect(cli('--help').err).toBe('');
    expect(cli('--help').out).toBe(r.err);
  });

  it('the same seed prints the same output byte for byte; another seed differs', () => {
    const args = ['run', '--servers', '5', '--observers', '1', '--clients', '3', '--until', '20s', '--crash-every', '5s', '--no-color'];
    const a = cli(...args, '--seed', '11');
    const b = cli(...args, '--seed', '11');
    const c = cli(...args, '--seed', '12');
    expect(a.code).toBe(0);
    expect(a.out).toBe(b.out);
    expect(a.out).not.toBe(c.out);
    // Parameters first, then the trace, then the summary.
    expect(a.out.split('\n')[0]).toBe('seed 11');
    expect(a.out).toMatch(/summary at 20000ms/);
  });

  it('the default run ends with an elected, established leader', () => {
    const r = cli('run', '--no-color');
    const summary = r.out.slice(r.out.indexOf('summary at'));
    expect(summary.match(/LEADING\s+BROADCAST/g)?.length).toBe(1);
    expect(summary.match(/FOLLOWING\s+BROADCAST/g)?.length).toBe(2);
  });

  it('--json prints a header, one JSON object per event, the client operations as they complete, and a summary', () => {
    const r = cli('run', '--json', '--clients', '2', '--until', '8s');
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]?.zabsim).toBe('run');
    expect(lines.at(-1)?.zabsim).toBe('summary');
    const body = lines.slice(1, -1);
    const events = body.filter((l) => l.zabsim === undefined);
    expect(events.length).toBeGreaterThan(50);
    events.forEach((e, i) => expect(e.i).toBe(i));
    const ops = body.filter((l) => l.zabsim === 'op').map((l) => l.op as { n: number; outcome: string | null });
    expect(events.length + ops.length).toBe(body.length);
    expect(ops.some((o) => o.outcome === 'ok')).toBe(true);
    // Every operation once, numbered in invocation order, and the summary counts them all.
    expect([...ops.map((o) => o.n)].sort((a, b) => a - b)).toEqual(ops.map((_, k) => k));
    const counts = lines.at(-1)?.clients as { ok: number; error: number; unknown: number; pending: number };
    expect(counts.ok + counts.error + counts.unknown + counts.pending).toBe(ops.length);
  });

  it('--check-determinism runs twice and reports identical hashes', () => {
    const r = cli('run', '--check-determinism', '--clients', '2', '--until', '10s', '--crash-every', '3s');
    expect(r.code).toBe(0);
    const hashes = [...r.out.matchAll(/sha256 ([0-9a-f]{64})/g)].map((m) => m[1]);
    expect(hashes).toHaveLength(2);
    expect(hashes[0]).toBe(hashes[1]);
  });
});
