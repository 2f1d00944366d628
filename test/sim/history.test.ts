/**
 * Pre-loaded history (src/sim/history.ts, `--history E`, drawn by the swarm for about 3 seeds in
 * 10): the servers' images are cut from one history, so a zxid names one txn and follows one txn
 * everywhere; epoch files are sane; the same seed draws the same images; and runs that start from
 * them reach the sync branches that need history, judged clean by every checker.
 */
import { setStateFreezing } from '../../src/protocol/cow.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SWARM_DRAWS, swarmSettings } from '../../src/run/swarm.ts';
import type { LogEntry } from '../../src/protocol/types.ts';
import { epochOf, formatZxid, type Zxid } from '../../src/protocol/zxid.ts';
import type { TraceEvent } from '../../src/sim/events.ts';
import { Simulation } from '../../src/sim/kernel.ts';
import { preloadAcceptedAhead, preloadHistory } from '../../src/sim/history.ts';
import { createRun, runJudged } from '../../src/run/run.ts';

function images(seed: number, epochs: number, voters = 5): Simulation['servers'][number]['disk']['image'][] {
  const sim = new Simulation({ seed, voters, observers: 1 }, null);
  preloadHistory(sim, epochs);
  return sim.sids.map((sid) => sim.server(sid).disk.image);
}

