/**
 * `node bench/compiles.mjs [N] [ROOT...]`: what V8's optimising compiler (TurboFan) does while one
 * thread explores the first N seeds (default 4,000) of the standard swarm, from each ROOT/dist/
 * (default: this checkout; build it first). For each ROOT it runs the seeds in a child process
 * under `node --log-code`, reads the log's code-creation records of optimised code, and prints
 * how many compilations there were and how many bytes of machine code they made: the first of
 * each function, and again (the same function compiled after a deoptimisation, or after a full
 * collection dropped its optimised code).
 *
 * Why this count: each worker thread of `explore --workers N` is an isolate of its own and pays
 * the compiler's work again, on the cores that run seeds, where one worker pays it once on an
 * idle core; the compiler's work is most of what separates two workers from twice one (docs/
 * scaling.md, "Eleventh session"). The bytes of code compiled follow the compiler's work and,
 * unlike its time, do not depend on what else the machine does. They move a little from run to
 * run (the collector's timing decides when closures lose their code): compare commits by runs of
 * the same N, and read a difference under 5 % as none. Takes about a minute per ROOT for N =
 * 4,000.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);

if (process.argv[2] === '--drive') {
  // The seeds themselves, run by the parent under --log-code.
  const [, , , root, n] = process.argv;
  const { exploreSeed } = await import(`${root}/dist/run/explore.js`);
  const overrides = new Map();
  for (let seed = 1; seed <= Number(n); seed++) exploreSeed(seed, overrides, true, 'swarm');
  process.exit(0);
}

const n = Number(process.argv[2] ?? 4000);
if (!Number.isInteger(n) || n < 1) {
  console.error('bench/compiles.mjs: N is a whole number of seeds, at least 1.');
  process.exit(2);
}
const roots = process.argv.length > 3 ? process.argv.slice(3).map((r) => resolve(r)) : [fileURLToPath(new URL('..', import.meta.url))];

/** TurboFan code-creation records of `log` in this ROOT's dist/ (and its packages): compilations and bytes, first and again, by function. */
function count(log) {
  const seen = new Set();
  const first = { n: 0, bytes: 0 };
  const again = { n: 0, bytes: 0 };
  for (const line of log.split('\n')) {
    // code-creation,JS,<kind>,<time>,<address>,<size>,<name and source position>,<sfi>,<tier: * optimised>
    if (!line.startsWith('code-creation,JS,') || !line.endsWith(',*')) continue;
    const m = /^code-creation,JS,\d+,\d+,[^,]+,(\d+),(.*),0x[0-9a-f]+,\*$/.exec(line);
    if (m === null || m[2].includes(' node:')) continue;
    const site = m[2].trim();
    const c = seen.has(site) ? again : first;
    c.n++;
    c.bytes += Number(m[1]);
    seen.add(site);
  }
  return { first, again };
}

const kb = (b) => `${Math.round(b / 1000).toLocaleString('en-US')} kB`;
for (const root of roots) {
  const dir = mkdtempSync(join(tmpdir(), 'zabsim-compiles-'));
  const logfile = join(dir, 'v8.log');
  const r = spawnSync(process.execPath, ['--log-code', `--logfile=${logfile}`, '--no-logfile-per-isolate', here, '--drive', root, String(n)], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) {
    console.error(`bench/compiles.mjs: the seeds from ${root}/dist failed (exit ${r.status}); is it built?`);
    rmSync(dir, { recursive: true, force: true });
    process.exit(1);
  }
  const { first, again } = count(readFileSync(logfile, 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  console.log(`${root}: ${n} seeds, ${(first.n + again.n).toLocaleString('en-US')} TurboFan compilations, ${kb(first.bytes + again.bytes)} of code: first ${first.n} (${kb(first.bytes)}), again ${again.n} (${kb(again.bytes)})`);
}
