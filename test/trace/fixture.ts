/** Traces for the viewer and export tests, made by the CLI in-process and cached per worker. */
import { cli } from '../cli/run-cli.ts';

const cache = new Map<string, string>();

function run(args: string[]): string {
  const key = args.join(' ');
  let text = cache.get(key);
  if (text === undefined) {
    const r = cli('run', ...args, '--json');
    text = r.out;
    cache.set(key, text);
  }
  return text;
}

/**
 * ZOOKEEPER-3911 reintroduced (docs/checkers.md: found by swarm seed 47): after record #5170 at
 * 82254 ms the leader s3 has sent s4 a TRUNC that removes committed txn <9,4> (TruncSafety).
 * 5209 records, 6 servers (5 voters, 1 observer), 2 violations.
 */
export const FLAW_ARGS = ['--seed', '47', '--swarm', '--flaw', 'follower_ack_newleader_before_persist', '--until', '83s'];

export function flawTrace(): string {
  return run(FLAW_ARGS);
}

/** A clean run with clients, crashes and a partition (no violation). */
export const CLEAN_ARGS = ['--seed', '7', '--servers', '3', '--observers', '1', '--clients', '3', '--crash-every', '4s', '--partition-every', '6s', '--until', '12s'];

export function cleanTrace(): string {
  return run(CLEAN_ARGS);
}
