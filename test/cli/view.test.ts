/** `zabsim view` and `zabsim export` on saved traces: outputs, and bad input as one sentence with exit 2. */
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from './run-cli.ts';
import { flawTrace } from '../trace/fixture.ts';

let dir = '';
let trace = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'zabsim-view-'));
  trace = join(dir, 'flaw.jsonl');
  writeFileSync(trace, flawTrace());
});

describe('zabsim view', () => {
  it('writes one self-contained page beside the trace: the data, the script and the style inline, nothing fetched', () => {
    const r = cli('view', trace);
    expect(r.code).toBe(0);
    const html = join(dir, 'flaw.html');
    expect(r.out.trim()).toBe(`wrote ${html}: 1212 records, 5 servers, 1 violation(s); open it in a browser.`);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('<script id="zabsim-data" type="application/json">');
    expect(page).not.toMatch(/<script[^>]+src=|<link[^>]+href=|@import|url\(\s*['"]?https?:/i);
    // The embedded data is valid JSON and holds every record, and the violation's facts.
    const json = /<script id="zabsim-data" type="application\/json">(.*?)<\/script>/s.exec(page)![1]!;
    const data = JSON.parse(json) as { records: unknown[]; violations: { property: string; facts: string[] }[] };
    expect(data.records.length).toBe(1212);
    expect(data.violations[0]).toMatchObject({
      property: 'Establishment',
      facts: ['NEWLEADER acks counted: [s2, s1]', "s1 ACKed NEWLEADER with the leader's initial history up to <2,5> is not durable (durable up to <2,4>)"],
    });
    // Plots are inline SVG.
    expect(page).toContain('Client latency (one point per operation)');
    expect(page).toContain('Throughput (operations completed per second)');
  });

  it('-o names the output file', () => {
    const out = join(dir, 'custom.html');
    expect(cli('view', trace, '-o', out).code).toBe(0);
    expect(existsSync(out)).toBe(true);
  });

  it('bad input: one sentence naming the file (and line) and what was expected, exit 2, no stack trace', () => {
    const missing = cli('view', join(dir, 'nope.jsonl'));
    expect(missing.code).toBe(2);
    expect(missing.err).toBe(`zabsim: ${join(dir, 'nope.jsonl')}: no such file; expected a trace saved with \`zabsim run --json > FILE.jsonl\`.\n`);
    const other = join(dir, 'other.jsonl');
    writeFileSync(other, '{"hello":"world"}\n');
    expect(cli('view', other).err).toBe(`zabsim: ${other} line 1: not a zabsim trace; expected the header line {"zabsim":"run",...} that \`zabsim run --json\` writes first.\n`);
    const cut = join(dir, 'cut.jsonl');
    const text = flawTrace();
    writeFileSync(cut, text.slice(0, text.indexOf('\n', 5000) + 30));
    const r = cli('view', cut);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^zabsim: ${cut} line \\d+: the last line is not complete JSON \\(a truncated file\\?\\); expected the trace of \`zabsim run --json\` in full.\\n$`));
    const folder = join(dir, 'sub');
    mkdirSync(folder);
    expect(cli('view', folder).err).toBe(`zabsim: ${folder} is a folder; expected a trace file saved with \`zabsim run --json\`.\n`);
  });

  it('usage errors: no file, two files, an unknown flag', () => {
    expect(cli('view').err.split('\n')[0]).toBe('zabsim: zabsim view needs the trace file: zabsim view FILE.jsonl.');
    expect(cli('view', 'a', 'b').err.split('\n')[0]).toBe('zabsim: zabsim view takes one trace file, got 2: a b.');
    const r = cli('view', trace, '--bogus');
    expect(r.code).toBe(2);
    expect(r.err).toBe("zabsim: unknown flag --bogus for zabsim view.\nRun 'zabsim view --help' for its flags.\n");
  });
});

describe('zabsim export', () => {
  it('shiviz, mermaid (around the violation by default), history as EDN or Porcupine JSON', () => {
    const s = cli('export', 'shiviz', trace);
    expect(s.code).toBe(0);
    expect(s.out.split('\n')[0]).toBe('(?<event>.*)\\n(?<host>\\S*) (?<clock>{.*})');
    const m = cli('export', 'mermaid', trace, '--around', '5');
    expect(m.out.split('\n').slice(0, 2)).toEqual(['sequenceDiagram', '    %% zabsim records #1093..#1103 (t = 25497..25501 ms)']);
    expect(m.out).toContain('VIOLATION Establishment');
    expect(cli('export', 'mermaid', trace, '--from-event', '0', '--to-event', '3').out.split('\n')[1]).toBe('    %% zabsim records #0..#3 (t = 33..33 ms)');
    expect(cli('export', 'history', trace).out.split('\n')[0]).toBe('{:process 0, :type :invoke, :f :read, :value ["/k31" nil], :time 1117000000, :index 0}');
    expect(JSON.parse(cli('export', 'history', trace, '--format', 'porcupine').out)).toBeInstanceOf(Array);
  });

  it('plots writes latency.svg and throughput.svg into a folder', () => {
    const out = join(dir, 'plots');
    mkdirSync(out);
    expect(cli('export', 'plots', trace, '-o', out).code).toBe(0);
    expect(readFileSync(join(out, 'latency.svg'), 'utf8')).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(readFileSync(join(out, 'throughput.svg'), 'utf8')).toContain('class="series ok"');
  });

  it('usage errors name what is wrong', () => {
    expect(cli('export').err.split('\n')[0]).toBe('zabsim: zabsim export needs a format: one of shiviz, mermaid, history, plots.');
    expect(cli('export', 'dot', trace).err.split('\n')[0]).toBe("zabsim: unknown export format 'dot'; the formats are: shiviz, mermaid, history, plots.");
    expect(cli('export', 'shiviz').err.split('\n')[0]).toBe('zabsim: zabsim export shiviz needs the trace file: zabsim export shiviz FILE.jsonl.');
    expect(cli('export', 'shiviz', trace, '--around', '3').err.split('\n')[0]).toBe('zabsim: --around is for zabsim export mermaid only.');
    expect(cli('export', 'mermaid', trace, '--from-event', '5', '--to-event', '2').err.split('\n')[0]).toBe('zabsim: --to-event 2 is before --from-event 5.');
    expect(cli('export', 'mermaid', trace, '--from-event', '2000').err.split('\n')[0]).toBe("zabsim: --from-event 2000 is past the trace's last record, #1211.");
    expect(cli('export', 'history', trace, '--format', 'csv').err.split('\n')[0]).toBe("zabsim: --format expects one of edn, porcupine, got 'csv'.");
    expect(cli('export', 'shiviz', join(dir, 'nope.jsonl')).code).toBe(2);
  });
});
