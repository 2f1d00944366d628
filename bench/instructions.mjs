/**
 * `node bench/instructions.mjs [N] [ROOT] [FROM]`: the instructions the broadcast workload of
 * `npm run bench` (5 voters, 20 clients, checkers on) spends per committed txn, counted by
 * valgrind's callgrind, from ROOT/dist/ (default: this checkout; build it first). Unlike a
 * wall-clock figure, this count repeats run after run whatever else the machine does: under
 * `node --predictable --single-threaded` V8 compiles and collects deterministically, so the same
 * build gives the same total to about 0.01 %, rebuilds of the same code to about 0.3 %. It is how
 * the changes of docs/scaling.md ("Fifth session") were judged; give two ROOTs' figures side by
 * side to compare two commits (a `git worktree` of each, with `npm run build` in it).
 *
 * Runs the workload twice under callgrind, to FROM (default 200) and to N (default 3,000)
 * committed txns, and prints both totals and their difference per txn. Over the default window
 * most of that difference is still the JIT's warm-up (the ninth session measured 790,000 per txn
 * over 200..3,000 and 423,000 over 200..15,000 for the same build): to compare what a txn costs
 * once warm, count from FROM = 5,000 to N = 15,000 (about 8 minutes), and read cache-bound
 * changes (hash maps, searches over scattered objects) with bench/ab.mjs too, since instructions
 * do not count cache misses. Needs valgrind (Debian: `apt-get install valgrind`). Takes about a
 * minute for N = 3,000.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);

if (process.argv[2] === '--drive') {
  // The workload itself, run under callgrind by the parent.
  const [, , , root, n] = process.argv;
  const { createRun } = await import(`${root}/dist/run/run.js`);
  const { BROADCAST, runToCommitted } = await import('./workloads.mjs');
  runToCommitted(createRun(BROADCAST, null), Number(n));
  process.exit(0);
}

const n = Number(process.argv[2] ?? 3000);
const root = resolve(process.argv[3] ?? fileURLToPath(new URL('..', import.meta.url))); // absolute: the driven process imports from it
const from = Number(process.argv[4] ?? 200);
if (!Number.isInteger(from) || from < 1) {
  console.error('bench/instructions.mjs: FROM is a whole number of committed txns, at least 1.');
  process.exit(2);
}
if (!Number.isInteger(n) || n <= from) {
  console.error(`bench/instructions.mjs: N is a whole number of committed txns above FROM (${from}).`);
  process.exit(2);
}
if (!existsSync(`${root}/dist/run/run.js`)) {
  console.error(`bench/instructions.mjs: no ${root}/dist/run/run.js: run npm run build there first.`);
  process.exit(2);
}

function count(txns) {
  const r = spawnSync('valgrind', ['--tool=callgrind', '--smc-check=all-non-file', '--callgrind-out-file=/dev/null', process.execPath, '--predictable', '--single-threaded', here, '--drive', root, String(txns)], { encoding: 'utf8' });
  if (r.error !== undefined) {
    console.error(`bench/instructions.mjs: cannot run valgrind (${r.error.message}); on Debian: apt-get install valgrind.`);
    process.exit(2);
  }
  const m = /refs:\s+([\d,]+)/.exec(r.stderr);
  if (r.status !== 0 || m === null) {
    console.error(`bench/instructions.mjs: the workload failed under callgrind (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
    process.exit(3);
  }
  return Number((m[1] ?? '').replaceAll(',', ''));
}

const base = count(from);
const total = count(n);
const fmt = (x) => Math.round(x).toLocaleString('en-US');
console.log(`${root}: broadcast to ${from} txns ${fmt(base)} instructions, to ${n} txns ${fmt(total)}; ${fmt((total - base) / (n - from))} per committed txn`);
