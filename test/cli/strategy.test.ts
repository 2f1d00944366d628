/**
 * Search strategies (issue 12 §4): deterministic from --from and the flags, generation by
 * generation, and each run's replay is an exact `zabsim run` command: parsed by the CLI, it runs
 * the same run.
 */
import { setAutoFreeze } from 'immer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunFlags } from '../../src/cli/run.ts';
import { explore, runCandidate, type SeedResult } from '../../src/run/explore.ts';
import { createRun, runJudged, verdictOf } from '../../src/run/run.ts';
import { optionsFromSettings, resolveSettings, settings } from '../../src/run/settings.ts';
import { GENERATION_SIZE, makeStrategy, STRATEGIES } from '../../src/run/strategy.ts';

/** Splits a printed command as a POSIX shell would (words, and '...' quoted words). */
function shellWords(cmd: string): string[] {
  const out: string[] = [];
  const re = /'((?:[^']|'\\'')*)'|(\S+)/g;
  for (let m = re.exec(cmd); m !== null; m = re.exec(cmd)) out.push(m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : (m[2] as string));
  return out;
}

/** Runs a replay command through the CLI's flag parser; its verdict and length. */
function replay(r: SeedResult): { ok: boolean; events: number; endMs: number } {
  const words = shellWords(r.replay);
  expect(words.slice(0, 3)).toEqual(['npx', 'zabsim', 'run']);
  const opts = optionsFromSettings(resolveSettings(parseRunFlags(words.slice(3))));
  const run = createRun(opts);
  runJudged(run, opts.untilMs);
  return { ok: verdictOf(run).ok, events: run.sim.eventCount, endMs: run.sim.now };
}

/** Short runs: the strategies' choices are what is tested, not long histories. */
const SHORT = settings({ until: 6000 });

describe('search strategies', () => {
  beforeAll(() => setAutoFreeze(false));
  afterAll(() => setAutoFreeze(true));

  it('every strategy makes candidates deterministically from the first seed', () => {
    for (const name of STRATEGIES) {
      const a = makeStrategy(name, 5, SHORT).generation(0, 4, []);
      const b = makeStrategy(name, 5, SHORT).generation(0, 4, []);
      expect(a.map((c) => [...c.settings])).toEqual(b.map((c) => [...c.settings]));
      expect(a).toHaveLength(4);
      expect(a.every((c) => c.settings.get('until') === 6000)).toBe(true);
    }
    expect(makeStrategy('pct', 5, SHORT).generation(0, 1, [])[0]?.settings.get('pct')).toBe(3);
    expect(makeStrategy('targeted', 5, SHORT).generation(0, 1, [])[0]?.settings.get('schedule')).toMatch(/^\d+ms crash s\d+ after (newleader-ack|epoch-durable|commit|log-durable)$/);
  });

  it('coverage-guided: the second generation mutates the runs that reached new cells; two explorations are identical; each replay is the same run', () => {
    const o = { from: 1, seeds: GENERATION_SIZE + 4, overrides: SHORT, strategy: 'coverage' as const };
    const a = explore(o);
    const b = explore(o);
    expect(a.results.map((r) => [r.replay, r.events, r.ok])).toEqual(b.results.map((r) => [r.replay, r.events, r.ok]));
    const mutants = a.results.filter((r) => r.origin.startsWith('mutant of seed'));
    expect(mutants.length).toBe(2);
    expect(a.coverage).not.toBeNull();
    for (const r of mutants) expect(replay(r)).toEqual({ ok: r.ok, events: r.events, endMs: r.endMs });
  });

  it('a pct run and a targeted run replay exactly from their printed commands', () => {
    for (const name of ['pct', 'targeted'] as const) {
      const c = makeStrategy(name, 11, SHORT).generation(0, 1, [])[0];
      expect(c).toBeDefined();
      const { result } = runCandidate(c as NonNullable<typeof c>);
      expect(result.error).toBeNull();
      expect(replay(result)).toEqual({ ok: result.ok, events: result.events, endMs: result.endMs });
    }
  });
});
