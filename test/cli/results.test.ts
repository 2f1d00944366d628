/**
 * Results folders (docs/results.md): `run --out`, `run --html`, `scenario run --out`, and
 * `explore --out` with its failure database and `--resume`; atomic writes and `latest`; bad
 * paths as one sentence with exit 2.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, lstatSync, writeFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, cliAsync } from './run-cli.ts';
import { AtomicFile, isTempName, pointLatest, stamp, writeAtomic } from '../../src/cli/results.ts';
import { exploreCommand } from '../../src/cli/explore.ts';
import { parseExploreFlags } from '../../src/cli/explore.ts';
import { RUN_FILES } from '../../src/trace/results.ts';
import { parseTrace } from '../../src/trace/load.ts';
import { jepsenEdn, porcupineJson } from '../../src/trace/export.ts';
import { buildViewerHtml, tracePlots } from '../../src/trace/html.ts';
import { exploreFailuresSvg, exploreRateSvg } from '../../src/trace/plots.ts';

let root = '';
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'zabsim-results-'));
});

/** Every name in a folder, recursively, relative to it. */
function walk(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    if (lstatSync(p).isDirectory()) out.push(...walk(p, `${prefix}${n}/`));
    else out.push(`${prefix}${n}`);
  }
  return out;
}

const RUN = ['--seed', '7', '--servers', '3', '--clients', '3', '--crash-every', '4s', '--until', '12s'];

