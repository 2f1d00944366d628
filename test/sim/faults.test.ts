/**
 * Scheduled crashes at crash points (src/sim/faults.ts): `crash sN after POINT` is armed at its
 * time and crashes the server right after the next such point, once. This is what lets a
 * generated schedule (test/check/schedule.property.test.ts) reach windows of a few milliseconds.
 */
import { setStateFreezing } from '../../src/protocol/cow.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatZxid } from '../../src/protocol/zxid.ts';
import type { TraceEvent } from '../../src/sim/events.ts';
import { formatSchedule, parseSchedule } from '../../src/sim/faults.ts';
import { createRun, runJudged } from '../../src/run/run.ts';
import { runOptions, settings } from '../../src/run/settings.ts';

function traced(schedule: string): TraceEvent[] {
  const trace: TraceEvent[] = [];
  const opts = runOptions(settings({ seed: 1, servers: 3, delay: [5, 5], fsync: [2, 2], 'start-spread': 0, clients: 1, 'ops-per-sec': 20, 'clients-from': 1000, until: 3000, schedule }));
  runJudged(createRun(opts, (e) => void trace.push(e)), opts.untilMs);
  return trace;
}

const actor = (e: TraceEvent): number | undefined => ('sid' in e ? e.sid : 'from' in e ? e.from : undefined);

/** The server's own last event before each of its crashes, rendered short. */
function beforeCrashes(trace: readonly TraceEvent[], sid: number): string[] {
  const out: string[] = [];
  trace.forEach((e, k) => {
    if (e.type !== 'crash' || e.sid !== sid) return;
    let j = k - 1;
    while (j >= 0 && actor(trace[j] as TraceEvent) !== sid) j--;
    const prev = trace[j] as TraceEvent;
    out.push(`${prev.t === e.t ? 'same instant' : 'later'}: ${prev.type}${'msg' in prev ? ` ${prev.msg.type}${'zxid' in prev.msg ? ` ${formatZxid(prev.msg.zxid)}` : ''}` : ''}${'write' in prev && prev.write.op === 'writeEpoch' ? ` ${prev.write.file}` : ''}`);
  });
  return out;
}

describe('scheduled crash points', () => {
  beforeAll(() => setStateFreezing(false));
  afterAll(() => setStateFreezing(true));

  it('parse and format: `crash sN after POINT` round-trips; an unknown point is refused', () => {
    const text = '0ms crash s1 after newleader-ack; 5ms crash s2 after epoch-durable; 1500ms crash s3 after commit; 2s crash s1';
    const s = parseSchedule(text, 3);
    expect(s).toEqual([
      { atMs: 0, kind: 'crash', sid: 1, after: 'newleader-ack' },
      { atMs: 5, kind: 'crash', sid: 2, after: 'epoch-durable' },
      { atMs: 1500, kind: 'crash', sid: 3, after: 'commit' },
      { atMs: 2000, kind: 'crash', sid: 1 },
    ]);
    expect(formatSchedule(s as Exclude<typeof s, string>)).toBe(text.replace('2s', '2000ms'));
    expect(parseSchedule('1s crash s1 after', 3)).toMatch(/^step 1 .*expected 'crash sN' or 'crash sN after POINT'/);
  });

  it("an empty schedule and an empty step are refused; one trailing ';' is not a step", () => {
    expect(parseSchedule('', 3)).toBe("expected at least one step, such as '2s crash s1; 5s restart s1', got an empty text");
    expect(parseSchedule('   ', 3)).toBe("expected at least one step, such as '2s crash s1; 5s restart s1', got an empty text");
    expect(parseSchedule('2s crash s1;;', 3)).toBe("step 2 is empty: expected a step between two ';'");
    expect(parseSchedule('2s crash s1;; 3s restart s1', 3)).toBe("step 2 is empty: expected a step between two ';'");
    expect(parseSchedule('; 2s crash s1', 3)).toBe("step 1 is empty: expected a step between two ';'");
    expect(parseSchedule('2s crash s1; ', 3)).toEqual([{ atMs: 2000, kind: 'crash', sid: 1 }]);
  });

  it('after newleader-ack: the learner crashes in the same instant it sent its NEWLEADER ACK, once', () => {
    const trace = traced('0ms crash s1 after newleader-ack');
    expect(beforeCrashes(trace, 1)).toEqual(['same instant: send ACK <1,0>']);
  });

  it('after epoch-durable, armed at 100 ms: the server crashes in the instant its NEWLEADER currentEpoch write becomes durable, once it has handled that', () => {
    // Armed at 0 it would fire at start-up, where a fresh server writes currentEpoch := 0. With
    // 3.9.3's order the learner ACKs NEWLEADER as it learns the write is durable, so that ACK is
    // its last act; with ZOOKEEPER-4643's order it would be the log writes the crash then loses.
    const trace = traced('100ms crash s2 after epoch-durable');
    expect(beforeCrashes(trace, 2)).toEqual(['same instant: send ACK <1,0>']);
    const crash = trace.find((e) => e.type === 'crash' && e.sid === 2) as TraceEvent;
    expect(trace.some((e) => e.type === 'fsync' && e.sid === 2 && e.t === crash.t && e.write.op === 'writeEpoch' && e.write.file === 'currentEpoch' && e.write.value === 1 && e.stage === 'done')).toBe(true);
  });

  it('after commit, armed at 1.5 s: the leader crashes right after its first COMMIT from then on, not before', () => {
    const trace = traced('1500ms crash s3 after commit');
    const commitsBefore = trace.filter((e) => e.type === 'send' && e.from === 3 && e.msg.type === 'COMMIT' && e.t < 1500);
    expect(commitsBefore.length).toBeGreaterThan(0);
    const [only] = beforeCrashes(trace, 3);
    expect(only).toMatch(/^same instant: send COMMIT <1,\d+>$/);
    expect(trace.find((e) => e.type === 'crash' && e.sid === 3)?.t).toBeGreaterThanOrEqual(1500);
  });
});

