/**
 * `node bench/ab.mjs ROOT_A ROOT_B [--rounds N] [--txns N]`: is B faster than A on the broadcast
 * workload of `npm run bench` (checkers on)? Each ROOT is a checkout with its dist/ built (a `git
 * worktree` of each commit, `npm run build` in it). One process per measurement, A and B
 * alternated and their order swapped every round, so a slow spell of a shared machine falls on
 * both; each process runs to 10,000 committed txns (start-up and JIT warm-up) and measures the
 * window from there to N (default 40,000, about 750,000 events). Prints each pair's B/A ratio of
 * events per wall second and per CPU second, then their medians.
 *
 * Why pairs and medians: on this project's VM the same build measures up to 1.8x apart within
 * minutes, so one run of each proves nothing; a median over 8 alternated pairs tells changes of
 * 2 to 3 % apart. Why not instructions alone (bench/instructions.mjs): they do not count cache
 * misses, which is what a hash map lookup or a binary search over scattered objects costs, and
 * over its default window (200 to 3,000 txns) most of what they count is the JIT's warm-up
 * (docs/scaling.md, "Ninth session").
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);

if (process.argv[2] === '--drive') {
  // One measurement, in a process of its own: ROOT's dist/, the window from 10,000 txns to N.
  const [, , , root, n] = process.argv;
  const { createRun } = await import(`${root}/dist/run/run.js`);
  const { BROADCAST, runToCommitted } = await import('./workloads.mjs');
  const run = createRun(BROADCAST, null);
  runToCommitted(run, 10_000);
  const e0 = run.sim.eventCount;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  runToCommitted(run, Number(n));
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const events = run.sim.eventCount - e0;
  console.log(JSON.stringify({ events, wall: (events / wallMs) * 1000, cpu: (events / ((c.user + c.system) / 1000)) * 1000 }));
  process.exit(0);
}

function usage(message) {
  console.error(`bench/ab.mjs: ${message}\nusage: node bench/ab.mjs ROOT_A ROOT_B [--rounds N] [--txns N]`);
  process.exit(2);
}

const args = process.argv.slice(2);
const roots = [];
const opts = { rounds: 8, txns: 40_000 };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--rounds' || a === '--txns') {
    const v = Number(args[++i]);
    if (!Number.isInteger(v) || v < (a === '--txns' ? 11_000 : 1)) usage(`${a} takes a whole number${a === '--txns' ? ' above 10,000' : ' of at least 1'}, not ${JSON.stringify(args[i])}`);
    opts[a.slice(2)] = v;
  } else roots.push(resolve(a)); // absolute: the measuring process imports from it
}
if (roots.length !== 2) usage('give two checkouts to compare');
for (const r of roots) if (!existsSync(`${r}/dist/run/run.js`)) usage(`${r}/dist/run/run.js does not exist: build that checkout first (npm run build)`);

function measure(root) {
  const r = spawnSync(process.execPath, [here, '--drive', root, String(opts.txns)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the measurement of ${root} exited with ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const fmt = (x) => Math.round(x).toLocaleString('en-US');
const wallRatios = [];
const cpuRatios = [];
console.log(`A = ${roots[0]}\nB = ${roots[1]}\nbroadcast workload, checkers on, window 10,000..${opts.txns.toLocaleString('en-US')} committed txns, ${opts.rounds} alternated pairs`);
for (let i = 0; i < opts.rounds; i++) {
  const order = i % 2 === 0 ? [0, 1] : [1, 0];
  const m = [];
  for (const k of order) m[k] = measure(roots[k]);
  if (m[0].events !== m[1].events) console.log(`  note: A ran ${m[0].events} events and B ${m[1].events}: the two builds do not simulate the same run`);
  wallRatios.push(m[1].wall / m[0].wall);
  cpuRatios.push(m[1].cpu / m[0].cpu);
  console.log(`pair ${i + 1}: A ${fmt(m[0].wall)} events/s (${fmt(m[0].cpu)} per CPU s), B ${fmt(m[1].wall)} (${fmt(m[1].cpu)}): B/A ${(m[1].wall / m[0].wall).toFixed(3)} wall, ${(m[1].cpu / m[0].cpu).toFixed(3)} CPU`);
}
console.log(`median B/A: ${median(wallRatios).toFixed(3)} by wall time, ${median(cpuRatios).toFixed(3)} by CPU time`);
