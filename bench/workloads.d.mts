// Types of bench/workloads.mjs.
import type { Run, RunOptions } from '../src/run/run.ts';

export declare const ELECTION: Readonly<RunOptions>;
export declare const BROADCAST: Readonly<RunOptions>;
export declare function committedTxns(run: Pick<Run, 'sim'>): number;
export declare function runToCommitted(run: Pick<Run, 'sim'>, n: number): void;