describe('zabsim run --out DIR', () => {
  let dir = '';
  let folder = '';
  let code = 0;
  let text = '';
  beforeAll(() => {
    dir = join(root, 'run', 'nested'); // created with its parents
    const r = cli('run', ...RUN, '--out', dir);
    code = r.code;
    text = r.out;
    expect(r.err).toMatch(/^zabsim: results in .*run-seed7-\d{8}T\d{6}Z; open .*index\.html\n$/);
    folder = join(dir, readlinkSync(join(dir, 'latest')));
  });

  it('names the folder run-seedN-TIME and points a relative latest symlink at it', () => {
    const names = readdirSync(dir).sort();
    expect(names).toHaveLength(2);
    expect(names[0]).toBe('latest');
    expect(names[1]).toMatch(/^run-seed7-\d{8}T\d{6}Z$/);
    expect(lstatSync(join(dir, 'latest')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, 'latest'))).toBe(names[1]);
  });

  it('holds exactly the files of the index, no temp file, and the index links each', () => {
    expect(walk(folder)).toEqual([...RUN_FILES.map(([f]) => f), 'index.html'].sort());
    const index = readFileSync(join(folder, 'index.html'), 'utf8');
    for (const [f] of RUN_FILES) expect(index).toContain(`href="${f}"`);
    expect(index).toContain('<img src="latency.svg"');
    expect(index).toContain('checks: PASSED');
  });

  it('trace.jsonl is the --json output of the same run, record for record (only the replay differs: no --out)', () => {
    const saved = readFileSync(join(folder, 'trace.jsonl'), 'utf8').split('\n');
    const json = cli('run', ...RUN, '--json').out.split('\n');
    expect(saved.length).toBe(json.length);
    const n = saved.length;
    // Header, every record and every client operation byte-identical; the summary (the last
    // line) names the replay command without --out.
    expect(saved.slice(0, n - 2)).toEqual(json.slice(0, n - 2));
    expect(saved.slice(0, n - 2).some((l) => l.startsWith('{"zabsim":"op"'))).toBe(true);
    expect(saved[n - 2]).toBe((json[n - 2] as string).replace(' --json"', '"'));
    expect(saved[n - 2]).toMatch(/^\{"zabsim":"summary"/);
    expect(saved[n - 1]).toBe('');
  });

  it('header, verdict, histories, plots and viewer are those of the trace; meta has the exact command', () => {
    const trace = parseTrace(readFileSync(join(folder, 'trace.jsonl'), 'utf8'), 'trace.jsonl');
    const header = JSON.parse(readFileSync(join(folder, 'header.json'), 'utf8')) as { options: { seed: number }; parameters: string[] };
    expect(header.options.seed).toBe(7);
    expect(header.parameters).toEqual(trace.header.parameters);
    expect(header.parameters.length).toBeGreaterThan(3);
    expect(readFileSync(join(folder, 'header.txt'), 'utf8')).toBe(trace.header.parameters.join('\n') + '\n');
    const verdict = JSON.parse(readFileSync(join(folder, 'verdict.json'), 'utf8')) as { ok: boolean; exitCode: number; replay: string; t: number; servers: unknown[] };
    expect(verdict.ok).toBe(true);
    expect(verdict.exitCode).toBe(code);
    expect(code).toBe(0);
    expect(verdict.t).toBe(12000);
    expect(verdict.servers).toHaveLength(3);
    expect(verdict.replay).toBe(`npx zabsim run ${RUN.join(' ')}`);
    const history = JSON.parse(readFileSync(join(folder, 'history.json'), 'utf8')) as { ops: unknown[] };
    expect(history.ops).toEqual(trace.history);
    expect(trace.history.length).toBeGreaterThan(50);
    expect(readFileSync(join(folder, 'history.edn'), 'utf8')).toBe(jepsenEdn(trace.history));
    expect(readFileSync(join(folder, 'history.porcupine.json'), 'utf8')).toBe(porcupineJson(trace.history));
    const plots = tracePlots(trace);
    expect(readFileSync(join(folder, 'latency.svg'), 'utf8')).toBe(plots.latency);
    expect(readFileSync(join(folder, 'throughput.svg'), 'utf8')).toBe(plots.throughput);
    expect(plots.latency).toContain('class="fault down"');
    expect(readFileSync(join(folder, 'trace.html'), 'utf8')).toBe(buildViewerHtml(trace, { title: 'zabsim run seed 7' }));
    const meta = JSON.parse(readFileSync(join(folder, 'meta.json'), 'utf8')) as Record<string, unknown>;
    expect(meta['argv']).toEqual(['run', ...RUN, '--out', dir]);
    expect(meta['commandLine']).toBe(`npx zabsim run ${RUN.join(' ')} --out ${dir}`);
    expect(meta['zabsim']).toBe((JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version);
    expect(meta['exitCode']).toBe(0);
    expect(meta['kind']).toBe('run');
    expect(Date.parse(meta['started'] as string)).toBeLessThanOrEqual(Date.parse(meta['finished'] as string));
  });

  it('summary.txt is the header and the summary the text output prints', () => {
    const summary = readFileSync(join(folder, 'summary.txt'), 'utf8');
    const tail = text.slice(text.indexOf('summary at '));
    expect(summary.endsWith(tail)).toBe(true);
    expect(summary).toContain('checks: PASSED');
    // No wall-clock time in the trace: two folders of the same run hold the same trace.
    const again = cli('run', ...RUN, '--out', dir, '--quiet');
    expect(again.code).toBe(0);
    const second = join(dir, readlinkSync(join(dir, 'latest')));
    expect(second).not.toBe(folder);
    expect(readFileSync(join(second, 'trace.jsonl'), 'utf8').split('\n').slice(0, -3)).toEqual(readFileSync(join(folder, 'trace.jsonl'), 'utf8').split('\n').slice(0, -3));
  });

  it('a failing run: exit 1, the verdict and index name the violation, the replay leaves out --out', () => {
    const d = join(root, 'flaw');
    const args = ['--seed', '2', '--swarm', '--flaw', 'follower_ack_newleader_before_persist', '--until', '26s', '--quiet'];
    const r = cli('run', ...args, '--out', d);
    expect(r.code).toBe(1);
    const f = join(d, 'latest');
    const verdict = JSON.parse(readFileSync(join(f, 'verdict.json'), 'utf8')) as { ok: boolean; exitCode: number; violations: { property: string; i: number }[]; replay: string };
    expect(verdict).toMatchObject({ ok: false, exitCode: 1, replay: `npx zabsim run ${args.join(' ')}` });
    expect(verdict.violations[0]).toMatchObject({ property: 'Establishment', i: 1098 });
    const index = readFileSync(join(f, 'index.html'), 'utf8');
    expect(index).toContain('checks: FAILED (1 violation)');
    expect(index).toContain('<b>Establishment</b> at 25497 ms (after record 1098)');
    expect(r.out).toContain(`replay: npx zabsim run ${args.join(' ')}\n`);
  });
});

describe('zabsim run --html FILE', () => {
  it('writes the viewer of the run, the same page as zabsim view of its --json trace (but for its title)', () => {
    const file = join(root, 'one.html');
    const r = cli('run', ...RUN, '--quiet', '--html', file);
    expect(r.code).toBe(0);
    expect(r.err).toBe(`zabsim: wrote ${file}; open it in a browser\n`);
    const trace = parseTrace(cli('run', ...RUN, '--json').out, 'x.jsonl');
    const page = readFileSync(file, 'utf8');
    // The replay inside differs (--quiet --html vs --json); everything else is the same page.
    const norm = (s: string): string => s.replace(/"replay":"[^"]*"/g, '').replace(/replay: npx zabsim run [^"]*"/g, '"');
    expect(norm(page)).toBe(norm(buildViewerHtml(trace, { title: 'zabsim run seed 7' })));
    expect(readdirSync(root).filter(isTempName)).toEqual([]);
  });
});

