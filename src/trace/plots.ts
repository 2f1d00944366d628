/**
 * Plots of a run as standalone SVG (plain SVG text, no library): client latency over time with
 * the faults shaded (Jepsen's latency-raw: one point per operation, log scale), and throughput
 * over time (operations completed per second, by outcome). The viewer embeds them; `zabsim
 * export plots` writes them as files.
 */
import type { HistoryOp } from '../sim/clients.ts';
import type { TraceEvent } from '../sim/events.ts';
import type { FaultPeriod } from './model.ts';
import type { ExploreSample } from './results.ts';
import { DOWN_FILL, OUTCOME_COLOURS, PARTITION_FILL } from './viewer/colors.ts';

const W = 900;
const H = 280;
const M = { left: 62, right: 130, top: 28, bottom: 40 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

interface Frame {
  readonly parts: string[];
  readonly x: (ms: number) => number;
  readonly plotW: number;
  readonly plotH: number;
}

function frame(title: string, endMs: number, faults: readonly FaultPeriod[], records: readonly TraceEvent[], xLabel = 'virtual time (s)'): Frame {
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const span = Math.max(endMs, 1);
  const x = (ms: number): number => M.left + (ms / span) * plotW;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="${M.left}" y="16" font-size="13" font-weight="bold">${esc(title)}</text>`);
  // Fault shading: a band per down period (labelled with the server) and per partition.
  for (const f of faults) {
    const a = (records[f.fromI] as TraceEvent).t;
    const b = f.toI < 0 ? endMs : (records[f.toI] as TraceEvent).t;
    const fill = f.kind === 'down' ? DOWN_FILL : PARTITION_FILL;
    parts.push(`<rect class="fault ${f.kind}" x="${x(a).toFixed(1)}" y="${M.top}" width="${Math.max(1, x(b) - x(a)).toFixed(1)}" height="${plotH}" fill="${fill}"><title>${esc(f.desc)} ${a}..${b} ms</title></rect>`);
    if (f.kind === 'down') parts.push(`<text x="${(x(a) + 2).toFixed(1)}" y="${M.top + 10}" fill="#b22" font-size="9">s${f.sid}</text>`);
  }
  // Time axis in seconds.
  const step = niceStep(span / 10);
  for (let t = 0; t <= span; t += step) {
    parts.push(`<line x1="${x(t).toFixed(1)}" y1="${M.top + plotH}" x2="${x(t).toFixed(1)}" y2="${M.top + plotH + 4}" stroke="#333"/>`);
    parts.push(`<text x="${x(t).toFixed(1)}" y="${M.top + plotH + 16}" text-anchor="middle">${t / 1000}</text>`);
  }
  parts.push(`<text x="${M.left + plotW / 2}" y="${H - 6}" text-anchor="middle">${esc(xLabel)}</text>`);
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  return { parts, x, plotW, plotH };
}

function legend(parts: string[], items: readonly [string, string, 'dot' | 'box' | 'line'][]): void {
  let y = M.top + 8;
  const lx = W - M.right + 12;
  for (const [label, colour, shape] of items) {
    if (shape === 'dot') parts.push(`<circle cx="${lx + 5}" cy="${y - 4}" r="4" fill="${colour}"/>`);
    else if (shape === 'line') parts.push(`<line x1="${lx}" y1="${y - 4}" x2="${lx + 12}" y2="${y - 4}" stroke="${colour}" stroke-width="2"/>`);
    else parts.push(`<rect x="${lx}" y="${y - 10}" width="12" height="10" fill="${colour}" stroke="#999" stroke-width="0.5"/>`);
    parts.push(`<text x="${lx + 18}" y="${y}">${esc(label)}</text>`);
    y += 16;
  }
}

const FAULT_LEGEND: [string, string, 'box'][] = [
  ['server down', DOWN_FILL, 'box'],
  ['partition', PARTITION_FILL, 'box'],
];

/** Latency of every completed client operation against its invocation time, log scale. */
export function latencySvg(history: readonly HistoryOp[], faults: readonly FaultPeriod[], records: readonly TraceEvent[], endMs: number): string {
  const f = frame('Client latency (one point per operation)', endMs, faults, records);
  const done = history.filter((o) => o.completeMs !== null);
  const maxLat = Math.max(10, ...done.map((o) => (o.completeMs as number) - o.invokeMs));
  const lo = 1;
  const hiExp = Math.ceil(Math.log10(maxLat));
  const y = (lat: number): number => M.top + f.plotH - (Math.log10(Math.max(lat, lo)) / hiExp) * f.plotH;
  for (let e = 0; e <= hiExp; e++) {
    const yy = y(10 ** e);
    f.parts.push(`<line x1="${M.left - 4}" y1="${yy.toFixed(1)}" x2="${M.left + f.plotW}" y2="${yy.toFixed(1)}" stroke="#eee"/>`);
    f.parts.push(`<text x="${M.left - 6}" y="${(yy + 4).toFixed(1)}" text-anchor="end">${10 ** e}</text>`);
  }
  f.parts.push(`<text transform="translate(14 ${M.top + f.plotH / 2}) rotate(-90)" text-anchor="middle">latency (ms, log)</text>`);
  const byOutcome = new Map<string, string[]>();
  for (const o of done) {
    const k = o.outcome ?? 'pending';
    let list = byOutcome.get(k);
    if (list === undefined) byOutcome.set(k, (list = []));
    list.push(`M${f.x(o.invokeMs).toFixed(1)},${y((o.completeMs as number) - o.invokeMs).toFixed(1)}h0`);
  }
  for (const k of ['ok', 'unknown', 'error']) {
    const list = byOutcome.get(k);
    if (list !== undefined) f.parts.push(`<path class="points ${k}" d="${list.join('')}" stroke="${OUTCOME_COLOURS[k]}" stroke-width="3.5" stroke-linecap="round" opacity="0.7"/>`);
  }
  legend(f.parts, [
    [`ok (${byOutcome.get('ok')?.length ?? 0})`, OUTCOME_COLOURS['ok'] as string, 'dot'],
    [`error (${byOutcome.get('error')?.length ?? 0})`, OUTCOME_COLOURS['error'] as string, 'dot'],
    [`unknown (${byOutcome.get('unknown')?.length ?? 0})`, OUTCOME_COLOURS['unknown'] as string, 'dot'],
    ...FAULT_LEGEND,
  ]);
  f.parts.push('</svg>');
  return f.parts.join('\n');
}

/** Operations completed per second of virtual time, one line per outcome. */
export function throughputSvg(history: readonly HistoryOp[], faults: readonly FaultPeriod[], records: readonly TraceEvent[], endMs: number): string {
  const f = frame('Throughput (operations completed per second)', endMs, faults, records);
  const buckets = Math.max(1, Math.ceil(endMs / 1000));
  const counts: Record<string, number[]> = { ok: new Array<number>(buckets).fill(0), error: new Array<number>(buckets).fill(0), unknown: new Array<number>(buckets).fill(0) };
  for (const o of history) {
    if (o.completeMs === null || o.outcome === null) continue;
    const b = Math.min(buckets - 1, Math.floor(o.completeMs / 1000));
    (counts[o.outcome] as number[])[b]!++;
  }
  const max = Math.max(1, ...Object.values(counts).flat());
  const step = niceStep(max / 5);
  const top = Math.ceil(max / step) * step;
  const y = (n: number): number => M.top + f.plotH - (n / top) * f.plotH;
  for (let n = 0; n <= top; n += step) {
    f.parts.push(`<line x1="${M.left - 4}" y1="${y(n).toFixed(1)}" x2="${M.left + f.plotW}" y2="${y(n).toFixed(1)}" stroke="#eee"/>`);
    f.parts.push(`<text x="${M.left - 6}" y="${(y(n) + 4).toFixed(1)}" text-anchor="end">${n}</text>`);
  }
  f.parts.push(`<text transform="translate(14 ${M.top + f.plotH / 2}) rotate(-90)" text-anchor="middle">ops/s</text>`);
  for (const k of ['ok', 'error', 'unknown']) {
    const c = counts[k] as number[];
    if (c.every((n) => n === 0)) continue;
    const d = c.map((n, b) => `${b === 0 ? 'M' : 'L'}${f.x(b * 1000).toFixed(1)},${y(n).toFixed(1)}H${f.x(Math.min(endMs, (b + 1) * 1000)).toFixed(1)}`).join('');
    f.parts.push(`<path class="series ${k}" d="${d}" fill="none" stroke="${OUTCOME_COLOURS[k]}" stroke-width="1.6"/>`);
  }
  const total = (k: string): number => (counts[k] as number[]).reduce((a, b) => a + b, 0);
  legend(f.parts, [
    [`ok (${total('ok')})`, OUTCOME_COLOURS['ok'] as string, 'line'],
    [`error (${total('error')})`, OUTCOME_COLOURS['error'] as string, 'line'],
    [`unknown (${total('unknown')})`, OUTCOME_COLOURS['unknown'] as string, 'line'],
    ...FAULT_LEGEND,
  ]);
  f.parts.push('</svg>');
  return f.parts.join('\n');
}

/** A y axis from 0 to a nice top above `max`, with grid lines; returns the scale. */
function linearAxis(f: Frame, max: number, label: string): (n: number) => number {
  const step = niceStep(Math.max(max, 1e-9) / 5);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const y = (n: number): number => M.top + f.plotH - (n / top) * f.plotH;
  for (let n = 0; n <= top + step / 2; n += step) {
    const label2 = Number.isInteger(n) ? String(n) : n.toFixed(2);
    f.parts.push(`<line x1="${M.left - 4}" y1="${y(n).toFixed(1)}" x2="${M.left + f.plotW}" y2="${y(n).toFixed(1)}" stroke="#eee"/>`);
    f.parts.push(`<text x="${M.left - 6}" y="${(y(n) + 4).toFixed(1)}" text-anchor="end">${label2}</text>`);
  }
  f.parts.push(`<text transform="translate(14 ${M.top + f.plotH / 2}) rotate(-90)" text-anchor="middle">${esc(label)}</text>`);
  return y;
}

/** An explore sweep's speed: seeds finished per second between successive samples, over wall-clock time. */
export function exploreRateSvg(samples: readonly ExploreSample[]): string {
  const endMs = samples.length > 0 ? (samples[samples.length - 1] as ExploreSample).wallMs : 0;
  const f = frame('Seeds per second', endMs, [], [], 'wall-clock time since the sweep began (s)');
  const rates: [number, number, number][] = [];
  for (let k = 1; k < samples.length; k++) {
    const a = samples[k - 1] as ExploreSample;
    const b = samples[k] as ExploreSample;
    if (b.wallMs > a.wallMs) rates.push([a.wallMs, b.wallMs, ((b.seeds - a.seeds) * 1000) / (b.wallMs - a.wallMs)]);
  }
  const y = linearAxis(f, Math.max(0, ...rates.map((r) => r[2])), 'seeds/s');
  if (rates.length > 0) {
    const d = rates.map(([a, b, r], k) => `${k === 0 ? 'M' : 'L'}${f.x(a).toFixed(1)},${y(r).toFixed(1)}H${f.x(b).toFixed(1)}`).join('');
    f.parts.push(`<path class="series rate" d="${d}" fill="none" stroke="#1f77b4" stroke-width="1.6"/>`);
  }
  const last = samples[samples.length - 1];
  const mean = last !== undefined && last.wallMs > 0 ? (last.seeds * 1000) / last.wallMs : 0;
  legend(f.parts, [[`${last?.seeds ?? 0} seeds`, '#1f77b4', 'line'], [`mean ${mean.toFixed(1)}/s`, '#1f77b4', 'line']]);
  f.parts.push('</svg>');
  return f.parts.join('\n');
}

/** An explore sweep's failing seeds found so far, over wall-clock time. */
export function exploreFailuresSvg(samples: readonly ExploreSample[]): string {
  const endMs = samples.length > 0 ? (samples[samples.length - 1] as ExploreSample).wallMs : 0;
  const f = frame('Failing seeds found', endMs, [], [], 'wall-clock time since the sweep began (s)');
  const total = samples.length > 0 ? (samples[samples.length - 1] as ExploreSample).failures : 0;
  const y = linearAxis(f, total, 'failing seeds');
  if (samples.length > 0) {
    const d = samples.map((s, k) => `${k === 0 ? 'M' : 'H'}${f.x(s.wallMs).toFixed(1)}${k === 0 ? ',' : 'V'}${y(s.failures).toFixed(1)}`).join('');
    f.parts.push(`<path class="series failures" d="${d}" fill="none" stroke="${OUTCOME_COLOURS['error']}" stroke-width="1.6"/>`);
  }
  legend(f.parts, [[`${total} failing`, OUTCOME_COLOURS['error'] as string, 'line']]);
  f.parts.push('</svg>');
  return f.parts.join('\n');
}
