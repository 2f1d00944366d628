/**
 * The coverage map (issue 12 §3): probes change nothing in a run, the table is well formed, and
 * exploration reaches every cell that matters (test:deep: 2,000 swarm seeds; npm test: a modest
 * mixed-strategy sweep, which must reach all but the rare cells named below).
 */
import { setStateFreezing } from '../../src/protocol/cow.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOT_REACHABLE, PROBE, PROBES, stepCell } from '../../src/protocol/probes.ts';
import { coverageReport, formatCoverage } from '../../src/run/coverage.ts';
import { explore } from '../../src/run/explore.ts';
import { createRun, runJudged } from '../../src/run/run.ts';
import { optionsFromSettings, resolveSettings, settings } from '../../src/run/settings.ts';
import { createHash } from 'node:crypto';
import type { TraceEvent } from '../../src/sim/events.ts';
import { budget, DEEP } from '../budget.ts';
import { unexplained } from './known.ts';

/**
 * Cells a modest sweep may miss: windows a crash must hit within milliseconds, or that need a
 * rare draw. The deep sweep must reach them too.
 */
// step.FOLLOWING.DISCOVERY.stage (a writer or CommitProcessor step of the role before, run after
// the next election ended) is in none of the first 160 mixed seeds since the leader's and the
// observer's stages (threads4), step.OBSERVING.SYNCHRONIZATION.timer in none of the first 48 (it is
// by 96); test:deep's 2,000 swarm seeds must still reach both. step.FOLLOWING.SYNCHRONIZATION.stage
// (likewise a stage step of the role before, run while the next sync is on) left the first 48 when
// the swarm's ack-resets draw changed the coverage strategy's re-draws.
// The cells the swarm's storage faults, ACK resets and thread delays reach that were listed as not
// reachable until 4 December (NOT_REACHABLE had not followed the swarm) are rare in the modest
// sweep too: the deep sweep reached each of them (2,000 seeds: resync-commit 136 crashes, the
// writeFailed cells 12 to 3,881 steps, an observer's stage in SYNCHRONIZATION once).
const RARE = new Set(['crashpoint.resync-commit', 'step.FOLLOWING.DISCOVERY.writeFailed', 'step.OBSERVING.DISCOVERY.writeFailed', 'step.OBSERVING.SYNCHRONIZATION.writeFailed', 'step.OBSERVING.SYNCHRONIZATION.stage', 'step.LEADING.SYNCHRONIZATION.writeFailed', 'step.FOLLOWING.SYNCHRONIZATION.stage', 'window.crash-log-durable-epoch-pending', 'window.resync-drops-ack', 'sync.rule5', 'sync.rule4.diff', 'sync.rule4.snap', 'sync.rule3.snap', 'learner.inform', 'logwriter.run-empty', 'logwriter.drain', 'step.FOLLOWING.DISCOVERY.stage', 'step.OBSERVING.SYNCHRONIZATION.timer']);

function traceOf(seed: number, coverage: boolean): { hash: string; counts: Uint32Array | null } {
  const opts = optionsFromSettings(resolveSettings(settings({ seed, swarm: true, 'stop-early': true })));
  const h = createHash('sha256');
  const run = createRun(coverage ? { ...opts, coverage: true } : opts, (e: TraceEvent) => void h.update(`${JSON.stringify(e)}\n`));
  runJudged(run, opts.untilMs);
  return { hash: h.digest('hex'), counts: run.sim.coverage };
}

describe('coverage probes', () => {
  beforeAll(() => setStateFreezing(false));
  afterAll(() => setStateFreezing(true));

  it('the table: unique names, a meaning each, and every cell it says cannot be reached exists', () => {
    const names = PROBES.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const c of PROBES) expect(c.meaning.length, c.name).toBeGreaterThan(10);
    for (const name of NOT_REACHABLE.keys()) expect(names, name).toContain(name);
    expect(PROBES[PROBE['sync.rule1']]?.name).toBe('sync.rule1');
    expect(PROBES[stepCell('LEADING', 'BROADCAST', 'message')]?.name).toBe('step.LEADING.BROADCAST.message');
    expect(stepCell('LOOKING', 'BROADCAST', 'message')).toBe(-1);
  });

  it('counting coverage changes nothing in a run: the same trace, byte for byte', () => {
    for (const seed of [3]) {
      const off = traceOf(seed, false);
      const on = traceOf(seed, true);
      expect(off.counts).toBeNull();
      expect(on.hash).toBe(off.hash);
      expect(on.counts?.[stepCell('LOOKING', 'ELECTION', 'start')]).toBeGreaterThan(0);
    }
  });

  it('the map: reached cells with counts, the reachable ones never reached, the unreachable apart', () => {
    const counts = new Uint32Array(PROBES.length);
    counts[PROBE['sync.rule1']] = 3;
    const r = coverageReport(counts);
    expect(r.reached).toBe(1);
    expect(r.reachable).toBe(PROBES.length - NOT_REACHABLE.size);
    expect(r.never).toHaveLength(r.reachable - 1);
    expect(r.never).not.toContain('sync.rule1');
    expect(r.never).not.toContain('learner.bad-first');
    expect(r.beyond).toEqual([]);
    const text = formatCoverage(counts);
    expect(text[0]).toBe(`coverage: 1 of ${r.reachable} reachable cells reached (${PROBES.length} cells, ${NOT_REACHABLE.size} not reachable by the default swarm)`);
    expect(text[1]).toMatch(/^ {2}sync\.rule1 +3 {2}leader: learner at my lastProcessedZxid: empty DIFF/);
    expect(text[2]).toBe(`never reached (${r.reachable - 1}):`);
  });

  it('the map: a cell listed as not reachable that a run reached (a flag, a flaw, a scenario) is listed apart and not counted as reachable', () => {
    const counts = new Uint32Array(PROBES.length);
    counts[PROBE['sync.rule1']] = 3;
    counts[PROBE['fault.duplicate']] = 2;
    const r = coverageReport(counts);
    expect(r.reached).toBe(1);
    expect(r.beyond).toEqual(['fault.duplicate']);
    expect(r.never).not.toContain('fault.duplicate');
    const text = formatCoverage(counts);
    expect(text[0]).toBe(`coverage: 1 of ${r.reachable} reachable cells reached (${PROBES.length} cells, ${NOT_REACHABLE.size} not reachable by the default swarm, 1 of which reached here)`);
    expect(text.filter((l) => l.includes('fault.duplicate'))).toHaveLength(1);
    expect(text.at(-2)).toBe('reached beyond the default swarm (1; a flag, a flaw, a scenario or a strategy reaches these):');
    expect(text.at(-1)).toMatch(/^ {2}fault\.duplicate +2 {2}fault: /);
  });

  it(`a sweep reaches every cell that can be reached, and none listed as not reachable (${DEEP ? '2,000 swarm seeds' : 'a modest mixed sweep, rare cells aside'})`, () => {
    const s = explore({ from: 1, seeds: budget(48, 2000), overrides: new Map(), strategy: DEEP ? 'swarm' : 'mix', coverage: true });
    expect(unexplained(s.failures)).toEqual([]); // ZooKeeper's acceptedEpoch lockout aside (known.ts)
    const r = coverageReport(s.coverage as Uint32Array);
    expect(r.never.filter((c) => DEEP || !RARE.has(c))).toEqual([]);
    // A listed cell the swarm reaches has an out-of-date reason; the mix's targeted runs may reach
    // the cells whose reason names the targeted strategy.
    expect(r.beyond.filter((c) => DEEP || !(NOT_REACHABLE.get(c) as string).includes('targeted strategy'))).toEqual([]);
  });
});
