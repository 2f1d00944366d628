/**
 * A run's results folder (docs/results.md): `zabsim run|scenario run --out DIR`, and each failing
 * seed of `explore --out DIR`. The run streams its `--json` lines into `trace.jsonl` (under a temp
 * name until the run ends); then the folder gets the header, verdict, histories, viewer, plots,
 * metadata and `index.html`, each written atomically, `index.html` last.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { jepsenEdn, porcupineJson } from '../trace/export.ts';
import { buildViewerHtml, tracePlots } from '../trace/html.ts';
import { parseTrace, type LoadedTrace } from '../trace/load.ts';
import { runIndexHtml, type ResultMeta } from '../trace/results.ts';
import { shellQuote } from '../run/settings.ts';
import { AtomicFile, writeAtomic } from './results.ts';

/** Receives what a run prints, in machine form: the `--json` lines, and the text summary. */
export interface RunTee {
  /** One `--json` line: the header, a trace record, the summary, the history. */
  line(json: string): void;
  /** The summary and checks as the text output prints them (without colours). */
  summaryText(lines: readonly string[]): void;
}

/** The metadata of a result made now by `zabsim ARGV` (finished and exitCode filled in later). */
export function startMeta(kind: ResultMeta['kind'], argv: readonly string[], version: string, at: Date): ResultMeta {
  return { zabsim: version, kind, argv: [...argv], commandLine: ['npx', 'zabsim', ...argv].map(shellQuote).join(' '), node: process.version, cwd: process.cwd(), started: at.toISOString(), finished: null, exitCode: null };
}

/** A tee that keeps the lines in memory (for `run --html FILE` alone). */
export class MemoryTee implements RunTee {
  readonly lines: string[] = [];
  line(json: string): void {
    this.lines.push(json);
  }
  summaryText(): void {}
  trace(name: string): LoadedTrace {
    return parseTrace(this.lines.join('\n') + '\n', name);
  }
}

/** Writes one run's folder; {@link finish} completes it, {@link abort} removes the partial trace. */
export class RunFolder implements RunTee {
  private readonly traceFile: AtomicFile;
  private text: readonly string[] = [];

  constructor(
    readonly path: string,
    private readonly meta: ResultMeta,
    private readonly title: string,
  ) {
    this.traceFile = new AtomicFile(join(path, 'trace.jsonl'));
  }

  line(json: string): void {
    this.traceFile.line(json);
  }

  summaryText(lines: readonly string[]): void {
    this.text = lines;
  }

  /** Completes the folder; returns the trace as read back from trace.jsonl. */
  finish(exitCode: number): LoadedTrace {
    this.traceFile.finish();
    const p = (f: string): string => join(this.path, f);
    const trace = parseTrace(readFileSync(p('trace.jsonl'), 'utf8'), p('trace.jsonl'));
    writeAtomic(p('header.json'), JSON.stringify({ options: trace.header.options, parameters: trace.header.parameters }, null, 2) + '\n');
    writeAtomic(p('header.txt'), trace.header.parameters.join('\n') + '\n');
    const summaryText = [...trace.header.parameters, '', ...this.text];
    writeAtomic(p('summary.txt'), summaryText.join('\n') + '\n');
    const s = trace.summary;
    const clients = s === null ? undefined : (s as unknown as { clients?: unknown }).clients;
    const verdict = s === null ? { ok: false, exitCode, note: 'the trace ends before its summary line' } : { exitCode, ...s.verdict, t: s.t, servers: s.servers, ...(clients !== undefined ? { clients } : {}) };
    writeAtomic(p('verdict.json'), JSON.stringify(verdict, null, 2) + '\n');
    writeAtomic(p('history.json'), JSON.stringify({ ops: trace.history }) + '\n');
    writeAtomic(p('history.edn'), jepsenEdn(trace.history));
    writeAtomic(p('history.porcupine.json'), porcupineJson(trace.history));
    const plots = tracePlots(trace);
    writeAtomic(p('latency.svg'), plots.latency);
    writeAtomic(p('throughput.svg'), plots.throughput);
    writeAtomic(p('trace.html'), buildViewerHtml(trace, { title: this.title }));
    const meta: ResultMeta = { ...this.meta, finished: new Date().toISOString(), exitCode };
    writeAtomic(p('meta.json'), JSON.stringify(meta, null, 2) + '\n');
    writeAtomic(p('index.html'), runIndexHtml(meta, trace, summaryText, this.title));
    return trace;
  }

  /** After an exception: drops the partial trace and the folder. */
  abort(): void {
    this.traceFile.abort();
    rmSync(this.path, { recursive: true, force: true });
  }
}
