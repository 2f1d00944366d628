/**
 * Scheduled crashes at crash points (src/sim/faults.ts): `crash sN after POINT` is armed at its
 * time and crashes the server right after the next such point, once. This is what lets a
 * generated schedule (test/check/schedule.property.test.ts) reach windows of a few milliseconds.
 */
import { setAutoFreeze } from 'immer';
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
  beforeAll(() => setAutoFreeze(false));
  afterAll(() => setAutoFreeze(true));

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
