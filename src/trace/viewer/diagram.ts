/**
 * The space-time diagram on a canvas: one lane per server, the messages crossing the window as
 * arrows, faults and fsync completions on the lanes, violations and the cursor. Only the records
 * of the window [t0, t1] are visited (TraceModel's binary searches), whatever the trace's length.
 */
import type { TraceEvent } from '../../sim/events.ts';
import type { ViolationFacts } from '../load.ts';
import type { TraceModel } from '../model.ts';
import { DOWN_FILL, messageColour, PARTITION_FILL, serverColour } from './colors.ts';
import { recordServers, type Filters } from './filters.ts';

export const LANE_H = 64;
export const TOP = 34;
export const GUTTER = 56;

/** The y of a server's lane, in CSS pixels from the canvas top. */
export function laneY(sid: number): number {
  return TOP + (sid - 1) * LANE_H + LANE_H / 2;
}

/** A stretch of a lane in one role (or DOWN), from t0 to t1 (Infinity: the end). */
export interface Segment {
  readonly t0: number;
  t1: number;
  readonly role: string;
}

/** Each server's role over time, from its start, state and crash records. */
export function roleSegments(records: readonly TraceEvent[], sids: readonly number[]): Map<number, Segment[]> {
  const segments = new Map<number, Segment[]>();
  for (const s of sids) segments.set(s, []);
  const open = new Map<number, Segment>();
  const begin = (sid: number, t: number, role: string): void => {
    const prev = open.get(sid);
    if (prev !== undefined) prev.t1 = t;
    const seg: Segment = { t0: t, t1: Infinity, role };
    segments.get(sid)?.push(seg);
    open.set(sid, seg);
  };
  for (const ev of records) {
    if (ev.type === 'start') begin(ev.sid, ev.t, 'LOOKING');
    else if (ev.type === 'state') begin(ev.sid, ev.t, ev.state);
    else if (ev.type === 'crash') begin(ev.sid, ev.t, 'DOWN');
  }
  return segments;
}

/** What one redraw needs. */
export interface DiagramInput {
  readonly records: readonly TraceEvent[];
  readonly model: TraceModel;
  readonly sids: readonly number[];
  readonly violations: readonly ViolationFacts[];
  readonly segments: ReadonlyMap<number, readonly Segment[]>;
  readonly filters: Filters;
  readonly selected: number;
  readonly t0: number;
  readonly t1: number;
  readonly lastT: number;
}

