/**
 * Scale-out (issue 14 §2, §3; docs/scaling.md): `explore --workers N` prints, byte for byte, what
 * one thread prints; `--shard I/N` slices the seeds so that the shards cover each seed once; and
 * `zabsim merge` of the shards gives the single run's JSON and failure table, byte for byte.
 * The worker threads here run the TypeScript sources through tsx's loader (src/run/parallel.ts);
 * test/package/pack.test.ts runs them from the installed dist/.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseShard, shardSeed, shardSize, type Shard } from '../../src/run/shard.ts';
import { budget } from '../budget.ts';
import { cliAsync } from './run-cli.ts';

/** ZOOKEEPER-3911: about four seeds in ten fail (Establishment), so every run has failures. */
const FLAW = ['--flaw', 'follower_ack_newleader_before_persist'];
/** Seeds of the byte-for-byte comparisons; test:deep runs this file too, at its large budget. */
const SEEDS = String(budget(20, 1000));
/** Seeds of the text comparisons. */
const TEXT_SEEDS = '20';

const tmp = mkdtempSync(join(tmpdir(), 'zabsim-scaleout-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

/** The text report without its first line, which has the wall-clock time. */
const table = (out: string): string => out.split('\n').slice(1).join('\n');

describe('--shard I/N', () => {
  it('the N shards of a seed range run each seed exactly once, in order within a shard', () => {
    for (const [from, seeds] of [
      [1, 1],
      [1, 10],
      [7, 101],
      [0, 3],
    ] as const) {
      for (const count of [1, 2, 3, 7, 16]) {
        const all: number[] = [];
        for (let index = 1; index <= count; index++) {
          const shard: Shard = { index, count };
          const mine = Array.from({ length: shardSize(seeds, shard) }, (_, k) => shardSeed(from, shard, k));
          expect(mine).toEqual([...mine].sort((a, b) => a - b));
          for (const s of mine) expect((s - from) % count).toBe(index - 1);
          all.push(...mine);
        }
        expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: seeds }, (_, k) => from + k));
      }
    }
  });

  it('refuses what is not I/N with 1 <= I <= N, naming the flag', async () => {
    expect(parseShard('3/4')).toEqual({ index: 3, count: 4 });
    for (const [arg, sentence] of [
      ['0/4', '--shard 0/4: the shard index I must be from 1 to N (4).'],
      ['5/4', '--shard 5/4: the shard index I must be from 1 to N (4).'],
      ['1/0', '--shard 1/0: the shard count N must be from 1 to 1000000.'],
      ['two', "--shard expects I/N (shard I of N, counted from 1, e.g. 1/4), got 'two'."],
    ]) {
      const r = await cliAsync('explore', '--shard', arg as string);
      expect(r.code).toBe(2);
      expect(r.err).toBe(`zabsim: ${sentence}\nRun 'zabsim explore --help' for its flags.\n`);
    }
  });
});

/** The single run's JSON and text, kept by the first test of the next block for the later ones. */
let oneJson = '';
let oneText = '';

