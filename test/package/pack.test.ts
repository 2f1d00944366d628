/**
 * The npm package (issue 10 §4): `npm pack` yields a tarball with the compiled code, its
 * declarations, the bin, the scenarios and the licence, and no tests, sources or benchmark; a
 * fresh project installs it without warnings, imports the public API (src/index.ts), type-checks
 * against its declarations, and runs its `zabsim` bin, which needs no TypeScript loader.
 * Dependencies come from npm's cache (filled by `npm ci`), else the registry.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let tmp = '';
let project = '';
let files: string[] = [];
let installLog = '';

describe('the npm package', () => {
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'zabsim-pack-'));
    // --json lists the files; pack runs `prepare`, which builds dist/.
    const packed = JSON.parse(execFileSync(npm, ['pack', '--json', '--pack-destination', tmp], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as { filename: string; files: { path: string }[] }[];
    files = (packed[0] as { files: { path: string }[] }).files.map((f) => f.path);
    const tarball = join(tmp, (packed[0] as { filename: string }).filename);
    project = join(tmp, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-zabsim', version: '1.0.0', private: true, type: 'module' }));
    const r = spawnSync(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: project, encoding: 'utf8' });
    installLog = `${r.stdout}${r.stderr}`;
    if (r.status !== 0) throw new Error(`npm install failed:\n${installLog}`);
  });
  afterAll(() => {
    if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
  });

  it('packs the compiled code, declarations, bin, scenarios and licence, and no tests, sources or benchmark', () => {
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('bin/zabsim.mjs');
    expect(files).toContain('LICENSE');
    expect(files).toContain('docs/api.md');
    expect(files.some((f) => f.startsWith('scenarios/') && f.endsWith('.scenario'))).toBe(true);
    expect(files.filter((f) => /^(test|src|bench|scripts)\/|\.test\.|tsconfig|vitest/.test(f))).toEqual([]);
    expect(files.filter((f) => f.startsWith('docs/') && f !== 'docs/api.md')).toEqual([]);
  });

  it('installs without warnings, with its runtime dependencies and no TypeScript loader or compiler', () => {
    expect(installLog).not.toMatch(/warn/i);
    const installed = readdirSync(join(project, 'node_modules')).filter((n) => !n.startsWith('.'));
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const d of [...Object.keys(pkg.dependencies), 'zabsim']) expect(installed).toContain(d);
    for (const dev of ['tsx', 'typescript', 'esbuild', 'vitest', 'fast-check']) expect(installed).not.toContain(dev);
  });

  it('imports the public API: runs a judged simulation, iterates its trace, runs a scenario from text and an exploration, lists the flaws', () => {
    const script = `
      import * as z from 'zabsim';
      const opts = z.runOptions(z.settings({ seed: 7, servers: 3, clients: 2, until: 6000 }));
      const run = z.runToEnd(opts);
      const verdict = z.verdictOf(run);
      const it = z.traceRecords(opts);
      let n = 0, states = 0, r = it.next();
      while (!r.done) { n++; if (r.value.type === 'state') states++; r = it.next(); }
      const sc = z.runScenarioText(${JSON.stringify(SCENARIO)}, 'inline.scenario');
      const ex = z.explore({ from: 1, seeds: 2, overrides: z.settings({ until: 3000 }) });
      console.log(JSON.stringify({ ok: verdict.ok, events: run.sim.eventCount, records: n, traceCount: run.sim.traceCount, states,
        scenario: sc.failure === null, explored: ex.results.length, flaws: z.FLAW_NAMES.length, text: z.renderEvent({ i: 0, t: 0, type: 'start', sid: 1, restart: false }) }));
    `;
    writeFileSync(join(project, 'use.mjs'), script);
    const out = JSON.parse(execFileSync(process.execPath, ['use.mjs'], { cwd: project, encoding: 'utf8' })) as Record<string, unknown>;
    expect(out.ok).toBe(true);
    expect(out.events).toBeGreaterThan(100);
    expect(out.records).toBe(out.traceCount);
    expect(out.states).toBeGreaterThanOrEqual(3);
    expect(out.scenario).toBe(true);
    expect(out.explored).toBe(2);
    expect(out.flaws).toBeGreaterThan(0);
    expect(out.text).toMatch(/s1 +start/);
  });

  it('type-checks a TypeScript consumer against the declarations', () => {
    writeFileSync(
      join(project, 'use.ts'),
      `import { createRun, runJudged, verdictOf, RUN_DEFAULTS, type RunOptions, type Verdict, type TraceEvent } from 'zabsim';
const opts: RunOptions = { seed: 1, voters: 3, untilMs: RUN_DEFAULTS.until };
const seen: TraceEvent[] = [];
const run = createRun(opts, (e) => void seen.push(e));
runJudged(run, opts.untilMs);
const v: Verdict = verdictOf(run);
export const ok: boolean = v.ok && seen.length > 0;
`,
    );
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: [] }, files: ['use.ts'] }));
    const tsc = createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  });

  it('its bin runs compiled JavaScript: zabsim --help, and a run that passes its checks', () => {
    const bin = join(project, 'node_modules', '.bin', 'zabsim');
    const help = spawnSync(bin, ['--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: zabsim <command>/);
    const run = spawnSync(bin, ['run', '--until', '3s'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/checks: PASSED/);
    const list = spawnSync(bin, ['scenario', 'list'], { encoding: 'utf8' });
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/^s01-/m);
    // explore --workers 2 loads its worker threads from the installed dist/ (no TypeScript
    // loader), and prints what one thread prints.
    const explore = (workers: string) => spawnSync(bin, ['explore', '--seeds', '4', '--until', '3s', '--workers', workers, '--json', '--no-progress'], { encoding: 'utf8' });
    const two = explore('2');
    expect(two.stderr).toBe('');
    expect(two.status).toBe(0);
    expect(two.stdout).toMatch(/^\{"zabsim":"explored","seeds":4,"events":\d+,"failures":0,"stopped":"done"\}$/m);
    expect(two.stdout).toBe(explore('1').stdout);
  });
});

const SCENARIO = `scenario inline
title    A three-server ensemble elects s3 and commits a write
story    Three servers start; s3 wins and a write commits everywhere.
outcome  s3 leads and all three agree.

servers 3
delay 5
fsync 2

start
stabilize
expect s3 leads
create s3 /x "0"
stabilize
expect s1 s2 s3 agree
`;
