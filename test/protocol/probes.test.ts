/**
 * The coverage map's cells (src/protocol/probes.ts, issue 12 §3): every (role, phase, input kind)
 * a server can step in has its own cell, named for it, and a pair no server can be in has none.
 * The kernel counts a step in `stepCell`'s cell, so a wrong index would count one cell's steps in
 * another's and the map would lie.
 */
import { describe, expect, it } from 'vitest';
import { PROBE, PROBES, probeId, stepCell } from '../../src/protocol/probes.ts';
import type { InputKind, PeerStateName, ZabState } from '../../src/protocol/types.ts';

const ROLES: readonly PeerStateName[] = ['LOOKING', 'FOLLOWING', 'OBSERVING', 'LEADING'];
const PHASES: readonly ZabState[] = ['ELECTION', 'DISCOVERY', 'SYNCHRONIZATION', 'BROADCAST'];
const KINDS: readonly InputKind[] = ['start', 'message', 'timer', 'fsyncDone', 'writeFailed', 'disconnected', 'clientRequest', 'roleFailed', 'stage'];
/** The pairs a server can step in: LOOKING only in ELECTION, the other roles in the three phases after it. */
const possible = (r: PeerStateName, p: ZabState): boolean => (r === 'LOOKING') === (p === 'ELECTION');

describe('coverage cells of the step function', () => {
  it('every possible (role, phase, input kind) has the cell named for it, each a different one', () => {
    const seen = new Set<number>();
    for (const r of ROLES) {
      for (const p of PHASES) {
        if (!possible(r, p)) continue;
        for (const k of KINDS) {
          const c = stepCell(r, p, k);
          expect(PROBES[c]?.name, `${r} ${p} ${k}`).toBe(`step.${r}.${p}.${k}`);
          expect(PROBES[c]?.meaning).toBe(`step: a ${r} server in ${p} handles a ${k} input`);
          seen.add(c);
        }
      }
    }
    // 10 pairs x 9 kinds, after the named probes, and nothing beyond them.
    expect(seen.size).toBe(90);
    expect(Math.min(...seen)).toBe(Object.keys(PROBE).length);
    expect(Math.max(...seen)).toBe(PROBES.length - 1);
  });

  it('a pair no server can be in has no cell (-1)', () => {
    for (const r of ROLES) for (const p of PHASES) if (!possible(r, p)) for (const k of KINDS) expect(stepCell(r, p, k), `${r} ${p} ${k}`).toBe(-1);
  });
});

describe('probeId', () => {
  it("is a cell's index in PROBES, for the named probes and the step cells", () => {
    for (const [i, c] of PROBES.entries()) expect(probeId(c.name)).toBe(i);
    expect(probeId('fault.crash')).toBe(PROBE['fault.crash']);
    expect(probeId('step.LEADING.BROADCAST.message')).toBe(stepCell('LEADING', 'BROADCAST', 'message'));
  });

  it('is undefined for a name that is no cell', () => {
    expect(probeId('step.LOOKING.BROADCAST.message')).toBeUndefined();
    expect(probeId('')).toBeUndefined();
  });
});
