/**
 * The coverage map (issue 12 §3): hit counts per cell of src/protocol/probes.ts, summed over one
 * run or an exploration, with what was reached and what never was. Counting happens in the
 * kernel (SimOptions.coverage); this file sums, reports and renders.
 */
import { PROBES, NOT_REACHABLE } from '../protocol/probes.ts';

/** Hit counts indexed by probe id. */
export type CoverageCounts = Uint32Array;

/** A map with no hits. */
export function emptyCoverage(): CoverageCounts {
  return new Uint32Array(PROBES.length);
}

/** Adds `run` into `total`; returns the number of cells `run` reached that `total` had not. */
export function addCoverage(total: CoverageCounts, run: CoverageCounts): number {
  let fresh = 0;
  for (let i = 0; i < total.length; i++) {
    const n = run[i] as number;
    if (n === 0) continue;
    if (total[i] === 0) fresh++;
    total[i] = (total[i] as number) + n;
  }
  return fresh;
}

/** The cells a run reached that `seen` has not. */
export function newCells(seen: CoverageCounts, run: CoverageCounts): number[] {
  const out: number[] = [];
  for (let i = 0; i < seen.length; i++) if (run[i] !== 0 && seen[i] === 0) out.push(i);
  return out;
}

export interface CoverageCellReport {
  readonly name: string;
  readonly meaning: string;
  readonly count: number;
  /** Why this cell cannot be reached, for the cells that cannot (probes.ts NOT_REACHABLE). */
  readonly unreachable?: string;
}

export interface CoverageReport {
  readonly cells: readonly CoverageCellReport[];
  /** Reachable cells reached at least once. */
  readonly reached: number;
  /** Cells the default swarm can reach (every cell but those of probes.ts NOT_REACHABLE). */
  readonly reachable: number;
  /** Names of reachable cells never reached. */
  readonly never: readonly string[];
  /**
   * Names of cells listed as not reachable that were reached: by a flag, a flaw, a scenario or a
   * strategy beyond the default swarm, or, under the default swarm, a sign that NOT_REACHABLE's
   * reason for them is out of date.
   */
  readonly beyond: readonly string[];
}

export function coverageReport(counts: CoverageCounts): CoverageReport {
  const cells: CoverageCellReport[] = [];
  const never: string[] = [];
  const beyond: string[] = [];
  let reached = 0;
  let reachable = 0;
  for (let i = 0; i < PROBES.length; i++) {
    const c = PROBES[i] as (typeof PROBES)[number];
    const count = counts[i] as number;
    const why = NOT_REACHABLE.get(c.name);
    cells.push(why === undefined ? { name: c.name, meaning: c.meaning, count } : { name: c.name, meaning: c.meaning, count, unreachable: why });
    if (why !== undefined) {
      if (count > 0) beyond.push(c.name);
      continue;
    }
    reachable++;
    if (count > 0) reached++;
    else never.push(c.name);
  }
  return { cells, reached, reachable, never, beyond };
}

/** The map as text: a header line, the reachable cells reached with their counts, those never reached, then any listed cell reached beyond the default swarm. */
export function formatCoverage(counts: CoverageCounts): string[] {
  const r = coverageReport(counts);
  const width = Math.max(...r.cells.map((c) => c.name.length));
  const unreachable = r.cells.length - r.reachable;
  const lines = [`coverage: ${r.reached} of ${r.reachable} reachable cells reached (${r.cells.length} cells, ${unreachable} not reachable by the default swarm${r.beyond.length > 0 ? `, ${r.beyond.length} of which reached here` : ''})`];
  for (const c of r.cells) if (c.count > 0 && c.unreachable === undefined) lines.push(`  ${c.name.padEnd(width)}  ${String(c.count).padStart(9)}  ${c.meaning}`);
  if (r.never.length > 0) {
    lines.push(`never reached (${r.never.length}):`);
    for (const c of r.cells) if (c.count === 0 && c.unreachable === undefined) lines.push(`  ${c.name.padEnd(width)}  ${c.meaning}`);
  }
  if (r.beyond.length > 0) {
    lines.push(`reached beyond the default swarm (${r.beyond.length}; a flag, a flaw, a scenario or a strategy reaches these):`);
    for (const c of r.cells) if (c.count > 0 && c.unreachable !== undefined) lines.push(`  ${c.name.padEnd(width)}  ${String(c.count).padStart(9)}  ${c.meaning}`);
  }
  return lines;
}

/** The map as one JSON line's object: `{"zabsim":"coverage", ...}`. */
export function coverageJson(counts: CoverageCounts): object {
  const r = coverageReport(counts);
  return { zabsim: 'coverage', reached: r.reached, reachable: r.reachable, never: r.never, beyond: r.beyond, cells: r.cells };
}