describe('pre-loaded history', () => {
  beforeAll(() => setStateFreezing(false));
  afterAll(() => setStateFreezing(true));

  it('every image is a path of one history: a zxid names one txn and follows one txn; epoch files are sane', () => {
    let tails = 0; // seeds with a fork
    let snapshots = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const txn = new Map<Zxid, string>();
      const pred = new Map<Zxid, Zxid>();
      for (const img of images(seed, 5)) {
        const entries: LogEntry[] = [...img.log];
        const snap = img.snapshots[0];
        if (snap !== undefined) snapshots++;
        let before: Zxid | null = snap !== undefined && (entries[0]?.zxid ?? Infinity) > snap.zxid ? snap.zxid : null;
        for (const e of entries) {
          const t = JSON.stringify(e.txn);
          expect(txn.get(e.zxid) ?? t, `seed ${seed} ${formatZxid(e.zxid)}`).toBe(t);
          txn.set(e.zxid, t);
          if (before !== null) {
            expect(pred.get(e.zxid) ?? before, `seed ${seed}: ${formatZxid(e.zxid)} follows one txn`).toBe(before);
            pred.set(e.zxid, before);
          }
          before = e.zxid;
        }
        const last = Math.max(entries[entries.length - 1]?.zxid ?? 0, snap?.zxid ?? 0);
        if (last === 0) continue;
        expect(epochOf(last)).toBeLessThanOrEqual(img.currentEpoch as number);
        expect(img.currentEpoch as number).toBeLessThanOrEqual(img.acceptedEpoch as number);
      }
      // The newest epoch with txns was established: a quorum of the 5 voters has currentEpoch >= it.
      const imgs = images(seed, 5);
      const newest = Math.max(...imgs.flatMap((img) => img.log.map((e) => epochOf(e.zxid))), 0);
      expect(imgs.slice(0, 5).filter((img) => (img.currentEpoch ?? -1) >= newest).length, `seed ${seed}`).toBeGreaterThanOrEqual(3);
      // A fork: two txns follow the same one (a leader's tail that the next epoch did not keep).
      const preds = [...pred.values()];
      if (new Set(preds).size < preds.length) tails++;
    }
    expect(snapshots).toBeGreaterThan(50);
    expect(tails).toBeGreaterThan(10);
  });

  it('the same seed draws the same images; another seed others', () => {
    expect(images(7, 5)).toEqual(images(7, 5));
    expect(images(7, 5)).not.toEqual(images(8, 5));
  });

  it('the swarm pre-loads history for about 3 seeds in 10, and leaves the other draws of a seed as they were', () => {
    let n = 0;
    for (let seed = 1; seed <= 1000; seed++) {
      const flags = swarmSettings(seed);
      if (!flags.has('history')) continue;
      n++;
      // history is drawn after every draw that came before it, so those keep their values; only
      // draws appended after it in SWARM_DRAWS (the storage faults, the CommitProcessor's delay) may follow it.
      const keys = [...flags.keys()];
      const later = SWARM_DRAWS.slice(SWARM_DRAWS.findIndex(([k]) => k === 'history') + 1).map(([k]) => k);
      expect(keys.slice(keys.indexOf('history') + 1).every((k) => later.includes(k))).toBe(true);
    }
    expect(n).toBeGreaterThan(200);
    expect(n).toBeLessThan(400);
  });

  it('runs from pre-loaded history reach TRUNC, SNAP and DIFF syncs, and every checker passes', () => {
    const seen = new Set<string>();
    for (let seed = 1; seed <= 12; seed++) {
      const trace: string[] = [];
      const run = createRun({ seed, voters: 5, observers: 1, history: 4, untilMs: 30_000, faults: { crashMeanIntervalMs: 4000, untilMs: 15_000 } }, (e: TraceEvent) => {
        if (e.type === 'send' && (e.msg.type === 'TRUNC' || e.msg.type === 'SNAP' || e.msg.type === 'DIFF')) trace.push(e.msg.type);
      });
      runJudged(run, 30_000);
      for (const t of trace) seen.add(t);
      const v = (run.checkers as NonNullable<typeof run.checkers>).verdict();
      expect(v.violations.map((x) => `${x.property}: ${x.message}`), `seed ${seed}`).toEqual([]);
    }
    expect([...seen].sort()).toEqual(['DIFF', 'SNAP', 'TRUNC']);
  });

  it('--accepted-ahead K: one voter holds an acceptedEpoch K above its currentEpoch, the rest as drawn; the same seed picks the same voter', () => {
    const picked = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      for (const epochs of [0, 3]) {
        const before = new Simulation({ seed, voters: 5, observers: 1 }, null);
        if (epochs > 0) preloadHistory(before, epochs);
        const sim = new Simulation({ seed, voters: 5, observers: 1 }, null);
        if (epochs > 0) preloadHistory(sim, epochs);
        preloadAcceptedAhead(sim, 2);
        const changed = sim.sids.filter((sid) => JSON.stringify(sim.server(sid).disk.image) !== JSON.stringify(before.server(sid).disk.image));
        expect(changed, `seed ${seed}`).toHaveLength(1);
        const sid = changed[0] as number;
        expect(sim.cfg.voters).toContain(sid);
        picked.add(sid);
        const img = sim.server(sid).disk.image;
        const old = before.server(sid).disk.image;
        const current = old.currentEpoch ?? epochOf(old.log[old.log.length - 1]?.zxid ?? 0);
        expect(img.currentEpoch).toBe(current);
        expect(img.acceptedEpoch).toBe(Math.max(old.acceptedEpoch ?? current, current) + 2);
        expect(img.log).toEqual(old.log);
      }
    }
    expect([...picked].sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('--accepted-ahead 2 on fresh disks: a quorum without that voter decides epoch 1, whose LEADERINFO the voter refuses as stale; nothing unsafe happens', () => {
    let refused = 0;
    for (let seed = 1; seed <= 16; seed++) {
      const notes: string[] = [];
      const run = createRun({ seed, voters: 3, acceptedAhead: 2, untilMs: 3000 }, (e: TraceEvent) => {
        if (e.type === 'note' && e.text.includes('Leaders epoch, 1 is less than accepted epoch, 2')) notes.push(e.text);
      });
      runJudged(run, 3000);
      if (notes.length > 0) refused++;
      const v = (run.checkers as NonNullable<typeof run.checkers>).verdict();
      expect(v.violations.map((x) => `${x.property}: ${x.message}`), `seed ${seed}`).toEqual([]);
    }
    expect(refused).toBeGreaterThan(0);
  });
});
