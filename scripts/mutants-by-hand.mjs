#!/usr/bin/env node
// `npm run mutate:by-hand -- [--lines A-B] REPORT.json src/protocol/FILE.ts TEST...`: applies, one at a time, each
// mutant that a StrykerJS JSON report (reports/mutation/mutation.json) lists as survived or
// without coverage to FILE, runs `vitest run TEST...`, and says whether the tests now fail
// (KILLED) or still pass (ALIVE); the file is put back after each, and on Ctrl-C. This checks the
// "applied by hand" claims of docs/checkers.md ("Mutation testing") in seconds, where a StrykerJS
// re-run of a file the swarm covers takes half an hour: run it after writing the tests that should
// kill a report's survivors. The mutants are applied to the report's own copy of the file, so a
// file changed since the report is refused (re-run StrykerJS then). A mutant whose file no longer
// compiles counts as KILLED, as in StrykerJS. An expression mutant is pasted in parentheses, so
// it keeps the grouping of the node StrykerJS replaced; a block and a switch case (`case 'PING':`
// with its statements gone, so that it falls through) are pasted bare, as they are no expressions.
// `--lines A-B` applies only the mutants that
// start on lines A to B of the file (one function's survivors, in minutes instead of the file's).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const usage = (why) => {
  process.stderr.write(`mutants-by-hand: ${why}\nUsage: npm run mutate:by-hand -- [--lines A-B] REPORT.json src/protocol/FILE.ts TEST...\n`);
  process.exit(2);
};
let lines = [1, Infinity];
if (args[0] === '--lines') {
  const m = /^(\d+)-(\d+)$/.exec(args[1] ?? '');
  if (m === null || Number(m[1]) > Number(m[2])) usage(`--lines expects a range of lines A-B with A <= B, got '${args[1] ?? ''}'.`);
  lines = [Number(m[1]), Number(m[2])];
  args.splice(0, 2);
}
const [report, file, ...tests] = args;
if (report === undefined || file === undefined || tests.length === 0) usage('expected a report, a mutated file and at least one test file.');
let json;
try {
  json = JSON.parse(readFileSync(report, 'utf8'));
} catch {
  usage(`cannot read '${report}' as a StrykerJS JSON report.`);
}
const entry = json.files?.[file];
if (entry === undefined) usage(`the report has no mutants of '${file}'; it holds ${Object.keys(json.files ?? {}).join(', ') || 'none'}.`);
const path = resolve(root, file);
const current = readFileSync(path, 'utf8');
if (current !== entry.source) usage(`${file} changed since the report was made; its mutants' places would be wrong. Re-run StrykerJS on it.`);

// Stryker's locations: 1-based lines, 1-based columns.
const starts = [];
let at = 0;
for (const line of entry.source.split('\n')) {
  starts.push(at);
  at += line.length + 1;
}
const offset = (p) => starts[p.line - 1] + p.column - 1;
const restore = () => writeFileSync(path, current);
process.on('SIGINT', () => {
  restore();
  process.exit(130);
});

const alive = [];
let killed = 0;
try {
  for (const m of entry.mutants) {
    if (m.status !== 'Survived' && m.status !== 'NoCoverage') continue;
    if (m.location.start.line < lines[0] || m.location.start.line > lines[1]) continue;
    // StrykerJS replaces a node of the syntax tree; pasted as text, an expression keeps that
    // grouping only in parentheses (`a || b && c` -> `(a || b) && c`). A block stays a block.
    const bare = m.mutatorName === 'BlockStatement' || /^(case\b|default\s*:)/.test(m.replacement);
    const text = bare ? m.replacement : `(${m.replacement})`;
    writeFileSync(path, entry.source.slice(0, offset(m.location.start)) + text + entry.source.slice(offset(m.location.end)));
    const r = spawnSync(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', ...tests], { cwd: root, encoding: 'utf8' });
    const where = `${file}:${m.location.start.line}:${m.location.start.column} ${m.mutatorName} -> ${JSON.stringify(m.replacement).slice(0, 70)}`;
    if (r.status === 0) alive.push(where);
    else killed++;
    process.stdout.write(`${r.status === 0 ? 'ALIVE ' : 'KILLED'} ${where}\n`);
  }
} finally {
  restore();
}
process.stdout.write(`${killed} killed, ${alive.length} alive of the report's ${killed + alive.length} not killed\n`);