describe('the resync-commit crash point (the re-sync ACK finding, leader_keeps_acks_across_resync)', () => {
  beforeAll(() => setStateFreezing(false));
  afterAll(() => setStateFreezing(true));

  // 5 voters, s5 leads. s3, s4 cannot reach s5 from 1480 ms and s2 is down, so <1,21> waits with
  // the ACKs of s5 and s1; s1 restarts, is TRUNCed below it and re-sent it, and crashes right
  // after its NEWLEADER ACK; s2 comes back and ACKs it. Then s5 commits <1,21>.
  const SCHEDULE = '1480ms partition s3,s4->s5; 1480ms crash s2; 1600ms crash s1; 1700ms restart s1; 1700ms crash s1 after newleader-ack; 1800ms restart s2; 1800ms crash s5 after resync-commit';
  function run(flaws: readonly string[]): TraceEvent[] {
    const trace: TraceEvent[] = [];
    const opts = runOptions(settings({ seed: 1, servers: 5, delay: [5, 5], fsync: [2, 2], 'start-spread': 0, clients: 5, 'ops-per-sec': 20, 'clients-from': 1000, until: 4000, schedule: SCHEDULE, ...(flaws.length > 0 ? { flaw: flaws } : {}) }));
    runJudged(createRun(opts, (e) => void trace.push(e)), opts.untilMs);
    return trace;
  }

  it('crashes the leader in the instant it sends the COMMIT of the proposal it re-sent to a learner that had ACKed it', () => {
    const trace = run(['leader_keeps_acks_across_resync']);
    const resent = trace.find((e) => e.type === 'send' && e.from === 5 && e.to === 1 && e.msg.type === 'PROPOSAL' && e.t >= 1700);
    expect(resent?.type === 'send' ? formatZxid((resent.msg as { zxid: number }).zxid) : null).toBe('<1,21>');
    // The leader's last event is that COMMIT, sent (or dropped on the link to a down learner).
    const [only] = beforeCrashes(trace, 5);
    expect(only).toMatch(/^same instant: (send|drop) COMMIT <1,21>$/);
    const crashAt = trace.find((e) => e.type === 'crash' && e.sid === 5)?.t;
    expect(trace.some((e) => e.type === 'send' && e.from === 5 && e.msg.type === 'COMMIT' && e.t === crashAt)).toBe(true);
  });

  it('is not reached by a COMMIT of a proposal sent once: without the flaw the leader waits for fresh ACKs, which the partition keeps away', () => {
    const trace = run([]);
    expect(trace.some((e) => e.type === 'note' && e.sid === 5 && /s1 is re-sent <1,21>: its earlier ACK no longer counts/.test(e.text))).toBe(true);
    expect(beforeCrashes(trace, 5)).toEqual([]);
  });
});

