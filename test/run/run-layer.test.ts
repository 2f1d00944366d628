/**
 * The run layer (src/run): the folder arrows it exists for, the simulation layers below it free
 * of clocks, randomness and environment (docs/architecture.md, "Determinism rules"), its one table
 * of defaults, and an exploration that goes on past a run that throws.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { setStateFreezing } from '../../src/protocol/cow.ts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseRunFlags, RUN_SPEC } from '../../src/cli/run.ts';
import { explore } from '../../src/run/explore.ts';
import { RUN_DEFAULTS, settings, SettingsError } from '../../src/run/settings.ts';
import { Simulation } from '../../src/sim/kernel.ts';

const ROOT = resolve(import.meta.dirname, '../..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The src/ folders a file imports from. */
function importedFolders(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/from '(\.[^']+)'/g)].map((m) => relative(join(ROOT, 'src'), resolve(file, '..', m[1] as string)).split('/')[0] as string);
}

describe('the run layer', () => {
  beforeAll(() => setStateFreezing(false));
  afterAll(() => setStateFreezing(true));

  it('folder arrows point one way: protocol <- sim <- check, scenario, trace <- run <- cli', () => {
    const allowed: Record<string, string[]> = {
      protocol: ['protocol'],
      sim: ['protocol', 'sim'],
      check: ['protocol', 'sim', 'check'],
      trace: ['protocol', 'sim', 'trace'],
      scenario: ['protocol', 'sim', 'check', 'trace', 'scenario'],
      run: ['protocol', 'sim', 'check', 'trace', 'scenario', 'run'],
      cli: ['protocol', 'sim', 'check', 'trace', 'scenario', 'run', 'cli'],
    };
    const wrong: string[] = [];
    for (const f of files(join(ROOT, 'src'))) {
      const folder = relative(join(ROOT, 'src'), f).split('/')[0] as string;
      if (folder.endsWith('.ts')) continue; // src/index.ts re-exports every layer
      for (const to of importedFolders(f)) if (!(allowed[folder] ?? []).includes(to)) wrong.push(`${relative(ROOT, f)} imports src/${to}`);
    }
    expect(wrong).toEqual([]);
  });

  it('the simulation layers read no clock, no randomness and no environment: only the kernel\'s seeded streams and virtual time', () => {
    // Code only: comments may name what they avoid ("Never Math.random").
    const code = (text: string): string => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    const forbidden: readonly [RegExp, string][] = [
      [/\bMath\.random\b/, 'Math.random'],
      [/\bDate\.now\b|\bnew Date\b/, 'the wall clock'],
      [/\bperformance\.now\b|\bprocess\.hrtime\b/, 'a wall-clock timer'],
      [/\bset(Timeout|Interval|Immediate)\b/, 'a host timer'],
      [/\bprocess\.(env|argv|pid)\b/, 'the process environment'],
      [/from 'node:(crypto|perf_hooks|timers|os|worker_threads|child_process)'/, 'a host module'],
      [/from 'seedrandom'/, 'seedrandom (only src/sim/rng.ts draws)'],
    ];
    const wrong: string[] = [];
    let scanned = 0;
    for (const folder of ['protocol', 'sim', 'check', 'scenario', 'trace']) {
      for (const f of files(join(ROOT, 'src', folder))) {
        const name = relative(ROOT, f);
        const text = code(readFileSync(f, 'utf8'));
        scanned++;
        for (const [re, what] of forbidden) if (re.test(text) && !(name === 'src/sim/rng.ts' && what.startsWith('seedrandom'))) wrong.push(`${name}: ${what}`);
      }
    }
    expect(scanned).toBeGreaterThan(50);
    expect(wrong).toEqual([]);
  });

  it('no test outside test/cli imports src/cli except to check the flag table against the defaults', () => {
    const wrong = files(join(ROOT, 'test'))
      .filter((f) => !f.includes('/test/cli/') && !f.endsWith('run-layer.test.ts'))
      .filter((f) => /from '[./]*src\/cli\//.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    expect(wrong).toEqual([]);
  });

  it('RUN_DEFAULTS is the one table of defaults: the usage of zabsim run shows the same values', () => {
    let compared = 0;
    for (const f of RUN_SPEC.flags) {
      if (!(f.name in RUN_DEFAULTS) || f.defaultText === undefined || f.defaultText === 'never') continue;
      const parsed = parseRunFlags([`--${f.name}`, f.defaultText]).get(f.name);
      expect(parsed, f.name).toEqual(RUN_DEFAULTS[f.name as keyof typeof RUN_DEFAULTS]);
      compared++;
    }
    expect(compared).toBe(Object.keys(RUN_DEFAULTS).length - 1); // all but faults-until ('never')
    expect(RUN_DEFAULTS['faults-until']).toBe(Infinity);
  });

  it('an exception inside a run is an internal error of that seed, with its replay command, and the exploration goes on', () => {
    // A bad setting never reaches the kernel: it is refused before any seed runs.
    expect(() => explore({ from: 1, seeds: 3, overrides: settings({ delay: [5, 1] }), swarm: false })).toThrow(SettingsError);
    // A bug inside zabsim (here injected into the kernel) is that seed's internal error.
    const spy = vi.spyOn(Simulation.prototype, 'runUntil').mockImplementation(() => {
      throw new Error('injected: a bug inside the kernel');
    });
    try {
      const s = explore({ from: 1, seeds: 3, overrides: settings({ delay: [5, 10] }), swarm: false });
      expect(s.results).toHaveLength(3);
      expect(s.failures).toHaveLength(3);
      for (const r of s.failures) {
        expect(r.violation).toBeNull();
        expect(r.error).toMatch(/^injected: a bug inside the kernel \(at 0ms, after 0 events\)\n/);
        expect(r.replay).toBe(`npx zabsim run --seed ${r.seed} --delay 5..10 --stop-early`);
      }
    } finally {
      spy.mockRestore();
    }
    expect(explore({ from: 1, seeds: 2, overrides: settings({}), swarm: false }).failures).toEqual([]);
  });
});
