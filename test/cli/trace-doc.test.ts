/**
 * docs/trace.md shows the text renderer on real runs ("A cluster's life, in excerpts": the
 * defaults, seed 7 of a five-voter command with faults, and seed 20 of it for the TRUNC), the
 * header and summary around a trace, and `--check-determinism`. Those excerpts are served from
 * the runs themselves: each code block's lines, "..." aside, must appear in that order in what
 * `zabsim run` prints today (the header and the determinism lines exactly),
 * so a change to the renderer, the protocol or the defaults that moves them fails here until the
 * page is brought up to date (the aesthetics review's "serve the trace excerpts from golden
 * traces, checked by a test").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './run-cli.ts';

const PAGE = join(import.meta.dirname, '..', '..', 'docs', 'trace.md');
const text = readFileSync(PAGE, 'utf8');

/** The runs the page quotes, by the sentence that introduces their excerpts. */
const DEFAULTS = ['run'];
const SEED7 = ['run', '--servers', '5', '--observers', '1', '--clients', '4', '--until', '60s', '--crash-every', '10s', '--partition-every', '20s', '--seed', '7'];
/** The same command at seed 20: the page's TRUNC. */
const SEED20 = [...SEED7.slice(0, -1), '20'];

interface Block {
  readonly line: number;
  readonly lines: readonly string[];
}

/** The fenced code blocks between two markers of the page (each marker a unique line start). */
function blocks(from: string, to: string): Block[] {
  const all = text.split('\n');
  const start = all.findIndex((l) => l.startsWith(from));
  const end = all.findIndex((l, i) => i > start && l.startsWith(to));
  expect(start, `docs/trace.md has a line starting ${JSON.stringify(from)}`).toBeGreaterThanOrEqual(0);
  expect(end, `docs/trace.md has a line starting ${JSON.stringify(to)} after it`).toBeGreaterThan(start);
  const out: Block[] = [];
  let open: { line: number; lines: string[] } | null = null;
  for (let i = start; i < end; i++) {
    const l = all[i] as string;
    if (l.startsWith('```')) {
      if (open === null) open = { line: i + 2, lines: [] };
      else {
        out.push(open);
        open = null;
      }
    } else if (open !== null) open.lines.push(l);
  }
  return out;
}

/** The first line of `block` that is not found, in order, among `output`'s lines; null when all are. */
function missing(block: Block, output: readonly string[]): string | null {
  let at = 0;
  for (const [k, l] of block.lines.entries()) {
    if (l.trim() === '...' || l.trim() === '') continue;
    const found = output.indexOf(l, at);
    if (found < 0) return `docs/trace.md line ${block.line + k}: ${JSON.stringify(l)} is not in the run's output${output.includes(l) ? ' after the line before it' : ''}`;
    at = found + 1;
  }
  return null;
}

describe('docs/trace.md quotes real runs', () => {
  it('`--check-determinism` prints what the page shows', () => {
    const [block] = blocks('## `--check-determinism`', 'If the runs differ');
    const r = cli('run', '--check-determinism');
    expect(r.code).toBe(0);
    expect(r.out.trimEnd().split('\n')).toEqual(block?.lines);
  });

  const defaults = cli(...DEFAULTS);
  const seed7 = cli(...SEED7);
  const seed20 = cli(...SEED20);
  const outA = defaults.out.split('\n');
  const outB = seed7.out.split('\n');
  const outC = seed20.out.split('\n');

  it('the runs it quotes run', () => {
    expect([defaults.code, defaults.err]).toEqual([0, '']);
    expect(seed7.err).toBe('');
    expect(seed20.err).toBe('');
  });

  it("the excerpts of `zabsim run` (the defaults) are in its trace, in order", () => {
    const bs = blocks("## A cluster's life, in excerpts", 'The remaining excerpts come from');
    expect(bs.length).toBeGreaterThanOrEqual(2);
    for (const b of bs) expect(missing(b, outA)).toBeNull();
  });

  it('the excerpts of the seed 7 run (5 voters, an observer, clients, a partition) are in its trace, in order', () => {
    const bs = blocks('The remaining excerpts come from', '### A TRUNC');
    expect(bs.length).toBeGreaterThanOrEqual(4);
    for (const b of bs) expect(missing(b, outB)).toBeNull();
  });

  it('the TRUNC excerpt is in the seed 20 run of the same command', () => {
    const bs = blocks('### A TRUNC', '## Header and summary');
    expect(bs.length).toBe(1);
    for (const b of bs) expect(missing(b, outC)).toBeNull();
  });

  it('the header and summary are those of `zabsim run`, and the clients lines those of the seed 7 run', () => {
    const [header, summary, clients] = blocks('## Header and summary', 'A violation is also marked inside the trace');
    expect(header?.lines).toEqual(outA.slice(0, header?.lines.length));
    expect(missing(summary as Block, outA)).toBeNull();
    expect(missing(clients as Block, outB)).toBeNull();
  });
});
