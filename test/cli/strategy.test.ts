/**
 * Search strategies (issue 12 §4): deterministic from --from and the flags, generation by
 * generation, and each run's replay is an exact `zabsim run` command: parsed by the CLI, it runs
 * the same run.
 */
import { setStateFreezing } from '../../src/protocol/cow.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunFlags } from '../../src/cli/run.ts';
import { cli, cliAsync } from './run-cli.ts';
import { explore, runCandidate, type SeedResult } from '../../src/run/explore.ts';
import { createRun, runJudged, verdictOf } from '../../src/run/run.ts';
import { optionsFromSettings, resolveSettings, settings } from '../../src/run/settings.ts';
import { aimedPoint, TARGETED_WINDOWS, GENERATION_SIZE, makeStrategy, STRATEGIES, type Feedback } from '../../src/run/strategy.ts';
import { swarmSettings } from '../../src/run/swarm.ts';
import { PROBES } from '../../src/protocol/probes.ts';

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
  beforeAll(() => setStateFreezing(false));
  afterAll(() => setStateFreezing(true));

  it('every strategy makes candidates deterministically from the first seed', () => {
    for (const name of STRATEGIES) {
      const a = makeStrategy(name, 5, SHORT).generation(0, 4, []);
      const b = makeStrategy(name, 5, SHORT).generation(0, 4, []);
      expect(a.map((c) => [...c.settings])).toEqual(b.map((c) => [...c.settings]));
      expect(a).toHaveLength(4);
      expect(a.every((c) => c.settings.get('until') === 6000)).toBe(true);
    }
    expect(makeStrategy('pct', 5, SHORT).generation(0, 1, [])[0]?.settings.get('pct')).toBe(3);
    expect(makeStrategy('targeted', 5, SHORT).generation(0, 1, [])[0]?.settings.get('schedule')).toMatch(/^\d+ms crash s\d+ after (newleader-ack|epoch-durable|commit|log-durable|resync-commit)(; \d+ms crash s\d+ after resync-commit)*$/);
  });

  it('targeted: a flaw with a known window gets half the crashes there; a point only a leader reaches is armed on every server', () => {
    expect(aimedPoint(new Map([['flaw', ['ZOOKEEPER-4646', 'leader_keeps_acks_across_resync']]]))).toBe('resync-commit');
    expect(aimedPoint(new Map([['flaw', ['ZOOKEEPER-4646']]]))).toBeNull();
    expect(aimedPoint(new Map())).toBeNull();
    const gen = makeStrategy('targeted', 1, new Map([['flaw', ['leader_keeps_acks_across_resync']]])).generation(0, GENERATION_SIZE, []);
    const schedules = gen.map((c) => c.settings.get('schedule') as string);
    const aimed = schedules.filter((x) => x.includes('after resync-commit'));
    // About half (each run aims with probability 1/2, or draws the point among five otherwise).
    expect(aimed.length).toBeGreaterThanOrEqual(4);
    expect(aimed.length).toBeLessThanOrEqual(14);
    for (const x of aimed) {
      const c = gen[schedules.indexOf(x)] as (typeof gen)[number];
      const servers = (swarmSettings(c.settings.get('seed') as number).get('servers') as number) + ((swarmSettings(c.settings.get('seed') as number).get('observers') as number | undefined) ?? 0);
      const steps = x.split('; ');
      expect(steps).toHaveLength(servers);
      expect(steps.map((st) => /crash (s\d+) after/.exec(st)?.[1])).toEqual(Array.from({ length: servers }, (_, i) => `s${i + 1}`));
    }
    // Without a flaw with a window, the points are drawn evenly: the same seeds, other schedules.
    const plain = makeStrategy('targeted', 1, new Map([['flaw', ['ZOOKEEPER-4646']]])).generation(0, GENERATION_SIZE, []);
    expect(plain.filter((c) => (c.settings.get('schedule') as string).includes('resync-commit')).length).toBeLessThan(aimed.length);
  });

  it('targeted: with no flaw given, about a quarter of the runs start in each window of TARGETED_WINDOWS (a stale LEADERINFO, a second NEWLEADER ACK); with a flaw, none', () => {
    const gen = makeStrategy('targeted', 1, new Map()).generation(0, 4 * GENERATION_SIZE, []);
    for (const [name, value] of TARGETED_WINDOWS) {
      const inWindow = gen.filter((c) => c.settings.get(name) === value);
      expect(inWindow.length, name).toBeGreaterThanOrEqual(6);
      expect(inWindow.length, name).toBeLessThanOrEqual(28);
      for (const c of inWindow) {
        expect(c.settings.get('schedule')).toMatch(/crash s\d+ after /);
        expect(c.origin).toContain(`${name} ${String(value)}`);
        expect(TARGETED_WINDOWS.filter(([other]) => c.settings.has(other))).toHaveLength(1);
      }
    }
    expect(gen.filter((c) => TARGETED_WINDOWS.every(([name]) => !c.settings.has(name))).length).toBeGreaterThanOrEqual(16);
    for (const flawed of [new Map([['flaw', ['ZOOKEEPER-4646']]]), new Map([['flaw', ['leader_keeps_acks_across_resync']]])]) {
      expect(makeStrategy('targeted', 1, flawed).generation(0, 4 * GENERATION_SIZE, []).some((c) => TARGETED_WINDOWS.some(([name]) => c.settings.has(name)))).toBe(false);
    }
  });

  it('coverage-guided: mutants of mutants are valid runs (a schedule names only servers the run has), over many generations', () => {
    const st = makeStrategy('coverage', 1, new Map());
    let previous: Feedback[] = [];
    let checked = 0;
    for (let g = 0; g < 40; g++) {
      const gen = st.generation(g, GENERATION_SIZE, previous);
      previous = gen.map((candidate, i) => {
        // Every candidate resolves to a run (SettingsError otherwise), and each reaches "new" cells.
        optionsFromSettings(resolveSettings(candidate.settings));
        checked++;
        const coverage = new Uint32Array(PROBES.length);
        coverage[(g * GENERATION_SIZE + i) % PROBES.length] = 1 << (g % 30);
        return { candidate, failed: false, coverage };
      });
    }
    expect(checked).toBe(40 * GENERATION_SIZE);
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

describe('zabsim explore --strategy / --coverage and zabsim run --coverage', () => {
  it('explore refuses an unknown strategy, --coverage-json without --coverage, and --strategy with --no-swarm, in one sentence each (exit 2)', async () => {
    const bad = await cliAsync('explore', '--strategy', 'bfs', '--seeds', '1');
    expect(bad.code).toBe(2);
    expect(bad.err.split('\n')[0]).toBe("zabsim: --strategy: no strategy named 'bfs'; expected one of swarm, coverage, pct, targeted, mix.");
    const json = await cliAsync('explore', '--coverage-json', '/tmp/x.json', '--seeds', '1');
    expect(json.code).toBe(2);
    expect(json.err).toMatch(/^zabsim: --coverage-json writes the map that --coverage counts: give --coverage too\./);
    const noSwarm = await cliAsync('explore', '--strategy', 'pct', '--no-swarm', '--seeds', '1');
    expect(noSwarm.code).toBe(2);
  });

  it('explore --strategy targeted --coverage prints the runs, their replays and the map', async () => {
    const r = await cliAsync('explore', '--strategy', 'targeted', '--seeds', '2', '--until', '4s', '--coverage', '--no-progress');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^explored 2 runs \(from seed 1, strategy targeted, with --until 4000\)/);
    expect(r.out).toMatch(/\ncoverage: \d+ of \d+ reachable cells reached/);
    expect(r.out).toMatch(/\n {2}step\.LOOKING\.ELECTION\.start +\d+ {2}step: a LOOKING server in ELECTION handles a start input\n/);
  });

  it('run --coverage --json ends with the map as one JSON line', () => {
    const r = cli('run', '--seed', '3', '--until', '3s', '--coverage', '--json');
    expect(r.code).toBe(0);
    const last = JSON.parse(r.out.trimEnd().split('\n').at(-1) as string) as { zabsim: string; reached: number; never: string[]; cells: { name: string; count: number }[] };
    expect(last.zabsim).toBe('coverage');
    expect(last.reached).toBeGreaterThan(5);
    expect(last.cells.find((c) => c.name === 'sync.rule1')?.count).toBeGreaterThan(0);
    expect(last.never).not.toContain('sync.rule1');
  });
});
