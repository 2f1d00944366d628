/**
 * `node --import ./bench/threads.mjs ...`: on Linux, where a process's CPU time went, by thread.
 * Loaded before the program, in its main thread, it samples /proc/self/task/<tid>/stat every
 * 200 ms and at exit (from inside the process: no process started per sample, which would
 * disturb what it measures), keeps each thread's last user + system time, and at exit writes one
 * line to stderr:
 *
 *   zabsim-threads {"main":13.95,"helpers":4.07,"later":0.02}
 *
 * in seconds: `main`, the main thread; `helpers`, the threads already there when this module
 * loads (V8's platform threads: its optimising compiler and its collector's helpers, and Node's
 * own); `later`, the threads started afterwards (the worker threads of `explore --workers N`,
 * and libuv's thread pool, nearly idle). A thread that ends between two samples loses at most
 * the last 200 ms of its time. `npm run bench` (explore section) loads it into each explore run;
 * elsewhere it prints nothing. docs/scaling.md, "Seventh session", has what it showed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

/** Clock ticks per second of /proc's times (USER_HZ: 100 on every Linux Node runs on). */
const HZ = 100;

/** tid -> seconds of CPU (user + system) at its last sample. */
const seen = new Map();

function sample() {
  let tids;
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may hold spaces.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      seen.set(Number(tid), (Number(f[11]) + Number(f[12])) / HZ);
    } catch {
      // The thread ended since the directory was read.
    }
  }
}

if (isMainThread && process.platform === 'linux') {
  sample();
  const atStart = new Set(seen.keys());
  setInterval(sample, 200).unref();
  process.on('exit', () => {
    sample();
    let main = 0;
    let helpers = 0;
    let later = 0;
    for (const [tid, s] of seen) {
      if (tid === process.pid) main += s;
      else if (atStart.has(tid)) helpers += s;
      else later += s;
    }
    const r = (x) => Math.round(x * 100) / 100;
    process.stderr.write(`zabsim-threads ${JSON.stringify({ main: r(main), helpers: r(helpers), later: r(later) })}\n`);
  });
}
