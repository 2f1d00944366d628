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
import { TraceModel } from '../model.ts';
import type { ViolationFacts } from '../load.ts';
import { messageColour, MESSAGE_COLOURS, serverColour } from './colors.ts';
import { drawDiagram, GUTTER, laneY, roleSegments } from './diagram.ts';
import { Filters, parseZxid } from './filters.ts';
import { escapeHtml, recordText, stateHtml } from './panels.ts';

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
const filters = new Filters(data.sids, model.messageTypes);
const segments = roleSegments(records, data.sids);

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const canvas = $<HTMLCanvasElement>('diagram');
const slider = $<HTMLInputElement>('slider');
const position = $('position');
const eventList = $('events');
const statePanel = $('state');
const zoomLabel = $('zoom-label');

let selected = 0;
let spanMs = 200;

/** The time window: spanMs centred on the selected record. */
function windowOf(): [number, number] {
  const t = N > 0 ? (records[selected] as TraceEvent).t : 0;
  const t0 = Math.max(0, t - spanMs / 2);
  return [t0, t0 + spanMs];
}

function draw(): void {
  const [t0, t1] = windowOf();
  const arrows = drawDiagram(canvas, { records, model, sids: data.sids, violations: data.violations, segments, filters, selected, t0, t1, lastT });
  // For the browser test: what was drawn, where the lanes are.
  canvas.dataset['arrows'] = String(arrows);
  canvas.dataset['lanes'] = String(data.sids.length);
  canvas.dataset['laneYs'] = data.sids.map(laneY).join(',');
  canvas.dataset['window'] = `${t0}..${t1}`;
  zoomLabel.textContent = `window ${Math.round(t1 - t0)} ms`;
}

const keeps = (ev: TraceEvent): boolean => filters.keeps(ev);

function neighbours(count: number): number[] {
  const before: number[] = [];
  for (let i = selected - 1; i >= 0 && before.length < count; i--) if (keeps(records[i] as TraceEvent)) before.push(i);
  const after: number[] = [];
  for (let i = selected + 1; i < N && after.length < count; i++) if (keeps(records[i] as TraceEvent)) after.push(i);
  return [...before.reverse(), selected, ...after];
}

function renderList(): void {
  if (N === 0) {
    eventList.innerHTML = '<div class="row">The trace has no records.</div>';
    return;
  }
  const violationAt = new Set(data.violations.map((v) => v.i));
  const rows = neighbours(14).map((i) => {
    const ev = records[i] as TraceEvent;
    const cls = [i === selected ? 'sel' : '', violationAt.has(i) ? 'viol' : '', keeps(ev) ? '' : 'filtered'].join(' ').trim();
    return `<div class="row ${cls}" data-i="${i}"><span class="idx">#${i}</span>${escapeHtml(recordText(ev))}</div>`;
  });
  eventList.innerHTML = rows.join('');
}

function renderState(): void {
  const focus = new Set<number>();
  for (const v of data.violations) if (v.i === selected) for (const s of v.servers) focus.add(s);
  statePanel.innerHTML = stateHtml(model.stateAt(selected), data.sids, focus);
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
    if (t.checked) filters.servers.add(sid);
    else filters.servers.delete(sid);
    select(selected);
  });
  const types = $('filter-types');
  const legendOrder = Object.keys(MESSAGE_COLOURS).filter((t) => model.messageTypes.includes(t));
  for (const t of model.messageTypes) if (!legendOrder.includes(t)) legendOrder.push(t);
  types.innerHTML = legendOrder.map((t) => `<label><input type="checkbox" data-type="${t}" checked><span class="swatch" style="background:${messageColour(t)}"></span>${t}</label>`).join('');
  types.addEventListener('change', (e) => {
    const t = e.target as HTMLInputElement;
    const ty = t.dataset['type'] as string;
    if (t.checked) filters.types.add(ty);
    else filters.types.delete(ty);
    select(selected);
  });
  const zin = $<HTMLInputElement>('filter-zxid');
  zin.addEventListener('input', () => {
    const z = parseZxid(zin.value);
    zin.classList.toggle('invalid', z !== null && Number.isNaN(z));
    filters.zxid = z === null || Number.isNaN(z) ? null : z;
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
