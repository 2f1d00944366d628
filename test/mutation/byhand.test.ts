/**
 * `npm run mutate:by-hand` (scripts/mutants-by-hand.mjs): it writes mutants into a source file,
 * so it must refuse, before touching anything, a report it cannot place: an unreadable one, one
 * without the file, and one made from another version of the file. (Applying mutants is not run
 * here: it rewrites a file of src/protocol that the other test files import meanwhile.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const run = (...args: string[]) => spawnSync(process.execPath, ['scripts/mutants-by-hand.mjs', ...args], { encoding: 'utf8' });
const USAGE = 'Usage: npm run mutate:by-hand -- REPORT.json src/protocol/FILE.ts TEST...\n';

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
});
