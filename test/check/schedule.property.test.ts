/**
 * fast-check over generated fault schedules (issue 4 §5), not only seeds: crash (at a time, or at
 * a server's next crash point), restart, partition (one-way too) and heal steps at generated
 * times, on a 3- or 5-voter cluster with clients. Every run must pass every checker, liveness
 * included. A failure shrinks to a short schedule and is reported as the `zabsim run --schedule
 * ...` command that replays it; with a reintroduced bug, that is what happens.
 */
import fc from 'fast-check';
import { setStateFreezing } from '../../src/protocol/cow.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRASH_POINTS, formatSchedule, parseSchedule, type ScheduledFault } from '../../src/sim/faults.ts';
import { cli } from '../cli/run-cli.ts';
import { createRun, runJudged } from '../../src/run/run.ts';
import { formatSettings, runOptions, settings, settingsArgs, type Settings } from '../../src/run/settings.ts';
import { budget } from '../budget.ts';

const FAULTS_UNTIL_MS = 30_000;
/** Generated schedules with every flaw off. */
const SCHEDULES = budget(30, 600);

function arbSchedule(servers: number): fc.Arbitrary<ScheduledFault[]> {
  const sid = fc.integer({ min: 1, max: servers });
  const at = fc.integer({ min: 0, max: FAULTS_UNTIL_MS - 1 });
  const group = fc.subarray(Array.from({ length: servers }, (_, i) => i + 1), { minLength: 1, maxLength: servers - 1 });
  const step: fc.Arbitrary<ScheduledFault> = fc.oneof(
    fc.record({ atMs: at, kind: fc.constant('crash' as const), sid }),
    fc.record({ atMs: at, kind: fc.constant('crash' as const), sid, after: fc.constantFrom(...CRASH_POINTS) }),
    fc.record({ atMs: at, kind: fc.constant('restart' as const), sid }),
    fc.record({ atMs: at, side: group, oneWay: fc.boolean() }).map(({ atMs, side, oneWay }) => ({ atMs, kind: 'partition' as const, side, rest: Array.from({ length: servers }, (_, i) => i + 1).filter((x) => !side.includes(x)), oneWay })),
    fc.record({ atMs: at, kind: fc.constant('heal' as const) }),
  );
  return fc.array(step, { maxLength: 12 }).map((xs) => [...xs].sort((a, b) => a.atMs - b.atMs));
}

/** The settings of one case; the test runs exactly the command it prints. */
function args(seed: number, servers: number, schedule: readonly ScheduledFault[], flaws: readonly string[]): Settings {
  return settings({
    seed,
    servers,
    clients: 2,
    'ops-per-sec': 10,
    'clients-from': 1000,
    'faults-until': FAULTS_UNTIL_MS,
    until: 250_000,
    'stop-early': true,
    ...(schedule.length > 0 ? { schedule: formatSchedule(schedule) } : {}),
    ...(flaws.length > 0 ? { flaw: flaws } : {}),
  });
}

function judge(settings: Settings): { ok: boolean; property: string | null; what: string } {
  const opts = runOptions(settings);
  const run = createRun(opts, null);
  runJudged(run, opts.untilMs);
  const v = (run.checkers as NonNullable<typeof run.checkers>).verdict();
  const first = v.violations[0];
  return { ok: v.ok, property: first?.property ?? null, what: first === undefined ? `liveness ${v.liveness}` : `${first.property}: ${first.message}` };
}

function replay(settings: Settings): string {
  return `npx zabsim run ${formatSettings(settings)}`;
}

function arbCaseOf(sizes: readonly number[]): fc.Arbitrary<{ servers: number; seed: number; schedule: ScheduledFault[] }> {
  return fc.constantFrom(...sizes).chain((servers) => fc.record({ servers: fc.constant(servers), seed: fc.integer({ min: 0, max: 1_000_000 }), schedule: arbSchedule(servers) }));
}
const arbCase = arbCaseOf([3, 5]);

/** "A committed txn is lost": the properties that catch it first, depending on the interleaving. */
const COMMITTED_TXN_LOST = ['CommittedNeverLost', 'TruncSafety', 'CommittedDurability'];

describe('generated fault schedules', () => {
  beforeAll(() => setStateFreezing(false));
  afterAll(() => setStateFreezing(true));

  it('a schedule prints as --schedule text that parses back to itself (the empty one prints as an empty text, which is refused)', () => {
    fc.assert(
      fc.property(arbSchedule(5), (s) => {
        const parsed = parseSchedule(formatSchedule(s), 5);
        if (s.length === 0) expect(parsed).toMatch(/^expected at least one step/);
        else expect(parsed).toEqual(s.map((x) => (x.kind === 'partition' ? { ...x, side: [...x.side], rest: [...x.rest] } : x)));
      }),
      { numRuns: 200, seed: 7 },
    );
  });

  it('with ZOOKEEPER-4643 reintroduced, fast-check finds a schedule that loses a committed txn and shrinks it to a few steps; the printed command replays it', () => {
    const flaw = ['follower_epoch_before_log_durable'];
    let firstFailing: ScheduledFault[] | null = null;
    const r = fc.check(
      fc.property(arbCaseOf([3]), ({ servers, seed, schedule }) => {
        const ok = judge(args(seed, servers, schedule, flaw)).ok;
        if (!ok && firstFailing === null) firstFailing = schedule;
        return ok;
      }),
      { numRuns: 100, seed: 1 },
    );
    expect(r.failed).toBe(true);
    const [found] = r.counterexample as [{ servers: number; seed: number; schedule: ScheduledFault[] }];
    // Shrinking kept the failure and cut the schedule down.
    expect(r.numShrinks).toBeGreaterThan(0);
    expect(found.schedule.length).toBeLessThanOrEqual(5);
    expect(found.schedule.length).toBeLessThan((firstFailing as ScheduledFault[] | null)?.length ?? 0);
    expect(found.schedule.some((f) => f.kind === 'crash' && f.after === 'epoch-durable')).toBe(true);
    // The replay command, run through the CLI as a user would, fails the same way (exit 1)...
    const argv = args(found.seed, found.servers, found.schedule, flaw);
    const replayed = cli('run', ...settingsArgs(argv));
    expect(replayed.code, replay(argv)).toBe(1);
    const property = /^VIOLATION: (\w+)/m.exec(replayed.out)?.[1];
    expect(COMMITTED_TXN_LOST).toContain(property);
    expect(judge(argv).property).toBe(property);
    // ...and the same schedule passes with the bug fixed.
    expect(cli('run', ...settingsArgs(args(found.seed, found.servers, found.schedule, []))).code).toBe(0);
  });

  it(`every checker passes under ${SCHEDULES} generated schedules; a failure is printed as its replay command`, () => {
    fc.assert(
      fc.property(arbCase, ({ servers, seed, schedule }) => {
        const argv = args(seed, servers, schedule, []);
        const r = judge(argv);
        expect(r.ok, `${r.what}\nreplay: ${replay(argv)}`).toBe(true);
      }),
      { numRuns: SCHEDULES, seed: 20261122 },
    );
  });
});