describe('--newleader-ack-resets: a loss aimed right after the leader counted a NEWLEADER ACK (issue 12 §2)', () => {
  beforeAll(() => setStateFreezing(false));
  afterAll(() => setStateFreezing(true));

  /** Per run: each (leader, epoch) NEWLEADER ACK delivery per learner, the resets, and the establishments. */
  function watch(seed: number, p: number): { acks: Map<string, number>; resets: string[]; established: string[]; violations: string[] } {
    const acks = new Map<string, number>();
    const resets: string[] = [];
    const established: string[] = [];
    const opts = runOptions(settings({ seed, servers: 5, 'start-spread': 0, until: 6000, 'newleader-ack-resets': p }));
    const run = createRun(opts, (e) => {
      if (e.type === 'deliver' && e.msg.type === 'ACK' && (e.msg.zxid as number) % 2 ** 32 === 0) acks.set(`s${e.from}->s${e.to} ${formatZxid(e.msg.zxid)}`, (acks.get(`s${e.from}->s${e.to} ${formatZxid(e.msg.zxid)}`) ?? 0) + 1);
      else if (e.type === 'note' && e.text.startsWith('fault: the quorum connection')) resets.push(`s${e.sid}: ${e.text}`);
      else if (e.type === 'note' && e.text.startsWith('established epoch')) established.push(`s${e.sid}: ${e.text}`);
    });
    runJudged(run, opts.untilMs);
    const v = (run.checkers as NonNullable<typeof run.checkers>).verdict();
    return { acks, resets, established, violations: v.violations.map((x) => `${x.property}: ${x.message}`) };
  }

  it('with probability 1, each counted ACK before establishment resets that learner, which syncs again and ACKs the same epoch twice; the leader still establishes on distinct voters only', () => {
    let twice = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const w = watch(seed, 1);
      expect(w.violations, `seed ${seed}`).toEqual([]);
      expect(w.resets.length, `seed ${seed}`).toBeGreaterThan(0);
      expect(w.resets.every((r) => r.endsWith('(right after its NEWLEADER ACK was counted)'))).toBe(true);
      expect(w.established.length, `seed ${seed}`).toBeGreaterThan(0);
      if ([...w.acks.values()].some((n) => n >= 2)) twice++;
    }
    expect(twice).toBeGreaterThan(0);
  });

  it('with probability 0 nothing resets, and a run is the one it was without the setting', () => {
    const w = watch(1, 0);
    expect(w.resets).toEqual([]);
    const trace = (extra: Record<string, number>): string => {
      const out: string[] = [];
      const opts = runOptions(settings({ seed: 3, servers: 5, until: 3000, ...extra }));
      runJudged(createRun(opts, (e) => void out.push(JSON.stringify(e))), opts.untilMs);
      return out.join('\n');
    };
    expect(trace({ 'newleader-ack-resets': 0 })).toBe(trace({}));
  });
});

