/// <reference lib="dom" />
/**
 * The viewer page's script, bundled by src/trace/html.ts into trace.html. It reads the trace
 * embedded in the page, builds a TraceModel, and draws:
 * - a space-time diagram on one canvas: a lane per server, messages as arrows, faults and fsyncs
 *   on the lanes; only the records of the visible time window are drawn (virtualised), so a
 *   100k-record trace costs what its window costs;
 * - the selected record's neighbours as a short list (also virtualised: ~30 rows);
 * - every server's state after the selected record (TraceModel.stateAt);
 * - the violations, with buttons that jump to them.
 * Keys: ← → step (through the records the filters keep), Shift+← → 100 records, Home/End,
 * v next violation, + − zoom.
 */
import type { TraceEvent } from '../../sim/events.ts';
import { renderEvent } from '../text.ts';
import { fmtZxid, TraceModel, type MessageInfo, type ServerView } from '../model.ts';
import type { ViolationFacts } from '../load.ts';
import { DOWN_FILL, messageColour, MESSAGE_COLOURS, PARTITION_FILL, serverColour } from './colors.ts';

/** What html.ts embeds in the page. */
export interface PageData {
  readonly title: string;
  readonly parameters: readonly string[];
  readonly records: TraceEvent[];
  readonly sids: number[];
  readonly violations: readonly ViolationFacts[];
  readonly verdict: string;
  readonly replay: string | null;
}

const data = JSON.parse((document.getElementById('zabsim-data') as HTMLScriptElement).textContent as string) as PageData;
const records = data.records;
const model = new TraceModel(records, data.sids);
const N = records.length;
const lastT = N > 0 ? (records[N - 1] as TraceEvent).t : 0;

// ------------------------------------------------------------------------------------------
// Filters

const shownServers = new Set<number>(data.sids);
const shownTypes = new Set<string>(model.messageTypes);
let zxidFilter: number | null = null;

function recordServers(ev: TraceEvent): number[] {
  switch (ev.type) {
    case 'send':
    case 'deliver':
    case 'drop':
    case 'slow':
      return [ev.from, ev.to];
    case 'partition':
    case 'heal':
      return [];
    default:
      return [ev.sid];
  }
}

function recordZxids(ev: TraceEvent): number[] {
  if (ev.type === 'send' || ev.type === 'deliver' || ev.type === 'drop') {
    const m = ev.msg as { zxid?: number };
    return m.zxid !== undefined ? [m.zxid] : [];
  }
  if (ev.type === 'persist' || ev.type === 'fsync') {
    const w = ev.write;
    if (w.op === 'appendLog') return [w.entry.zxid];
    if (w.op === 'truncateLog') return [w.zxid];
    if (w.op === 'snapshot') return [w.snapshot.zxid];
    return [];
  }
  if (ev.type === 'reply') return [ev.reply.zxid];
  return [];
}

function keeps(ev: TraceEvent): boolean {
  const who = recordServers(ev);
  for (const s of who) if (!shownServers.has(s)) return false;
  if ((ev.type === 'send' || ev.type === 'deliver' || ev.type === 'drop') && !shownTypes.has(ev.msg.type)) return false;
  if (zxidFilter !== null && !recordZxids(ev).includes(zxidFilter)) return false;
  return true;
}

function keepsMessage(m: MessageInfo): boolean {
  if (!shownServers.has(m.from) || !shownServers.has(m.to) || !shownTypes.has(m.type)) return false;
  if (zxidFilter !== null) {
    const z = ((records[m.sendI] as TraceEvent & { msg: { zxid?: number } }).msg).zxid;
    if (z !== zxidFilter) return false;
  }
  return true;
}

/** `<1,17>`, `1,17`, or a plain number. */
function parseZxid(text: string): number | null {
  const t = text.trim();
  if (t === '') return null;
  const m = /^<?\s*(\d+)\s*,\s*(\d+)\s*>?$/.exec(t);
  if (m !== null) return Number(m[1]) * 2 ** 32 + Number(m[2]);
  if (/^\d+$/.test(t)) return Number(t);
  return NaN;
}

// ------------------------------------------------------------------------------------------
// Text of a record (SNAP trees and snapshot data are left out of the page: see html.ts)

