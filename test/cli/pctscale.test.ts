/**
 * pct everywhere (issue 12 §4, docs/scaling.md): pct is a per-seed strategy (each seed's run is
 * that seed's swarm draw with `--pct 3`, strategy.ts PER_SEED), so `--workers`, `--shard` and
 * `--resume` run it as they run the swarm, with the output of one thread over the same seeds.
 */
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exploreCommand, parseExploreFlags } from '../../src/cli/explore.ts';
import { settings } from '../../src/run/settings.ts';
import { GENERATION_SIZE, makeStrategy, perSeedCandidate } from '../../src/run/strategy.ts';
import { budget } from '../budget.ts';
import { cliAsync } from './run-cli.ts';

/** ZOOKEEPER-3911 under pct: most seeds fail (Establishment), so every comparison has failures. */
const FLAW = ['--flaw', 'follower_ack_newleader_before_persist'];
const SEEDS = String(budget(8, 200));
const PCT = ['explore', '--strategy', 'pct', '--seeds', SEEDS, ...FLAW, '--no-progress'];

const tmp = mkdtempSync(join(tmpdir(), 'zabsim-pctscale-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('pct under --workers, --shard and --resume', () => {
  it("each seed's pct run is the one the generation-based strategy makes for it", () => {
    const overrides = settings({ until: 6000 });
    const gens = makeStrategy('pct', 7, overrides);
    const made = [0, 1].flatMap((g) => gens.generation(g, GENERATION_SIZE, []));
    made.forEach((c, k) => expect(perSeedCandidate('pct', 7 + k, overrides)).toEqual(c));
  });

  let one = '';

  it('--workers 2 prints the JSON of one worker byte for byte; each replay carries --pct 3', async () => {
    const a = await cliAsync(...PCT, '--workers', '1', '--json');
    const b = await cliAsync(...PCT, '--workers', '2', '--json');
    expect(a.code).toBe(1);
    const lines = a.out.trim().split('\n');
    expect(lines[0]).toBe(`{"zabsim":"explore","format":1,"from":1,"seeds":${SEEDS},"swarm":true,"with":"--flaw follower_ack_newleader_before_persist","maxFailures":null,"shard":null,"strategy":"pct"}`);
    const failures = lines.slice(1, -1).map((l) => JSON.parse(l) as { seed: number; replay: string });
    expect(failures.length).toBeGreaterThan(0);
    for (const f of failures) expect(f.replay).toBe(`npx zabsim run --seed ${f.seed} --swarm --pct 3 --flaw follower_ack_newleader_before_persist --stop-early`);
    expect(b.out).toBe(a.out);
    one = a.out;
  });

  it('two pct shards, merged, give the JSON of the single run byte for byte; a pct shard does not merge with a swarm one', async () => {
    const parts = await Promise.all(['1/2', '2/2'].map(async (s) => (await cliAsync(...PCT, '--shard', s, '--workers', '1', '--json')).out));
    const files = parts.map((text, k) => {
      const p = join(tmp, `pct-${k + 1}.jsonl`);
      writeFileSync(p, text);
      return p;
    });
    const merged = await cliAsync('merge', '--json', ...files);
    expect(merged.err).toBe('');
    expect(merged.out).toBe(one);
    const swarm = join(tmp, 'swarm-2.jsonl');
    writeFileSync(swarm, (await cliAsync('explore', '--seeds', SEEDS, ...FLAW, '--shard', '2/2', '--workers', '1', '--json', '--no-progress')).out);
    const mixed = await cliAsync('merge', '--json', files[0] as string, swarm);
    expect(mixed.code).toBe(2);
    expect(mixed.err).toContain('strategy is swarm but');
  });

  it('--resume continues an interrupted pct sweep to the failures of the uninterrupted one, and not under another strategy', async () => {
    const d = join(tmp, 'sweep');
    const argv = ['--strategy', 'pct', '--seeds', '4', ...FLAW, '--out', d, '--workers', '1'];
    const code = await exploreCommand(parseExploreFlags(argv), { write: () => undefined }, { isTTY: false, write: () => undefined }, argv, { interruptAfter: 2 });
    expect(code).toBe(1);
    const cut = join(d, readlinkSync(join(d, 'latest')));
    const r = await cliAsync('explore', ...argv, '--resume', '--no-progress');
    expect(r.err).toContain(`zabsim: resuming ${cut}: 2 of 4 seeds done`);
    expect(r.out).toMatch(/^explored 4 seeds \(1\.\.4, swarm, strategy pct, with --flaw follower_ack_newleader_before_persist\); this session 2 seeds in /);
    const whole = await cliAsync('explore', '--strategy', 'pct', '--seeds', '4', ...FLAW, '--workers', '1', '--json', '--no-progress');
    const expected = whole.out.split('\n').filter((l) => l.startsWith('{"zabsim":"failure"')).map((l) => JSON.parse(l).seed as number);
    const got = readFileSync(join(cut, 'failures.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { seed: number; replay: string });
    expect(got.map((f) => f.seed)).toEqual(expected);
    for (const f of got) expect(f.replay).toContain('--pct 3');
    const meta = readFileSync(join(cut, `seed-${got[0]?.seed}`, 'meta.json'), 'utf8');
    expect(meta).toContain('--pct');
    // The same flags under the swarm are another sweep: resuming names the difference.
    const swarm = await cliAsync('explore', '--seeds', '4', ...FLAW, '--out', cut, '--resume', '--no-progress');
    expect(swarm.code).toBe(2);
    expect(swarm.err.split('\n')[0]).toContain('--strategy pct');
  });
});
