/**
 * `node bench/allocation.mjs [N] [ROOT...]`: the bytes one thread allocates per event while it
 * explores N seeds (default 500) of the standard swarm, after 200 seeds of warm-up, from each
 * ROOT/dist/ (default: this checkout; build it first), and the sites that allocate most. For each
 * ROOT a child process runs the seeds under V8's sampling heap profiler (one sample every 2 KB),
 * counting the objects the collector has already freed too, so the figure is what was allocated,
 * not what is alive at the end.
 *
 * Why this count: a worker's young generation fills every 16 MB, and each scavenge copies what is
 * still alive; fewer bytes allocated, fewer scavenges (docs/scaling.md, "Twelfth session"). Unlike
 * a time, the count hardly depends on what else the machine does: the sampling moves it by a few
 * bytes per event. A site is the function that allocated, with what V8 inlined into it (so the
 * kernel's `input` holds the step's root copy); `node --no-turbo-inlining bench/allocation.mjs`
 * names the allocating functions themselves, at the price of objects that inlining would have
 * kept off the heap. Takes about 20 s per ROOT for N = 500.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const WARM = 200;
const TOP = 15;

if (process.argv[2] === '--drive') {
  // The seeds themselves, sampled; prints one JSON line for the parent.
  const [, , , root, n] = process.argv;
  const { Session } = await import('node:inspector/promises');
  const { exploreSeed } = await import(`${root}/dist/run/explore.js`);
  const overrides = new Map();
  // Warm-up seeds from a range of their own, so that the sampled seeds are 1..N as elsewhere.
  for (let seed = 1_000_001; seed <= 1_000_000 + WARM; seed++) exploreSeed(seed, overrides, true, 'swarm');
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', { samplingInterval: 2048, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  let events = 0;
  for (let seed = 1; seed <= Number(n); seed++) events += exploreSeed(seed, overrides, true, 'swarm').events;
  const { profile } = await session.post('HeapProfiler.stopSampling');
  const bySite = new Map();
  let total = 0;
  const walk = (node, parent) => {
    const f = node.callFrame;
    let site = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/dist\//, '').replace(/^.*\/node_modules\//, '')}:${f.lineNumber + 1}`;
    // A builtin (Array.prototype.push, an iterator's next) is named with its caller.
    if (f.url === '' && parent !== null) site = `${f.functionName || '(builtin)'} <- ${parent}`;
    bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    total += node.selfSize;
    for (const child of node.children) walk(child, f.url === '' ? parent : site);
  };
  walk(profile.head, null);
  const top = [...bySite].sort((a, b) => b[1] - a[1]).slice(0, TOP);
  console.log(JSON.stringify({ events, total, top }));
  process.exit(0);
}

const n = Number(process.argv[2] ?? 500);
if (!Number.isInteger(n) || n < 1) {
  console.error('bench/allocation.mjs: N is a whole number of seeds, at least 1.');
  process.exit(2);
}
const roots = process.argv.length > 3 ? process.argv.slice(3).map((r) => resolve(r)) : [resolve(fileURLToPath(new URL('..', import.meta.url)))];
for (const root of roots) {
  if (!existsSync(join(root, 'dist/run/explore.js'))) {
    console.error(`bench/allocation.mjs: ${root} has no dist/run/explore.js; build it first (npm run build in that checkout).`);
    process.exit(2);
  }
}
const flags = process.execArgv.filter((f) => f.startsWith('--') && !f.startsWith('--import'));

for (const root of roots) {
  const r = spawnSync(process.execPath, [...flags, here, '--drive', root, String(n)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) {
    console.error(`bench/allocation.mjs: the seeds failed under ${root}:\n${r.stderr}`);
    process.exit(3);
  }
  const { events, total, top } = JSON.parse(r.stdout.trim().split('\n').at(-1));
  console.log(`${root}: ${n} seeds, ${events} events, ${(total / 1e6).toFixed(0)} MB allocated, ${Math.round(total / events)} bytes per event`);
  for (const [site, bytes] of top) console.log(`  ${((100 * bytes) / total).toFixed(1).padStart(5)} %  ${String(Math.round(bytes / events)).padStart(4)} B/event  ${site}`);
}
