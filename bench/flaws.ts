/**
 * `npm run bench -- flaws [--flaw NAME] [--strategy S[,S...]] [--from N[,N...]] [--budget N] [--shrink-budget N] [--json]`: the
 * time-to-find table (bench/flawtable.ts). For every flaw (or the one named, by switch or ticket)
 * and every strategy (or those named), explores from seed 1 (or from each start of `--from`, a
 * cell per start) with the flaw on until the first failure or the budget (default 1,000 runs for swarm, 300 for the others), one cell after the
 * other on this thread. Prints a markdown table (or, with --json, one JSON object per cell, one a
 * line, then nothing else) to stdout, and each cell as it ends to stderr. Each cell's failure is
 * then shrunk (src/run/shrink.ts) in at most `--shrink-budget` replays (default 100; 0: none), not
 * counted in the cell's time. Run counts are exact; times depend on the machine's load, printed
 * at start and end.
 *
 * `npm run bench -- flaws --table A.jsonl,B.jsonl` measures nothing: it prints the table of rows
 * saved by earlier `--json` runs (e.g. one per strategy, run one after the other or on two machines).
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { flawByName } from '../src/protocol/flaws.ts';
import { STRATEGIES, type StrategyName } from '../src/run/strategy.ts';
import { DEFAULT_SHRINK_BUDGET } from '../src/run/shrink.ts';
import { DEFAULT_BUDGET, FLAW_NAMES, markdownTable, measureFlaw, rankStrategies, type FlawName, type FlawRow } from './flawtable.ts';

function fail(message: string): never {
  process.stderr.write(`npm run bench -- flaws: ${message}\n`);
  process.exit(2);
}

const argv = process.argv.slice(process.argv.indexOf('flaws') + 1);
const KNOWN = new Set(['--flaw', '--strategy', '--from', '--budget', '--shrink-budget', '--json', '--table']);
let flaws: FlawName[] = FLAW_NAMES;
let strategies: StrategyName[] = [...STRATEGIES];
let starts: number[] = [1];
let budget: number | null = null;
let shrinkBudget = DEFAULT_SHRINK_BUDGET;
let json = false;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i] as string;
  if (!KNOWN.has(a)) fail(`unknown argument '${a}'; expected --flaw NAME, --strategy S[,S...], --from N[,N...], --budget N, --shrink-budget N, --json or --table FILE[,FILE...].`);
  if (a === '--json') {
    json = true;
    continue;
  }
  const v = argv[++i];
  if (v === undefined) fail(`${a} needs a value.`);
  if (a === '--table') {
    const rows: FlawRow[] = [];
    for (const file of v.split(',')) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        fail(`--table: cannot read '${file}'.`);
      }
      text.split('\n').forEach((line, k) => {
        if (line.trim() === '') return;
        try {
          rows.push(JSON.parse(line) as FlawRow);
        } catch {
          fail(`--table: ${file} line ${k + 1} is not a JSON row of 'npm run bench -- flaws --json'.`);
        }
      });
    }
    process.stdout.write(`${markdownTable(rows)}\n`);
    process.exit(0);
  }
  if (a === '--flaw') {
    flaws = v.split(',').map((x) => flawByName(x) ?? fail(`--flaw: no flaw named '${x}'; 'npx zabsim flaws' lists them.`));
  } else if (a === '--strategy') {
    strategies = v.split(',').map((x) => ((STRATEGIES as readonly string[]).includes(x) ? (x as StrategyName) : fail(`--strategy: no strategy named '${x}'; expected one of ${STRATEGIES.join(', ')}.`)));
  } else if (a === '--from') {
    starts = v.split(',').map((x) => {
      const n = Number(x);
      return Number.isInteger(n) && n >= 0 ? n : fail(`--from: expected whole seed numbers separated by commas, got '${x}'.`);
    });
  } else if (a === '--shrink-budget') {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) fail(`--shrink-budget: expected a whole number of replays (0: no shrink), got '${v}'.`);
    shrinkBudget = n;
  } else {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) fail(`--budget: expected a whole number of runs of at least 1, got '${v}'.`);
    budget = n;
  }
}

const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
process.stderr.write(`flaws: ${flaws.length} flaw(s) x ${strategies.join(', ')} from seed ${starts.join(', ')}, budget ${budget ?? `${DEFAULT_BUDGET.swarm} swarm, 300 others`}; node ${process.version}; load average ${load()} at start\n`);
const rows: FlawRow[] = [];
for (const from of starts) {
  for (const f of flaws) {
    for (const s of strategies) {
      const r = measureFlaw(f, s, budget ?? DEFAULT_BUDGET[s], shrinkBudget, from);
      rows.push(r);
      if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
      process.stderr.write(`${f} ${s} from ${from}: ${r.found ? `run ${r.runs}, seed ${r.seed}, ${r.property}` : `none in ${r.runs}`}, ${(r.wallMs / 1000).toFixed(1)} s wall, ${(r.cpuMs / 1000).toFixed(1)} s CPU${r.shrinkReplays === null || r.shrinkReplays === undefined ? '' : `; shrunk ${r.recordedSteps} -> ${r.shrunkSteps ?? 'not reproduced'} steps in ${r.shrinkReplays} replays, ${((r.shrinkMs ?? 0) / 1000).toFixed(1)} s`}; load ${load()}\n`);
    }
  }
}
if (!json) {
  process.stdout.write(`${markdownTable(rows)}\n\n`);
  process.stdout.write(`Winner (most flaws found within budget, then fewest runs, then CPU time): ${rankStrategies(rows)[0]?.strategy ?? 'none'}. Load average ${load()} at the end.\n`);
}