describe(`explore --workers 2 and merged shards, over ${SEEDS} seeds with failures`, () => {

  it('--workers 2 prints the JSON and the failure table of one worker, byte for byte', async () => {
    const one = await cliAsync('explore', '--seeds', SEEDS, ...FLAW, '--workers', '1', '--json', '--no-progress');
    const two = await cliAsync('explore', '--seeds', SEEDS, ...FLAW, '--workers', '2', '--json', '--no-progress');
    expect(one.code).toBe(1);
    const lines = one.out.trim().split('\n');
    expect(lines[0]).toBe(`{"zabsim":"explore","format":1,"from":1,"seeds":${SEEDS},"swarm":true,"with":"--flaw follower_ack_newleader_before_persist","maxFailures":null,"shard":null}`);
    const failures = lines.slice(1, -1).map((l) => JSON.parse(l) as { seed: number; replay: string; violation: { property: string } });
    expect(failures.length).toBeGreaterThan(Number(SEEDS) / 5);
    expect(failures.map((f) => f.seed)).toEqual([...failures.map((f) => f.seed)].sort((a, b) => a - b));
    for (const f of failures) expect(f.replay).toBe(`npx zabsim run --seed ${f.seed} --swarm --flaw follower_ack_newleader_before_persist --stop-early`);
    expect(lines.at(-1)).toMatch(new RegExp(`^\\{"zabsim":"explored","seeds":${SEEDS},"events":\\d+,"failures":${failures.length},"stopped":"done"\\}$`));
    expect(two.code).toBe(1);
    expect(two.out).toBe(one.out);
    oneJson = one.out;

    const textOne = await cliAsync('explore', '--seeds', TEXT_SEEDS, ...FLAW, '--workers', '1', '--no-progress');
    const textTwo = await cliAsync('explore', '--seeds', TEXT_SEEDS, ...FLAW, '--workers', '2', '--no-progress');
    expect(textOne.out).toMatch(/^explored 20 seeds \(1\.\.20, swarm, with --flaw follower_ack_newleader_before_persist\) in [\d.]+s: [\d,]+ events, [\d,]+ events\/s\n\d+ failing seeds:\nseed +property +at +replay\n1 +Establishment +63409ms +npx zabsim run --seed 1 /);
    expect(table(textTwo.out)).toBe(table(textOne.out));
    oneText = textOne.out;
  });

  it("settings that a later seed's draw cannot run are bad input (exit 2) on worker threads too, not an internal error", async () => {
    // Seed 2 draws five servers, seed 3 fewer: its schedule names a server it does not have.
    const args = ['explore', '--from', '2', '--seeds', '2', '--schedule', '2s crash s5', '--until', '3s', '--no-progress'];
    const one = await cliAsync(...args, '--workers', '1');
    expect(one.code).toBe(2);
    expect(one.err).toBe("zabsim: --schedule: step 1 ('2s crash s5'): expected a server s1..s4.\nRun 'zabsim explore --help' for its flags.\n");
    const two = await cliAsync(...args, '--workers', '2');
    expect([two.code, two.err]).toEqual([one.code, one.err]);
  });

  it('--max-failures stops both at the same seed, the later seeds the workers ran ahead discarded', async () => {
    const one = await cliAsync('explore', '--seeds', SEEDS, ...FLAW, '--max-failures', '5', '--workers', '1', '--json', '--no-progress');
    const two = await cliAsync('explore', '--seeds', SEEDS, ...FLAW, '--max-failures', '5', '--workers', '2', '--json', '--no-progress');
    expect(one.out).toMatch(/"failures":5,"stopped":"max-failures"\}\n$/);
    expect(two.out).toBe(one.out);
  });

  it('two shards, merged, give the JSON of the single run byte for byte, and its failure table', async () => {
    const shard1 = await cliAsync('explore', '--seeds', SEEDS, ...FLAW, '--shard', '1/2', '--workers', '2', '--json', '--no-progress');
    const shard2 = await cliAsync('explore', '--seeds', SEEDS, ...FLAW, '--shard', '2/2', '--workers', '2', '--json', '--no-progress');
    expect(shard1.out.split('\n')[0]).toMatch(/"shard":"1\/2"\}$/);
    expect(shard2.out).toMatch(new RegExp(`"seeds":${Number(SEEDS) / 2},"events"`));
    const f1 = file('shard-1.jsonl', shard1.out);
    const f2 = file('shard-2.jsonl', shard2.out);
    const merged = await cliAsync('merge', '--json', f2, f1);
    expect(merged.err).toBe('');
    expect(merged.code).toBe(1);
    expect(merged.out).toBe(oneJson);

    // The text: a first line of its own (no wall-clock time), then the single run's table.
    // Under npm test the two sweeps are the same seeds: the shards above serve (--workers 2 prints
    // what one worker prints, shown by the first test).
    const shardOf = async (k: string, same: string): Promise<string> => (SEEDS === TEXT_SEEDS ? same : (await cliAsync('explore', '--seeds', TEXT_SEEDS, ...FLAW, '--shard', k, '--json', '--no-progress')).out);
    const t1 = file('t1.jsonl', await shardOf('1/2', shard1.out));
    const t2 = file('t2.jsonl', await shardOf('2/2', shard2.out));
    const text = await cliAsync('merge', t1, t2);
    expect(text.code).toBe(1);
    expect(text.out.split('\n')[0]).toMatch(/^merged 2 files: explored 20 seeds \(1\.\.20, swarm, with --flaw follower_ack_newleader_before_persist\): [\d,]+ events$/);
    expect(table(text.out)).toBe(table(oneText));
  });
});

describe('zabsim merge of results folders (explore --out)', () => {
  it("two shards' sweep folders merge to the single run's JSON byte for byte; their failures.jsonl to its failures", async () => {
    // Under npm test the first test's single run is this one (the same seeds); test:deep runs it.
    const single = SEEDS === TEXT_SEEDS && oneJson !== '' ? { out: oneJson } : await cliAsync('explore', '--seeds', TEXT_SEEDS, ...FLAW, '--json', '--no-progress');
    const dirs = [join(tmp, 'out-1'), join(tmp, 'out-2')];
    for (const [k, dir] of dirs.entries()) {
      const r = await cliAsync('explore', '--seeds', TEXT_SEEDS, ...FLAW, '--shard', `${k + 1}/2`, '--out', dir, '--no-progress');
      expect(r.code).toBe(1);
    }
    const merged = await cliAsync('merge', '--json', ...dirs.map((d) => join(d, 'latest')));
    expect(merged.err).toBe('');
    expect(merged.out).toBe(single.out);
    // An unfinished folder without explore.jsonl still gives its failures (headerless).
    const lines = dirs.flatMap((d) => readFileSync(join(d, 'latest', 'failures.jsonl'), 'utf8').trim().split('\n'));
    const bare = await cliAsync('merge', '--json', file('both-failures.jsonl', lines.join('\n')));
    const failures = (out: string): string[] => out.split('\n').filter((l) => l.startsWith('{"zabsim":"failure"'));
    expect(failures(bare.out)).toEqual(failures(single.out));
    expect(failures(single.out).length).toBeGreaterThan(0);
  });
});