function recordText(ev: TraceEvent): string {
  if ((ev.type === 'send' || ev.type === 'deliver' || ev.type === 'drop') && ev.msg.type === 'SNAP') {
    const n = (ev.msg as unknown as { znodes: number }).znodes;
    const arrow = ev.type === 'drop' ? '-x' : '->';
    return `${String(ev.t).padStart(8)}  ${`s${ev.from} ${arrow} s${ev.to}`.padEnd(12)} ${ev.type.padEnd(9)} SNAP ${fmtZxid(ev.msg.zxid)} (${n} znodes)  #${ev.id}${ev.type === 'drop' ? `  (${ev.reason})` : ''}`;
  }
  if ((ev.type === 'persist' || ev.type === 'fsync') && ev.write.op === 'snapshot') {
    const n = (ev.write.snapshot as unknown as { znodes: number }).znodes;
    return `${String(ev.t).padStart(8)}  ${`s${ev.sid}`.padEnd(12)} ${ev.type.padEnd(9)} snapshot ${fmtZxid(ev.write.snapshot.zxid)} (${n} znodes)  token ${ev.token}`;
  }
  return renderEvent(ev);
}

// ------------------------------------------------------------------------------------------
// Lane facts: role segments per server, fsync completions

interface Segment {
  readonly t0: number;
  t1: number;
  readonly role: string;
}

const segments = new Map<number, Segment[]>();
for (const s of data.sids) segments.set(s, []);
{
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
}

// ------------------------------------------------------------------------------------------
// Elements

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const canvas = $<HTMLCanvasElement>('diagram');
const slider = $<HTMLInputElement>('slider');
const position = $('position');
const eventList = $('events');
const statePanel = $('state');
const zoomLabel = $('zoom-label');

let selected = 0;
let spanMs = 200;

const LANE_H = 64;
const TOP = 34;
const GUTTER = 56;

function laneY(sid: number): number {
  return TOP + (sid - 1) * LANE_H + LANE_H / 2;
}

function windowOf(): [number, number] {
  const t = N > 0 ? (records[selected] as TraceEvent).t : 0;
  const t0 = Math.max(0, t - spanMs / 2);
  return [t0, t0 + spanMs];
}

// ------------------------------------------------------------------------------------------
// Drawing

