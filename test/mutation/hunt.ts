/**
 * `npm run mutate:classes [-- NAME...] [--budget N] [--strategy S]`: hunts each bug class of classes.ts with its
 * strategy (the default swarm unless the class names one, or --strategy) and prints the table of docs/checkers.md ("Bug classes").
 */
import { STRATEGIES, type StrategyName } from '../../src/run/strategy.ts';
import { BUG_CLASSES, hunt } from './classes.ts';

async function main(argv: readonly string[]): Promise<void> {
  let budget = 200;
  let strategy: StrategyName | null = null;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--budget') budget = Number(argv[++i]);
    else if (a === '--strategy') strategy = argv[++i] as StrategyName;
    else names.push(a);
  }
  if (strategy !== null && !STRATEGIES.includes(strategy)) throw new Error(`--strategy expects one of ${STRATEGIES.join(', ')}.`);
  if (!Number.isInteger(budget) || budget < 1) throw new Error('--budget expects a whole number of runs, at least 1.');
  const unknown = names.filter((n) => !BUG_CLASSES.some((b) => b.name === n));
  if (unknown.length > 0) throw new Error(`no bug class named ${unknown.join(', ')}; the classes are ${BUG_CLASSES.map((b) => b.name).join(', ')}.`);
  const chosen = names.length === 0 ? BUG_CLASSES : BUG_CLASSES.filter((b) => names.includes(b.name));
  console.log(`| Bug class | The bug | Strategy | Runs to the first failure | Caught by | Wall time |`);
  console.log(`|---|---|---|---|---|---|`);
  for (const b of chosen) {
    const h = await hunt(b, budget, strategy ?? b.strategy ?? 'swarm');
    const runs = h.seed === null ? `none in ${h.runs}` : `${h.runs} (seed ${h.seed})`;
    console.log(`| ${b.cls} | ${b.bug} | ${strategy ?? b.strategy ?? 'swarm'} | ${runs} | ${h.caughtBy ?? '-'} | ${(h.wallMs / 1000).toFixed(1)} s |`);
  }
}

// Run through bin/run-ts.mjs: argv is [node, run-ts.mjs, this file, ...args].
main(process.argv.slice(3)).catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(2);
});
