/**
 * The index pages of a results folder (docs/results.md): `index.html` of a run's folder (the
 * command, the verdict, the plots and a link to every file) and of an explore sweep (progress,
 * the failure table with a link to each failing seed's folder, and the sweep's plots). Plain
 * HTML strings, no script: they open from `file://` and from a zip. The CLI writes them.
 */
import type { LoadedTrace } from './load.ts';
import type { ViolationFacts } from '../sim/events.ts';

/** What a result folder records about how it was made (meta.json). Wall-clock times live only here. */
export interface ResultMeta {
  readonly zabsim: string;
  /** `run`, `scenario` or `explore`; `replay` for an explored seed's sub-folder. */
  readonly kind: 'run' | 'scenario' | 'explore' | 'replay';
  /** The arguments after `zabsim`, exactly as given. */
  readonly argv: readonly string[];
  /** The same, quoted for a POSIX shell: the command to paste. */
  readonly commandLine: string;
  readonly node: string;
  readonly cwd: string;
  /** ISO 8601, UTC. */
  readonly started: string;
  readonly finished: string | null;
  readonly exitCode: number | null;
}

/** The files of a run's folder, in the index's order, with what each holds. */
export const RUN_FILES: readonly (readonly [string, string])[] = [
  ['trace.html', 'the viewer: space-time diagram, state at every record, violations, plots (open in a browser)'],
  ['summary.txt', 'the parameters, the servers at the end, the clients and the checks, as the text output prints them'],
  ['verdict.json', 'the verdict: ok, the violations with their facts, liveness, warnings, the replay command, the servers at the end'],
  ['header.json', 'the run header: every option of the run and every drawn parameter'],
  ['header.txt', 'the run header as text'],
  ['trace.jsonl', 'the whole trace as JSON lines (header, one line per record, summary, history): input of zabsim view and zabsim export'],
  ['history.json', 'the client history: every operation with its times, server, outcome and zxid'],
  ['history.edn', "the client history in Jepsen's EDN, for Knossos"],
  ['history.porcupine.json', "the client history as Porcupine's operations"],
  ['latency.svg', 'client latency over time, fault periods shaded'],
  ['throughput.svg', 'operations completed per second, fault periods shaded'],
  ['meta.json', 'the exact command line, zabsim and Node versions, wall-clock start and end, exit code'],
];

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:24px;max-width:1000px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}code,pre{font:12px/1.4 ui-monospace,monospace}
pre{background:#f6f6f6;padding:8px;overflow:auto}.ok{color:#1a7f37}.bad{color:#c62828}
table{border-collapse:collapse}td,th{padding:3px 10px 3px 0;text-align:left;vertical-align:top}
img{max-width:100%;border:1px solid #ddd;margin:6px 0}.muted{color:#777}`;

function page(title: string, body: string[]): string {
  return ['<!doctype html>', '<html lang="en"><head><meta charset="utf-8">', `<title>${esc(title)}</title>`, `<style>${STYLE}</style></head><body>`, ...body, '</body></html>', ''].join('\n');
}

function metaLines(meta: ResultMeta): string[] {
  return [
    `<p>command: <code>${esc(meta.commandLine)}</code></p>`,
    `<p class="muted">zabsim ${esc(meta.zabsim)}, Node ${esc(meta.node)}; started ${esc(meta.started)}${meta.finished !== null ? `, finished ${esc(meta.finished)}` : ''}${meta.exitCode !== null ? `; exit code ${meta.exitCode}` : ''}</p>`,
  ];
}

/** The index of a run's (or a scenario's, or an explored seed's) folder. */
export function runIndexHtml(meta: ResultMeta, trace: LoadedTrace, summaryText: readonly string[], title: string): string {
  const v = trace.summary?.verdict;
  const ok = v?.ok === true;
  const verdict = v === undefined ? '<p class="bad">no summary: the run ended early</p>' : `<p class="${ok ? 'ok' : 'bad'}"><b>${ok ? 'checks: PASSED' : `checks: FAILED (${v.violations.length} violation${v.violations.length === 1 ? '' : 's'})`}</b></p>`;
  const violations = (v?.violations ?? []).map(
    (x) => `<li><b>${esc(x.property)}</b> at ${x.t} ms (after record ${x.i}): ${esc(x.message)}${x.facts.length > 0 ? `<ul>${x.facts.map((f) => `<li>${esc(f)}</li>`).join('')}</ul>` : ''} <a href="trace.html">open the viewer</a></li>`,
  );
  return page(title, [
    `<h1>${esc(title)}</h1>`,
    ...metaLines(meta),
    verdict,
    ...(violations.length > 0 ? ['<ul>', ...violations, '</ul>'] : []),
    ...(typeof v?.replay === 'string' ? [`<p>replay: <code>${esc(v.replay)}</code></p>`] : []),
    `<p><a href="trace.html"><b>Open the viewer (trace.html)</b></a>: ${trace.records.length} records, ${trace.sids.length} servers, ${trace.history.length} client operations.</p>`,
    '<h2>Plots</h2>',
    trace.history.length === 0 ? '<p class="muted">No clients in this run: the plots are empty.</p>' : '',
    '<img src="latency.svg" alt="client latency over time"><br><img src="throughput.svg" alt="throughput over time">',
    '<h2>Summary</h2>',
    `<pre>${esc(summaryText.join('\n'))}</pre>`,
    '<h2>Files</h2>',
    '<table>',
    ...RUN_FILES.map(([f, what]) => `<tr><td><a href="${f}">${f}</a></td><td>${esc(what)}</td></tr>`),
    '</table>',
  ]);
}

/**
 * A failure shrunk (src/run/shrink.ts): its faults as an explicit `--schedule`, made smaller while
 * the replay still fails with `property`. `reproduced` false: the recorded schedule replayed
 * without the failure, and `schedule`, `steps` and `replay` are the recorded ones, not shrunk.
 */
export interface ShrunkSchedule {
  readonly property: string;
  readonly reproduced: boolean;
  /** A `--schedule` value ('' for no step). */
  readonly schedule: string;
  /** Steps of `schedule`: the length of the shrunk schedule. */
  readonly steps: number;
  /** Steps of the schedule recorded from the failing run. */
  readonly recordedSteps: number;
  /** The network faults of the faulty period that were on and are dropped (set to 0): loss, duplicate, reorder, ack-reorder. */
  readonly dropped: readonly string[];
  /** Replays made, the recorded schedule's included (at most the budget). */
  readonly replays: number;
  /** The `zabsim run` command that replays `schedule` to the violation. */
  readonly replay: string;
}

/** One line of failures.jsonl (docs/results.md): stable field names, one JSON object per line. */
export interface FailureRecord {
  readonly seed: number;
  /** The property broken; `INTERNAL ERROR` when the run threw (a bug in zabsim). */
  readonly property: string;
  /** safety, client, liveness, or error. */
  readonly kind: string;
  /** Virtual time of the violation (ms), or where the run ended. */
  readonly t: number;
  /** The trace record after which the violation was found; null for an internal error. */
  readonly record: number | null;
  readonly message: string;
  /** The `zabsim run` command that replays the seed and stops at the violation. */
  readonly replay: string;
  /** The seed's sub-folder (relative to the sweep's folder), or null if it could not be written. */
  readonly folder: string | null;
  /** The shrunk failure (`explore --shrink`, src/run/shrink.ts) for the first failure of each property; null otherwise. */
  readonly shrunk: ShrunkSchedule | null;
  /**
   * The fields of `explore --json`'s failure lines (src/run/sweep.ts), so that `zabsim merge`
   * reads failures.jsonl as it reads that JSON: the first violation's facts, or the internal
   * error; the seed's events and the virtual time its run reached.
   */
  readonly violation: ViolationFacts | null;
  readonly error: string | null;
  readonly events: number;
  readonly endMs: number;
}

/** A sample of an explore sweep's progress (progress.json's timeline). */
export interface ExploreSample {
  /** Wall-clock milliseconds since the sweep began (summed over resumed sessions). */
  readonly wallMs: number;
  readonly seeds: number;
  readonly failures: number;
}

/** The index of an explore sweep's folder. */
export function exploreIndexHtml(meta: ResultMeta, sweep: string, done: number, total: number, finished: boolean, failures: readonly FailureRecord[]): string {
  const title = `zabsim explore: ${sweep}`;
  const rows = failures.map(
    (f) =>
      `<tr><td>${f.seed}</td><td>${esc(f.property)}</td><td>${f.t} ms</td><td>${f.folder !== null ? `<a href="${esc(f.folder)}/index.html">folder</a> · <a href="${esc(f.folder)}/trace.html">viewer</a>` : ''}</td><td><code>${esc(f.replay)}</code></td></tr>`,
  );
  return page(title, [
    `<h1>${esc(title)}</h1>`,
    ...metaLines(meta),
    `<p>${done} of ${total} seeds done${finished ? '' : ' (not finished: <code>--resume</code> continues it)'}; <span class="${failures.length === 0 ? 'ok' : 'bad'}">${failures.length} failing seed${failures.length === 1 ? '' : 's'}</span>.</p>`,
    ...(rows.length > 0 ? ['<table>', '<tr><th>seed</th><th>property</th><th>at</th><th>replay folder</th><th>replay</th></tr>', ...rows, '</table>'] : []),
    '<h2>Plots</h2>',
    '<img src="seeds.svg" alt="seeds per second over time"><br><img src="failures.svg" alt="failures found over time">',
    '<h2>Files</h2>',
    '<table>',
    ...[
      ['failures.jsonl', 'one line per failing seed: seed, property, kind, t, record, message, replay, folder, shrunk'],
      ['explore.jsonl', 'the sweep as `explore --json` prints it (header, failures, count): input of zabsim merge'],
      ['progress.json', 'the sweep, which seeds are done, events, wall-clock time, and a timeline for the plots'],
      ['seeds.svg', 'seeds per second over wall-clock time'],
      ['failures.svg', 'failing seeds found over wall-clock time'],
      ['meta.json', 'the exact command line, versions, wall-clock start and end, exit code'],
    ].map(([f, what]) => `<tr><td><a href="${f}">${f}</a></td><td>${esc(what as string)}</td></tr>`),
    '</table>',
  ]);
}