/** Draws the window; returns the number of arrows drawn. */
export function drawDiagram(canvas: HTMLCanvasElement, d: DiagramInput): number {
  const dpr = window.devicePixelRatio || 1;
  const cssW = canvas.clientWidth;
  const cssH = TOP + d.sids.length * LANE_H + 24;
  if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
    canvas.style.height = `${cssH}px`;
  }
  const g = canvas.getContext('2d') as CanvasRenderingContext2D;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, cssW, cssH);
  const { t0, t1, records, model } = d;
  const w = cssW - GUTTER - 10;
  const x = (t: number): number => GUTTER + ((t - t0) / (t1 - t0)) * w;
  const bottom = TOP + d.sids.length * LANE_H;
  let drawnArrows = 0;

  // Time axis.
  g.font = '11px sans-serif';
  g.fillStyle = '#555';
  g.strokeStyle = '#e5e5e5';
  g.lineWidth = 1;
  const step = niceStep((t1 - t0) / 8);
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    g.beginPath();
    g.moveTo(x(t), TOP - 6);
    g.lineTo(x(t), bottom);
    g.stroke();
    g.fillText(`${t} ms`, x(t) + 2, TOP - 10);
  }

  // Partitions: a band over every lane.
  for (const f of model.faults) {
    if (f.kind !== 'partition') continue;
    const a = (records[f.fromI] as TraceEvent).t;
    const b = f.toI < 0 ? d.lastT : (records[f.toI] as TraceEvent).t;
    if (b < t0 || a > t1) continue;
    g.fillStyle = PARTITION_FILL;
    g.fillRect(x(Math.max(a, t0)), TOP - 4, x(Math.min(b, t1)) - x(Math.max(a, t0)), bottom - TOP + 4);
    g.fillStyle = '#b35900';
    g.fillText(`partition ${f.desc}`, x(Math.max(a, t0)) + 3, bottom + 14);
  }

  // Lanes, styled by role; down periods shaded.
  for (const sid of d.sids) {
    const y = laneY(sid);
    const dim = !d.filters.servers.has(sid);
    g.globalAlpha = dim ? 0.25 : 1;
    g.fillStyle = serverColour(sid);
    g.font = 'bold 13px sans-serif';
    g.fillText(`s${sid}`, 8, y + 4);
    for (const seg of d.segments.get(sid) ?? []) {
      if (seg.t1 < t0 || seg.t0 > t1) continue;
      const a = x(Math.max(seg.t0, t0));
      const b = x(Math.min(seg.t1 === Infinity ? d.lastT : seg.t1, t1));
      if (seg.role === 'DOWN') {
        g.fillStyle = DOWN_FILL;
        g.fillRect(a, y - LANE_H / 2 + 4, b - a, LANE_H - 8);
        g.fillStyle = '#b22';
        g.font = '11px sans-serif';
        g.fillText('down', a + 4, y - 8);
        continue;
      }
      g.strokeStyle = serverColour(sid);
      g.lineWidth = seg.role === 'LEADING' ? 6 : seg.role === 'LOOKING' ? 1.5 : 3;
      g.setLineDash(seg.role === 'LOOKING' ? [4, 4] : seg.role === 'OBSERVING' ? [1, 3] : []);
      g.beginPath();
      g.moveTo(a, y);
      g.lineTo(b, y);
      g.stroke();
      g.setLineDash([]);
      if (seg.t0 >= t0 && b - a > 40) {
        g.fillStyle = '#333';
        g.font = '10px sans-serif';
        g.fillText(seg.role, a + 3, y + 15);
      }
    }
    g.globalAlpha = 1;
  }

  // Point events of the window: crashes, restarts, fsync completions, halts, storage faults.
  const from = model.indexAtTime(t0);
  const to = model.indexAtTime(t1 + 1);
  for (let i = from; i < to; i++) {
    const ev = records[i] as TraceEvent;
    if (ev.type !== 'crash' && ev.type !== 'start' && ev.type !== 'fsync' && ev.type !== 'halt' && ev.type !== 'diskfail' && ev.type !== 'snapfile') continue;
    if (!d.filters.keeps(ev)) continue;
    const px = x(ev.t);
    const y = laneY(ev.sid);
    if (ev.type === 'crash') {
      g.strokeStyle = '#d62728';
      g.lineWidth = 3;
      g.beginPath();
      g.moveTo(px - 7, y - 7);
      g.lineTo(px + 7, y + 7);
      g.moveTo(px + 7, y - 7);
      g.lineTo(px - 7, y + 7);
      g.stroke();
    } else if (ev.type === 'start') {
      g.fillStyle = ev.restart ? '#2ca02c' : '#999';
      g.beginPath();
      g.moveTo(px, y - 8);
      g.lineTo(px + 8, y);
      g.lineTo(px, y + 8);
      g.closePath();
      g.fill();
    } else if (ev.type === 'halt' || ev.type === 'diskfail' || (ev.type === 'snapfile' && ev.change === 'corrupt')) {
      g.fillStyle = '#d62728';
      g.fillRect(px - 4, y - 12, 8, 8);
    } else if (ev.type === 'snapfile') {
      // An operator removed a file that fails its CRC.
      g.strokeStyle = '#d62728';
      g.lineWidth = 1;
      g.strokeRect(px - 4, y - 12, 8, 8);
    } else if (ev.stage === 'done') {
      g.fillStyle = '#9467bd';
      g.fillRect(px - 1, y + 5, 3, 7);
    }
  }

  // Messages crossing the window.
  const sel = records[d.selected] as TraceEvent | undefined;
  const selT = sel?.t ?? 0;
  const selMsg = model.recordMessage[d.selected] ?? null;
  const visible = model.messagesInWindow(t0, t1).filter((m) => d.filters.keepsMessage(m, records));
  // Few enough arrows to name them all: label each at its middle.
  const labelAll = visible.length <= 40;
  for (const m of visible) {
    const s = records[m.sendI] as TraceEvent;
    const endT = m.endI < 0 ? d.lastT : (records[m.endI] as TraceEvent).t;
    const x0 = x(s.t);
    const y0 = laneY(m.from);
    // A message dropped at its send (loss, a blocked or broken link) never left: a short stub
    // toward the receiver ends in the ✕. One dropped on arrival ends at the receiver's lane.
    const stub = m.dropped !== null && endT === s.t;
    const x1 = stub ? x0 + 14 : x(endT);
    const y1 = stub ? y0 + (laneY(m.to) - y0) * 0.3 : laneY(m.to);
    const colour = messageColour(m.type);
    const highlight = selMsg === m;
    drawnArrows++;
    if (m.from === m.to) {
      g.strokeStyle = colour;
      g.lineWidth = 1;
      g.beginPath();
      g.arc(x0 + 4, y0 - 8, 4, 0, 2 * Math.PI);
      g.stroke();
      continue;
    }
    // In flight at the selected record: sent before it, delivered (or dropped) after it.
    const waiting = m.sendI <= d.selected && (m.endI < 0 || m.endI > d.selected);
    g.strokeStyle = colour;
    g.lineWidth = highlight ? 3.5 : waiting ? 2.2 : 1.3;
    g.setLineDash(m.dropped !== null || m.endI < 0 ? [5, 3] : []);
    g.beginPath();
    g.moveTo(x0, y0);
    g.lineTo(x1, y1);
    g.stroke();
    g.setLineDash([]);
    if (m.dropped !== null) {
      g.strokeStyle = '#d62728';
      g.lineWidth = 2;
      g.beginPath();
      g.moveTo(x1 - 5, y1 - 5);
      g.lineTo(x1 + 5, y1 + 5);
      g.moveTo(x1 + 5, y1 - 5);
      g.lineTo(x1 - 5, y1 + 5);
      g.stroke();
    } else if (m.endI >= 0) arrowHead(g, x0, y0, x1, y1, colour);
    if (waiting && endT > s.t) {
      // Where the message is at the selected time: a ring on its arrow.
      const f = Math.min(1, Math.max(0, (selT - s.t) / (endT - s.t)));
      g.strokeStyle = colour;
      g.lineWidth = 2;
      g.beginPath();
      g.arc(x0 + (x1 - x0) * f, y0 + (y1 - y0) * f, 4.5, 0, 2 * Math.PI);
      g.stroke();
    }
    if (highlight || (labelAll && Math.hypot(x1 - x0, y1 - y0) > 50)) {
      g.fillStyle = highlight ? '#111' : colour;
      g.font = highlight ? 'bold 11px sans-serif' : '10px sans-serif';
      g.fillText(m.type, (x0 + x1) / 2 + 4, (y0 + y1) / 2 - 3);
    }
  }

  // Violations.
  for (const v of d.violations) {
    if (v.t < t0 || v.t > t1) continue;
    g.strokeStyle = '#d62728';
    g.lineWidth = 2;
    g.setLineDash([6, 3]);
    g.beginPath();
    g.moveTo(x(v.t), TOP - 4);
    g.lineTo(x(v.t), bottom);
    g.stroke();
    g.setLineDash([]);
    g.fillStyle = '#d62728';
    g.font = 'bold 12px sans-serif';
    g.fillText(`⚠ ${v.property}`, x(v.t) + 4, bottom + 14);
  }

  // The selected record.
  if (sel !== undefined) {
    g.strokeStyle = '#111';
    g.lineWidth = 1;
    g.beginPath();
    g.moveTo(x(selT), TOP - 6);
    g.lineTo(x(selT), bottom);
    g.stroke();
    const who = recordServers(sel);
    for (const s of who) {
      g.strokeStyle = '#111';
      g.lineWidth = 2;
      g.beginPath();
      g.arc(x(selT), laneY(s), 7, 0, 2 * Math.PI);
      g.stroke();
    }
  }
  return drawnArrows;
}

function arrowHead(g: CanvasRenderingContext2D, x0: number, y0: number, x1: number, y1: number, colour: string): void {
  const a = Math.atan2(y1 - y0, x1 - x0);
  g.fillStyle = colour;
  g.beginPath();
  g.moveTo(x1, y1);
  g.lineTo(x1 - 9 * Math.cos(a - 0.4), y1 - 9 * Math.sin(a - 0.4));
  g.lineTo(x1 - 9 * Math.cos(a + 0.4), y1 - 9 * Math.sin(a + 0.4));
  g.closePath();
  g.fill();
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}