describe('bad --out and --html paths: one sentence, exit 2', () => {
  it('a file given as --out', () => {
    const file = join(root, 'afile');
    writeFileSync(file, 'x');
    for (const cmd of [['run', '--out', file], ['scenario', 'run', 's01', '--out', file]]) {
      const r = cli(...cmd);
      expect(r.code).toBe(2);
      expect(r.err).toBe(`zabsim: --out ${file} is a file; expected a folder for the results (it is created when missing).\nRun 'zabsim ${cmd[0]} --help' for its flags.\n`);
    }
  });

  it('explore: a file given as --out, --resume without --out', async () => {
    const file = join(root, 'afile2');
    writeFileSync(file, 'x');
    const r = await cliAsync('explore', '--seeds', '1', '--out', file, '--no-progress');
    expect(r.code).toBe(2);
    expect(r.err).toBe(`zabsim: --out ${file} is a file; expected a folder for the results (it is created when missing).\nRun 'zabsim explore --help' for its flags.\n`);
    const n = await cliAsync('explore', '--seeds', '1', '--resume', '--no-progress');
    expect(n.code).toBe(2);
    expect(n.err).toBe("zabsim: --resume continues a sweep saved with --out DIR; give --out DIR.\nRun 'zabsim explore --help' for its flags.\n");
  });

  it('a path through a file, and a folder that cannot be written', () => {
    const file = join(root, 'afile3');
    writeFileSync(file, 'x');
    const through = cli('run', '--out', join(file, 'sub'));
    expect(through.code).toBe(2);
    expect(through.err).toBe(`zabsim: --out ${join(file, 'sub')}: cannot write a results folder there (a part of the path is a file); expected a folder zabsim may create files in.\nRun 'zabsim run --help' for its flags.\n`);
    // Root writes through permissions: there, /proc (no new entries) is the unwritable place.
    let locked = '/proc/zabsim-results';
    if (process.getuid?.() !== 0) {
      locked = join(root, 'locked');
      mkdirSync(locked);
      chmodSync(locked, 0o555);
    }
    const r = cli('run', '--out', locked);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^zabsim: --out ${locked}: cannot write a results folder there \\((permission denied|a part of the path does not exist and cannot be created)\\); expected a folder zabsim may create files in.\\nRun 'zabsim run --help' for its flags.\\n$`));
    expect(r.out).toBe('');
  });

  it('--html naming a folder or a file in a missing folder; --out with --check-determinism', () => {
    const a = cli('run', '--html', root);
    expect(a.code).toBe(2);
    expect(a.err.split('\n')[0]).toBe(`zabsim: --html ${root} is a folder; expected the path of an .html file to write.`);
    const b = cli('run', '--html', join(root, 'nope', 'x.html'));
    expect(b.err.split('\n')[0]).toBe(`zabsim: --html ${join(root, 'nope', 'x.html')}: the folder ${join(root, 'nope')} does not exist; expected a file path in an existing folder.`);
    const c = cli('run', '--out', root, '--check-determinism');
    expect(c.code).toBe(2);
    expect(c.err.split('\n')[0]).toBe('zabsim: --out and --check-determinism do not go together: --check-determinism keeps no trace to write.');
  });
});

describe('atomic writes and latest', () => {
  it('writeAtomic replaces a file whole and leaves no temp file; a failed write leaves the old file and no temp', () => {
    const d = join(root, 'atomic');
    mkdirSync(d);
    writeAtomic(join(d, 'a.txt'), 'one');
    writeAtomic(join(d, 'a.txt'), 'two');
    expect(readdirSync(d)).toEqual(['a.txt']);
    expect(readFileSync(join(d, 'a.txt'), 'utf8')).toBe('two');
    // The rename cannot replace a non-empty folder: the write fails, the folder stays, no temp.
    mkdirSync(join(d, 'b.txt'));
    writeFileSync(join(d, 'b.txt', 'inner'), 'x');
    expect(() => writeAtomic(join(d, 'b.txt'), 'data')).toThrow();
    expect(readdirSync(d).sort()).toEqual(['a.txt', 'b.txt']);
  });

  it('AtomicFile: the name appears only at finish; an abandoned one is only a temp name', () => {
    const d = join(root, 'atomic2');
    mkdirSync(d);
    const f = new AtomicFile(join(d, 'trace.jsonl'));
    for (let k = 0; k < 5000; k++) f.line(`{"i":${k},"pad":"${'x'.repeat(20)}"}`);
    // Interrupted here: what is on disk has a temp name and no complete-looking file exists.
    expect(existsSync(join(d, 'trace.jsonl'))).toBe(false);
    const names = readdirSync(d);
    expect(names).toHaveLength(1);
    expect(isTempName(names[0] as string)).toBe(true);
    f.finish();
    expect(readdirSync(d)).toEqual(['trace.jsonl']);
    expect(readFileSync(join(d, 'trace.jsonl'), 'utf8').split('\n')).toHaveLength(5001);
    const g = new AtomicFile(join(d, 'other.jsonl'));
    g.line('x');
    g.abort();
    expect(readdirSync(d)).toEqual(['trace.jsonl']);
  });

  it('latest is replaced atomically; where symlinks fail it is a text file naming the folder', () => {
    const d = join(root, 'latest');
    mkdirSync(join(d, 'a'), { recursive: true });
    mkdirSync(join(d, 'b'));
    expect(pointLatest(d, 'a')).toBe(true);
    expect(readlinkSync(join(d, 'latest'))).toBe('a');
    expect(pointLatest(d, 'b')).toBe(true);
    expect(readlinkSync(join(d, 'latest'))).toBe('b');
    const noLinks = (): void => {
      throw Object.assign(new Error('EPERM: operation not permitted, symlink'), { code: 'EPERM' });
    };
    expect(pointLatest(d, 'a', noLinks)).toBe(false);
    expect(lstatSync(join(d, 'latest')).isFile()).toBe(true);
    expect(readFileSync(join(d, 'latest'), 'utf8')).toBe('a\n');
    expect(pointLatest(d, 'b', (t, p) => symlinkSync(t, p))).toBe(true);
    expect(readlinkSync(join(d, 'latest'))).toBe('b');
    expect(readdirSync(d).filter(isTempName)).toEqual([]);
  });

  it('folder names: UTC stamp, sortable; a second folder in the same second gets -2', () => {
    expect(stamp(new Date(Date.UTC(2026, 11, 3, 17, 5, 9, 123)))).toBe('20261203T170509Z');
  });
});

describe('zabsim scenario run --out DIR', () => {
  it('writes the scenario as a viewable trace, with its outcome as the verdict', () => {
    const d = join(root, 'scen');
    const r = cli('scenario', 'run', 's01', '--out', d);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PASS s01-leader-dies-before-commit /);
    const folder = join(d, readlinkSync(join(d, 'latest')));
    expect(lines[1]).toBe(`  results in ${folder}; open ${join(folder, 'index.html')}`);
    expect(folder).toMatch(/scenario-s01-leader-dies-before-commit-\d{8}T\d{6}Z$/);
    expect(walk(folder)).toEqual([...RUN_FILES.map(([f]) => f), 'index.html'].sort());
    const trace = parseTrace(readFileSync(join(folder, 'trace.jsonl'), 'utf8'), 'trace.jsonl');
    expect(trace.records.length).toBe(Number(/\((\d+) trace records/.exec(lines[0] as string)![1]));
    expect(trace.summary?.verdict.ok).toBe(true);
    expect(readFileSync(join(folder, 'summary.txt'), 'utf8')).toContain(lines[0] as string);
    expect(readFileSync(join(folder, 'trace.html'), 'utf8')).toContain('<script id="zabsim-data" type="application/json">');
    expect(cli('scenario', 'list', '--out', d).code).toBe(2);
  });
});

const FLAW = ['--flaw', 'follower_ack_newleader_before_persist', '--no-progress'];

describe('zabsim explore --out DIR', () => {
  let whole = '';
  let wholeOut = '';
  beforeAll(async () => {
    const d = join(root, 'sweep-whole');
    const r = await cliAsync('explore', '--seeds', '4', ...FLAW, '--out', d);
    expect(r.code).toBe(1);
    wholeOut = r.out;
    whole = join(d, readlinkSync(join(d, 'latest')));
  });

  it('keeps failures.jsonl, progress, a replay folder per failing seed stopped at its violation, plots and an index', () => {
    expect(whole).toMatch(/explore-seeds1-4-\d{8}T\d{6}Z$/);
    const failures = readFileSync(join(whole, 'failures.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    // Seed 4 fails too since the swarm draws the ACK-reorder fault (it draws 0.3).
    expect(failures.map((f) => f['seed'])).toEqual([1, 2, 3, 4]);
    expect(Object.keys(failures[0] as object)).toEqual(['seed', 'property', 'kind', 't', 'record', 'message', 'replay', 'folder', 'shrunk', 'violation', 'error', 'events', 'endMs']);
    expect(failures[1]).toMatchObject({ seed: 2, property: 'Establishment', kind: 'safety', t: 25497, record: 1098, folder: 'seed-2', shrunk: null, replay: 'npx zabsim run --seed 2 --swarm --flaw follower_ack_newleader_before_persist --stop-early' });
    for (const f of failures) {
      const sub = join(whole, f['folder'] as string);
      expect(walk(sub)).toEqual([...RUN_FILES.map(([x]) => x), 'index.html'].sort());
      const trace = parseTrace(readFileSync(join(sub, 'trace.jsonl'), 'utf8'), 'trace.jsonl');
      // Bounded: the replay stops at the violation the sweep found.
      expect(trace.summary?.t).toBe(f['t']);
      expect(trace.summary?.verdict.violations[0]).toMatchObject({ property: f['property'], i: f['record'] });
      expect(trace.records.length).toBe((f['record'] as number) + 1);
      const meta = JSON.parse(readFileSync(join(sub, 'meta.json'), 'utf8')) as { kind: string; commandLine: string; exitCode: number };
      expect(meta).toMatchObject({ kind: 'replay', commandLine: f['replay'], exitCode: 1 });
    }
    const progress = JSON.parse(readFileSync(join(whole, 'progress.json'), 'utf8')) as { done: number[][]; finished: boolean; sweep: unknown; timeline: { seeds: number; failures: number }[] };
    expect(progress).toMatchObject({ done: [[1, 4]], finished: true, sweep: { from: 1, seeds: 4, swarm: true, overrides: ['--flaw', 'follower_ack_newleader_before_persist'], maxFailures: null } });
    expect(progress.timeline.at(-1)).toMatchObject({ seeds: 4, failures: 4 });
    expect(walk(whole).filter((n) => !n.startsWith('seed-'))).toEqual(['explore.jsonl', 'failures.jsonl', 'failures.svg', 'index.html', 'meta.json', 'progress.json', 'seeds.svg']);
    const index = readFileSync(join(whole, 'index.html'), 'utf8');
    expect(index).toContain('href="seed-2/index.html"');
    expect(index).toContain('href="seed-3/trace.html"');
    expect(index).toContain('4 of 4 seeds done');
    expect(readFileSync(join(whole, 'failures.svg'), 'utf8')).toContain('4 failing');
    expect(readFileSync(join(whole, 'seeds.svg'), 'utf8')).toContain('4 seeds');
  });

  it('--resume after an interruption redoes no seed and ends with the same failures and table as the uninterrupted sweep', async () => {
    const d = join(root, 'sweep-cut');
    const argv = ['--seeds', '4', ...FLAW, '--out', d];
    const out: string[] = [];
    const first = await exploreCommand(parseExploreFlags(argv), { write: (l) => void out.push(l) }, { isTTY: false, write: () => undefined }, argv, { interruptAfter: 2 });
    expect(first).toBe(1);
    expect(out[0]).toBe('interrupted (Ctrl-C) after 2 seeds; what was found so far:');
    const cut = join(d, readlinkSync(join(d, 'latest')));
    const progress = JSON.parse(readFileSync(join(cut, 'progress.json'), 'utf8')) as { done: number[][]; finished: boolean };
    expect(progress).toMatchObject({ done: [[1, 2]], finished: false });
    const seed2 = readFileSync(join(cut, 'seed-2', 'meta.json'), 'utf8');
    const r = await cliAsync('explore', ...argv, '--resume');
    expect(r.code).toBe(1);
    expect(r.err).toContain(`zabsim: resuming ${cut}: 2 of 4 seeds done, 2 failing\n`);
    expect(r.out).toMatch(/^explored 4 seeds \(1\.\.4, swarm, with --flaw follower_ack_newleader_before_persist\); this session 2 seeds in /);
    // The same failure database (but for nothing) and the same table as the sweep never interrupted.
    expect(readFileSync(join(cut, 'failures.jsonl'), 'utf8')).toBe(readFileSync(join(whole, 'failures.jsonl'), 'utf8'));
    const table = (s: string): string => s.slice(s.indexOf('failing seed'));
    expect(table(r.out)).toBe(table(wholeOut));
    expect(JSON.parse(readFileSync(join(cut, 'progress.json'), 'utf8'))).toMatchObject({ done: [[1, 4]], finished: true });
    // Seed 2's folder was written once, by the first session.
    expect(readFileSync(join(cut, 'seed-2', 'meta.json'), 'utf8')).toBe(seed2);
    // Resuming a finished sweep runs nothing and prints the same table.
    const again = await cliAsync('explore', ...argv, '--resume');
    expect(again.code).toBe(1);
    expect(again.out).toContain('this session 0 seeds');
    expect(table(again.out)).toBe(table(wholeOut));
    // Another sweep's flags do not resume this one: a new folder (none matches in DIR)...
    const other = await cliAsync('explore', '--seeds', '1', '--from', '8', ...FLAW, '--out', d, '--resume');
    expect(other.code).toBe(1); // seed 8 fails with this flaw too (5 did before threads4)
    expect(readdirSync(d).filter((n) => n.startsWith('explore-'))).toHaveLength(2);
    // ...and naming the sweep folder itself with other flags is refused.
    const wrong = await cliAsync('explore', '--seeds', '5', ...FLAW, '--out', cut, '--resume');
    expect(wrong.code).toBe(2);
    expect(wrong.err.split('\n')[0]).toBe(`zabsim: --resume: ${cut} is the sweep seeds 1..4 --flaw follower_ack_newleader_before_persist, but this command asks for seeds 1..5 --flaw follower_ack_newleader_before_persist; give the same flags to resume it.`);
  });

  it('a failure written after the last progress record is redone, not doubled', async () => {
    const d = join(root, 'sweep-torn');
    const argv = ['--seeds', '3', ...FLAW, '--out', d];
    await exploreCommand(parseExploreFlags(argv), { write: () => undefined }, { isTTY: false, write: () => undefined }, argv, { interruptAfter: 3 });
    const f = join(d, readlinkSync(join(d, 'latest')));
    // As if killed between writing seed 3's failure and the progress that counts seed 3.
    const p = JSON.parse(readFileSync(join(f, 'progress.json'), 'utf8')) as { done: number[][]; finished: boolean };
    writeFileSync(join(f, 'progress.json'), JSON.stringify({ ...p, done: [[1, 2]], finished: false }));
    const before = readFileSync(join(f, 'failures.jsonl'), 'utf8');
    expect(before.trimEnd().split('\n')).toHaveLength(3);
    const r = await cliAsync('explore', ...argv, '--resume');
    expect(r.code).toBe(1);
    expect(r.out).toContain('this session 1 seed');
    expect(readFileSync(join(f, 'failures.jsonl'), 'utf8')).toBe(before);
  });
});

describe('explore plots', () => {
  it('seeds per second between samples, and failures as a step line', () => {
    const samples = [
      { wallMs: 0, seeds: 0, failures: 0 },
      { wallMs: 1000, seeds: 10, failures: 0 },
      { wallMs: 3000, seeds: 14, failures: 1 },
    ];
    const rate = exploreRateSvg(samples);
    expect(rate).toMatch(/^<svg /);
    expect(rate).toContain('14 seeds');
    expect(rate).toContain('mean 4.7/s');
    // 10 seeds/s then 2 seeds/s: the first step is five times higher than the second.
    const d = /class="series rate" d="M([\d.]+),([\d.]+)H([\d.]+)L([\d.]+),([\d.]+)H([\d.]+)"/.exec(rate)!;
    const base = 28 + 280 - 28 - 40; // the plot's bottom edge
    expect((base - Number(d[2])) / (base - Number(d[5]))).toBeCloseTo(5, 5);
    const fails = exploreFailuresSvg(samples);
    expect(fails).toContain('1 failing');
    expect(fails).toMatch(/class="series failures" d="M[\d.]+,[\d.]+H[\d.]+V[\d.]+H[\d.]+V[\d.]+"/);
  });
});