describe('--ack-resets: a follower that ACKed an outstanding proposal re-syncs while the other disks stall (the re-sync window)', () => {
  beforeAll(() => setStateFreezing(false));
  afterAll(() => setStateFreezing(true));

  function watched(seed: number, p: number, flaws: readonly string[] = []): { trace: TraceEvent[]; violations: string[] } {
    const trace: TraceEvent[] = [];
    const opts = runOptions(settings({ seed, servers: 5, 'start-spread': 0, clients: 3, 'ops-per-sec': 20, until: 6000, 'faults-until': 5000, 'ack-resets': p, ...(flaws.length > 0 ? { flaw: flaws } : {}) }));
    const run = createRun(opts, (e) => void trace.push(e));
    runJudged(run, opts.untilMs);
    const v = (run.checkers as NonNullable<typeof run.checkers>).verdict();
    return { trace, violations: v.violations.map((x) => `${x.property}: ${x.message}`) };
  }

  const OPENS = /^fault: the quorum connection with s(\d) resets \(right after its ACK of (<\d+,\d+>) was counted, short of a quorum; the other disks stall while it syncs again\)$/;

  it('opens at an ACK the leader counted short of a quorum; the follower is TRUNCed below that proposal by the same leader and re-sent it, and no other disk completes a write until its TRUNC is durable', () => {
    const { trace } = watched(1, 1);
    const k = trace.findIndex((e) => e.type === 'note' && OPENS.test(e.text));
    expect(k).toBeGreaterThan(0);
    const open = trace[k] as Extract<TraceEvent, { type: 'note' }>;
    const [, learnerText, zText] = OPENS.exec(open.text) as RegExpExecArray;
    const learner = Number(learnerText);
    const leader = open.sid;
    // At that instant, before the note, the leader read that ACK.
    const read = trace
      .slice(0, k)
      .reverse()
      .find((e) => e.type === 'deliver' && e.from === learner && e.to === leader);
    expect(read).toMatchObject({ t: open.t, msg: { type: 'ACK' } });
    expect(formatZxid((read as { msg: { zxid: number } }).msg.zxid)).toBe(zText);
    // The follower syncs again with the same leader: a TRUNC below the proposals it had ACKed
    // (ACKs already in flight may commit the oldest meanwhile), then those proposals again.
    const rest = trace.slice(k);
    const trunc = rest.findIndex((e) => e.type === 'send' && e.from === leader && e.to === learner && e.msg.type === 'TRUNC');
    expect(trunc).toBeGreaterThan(0);
    const truncTo = (rest[trunc] as { msg: { zxid: number } }).msg.zxid;
    const acked = new Set(trace.slice(0, k).flatMap((e) => (e.type === 'send' && e.from === learner && e.to === leader && e.msg.type === 'ACK' ? [e.msg.zxid] : [])));
    const resent = rest.slice(trunc).filter((e) => e.type === 'send' && e.from === leader && e.to === learner && e.msg.type === 'PROPOSAL' && acked.has(e.msg.zxid) && e.msg.zxid > truncTo);
    expect(resent.length).toBeGreaterThan(0);
    // From the window's opening to the follower's durable TRUNC, only the follower's disk completes writes.
    const durable = rest.findIndex((e) => e.type === 'fsync' && e.sid === learner && e.write.op === 'truncateLog');
    expect(durable).toBeGreaterThan(trunc);
    expect(rest.slice(0, durable).filter((e) => e.type === 'fsync' && e.sid !== learner)).toEqual([]);
    // Then the others go on, each within 20 ms.
    const t = rest[durable]?.t ?? 0;
    const next = rest.slice(durable).filter((e) => e.type === 'fsync' && e.sid !== learner);
    expect(next.length).toBeGreaterThan(0);
    expect((next[0]?.t ?? Infinity) - t).toBeLessThanOrEqual(20);
  });

  it('with every flaw off the window breaks nothing (seeds 1-6 at probability 1); with leader_keeps_acks_across_resync a leader commits on the old ACK and crashes there (CommittedDurability)', () => {
    let caught = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const clean = watched(seed, 1);
      expect(clean.violations, `seed ${seed}`).toEqual([]);
      expect(clean.trace.some((e) => e.type === 'note' && OPENS.test(e.text)), `seed ${seed}`).toBe(true);
      const flawed = watched(seed, 1, ['leader_keeps_acks_across_resync']);
      if (flawed.violations.some((v) => v.startsWith('CommittedDurability: '))) caught++;
    }
    expect(caught).toBeGreaterThan(0);
  });

  it('with probability 0 nothing opens, and a run is the one it was without the setting', () => {
    const trace = (extra: Record<string, number>): string => {
      const out: string[] = [];
      const opts = runOptions(settings({ seed: 3, servers: 5, clients: 2, until: 4000, ...extra }));
      runJudged(createRun(opts, (e) => void out.push(JSON.stringify(e))), opts.untilMs);
      return out.join('\n');
    };
    const off = trace({ 'ack-resets': 0 });
    expect(off).toBe(trace({}));
    expect(off).not.toMatch(/disks stall/);
  });
});
