/**
 * Replays every scenario of scenarios/: each must pass its own expectations, and where it keeps a
 * golden trace beside it, reproduce that trace byte for byte.
 */
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { goldenPath, loadScenario, SCENARIO_DIR, scenarioFiles } from '../../src/scenario/files.ts';
import { goldenDiff, goldenText } from '../../src/scenario/golden.ts';
import { parseScenario } from '../../src/scenario/parse.ts';
import { runScenario } from '../../src/scenario/runner.ts';
import type { Flaws } from '../../src/protocol/config.ts';
import { FLAW_CATALOGUE, flawByName } from '../../src/protocol/flaws.ts';

const files = scenarioFiles(SCENARIO_DIR);

describe('scenarios/', () => {
  it('holds the twenty classic cases S1..S20, each once', () => {
    const names = files.map((f) => loadScenario(f).name);
    const numbers = names.map((n) => /^s(\d\d)-/.exec(n)?.[1]).filter((x) => x !== undefined).map(Number);
    expect(numbers.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it.each(files.map((f) => [relative(SCENARIO_DIR, f), f]))('%s', (_name, file) => {
    const sc = loadScenario(file, relative(process.cwd(), file));
    const r = runScenario(sc);
    const f = r.failure;
    expect(f, f === null ? '' : `${f.src.file}:${f.src.line}: ${f.src.text}\n  ${f.message}\n${f.state}`).toBeNull();
    const text = goldenText(r.trace);
    const golden = goldenPath(file);
    if (existsSync(golden)) expect(goldenDiff(readFileSync(golden, 'utf8'), text)).toBeNull();
    // Same scenario, same trace, byte for byte.
    expect(goldenDiff(text, goldenText(runScenario(sc).trace))).toBeNull();
  });

  // zab-bugs.md §4: a scenario passes with every flaw off and fails, detectably, with its bug's flaw on.
  const FLAWED: [string, string, string, string?][] = [
    ['s05-crash-after-newleader-ack', 'follower_ack_newleader_before_persist', 'expect trace since sync has "s1 fsync appendLog <1,3>" before "s1 -> s3 send ACK <1,0>"'],
    ['s06-higher-epoch-shorter-log', 'follower_epoch_before_log_durable', 'expect s1 logged = <1,1>..<1,3>          # the txns were durable before the epoch'],
    ['x01-resync-withdraws-stale-ack', 'leader_keeps_acks_across_resync', "expect committed lacks <1,2>                   # s3's ACK alone is not a quorum"],
    ['x03-trunc-to-a-zxid-the-log-lacks', 'trunc_keeps_first_txn_above_target', 'expect s3 lacks /a                 # FileTxnLog\'s cut keeps <1,1>: s3 serves /a'],
    ['x04-trunc-reloads-dirty-snapshot', 'trunc_reload_newest_snapshot', 'expect checkers pass                   # nothing never committed is served', 'the first: Integrity'],
    ['s19-crash-between-snapshot-and-epoch', 'newleader_no_epoch_marker', 'expect trace since second has "s1 persist create updatingEpoch" before "s1 persist snapshot <2,3>"'],
    // zab-bugs.md §1: the flaw's violation, named by the property that catches it first.
    ['b05-diff-header-zxid-before-txns', 'learner_sets_lastzxid_on_diff_header', 'expect checkers pass', 'the first: HonestAdvertisement'],
    ['b08-partial-snap-then-diff', 'learner_retains_partial_snap_on_abort', 'expect checkers pass', 'the first: HonestAdvertisement'],
    ['b10-newleader-ack-overtakes-log-writer', 'follower_newleader_persist_async', 'expect checkers pass', 'the first: Establishment'],
    ['b12-proposal-ack-overtakes-newleader-ack', 'follower_starts_processors_before_newleader_ack', 'expect checkers pass', 'the first: MessageLegality'],
    ['b14-log-writer-outlives-shutdown', 'shutdown_leaves_log_writer_running', 'expect checkers pass', 'the first: HonestAdvertisement'],
    ['b13-commit-after-newleader', 'follower_newleader_clears_pending', 'expect checkers pass', 'the first: MessageLegality'],
    ['b15-committedlog-hole-in-diff', 'learner_sync_skips_committedlog_append', 'expect checkers pass', 'the first: HistoryConsistency'],
    ['b07-newleader-queued-before-snap', 'leader_queues_newleader_before_snapshot', 'expect checkers pass', 'the first: Agreement'],
  ];
  it.each(FLAWED)('%s fails with the flaw %s', (name, flaw, line, property?: string) => {
    const file = files.find((f) => f.endsWith(`${name}.scenario`)) as string;
    const text = readFileSync(file, 'utf8').replace(/^servers (\d+)$/m, `servers $1\nflaw ${flaw}`);
    const r = runScenario(parseScenario(text, name));
    expect(r.failure?.src.text).toBe(line.replace(/\s+#.*$/, ''));
    if (property !== undefined) expect(r.failure?.message).toContain(property);
  });

  // scenarios/bugs/: each replays one catalogued bug's minimal sequence. Without its flaw it passes
  // (the test above); with it, it fails at the line that shows the bug. Every file must be here.
  const BUGS: [string, string, string][] = [
    ['b01-two-leaders-one-epoch', 'ZOOKEEPER-335', 'expect s3 currentEpoch = 3'],
    ['b03-election-never-settles', 'ZOOKEEPER-1419', 'stabilize until s2 leads within 30s'],
    ['b02-diff-keeps-stale-tail', 'ZOOKEEPER-1154', 'expect s3 lacks /a'],
    ['b06-retained-db-hides-uncommitted-txn', 'ZOOKEEPER-2845', 'expect s3 lacks /a'],
    ['b16-zxid-counter-carries-into-epoch', 'ZOOKEEPER-1277', 'expect trace lacks "PROPOSAL <2,0>"'],
  ];

  it('every scenario under bugs/ names its bug (bNN) and is run with its flaw below', () => {
    const bugFiles = files.filter((f) => relative(SCENARIO_DIR, f).startsWith('bugs'));
    const covered = [...BUGS, ...FLAWED.filter(([n]) => n.startsWith('b'))];
    expect(bugFiles.map((f) => loadScenario(f).name).sort()).toEqual(covered.map(([n]) => n).sort());
    for (const [name, ticket] of covered) {
      const flaw = flawByName(ticket);
      expect(flaw, ticket).not.toBeNull();
      expect(`b${FLAW_CATALOGUE[flaw as keyof Flaws].bug?.slice(1).padStart(2, '0')}`).toBe(name.slice(0, 3));
    }
  });

  it.each(BUGS)('bugs/%s fails with the flaw %s at the line that shows the bug', (name, ticket, line) => {
    const file = files.find((f) => f.endsWith(`${name}.scenario`)) as string;
    const text = readFileSync(file, 'utf8').replace(/^servers (\d+)$/m, `servers $1\nflaw ${ticket}`);
    const r = runScenario(parseScenario(text, name));
    expect(r.failure?.src.text.replace(/\s+#.*$/, '')).toBe(line);
  });
});