describe('zabsim merge', () => {
  const header = (shard: string | null, seeds = 4, w = ''): string => JSON.stringify({ zabsim: 'explore', format: 1, from: 1, seeds, swarm: true, with: w, maxFailures: null, shard });
  const end = (seeds: number, events: number, failures: number): string => JSON.stringify({ zabsim: 'explored', seeds, events, failures, stopped: 'done' });
  const failure = (seed: number, tag = false): string =>
    JSON.stringify({ ...(tag ? { zabsim: 'failure' } : {}), seed, violation: { property: 'Integrity', kind: 'safety', i: 9, t: 100 + seed, servers: [1], zxids: [], message: `seed ${seed} broke it`, facts: [] }, error: null, events: 10, endMs: 100 + seed, replay: `npx zabsim run --seed ${seed} --swarm --stop-early` });

  it('reads folders, and bare per-failure lines (the documented shape) without a header', async () => {
    const a = file('a.jsonl', [header('1/2'), failure(3), end(2, 20, 1)].join('\n'));
    const b = file('b.jsonl', [header('2/2'), failure(2), failure(4), end(2, 30, 2)].join('\n'));
    const both = await cliAsync('merge', '--json', a, b);
    expect(both.out).toBe([header(null), failure(2, true), failure(3, true), failure(4, true), '{"zabsim":"explored","seeds":4,"events":50,"failures":3,"stopped":"done"}', ''].join('\n'));
    // A folder: every .jsonl and .json file under it, other files ignored.
    const dir = join(tmp, 'results');
    mkdirSync(join(dir, 'shard-2'), { recursive: true });
    writeFileSync(join(dir, 'shard-1.jsonl'), readFileSync(a));
    writeFileSync(join(dir, 'shard-2', 'out.json'), readFileSync(b));
    writeFileSync(join(dir, 'README.txt'), 'not a result');
    expect((await cliAsync('merge', '--json', dir)).out).toBe(both.out);
    const bare = await cliAsync('merge', file('failures.jsonl', `${failure(9)}\n\n${failure(5)}\n`));
    expect(bare.code).toBe(1);
    expect(bare.err).toBe('zabsim: note: the inputs have no explore header: only their failures are merged.\n');
    expect(bare.out).toMatch(/^merged 1 file of failures \(no explore header: the seeds explored are unknown\)\n2 failing seeds:\nseed +property +at +replay\n5 +Integrity +105ms +npx zabsim run --seed 5 --swarm --stop-early\n9 +Integrity +109ms /m);
  });

  it('says which shards are missing, and refuses inputs that are not the shards of one exploration, naming the file', async () => {
    const a = file('m1.jsonl', [header('1/3', 9), end(3, 20, 0)].join('\n'));
    const partial = await cliAsync('merge', '--json', a);
    expect(partial.code).toBe(0);
    expect(partial.err).toBe('zabsim: note: shards 2, 3 of 3 missing.\n');
    expect(partial.out).toMatch(/\{"zabsim":"explored","seeds":3,"events":20,"failures":0,"stopped":"missing-shards"\}\n$/);

    const cases: [string[], string][] = [
      [[header('1/2'), header('1/2')], 'x.jsonl:2: a second explore header; expected one exploration per file.'],
      [['{"seed": 1'], 'x.jsonl:1: not JSON; expected the JSON lines of `zabsim explore --json` or one failure object per line.'],
      [['{"seed": 1, "replay": "r"}'], 'x.jsonl:1: a failure needs seed, replay, and a violation (with property, t, message) or an error.'],
      [['{"zabsim": "run"}'], 'x.jsonl:1: unknown record "run"; expected explore, failure or explored.'],
    ];
    for (const [lines, sentence] of cases) {
      const r = await cliAsync('merge', file('x.jsonl', lines.join('\n')));
      expect(r.code).toBe(2);
      expect(r.err).toBe(`zabsim: ${tmp}/${sentence}\n`);
    }
    const other = file('other.jsonl', [header('2/3', 9, '--loss 0.1'), end(3, 20, 0)].join('\n'));
    const mixed = await cliAsync('merge', a, other);
    expect(mixed.code).toBe(2);
    expect(mixed.err).toBe(`zabsim: ${other}: with is "--loss 0.1" but ${a} has ""; expected shards of one exploration.\n`);
    const twice = await cliAsync('merge', a, a);
    expect(twice.err).toBe(`zabsim: ${a}: shard 1/3 is also in ${a}; expected each shard once.\n`);
    const none = await cliAsync('merge', join(tmp, 'nothing-here'));
    expect(none.err).toBe(`zabsim: ${join(tmp, 'nothing-here')}: no such file or folder; expected the output of \`zabsim explore --json\`.\n`);
    expect((await cliAsync('merge')).code).toBe(2);
  });
});
