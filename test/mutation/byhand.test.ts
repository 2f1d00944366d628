/**
 * `npm run mutate:by-hand` (scripts/mutants-by-hand.mjs): it writes mutants into a source file,
 * so it must refuse, before touching anything, a report it cannot place: an unreadable one, one
 * without the file, one made from another version of the file, and a bad `--lines` range; and
 * `--lines` leaves out the mutants outside its range. (Applying mutants is not run
 * here: it rewrites a file of src/protocol that the other test files import meanwhile.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const run = (...args: string[]) => spawnSync(process.execPath, ['scripts/mutants-by-hand.mjs', ...args], { encoding: 'utf8' });
const USAGE = 'Usage: npm run mutate:by-hand -- [--lines A-B] REPORT.json src/protocol/FILE.ts TEST...\n';

describe('mutants-by-hand refuses what it cannot apply, in one sentence, exit 2, the file untouched', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zabsim-byhand-'));
  const file = 'src/protocol/zxid.ts';
  const source = readFileSync(file, 'utf8');
  let n = 0;
  const report = (src: string): string => {
    const p = join(dir, `report${n++}.json`);
    writeFileSync(p, JSON.stringify({ files: { [file]: { source: src, mutants: [{ status: 'Survived', mutatorName: 'BlockStatement', replacement: '{}', location: { start: { line: 1, column: 1 }, end: { line: 1, column: 2 } } }] } } }));
    return p;
  };

  it('no test files, an unreadable report, a report without the file', () => {
    expect(run(report(source), file)).toMatchObject({ status: 2, stderr: `mutants-by-hand: expected a report, a mutated file and at least one test file.\n${USAGE}` });
    expect(run(join(dir, 'none.json'), file, 'test/protocol/zxid.test.ts')).toMatchObject({ status: 2, stderr: `mutants-by-hand: cannot read '${join(dir, 'none.json')}' as a StrykerJS JSON report.\n${USAGE}` });
    expect(run(report(source), 'src/protocol/vote.ts', 'test/protocol/vote.test.ts')).toMatchObject({ status: 2, stderr: `mutants-by-hand: the report has no mutants of 'src/protocol/vote.ts'; it holds ${file}.\n${USAGE}` });
  });

  it('a report made from another version of the file', () => {
    const r = run(report(`${source}\n// another version`), file, 'test/protocol/zxid.test.ts');
    expect(r).toMatchObject({ status: 2, stderr: `mutants-by-hand: ${file} changed since the report was made; its mutants' places would be wrong. Re-run StrykerJS on it.\n${USAGE}` });
    expect(readFileSync(file, 'utf8')).toBe(source);
  });

  it('--lines: a range that is not A-B with A <= B is refused; one that holds none of the report\'s mutants applies nothing', () => {
    for (const bad of ['x', '9-3', '']) {
      expect(run('--lines', bad, report(source), file, 'test/protocol/zxid.test.ts')).toMatchObject({ status: 2, stderr: `mutants-by-hand: --lines expects a range of lines A-B with A <= B, got '${bad}'.\n${USAGE}` });
    }
    // The report's one mutant is on line 1: lines 2-3 leave it out, so no test runs and the file stays.
    const r = run('--lines', '2-3', report(source), file, 'test/protocol/zxid.test.ts');
    expect(r).toMatchObject({ status: 0, stdout: "0 killed, 0 alive of the report's 0 not killed\n" });
    expect(readFileSync(file, 'utf8')).toBe(source);
  });
});