function draw(): void {
  const dpr = window.devicePixelRatio || 1;
  const cssW = canvas.clientWidth;
  const cssH = TOP + data.sids.length * LANE_H + 24;
  if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
    canvas.style.height = `${cssH}px`;
  }
  const g = canvas.getContext('2d') as CanvasRenderingContext2D;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, cssW, cssH);
  const [t0, t1] = windowOf();
  const w = cssW - GUTTER - 10;
  const x = (t: number): number => GUTTER + ((t - t0) / (t1 - t0)) * w;
  const bottom = TOP + data.sids.length * LANE_H;
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
    const b = f.toI < 0 ? lastT : (records[f.toI] as TraceEvent).t;
    if (b < t0 || a > t1) continue;
    g.fillStyle = PARTITION_FILL;
    g.fillRect(x(Math.max(a, t0)), TOP - 4, x(Math.min(b, t1)) - x(Math.max(a, t0)), bottom - TOP + 4);
    g.fillStyle = '#b35900';
    g.fillText(`partition ${f.desc}`, x(Math.max(a, t0)) + 3, bottom + 14);
  }

  // Lanes, styled by role; down periods shaded.
  for (const sid of data.sids) {
    const y = laneY(sid);
    const dim = !shownServers.has(sid);
    g.globalAlpha = dim ? 0.25 : 1;
    g.fillStyle = serverColour(sid);
    g.font = 'bold 13px sans-serif';
    g.fillText(`s${sid}`, 8, y + 4);
    for (const seg of segments.get(sid) ?? []) {
      if (seg.t1 < t0 || seg.t0 > t1) continue;
      const a = x(Math.max(seg.t0, t0));
      const b = x(Math.min(seg.t1 === Infinity ? lastT : seg.t1, t1));
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

  // Point events of the window: crashes, restarts, fsync completions, halts.
  const from = model.indexAtTime(t0);
  const to = model.indexAtTime(t1 + 1);
  for (let i = from; i < to; i++) {
    const ev = records[i] as TraceEvent;
    if (ev.type !== 'crash' && ev.type !== 'start' && ev.type !== 'fsync' && ev.type !== 'halt' && ev.type !== 'diskfail') continue;
    if (!keeps(ev)) continue;
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
    } else if (ev.type === 'halt' || ev.type === 'diskfail') {
      g.fillStyle = '#d62728';
      g.fillRect(px - 4, y - 12, 8, 8);
    } else if (ev.stage === 'done') {
      g.fillStyle = '#9467bd';
      g.fillRect(px - 1, y + 5, 3, 7);
    }
  }

  // Messages crossing the window.
  const sel = records[selected] as TraceEvent | undefined;
  const selT = sel?.t ?? 0;
  const selMsg = model.recordMessage[selected] ?? null;
  const visible = model.messagesInWindow(t0, t1).filter(keepsMessage);
  // Few enough arrows to name them all: label each at its middle.
  const labelAll = visible.length <= 40;
  for (const m of visible) {
    const s = records[m.sendI] as TraceEvent;
    const endT = m.endI < 0 ? lastT : (records[m.endI] as TraceEvent).t;
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
    const waiting = m.sendI <= selected && (m.endI < 0 || m.endI > selected);
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
  for (const v of data.violations) {
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
  canvas.dataset['arrows'] = String(drawnArrows);
  canvas.dataset['lanes'] = String(data.sids.length);
  canvas.dataset['laneYs'] = data.sids.map(laneY).join(',');
  canvas.dataset['window'] = `${t0}..${t1}`;
  zoomLabel.textContent = `window ${Math.round(t1 - t0)} ms`;
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

// ------------------------------------------------------------------------------------------
// The event list (the selected record and its filtered neighbours) and the state panel

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function neighbours(count: number): number[] {
  const before: number[] = [];
  for (let i = selected - 1; i >= 0 && before.length < count; i--) if (keeps(records[i] as TraceEvent)) before.push(i);
  const after: number[] = [];
  for (let i = selected + 1; i < N && after.length < count; i++) if (keeps(records[i] as TraceEvent)) after.push(i);
  return [...before.reverse(), selected, ...after];
}

function renderList(): void {
  const violationAt = new Set(data.violations.map((v) => v.i));
  const rows = neighbours(14).map((i) => {
    const ev = records[i] as TraceEvent;
    const cls = [i === selected ? 'sel' : '', violationAt.has(i) ? 'viol' : '', keeps(ev) ? '' : 'filtered'].join(' ').trim();
    return `<div class="row ${cls}" data-i="${i}"><span class="idx">#${i}</span>${escapeHtml(recordText(ev))}</div>`;
  });
  eventList.innerHTML = rows.join('');
}

function zx(z: number | null): string {
  return z === null ? '-' : fmtZxid(z);
}

function logCell(v: ServerView): string {
  if (!v.up) return `<span class="muted">durable: ${v.durableLog.length} txns${v.durableLog.length > 0 ? ` up to ${zx(v.durableLog[v.durableLog.length - 1] as number)}` : ''}</span>`;
  const durable = new Set(v.durableLog);
  const tail = v.log.slice(-6);
  const cells = tail.map((z) => {
    const cls = z <= v.applied ? 'applied' : 'logged';
    const nd = durable.has(z) ? '' : ' nondurable';
    return `<span class="z ${cls}${nd}" title="${z <= v.applied ? 'applied (committed prefix)' : 'logged, not applied'}${durable.has(z) ? ', durable' : ', not yet durable'}">${fmtZxid(z)}</span>`;
  });
  const more = v.log.length > tail.length ? `<span class="muted">… ${v.log.length - tail.length} more</span> ` : '';
  const base = v.logBase > 0 ? `<span class="muted">snapshot ${fmtZxid(v.logBase)} +</span> ` : '';
  return `${base}${more}${cells.join(' ')}${v.log.length === 0 ? '<span class="muted">empty</span>' : ''}<div class="muted">applied ≤ ${fmtZxid(v.applied)}</div>`;
}

function renderState(): void {
  const views = model.stateAt(selected);
  const focus = new Set<number>();
  for (const v of data.violations) if (v.i === selected) for (const s of v.servers) focus.add(s);
  const rows = data.sids.map((sid) => {
    const v = views[sid] as ServerView;
    const role = v.up ? `${v.role}<div class="muted">${v.phase}${v.leader !== null && v.role !== 'LEADING' ? ` → s${v.leader}` : ''}</div>` : '<b class="down">DOWN</b>';
    const epochs = v.up ? `${v.acceptedEpoch ?? '-'} / ${v.currentEpoch ?? '-'}` : `<span class="muted">${v.disk.acceptedEpoch ?? '-'} / ${v.disk.currentEpoch ?? '-'} (files)</span>`;
    const vote = v.up && v.vote !== null ? `r${v.vote.round} (s${v.vote.leader}, ${fmtZxid(v.vote.zxid)}, ${v.vote.peerEpoch < 0 ? 'MIN' : v.vote.peerEpoch})` : '-';
    const pending = v.pending.length === 0 ? '<span class="muted">none</span>' : v.pending.slice(0, 4).map((p) => `<div>${escapeHtml(p.text)} <span class="muted">#${p.token}${p.stage === 'tmp' ? ' tmp' : ''}</span></div>`).join('') + (v.pending.length > 4 ? `<div class="muted">+${v.pending.length - 4} more</div>` : '');
    const conns = !v.up ? '-' : v.role === 'LEADING' ? (v.connections.length > 0 ? `learners ${v.connections.map((s) => `s${s}`).join(' ')}` : '<span class="muted">no learners</span>') : v.connections.length > 0 ? `leader s${v.connections[0]}` : '<span class="muted">none</span>';
    return `<tr class="${focus.has(sid) ? 'focus' : ''}" data-sid="${sid}"><th style="color:${serverColour(sid)}">s${sid}</th><td class="role">${role}</td><td>${epochs}</td><td>${vote}</td><td class="log">${logCell(v)}</td><td>${pending}</td><td>${conns}</td></tr>`;
  });
  statePanel.innerHTML = `<table><thead><tr><th></th><th>role / phase</th><th>accepted / current epoch</th><th>vote</th><th>log (last 6; green: applied, blue: logged, underlined: not durable)</th><th>pending writes</th><th>connections</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function select(i: number): void {
  selected = Math.min(Math.max(0, i), Math.max(0, N - 1));
  slider.value = String(selected);
  const ev = records[selected];
  position.textContent = ev === undefined ? 'empty trace' : `record #${selected} of ${N} · t = ${ev.t} ms · ${ev.type}`;
  draw();
  renderList();
  renderState();
  document.body.dataset['selected'] = String(selected);
}

function stepFiltered(dir: 1 | -1, count = 1): void {
  let i = selected;
  let left = count;
  while (left > 0) {
    let j = i + dir;
    while (j >= 0 && j < N && !keeps(records[j] as TraceEvent)) j += dir;
    if (j < 0 || j >= N) break;
    i = j;
    left--;
  }
  select(i);
}

function jumpToViolation(k: number): void {
  const v = data.violations[k];
  if (v !== undefined) select(v.i);
}

// ------------------------------------------------------------------------------------------
// Set-up

function setUp(): void {
  document.title = data.title;
  $('title').textContent = data.title;
  $('params').textContent = data.parameters.join('\n');
  $('verdict').textContent = data.verdict;
  $('verdict').className = data.violations.length > 0 ? 'bad' : 'good';
  slider.max = String(Math.max(0, N - 1));
  slider.addEventListener('input', () => select(Number(slider.value)));

  const servers = $('filter-servers');
  servers.innerHTML = data.sids.map((s) => `<label><input type="checkbox" data-sid="${s}" checked><span class="swatch" style="background:${serverColour(s)}"></span>s${s}</label>`).join('');
  servers.addEventListener('change', (e) => {
    const t = e.target as HTMLInputElement;
    const sid = Number(t.dataset['sid']);
    if (t.checked) shownServers.add(sid);
    else shownServers.delete(sid);
    select(selected);
  });
  const types = $('filter-types');
  const legendOrder = Object.keys(MESSAGE_COLOURS).filter((t) => model.messageTypes.includes(t));
  for (const t of model.messageTypes) if (!legendOrder.includes(t)) legendOrder.push(t);
  types.innerHTML = legendOrder.map((t) => `<label><input type="checkbox" data-type="${t}" checked><span class="swatch" style="background:${messageColour(t)}"></span>${t}</label>`).join('');
  types.addEventListener('change', (e) => {
    const t = e.target as HTMLInputElement;
    const ty = t.dataset['type'] as string;
    if (t.checked) shownTypes.add(ty);
    else shownTypes.delete(ty);
    select(selected);
  });
  const zin = $<HTMLInputElement>('filter-zxid');
  zin.addEventListener('input', () => {
    const z = parseZxid(zin.value);
    zin.classList.toggle('invalid', z !== null && Number.isNaN(z));
    zxidFilter = z === null || Number.isNaN(z) ? null : z;
    select(selected);
  });

  const vbox = $('violations');
  if (data.violations.length === 0) vbox.innerHTML = '<p class="muted">No violation: every check passed.</p>';
  else {
    vbox.innerHTML = data.violations
      .map(
        (v, k) =>
          `<div class="violation"><button data-k="${k}" class="jump">Jump to violation</button> <b>${escapeHtml(v.property)}</b> (${v.kind}) at ${v.t} ms, record #${v.i}<div>${escapeHtml(v.message)}</div>${v.facts.length > 0 ? `<ul>${v.facts.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>` : ''}</div>`,
      )
      .join('');
    vbox.addEventListener('click', (e) => {
      const b = (e.target as HTMLElement).closest('button');
      if (b !== null) jumpToViolation(Number(b.dataset['k']));
    });
  }
  if (data.replay !== null) $('replay').textContent = data.replay;

  $('first').addEventListener('click', () => select(0));
  $('prev').addEventListener('click', () => stepFiltered(-1));
  $('next').addEventListener('click', () => stepFiltered(1));
  $('last').addEventListener('click', () => select(N - 1));
  $('zoom-in').addEventListener('click', () => zoom(0.5));
  $('zoom-out').addEventListener('click', () => zoom(2));
  $('to-violation').addEventListener('click', () => jumpToViolation(0));
  ($('to-violation') as HTMLButtonElement).disabled = data.violations.length === 0;
  eventList.addEventListener('click', (e) => {
    const row = (e.target as HTMLElement).closest('.row') as HTMLElement | null;
    if (row !== null) select(Number(row.dataset['i']));
  });
  canvas.addEventListener('click', (e) => {
    // Select the record nearest in time to the click.
    const [t0, t1] = windowOf();
    const r = canvas.getBoundingClientRect();
    const t = t0 + ((e.clientX - r.left - GUTTER) / (r.width - GUTTER - 10)) * (t1 - t0);
    let i = Math.min(model.indexAtTime(t), N - 1);
    while (i < N - 1 && !keeps(records[i] as TraceEvent)) i++;
    select(i);
  });
  canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    zoom(e.deltaY > 0 ? 1.25 : 0.8);
  });
  document.addEventListener('keydown', (e) => {
    if ((e.target as HTMLElement).tagName === 'INPUT' && (e.target as HTMLInputElement).type === 'text') return;
    if (e.key === 'ArrowRight') stepFiltered(1, e.shiftKey ? 100 : 1);
    else if (e.key === 'ArrowLeft') stepFiltered(-1, e.shiftKey ? 100 : 1);
    else if (e.key === 'Home') select(0);
    else if (e.key === 'End') select(N - 1);
    else if (e.key === 'v') {
      const next = data.violations.findIndex((v) => v.i > selected);
      jumpToViolation(next >= 0 ? next : 0);
    } else if (e.key === '+' || e.key === '=') zoom(0.5);
    else if (e.key === '-') zoom(2);
    else return;
    e.preventDefault();
  });
  window.addEventListener('resize', () => draw());
  select(0);
  document.body.dataset['ready'] = 'true';
}

function zoom(f: number): void {
  spanMs = Math.min(Math.max(spanMs * f, 5), Math.max(lastT, 10) * 1.1);
  draw();
}

setUp();
