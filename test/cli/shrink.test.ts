/**
 * `zabsim explore --shrink` (docs/checkers.md "Shrinking"): the first failure of each property is
 * shrunk, and the shrink is reported in the failure table, in `--json` and in failures.jsonl;
 * without --shrink, nothing is shrunk and the JSON has no `shrunk` field.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliAsync } from './run-cli.ts';

/** ZOOKEEPER-4643's first failing swarm seed is 192 (docs/checkers.md); seeds 191 and 192 reach it. */
const EXPLORE = ['explore', '--flaw', 'ZOOKEEPER-4643', '--from', '191', '--seeds', '2', '--max-failures', '1', '--no-progress', '--workers', '1'];

describe('explore --shrink', () => {
  it('prints the shrunk schedule, its length and its replay beside the failure table', async () => {
    const r = await cliAsync(...EXPLORE, '--shrink-budget', '40');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^192 +TruncSafety/m);
    const line = r.out.split('\n').find((l) => l.startsWith('seed 192 shrunk (TruncSafety): ')) as string;
    expect(line).toBeDefined();
    const m = /: (\d+) steps? \(recorded (\d+)\) in (\d+) replays: (npx zabsim run .*)$/.exec(line) as RegExpExecArray;
    expect(m).not.toBeNull();
    expect(Number(m[1])).toBeLessThan(Number(m[2]));
    expect(Number(m[3])).toBeLessThanOrEqual(40);
    expect(m[4]).toContain('--seed 192 --swarm --flaw follower_epoch_before_log_durable --crash-every 0 --partition-every 0 --crash-points 0');
  });

  it('--json, failures.jsonl and merge carry the shrink; without --shrink the JSON has no shrunk field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zabsim-shrink-'));
    try {
      const r = await cliAsync(...EXPLORE, '--shrink-budget', '5', '--json', '--out', dir);
      expect(r.code).toBe(1);
      const failure = JSON.parse(r.out.split('\n').find((l) => l.startsWith('{"zabsim":"failure"')) as string);
      expect(failure.shrunk).toMatchObject({ property: 'TruncSafety', reproduced: true });
      expect(failure.shrunk.replays).toBeLessThanOrEqual(5);
      expect(failure.shrunk.steps).toBeLessThanOrEqual(failure.shrunk.recordedSteps);
      const sweep = readdirSync(dir).find((n) => n.startsWith('explore-')) as string;
      const line = JSON.parse(readFileSync(join(dir, sweep, 'failures.jsonl'), 'utf8').split('\n')[0] as string);
      expect(line.shrunk).toEqual(failure.shrunk);
      // zabsim merge keeps it (one input: the same JSON back).
      const merged = await cliAsync('merge', '--json', join(dir, sweep, 'explore.jsonl'));
      expect(merged.out).toBe(r.out);
      const plain = await cliAsync(...EXPLORE, '--json');
      expect(plain.out).not.toContain('shrunk');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
