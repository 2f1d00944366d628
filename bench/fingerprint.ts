/**
 * `node bin/run-ts.mjs bench/fingerprint.ts [--write FILE | --check FILE]`: sha256 fingerprints
 * of what zabsim prints, to prove that a performance change is a pure refactor (no trace, swarm
 * trajectory or pinned seed moves). It hashes the `--json` output of `zabsim run --swarm` for
 * seeds 1..40 (and seeds 1..10 with --zk 3.4.0, every old flaw on), `zabsim scenario run all`,
 * and the event counts and trace hashes of the bench's election and broadcast workloads.
 * With --check FILE it compares against a file written by --write and exits 1 on a difference.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { main } from '../src/cli/main.ts';
import { createRun, runToEnd, type RunOptions } from '../src/run/run.ts';
import type { TraceEvent } from '../src/sim/events.ts';
import { BROADCAST, committedTxns, ELECTION } from './workloads.mjs';

async function cli(argv: string[]): Promise<string> {
  const h = createHash('sha256');
  const term = { isTTY: false, write: (s: string): void => void h.update(s) };
  const code = await main(argv, term as never, term as never);
  h.update(`exit ${code}`);
  return h.digest('hex').slice(0, 16);
}

const out: Record<string, string> = {};
for (let s = 1; s <= 40; s++) out[`swarm ${s}`] = await cli(['run', '--seed', String(s), '--swarm', '--json']);
for (let s = 1; s <= 10; s++) out[`swarm 3.4.0 ${s}`] = await cli(['run', '--seed', String(s), '--swarm', '--zk', '3.4.0', '--json']);
out['scenario all'] = await cli(['scenario', 'run', 'all', '--no-color']);

function hashedRun(opts: RunOptions, stop?: (run: ReturnType<typeof createRun>) => boolean): string {
  const h = createHash('sha256');
  const sink = (ev: TraceEvent): void => void h.update(JSON.stringify(ev));
  if (stop === undefined) {
    const run = runToEnd(opts, sink);
    return `${run.sim.eventCount} ${h.digest('hex').slice(0, 16)}`;
  }
  const run = createRun(opts, sink);
  while (!stop(run)) run.sim.runUntil(run.sim.now + 100);
  return `${run.sim.eventCount} ${h.digest('hex').slice(0, 16)}`;
}
out['bench election 20min'] = hashedRun({ ...ELECTION, untilMs: 20 * 60_000 });
out['bench broadcast 5k'] = hashedRun(BROADCAST, (run) => committedTxns(run) >= 5000);

const text = Object.entries(out).map(([k, v]) => `${k}: ${v}`).join('\n') + '\n';
const i = process.argv.indexOf('--write');
const j = process.argv.indexOf('--check');
if (i >= 0) writeFileSync(process.argv[i + 1] as string, text);
if (j >= 0) {
  const want = readFileSync(process.argv[j + 1] as string, 'utf8');
  if (want !== text) {
    const a = want.split('\n');
    const b = text.split('\n');
    for (let k = 0; k < Math.max(a.length, b.length); k++) if (a[k] !== b[k]) console.log(`DIFF want ${a[k]} got ${b[k]}`);
    process.exit(1);
  }
  console.log('fingerprints identical');
} else process.stdout.write(text);
