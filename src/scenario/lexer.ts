/**
 * The scenario lexer: a line is split into words at whitespace; "double quotes" make one word of
 * text with spaces, and `#` outside quotes starts a comment. A Cursor walks one line's words,
 * and every "expected ..." it throws names the file and line.
 */
import type { Sid } from '../protocol/config.ts';
import { MAX_COUNTER, MAX_EPOCH, zxid, type Zxid } from '../protocol/zxid.ts';
import type { Source } from './types.ts';

/** A mistake in a scenario file: printed as `file:line: message`, exit code 2. */
export class ScenarioError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}: ${detail}`);
  }
}

export interface Word {
  readonly text: string;
  /** True when it was written in double quotes (so it is text, never a keyword). */
  readonly quoted: boolean;
}

/** Splits a line into words; returns null for a blank or comment-only line. */
export function words(file: string, lineNo: number, line: string): Word[] | null {
  const out: Word[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i] as string;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '#') break;
    if (c === '"') {
      const end = line.indexOf('"', i + 1);
      if (end < 0) throw new ScenarioError(file, lineNo, 'expected a closing " for the text started here');
      out.push({ text: line.slice(i + 1, end), quoted: true });
      i = end + 1;
      continue;
    }
    let j = i;
    while (j < line.length && line[j] !== ' ' && line[j] !== '\t' && line[j] !== '"' && line[j] !== '#') j++;
    out.push({ text: line.slice(i, j), quoted: false });
    i = j;
  }
  return out.length === 0 ? null : out;
}

/** Strips a trailing comment (outside quotes). */
export function withoutComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"') quoted = !quoted;
    else if (line[i] === '#' && !quoted) return line.slice(0, i).trimEnd();
  }
  return line.trimEnd();
}

const ZXID_RE = /^<(\d+),(\d+)>$/;
/** The longest duration a scenario line may give: a day of virtual time. */
export const MAX_DURATION_MS = 86_400_000;
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m)?$/;

/** Reads the words of one line, left to right. */
export class Cursor {
  private i = 0;

  constructor(
    readonly src: Source,
    private readonly ws: readonly Word[],
    /** Number of servers, for checking `sN`. */
    private readonly servers: number,
  ) {}

  fail(what: string): never {
    throw new ScenarioError(this.src.file, this.src.line, what);
  }

  /** What the next word is, for messages: `'foo'` or `the end of the line`. */
  private found(): string {
    const w = this.ws[this.i];
    return w === undefined ? 'the end of the line' : `'${w.text}'`;
  }

  expected(what: string): never {
    return this.fail(`expected ${what}, found ${this.found()}`);
  }

  done(): boolean {
    return this.i >= this.ws.length;
  }

  /** The next word's text if it is a bare word (not quoted), without consuming it. */
  peek(): string | null {
    const w = this.ws[this.i];
    return w === undefined || w.quoted ? null : w.text;
  }

  /** The word after next (bare), without consuming anything. */
  peekAt(k: number): string | null {
    const w = this.ws[this.i + k];
    return w === undefined || w.quoted ? null : w.text;
  }

  /** Consumes the next word if it is the bare keyword `kw`. */
  accept(kw: string): boolean {
    if (this.peek() !== kw) return false;
    this.i++;
    return true;
  }

  keyword(kw: string, what = `'${kw}'`): void {
    if (!this.accept(kw)) this.expected(what);
  }

  /** One of the given bare keywords. */
  oneOf<T extends string>(choices: readonly T[], what: string): T {
    const w = this.peek();
    if (w === null || !(choices as readonly string[]).includes(w)) this.expected(what);
    this.i++;
    return w as T;
  }

  /** Any word, quoted or not. */
  word(what: string): Word {
    const w = this.ws[this.i];
    if (w === undefined) this.expected(what);
    this.i++;
    return w;
  }

  /**
   * Consumes a `key=value` word whose key is one of `keys`; returns the key and a cursor over the
   * value alone (to read it with the usual methods), or null when the next word is not one.
   */
  field<K extends string>(keys: readonly K[]): { key: K; value: Cursor } | null {
    const w = this.peek();
    const m = w === null ? null : /^([A-Za-z]+)=(.*)$/.exec(w);
    if (m === null) return null;
    const key = m[1] as string;
    if (!(keys as readonly string[]).includes(key)) this.fail(`expected a field (${keys.map((k) => `${k}=`).join(', ')}), found '${w}'`);
    if (m[2] === '') this.fail(`expected a value after '${key}=', found '${w}'`);
    this.i++;
    return { key: key as K, value: new Cursor(this.src, [{ text: m[2] as string, quoted: false }], this.servers) };
  }

  /** The rest of the line must be empty. */
  end(): void {
    if (!this.done()) this.fail(`expected the end of the line, found ${this.found()}`);
  }

  /** `s3`: a server of this ensemble. */
  sid(): Sid {
    const w = this.peek();
    const m = w === null ? null : /^s(\d+)$/.exec(w);
    if (m === null) return this.expected('a server such as s1');
    const sid = Number(m[1]);
    if (sid < 1 || sid > this.servers) this.fail(`expected a server s1..s${this.servers}, found '${w}'`);
    this.i++;
    return sid;
  }

  isSid(): boolean {
    const w = this.peek();
    return w !== null && /^s\d+$/.test(w);
  }

  /** One or more servers, as `s1 s2` or `s1,s2`. */
  sids(what = 'one or more servers such as s1 s2'): Sid[] {
    const out: Sid[] = [];
    for (;;) {
      const w = this.peek();
      if (w === null) break;
      const parts = w.split(',').filter((p) => p !== '');
      if (parts.length === 0 || !parts.every((p) => /^s\d+$/.test(p))) break;
      for (const p of parts) {
        const sid = Number(p.slice(1));
        if (sid < 1 || sid > this.servers) this.fail(`expected a server s1..s${this.servers}, found '${p}'`);
        if (!out.includes(sid)) out.push(sid);
      }
      this.i++;
    }
    if (out.length === 0) this.expected(what);
    return out;
  }

  /** A non-negative decimal integer, at most `max` (hex and signs are refused: counts are decimal). */
  int(what = 'a whole number', max = Number.MAX_SAFE_INTEGER): number {
    const w = this.peek();
    if (w === null || !/^\d+$/.test(w)) return this.expected(what);
    const n = Number(w);
    if (n > max) this.fail(`expected ${what} of at most ${max}, found '${w}'`);
    this.i++;
    return n;
  }

  /** `<1,5>`. */
  zxid(): Zxid {
    const w = this.peek();
    const m = w === null ? null : ZXID_RE.exec(w);
    if (m === null) return this.expected('a zxid such as <1,5>');
    const e = Number(m[1]);
    const c = Number(m[2]);
    if (e > MAX_EPOCH || c > MAX_COUNTER) this.fail(`expected a zxid with epoch ≤ ${MAX_EPOCH} and counter ≤ ${MAX_COUNTER}, found '${w}'`);
    this.i++;
    return zxid(e, c);
  }

  isZxid(): boolean {
    const w = this.peek();
    return w !== null && (ZXID_RE.test(w) || /^<\d+,\d+>\.\.<\d+,\d+>$/.test(w));
  }

  /** `none`, or zxids and ranges `<1,1>..<1,5>` (one epoch). */
  zxids(): Zxid[] {
    if (this.accept('none')) return [];
    const out: Zxid[] = [];
    while (!this.done()) {
      const w = this.peek();
      const range = w === null ? null : /^<(\d+),(\d+)>\.\.<(\d+),(\d+)>$/.exec(w);
      if (range !== null) {
        const [e1, c1, e2, c2] = [Number(range[1]), Number(range[2]), Number(range[3]), Number(range[4])];
        if (e1 !== e2 || c2 < c1 || e1 > MAX_EPOCH || c2 - c1 > 100_000) this.fail(`expected a range within one epoch such as <1,1>..<1,5>, found '${w}'`);
        for (let c = c1; c <= c2; c++) out.push(zxid(e1, c));
        this.i++;
        continue;
      }
      if (w === null || !ZXID_RE.test(w)) break;
      out.push(this.zxid());
    }
    if (out.length === 0) this.expected("zxids such as <1,1> <1,2>, a range <1,1>..<1,5>, or 'none'");
    return out;
  }

  /** `500`, `500ms`, `2s`, `1.5m`: whole milliseconds. */
  duration(what = 'a duration such as 500ms or 2s'): number {
    const w = this.peek();
    const m = w === null ? null : DURATION_RE.exec(w);
    if (m === null) return this.expected(what);
    const n = Number(m[1]);
    const unit = m[2] ?? 'ms';
    const ms = Math.round(unit === 'ms' ? n : unit === 's' ? n * 1000 : n * 60_000);
    // A bound keeps a typo such as 99999999999m from running for ever (virtual time is cheap, not free).
    if (ms > MAX_DURATION_MS) this.fail(`expected ${what} of at most 24h (${MAX_DURATION_MS}ms), found '${w}'`);
    this.i++;
    return ms;
  }

  /** A text value: "quoted" or one bare word. */
  text(what: string): string {
    return this.word(what).text;
  }

  /** A znode path. */
  path(): string {
    const w = this.ws[this.i];
    if (w === undefined || w.quoted || !/^\/[^\s]*$/.test(w.text) || (w.text.length > 1 && w.text.endsWith('/'))) return this.expected('a znode path such as /a');
    this.i++;
    return w.text;
  }
}
