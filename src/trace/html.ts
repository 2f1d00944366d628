/**
 * Builds trace.html: one self-contained page (no network, works from file://) with the trace
 * embedded as JSON, the viewer's script (src/trace/viewer/page.ts, bundled here with esbuild),
 * its style, and the plots as inline SVG. docs/viewer.md describes the page.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { TraceEvent } from '../sim/events.ts';
import type { LoadedTrace } from './load.ts';
import { TraceModel } from './model.ts';
import { latencySvg, throughputSvg } from './plots.ts';
import type { PageData } from './viewer/page.ts';

const VIEWER_DIR = fileURLToPath(new URL('./viewer/', import.meta.url));

let bundled: string | null = null;

/**
 * The page script, an IIFE (no modules, so it runs from file://): the one the build bundled into
 * dist/ (scripts/build.mjs), or, running from source, bundled here once per process with esbuild
 * (a dev dependency, loaded only then).
 */
export function viewerScript(): string {
  if (bundled === null && existsSync(`${VIEWER_DIR}page.bundle.js`)) bundled = readFileSync(`${VIEWER_DIR}page.bundle.js`, 'utf8');
  if (bundled === null) {
    const { buildSync } = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
    const out = buildSync({ entryPoints: [`${VIEWER_DIR}page.ts`], bundle: true, format: 'iife', target: 'es2020', write: false, minify: true, legalComments: 'none', logLevel: 'silent' });
    bundled = (out.outputFiles[0] as { text: string }).text;
  }
  return bundled;
}

/** SNAP trees and snapshot data are whole data trees: the page keeps only their size (and a snapshot's label and lastTxn, for the state model). */
function compact(ev: TraceEvent): TraceEvent {
  if ((ev.type === 'send' || ev.type === 'deliver' || ev.type === 'drop') && ev.msg.type === 'SNAP') {
    const { tree, ...rest } = ev.msg;
    return { ...ev, msg: { ...rest, znodes: Object.keys(tree.nodes).length } } as unknown as TraceEvent;
  }
  if ((ev.type === 'persist' || ev.type === 'fsync') && ev.write.op === 'snapshot') {
    const s = ev.write.snapshot;
    const snapshot = s.lastTxn === undefined ? { zxid: s.zxid, znodes: Object.keys(s.data.nodes).length } : { zxid: s.zxid, lastTxn: s.lastTxn, znodes: Object.keys(s.data.nodes).length };
    return { ...ev, write: { op: 'snapshot', snapshot } } as unknown as TraceEvent;
  }
  return ev;
}

/** JSON that is safe inside a <script> element. */
function scriptJson(x: unknown): string {
  return JSON.stringify(x).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export interface ViewerOptions {
  /** Shown as the page title; default from the seed. */
  readonly title?: string;
}

/** The plots of a trace, as SVG texts. */
export function tracePlots(trace: LoadedTrace, model: TraceModel = new TraceModel(trace.records, trace.sids)): { latency: string; throughput: string } {
  const endMs = trace.summary?.t ?? (trace.records.length > 0 ? (trace.records[trace.records.length - 1] as TraceEvent).t : 0);
  return {
    latency: latencySvg(trace.history, model.faults, trace.records, endMs),
    throughput: throughputSvg(trace.history, model.faults, trace.records, endMs),
  };
}

/** The whole page for one trace. */
export function buildViewerHtml(trace: LoadedTrace, opts: ViewerOptions = {}): string {
  const violations = trace.summary?.verdict.violations ?? [];
  const verdict = trace.summary === null ? 'no summary: the trace ends early' : trace.summary.verdict.ok ? 'checks: PASSED' : `checks: FAILED (${violations.length} violation${violations.length === 1 ? '' : 's'})`;
  const data: PageData = {
    title: opts.title ?? `zabsim trace: seed ${trace.header.options.seed}, ${trace.records.length} records`,
    parameters: trace.header.parameters,
    records: trace.records.map(compact),
    sids: trace.sids,
    violations,
    verdict,
    replay: trace.summary?.verdict.replay !== undefined ? `replay: ${trace.summary.verdict.replay}` : null,
  };
  const plots = trace.history.length > 0 ? tracePlots(trace) : null;
  const plotHtml = plots === null ? '<p class="muted">No clients in this run: no latency or throughput to plot.</p>' : `${plots.latency}\n${plots.throughput}`;
  const template = readFileSync(`${VIEWER_DIR}page.html`, 'utf8');
  const css = readFileSync(`${VIEWER_DIR}page.css`, 'utf8');
  // Function replacers: the inserted texts may contain `$` sequences.
  return template
    .replace('/*STYLE*/', () => css)
    .replace('<!--PLOTS-->', () => plotHtml)
    .replace('/*DATA*/', () => scriptJson(data))
    .replace('/*SCRIPT*/', () => viewerScript().replace(/<\/script/gi, '<\\/script'));
}
