/**
 * A small, strict flag parser. Every flag is declared with its kind and help text; anything else
 * is a UsageError whose message is one sentence naming the flag and what it accepts. The CLI
 * prints that sentence and one line pointing at the command's --help, and exits with code 2.
 * (util.parseArgs was considered: it knows strings and booleans only, so the kinds, bounds, the
 * sentences and "did you mean" would all stay here; it would remove about ten lines.)
 */
import { editDistance } from '../protocol/flaws.ts';
import type { SettingValue } from '../run/settings.ts';

export { editDistance };

export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose --help the error points at ('' for zabsim itself). */
    readonly command: string,
  ) {
    super(message);
  }
}

/** Longest virtual time a duration flag accepts: 30 days (a bound, so that a typo cannot hang). */
export const MAX_DURATION_MS = 30 * 24 * 3_600_000;

export type FlagKind = 'int' | 'number' | 'prob' | 'bool' | 'string' | 'duration' | 'range' | 'list';

export interface FlagSpec {
  readonly name: string;
  readonly kind: FlagKind;
  readonly help: string;
  /** Shown in the usage as `=<arg>`. */
  readonly arg?: string;
  /** For 'int'/'number'/'duration': inclusive bounds. */
  readonly min?: number;
  readonly max?: number;
  /** For 'string'/'list': the accepted values. */
  readonly choices?: readonly string[];
  readonly defaultText?: string;
  /**
   * For 'string'/'list' without `choices`: turns the text into the stored value (e.g. a ticket
   * into its flaw switch), or returns `{ error }`, one sentence for the user.
   */
  readonly resolve?: (raw: string) => string | { readonly error: string };
  /** For 'string'/'list' without `choices`: what the value is, for messages (`a flaw name or ticket`). */
  readonly expects?: string;
}

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  readonly flags: readonly FlagSpec[];
  /** Flags people try that this command spells otherwise: name -> the hint after "did you mean". */
  readonly hints?: Readonly<Record<string, string>>;
}

/** A flag's parsed value: the run setting of the same name (src/run/settings.ts). */
export type FlagValue = SettingValue;

/** Formats the usage of a command. */
export function usage(cmd: CommandSpec): string {
  const lines = [`usage: zabsim ${cmd.name} [flags]`, '', cmd.summary, '', 'flags:'];
  for (const f of cmd.flags) {
    const left = `  --${f.name}${f.kind === 'bool' ? '' : ` ${f.arg ?? argName(f.kind)}`}`;
    const def = f.defaultText !== undefined ? ` (default ${f.defaultText})` : '';
    const choices = f.choices !== undefined ? `; one of: ${f.choices.join(', ')}` : '';
    lines.push(`${left.padEnd(30)} ${f.help}${choices}${def}`);
  }
  lines.push(`${'  --help'.padEnd(30)} show this help`);
  return lines.join('\n');
}

function argName(kind: FlagKind): string {
  switch (kind) {
    case 'int':
      return 'N';
    case 'number':
      return 'X';
    case 'prob':
      return 'P';
    case 'duration':
      return 'TIME';
    case 'range':
      return 'MIN..MAX';
    case 'list':
      return 'NAME';
    default:
      return 'VALUE';
  }
}

/** Parses `500`, `500ms`, `2s`, `1.5m`, `1h` into whole milliseconds. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (m === null) return null;
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  const ms = unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n * 3_600_000;
  return Number.isFinite(ms) ? Math.round(ms) : null;
}

function describe(f: FlagSpec): string {
  switch (f.kind) {
    case 'int':
      return `an integer${bounds(f)}`;
    case 'number':
      return `a number${bounds(f)}`;
    case 'prob':
      return 'a probability between 0 and 1';
    case 'duration':
      return `a duration such as 500, 500ms, 2s, 1m or 1h${durationBounds(f)}`;
    case 'range':
      return 'a range of milliseconds MIN..MAX such as 1..10 (or one number)';
    case 'string':
    case 'list':
      return f.choices !== undefined ? `one of ${f.choices.join(', ')}` : (f.expects ?? `a ${f.arg ?? 'VALUE'} argument`);
    case 'bool':
      return 'no value';
  }
}

function durationBounds(f: FlagSpec): string {
  const max = f.max ?? MAX_DURATION_MS;
  const show = (ms: number): string => (ms % 3_600_000 === 0 && ms > 0 ? `${ms / 3_600_000}h` : `${ms}ms`);
  return f.min !== undefined ? ` from ${show(f.min)} to ${show(max)}` : ` up to ${show(max)}`;
}

function bounds(f: FlagSpec): string {
  if (f.min !== undefined && f.max !== undefined) return ` from ${f.min} to ${f.max}`;
  if (f.min !== undefined) return ` of at least ${f.min}`;
  return '';
}

function parseValue(f: FlagSpec, raw: string, u: string): FlagValue {
  const bad = (): never => {
    throw new UsageError(`--${f.name} expects ${describe(f)}, got '${raw}'.`, u);
  };
  const inDurationBounds = (n: number): number => {
    if ((f.min !== undefined && n < f.min) || n > (f.max ?? MAX_DURATION_MS)) bad();
    return n;
  };
  const inBounds = (n: number): number => {
    if ((f.min !== undefined && n < f.min) || (f.max !== undefined && n > f.max)) bad();
    return n;
  };
  switch (f.kind) {
    case 'int': {
      if (!/^-?\d+$/.test(raw)) bad();
      return inBounds(Number(raw));
    }
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) bad();
      return inBounds(n);
    }
    case 'prob': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) bad();
      return n;
    }
    case 'duration': {
      const n = parseDuration(raw);
      if (n === null) bad();
      return inDurationBounds(n as number);
    }
    case 'range': {
      const m = /^(\d+)(?:\.\.(\d+))?$/.exec(raw.trim());
      if (m === null) return bad();
      const lo = Number(m[1]);
      const hi = m[2] === undefined ? lo : Number(m[2]);
      if (hi < lo) bad();
      return [lo, hi] as const;
    }
    case 'string':
      if (f.choices !== undefined && !f.choices.includes(raw)) bad();
      return resolved(f, raw, u);
    case 'list':
      if (f.choices !== undefined && !f.choices.includes(raw)) bad();
      return [resolved(f, raw, u)];
    case 'bool':
      return true;
  }
}

function resolved(f: FlagSpec, raw: string, u: string): string {
  if (f.resolve === undefined) return raw;
  const r = f.resolve(raw);
  if (typeof r !== 'string') throw new UsageError(r.error, u);
  return r;
}

/** The candidate nearest to `word` (at most a third of its letters off, at least one), or null. */
export function nearest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

/** The flags of a command, and the words after a `--` (everything after it is not a flag). */
export interface ParsedArgs {
  readonly flags: Map<string, FlagValue>;
  readonly rest: readonly string[];
}

/** Parses argv (after the command name). `--flag value` and `--flag=value` are both accepted. */
export function parseFlags(cmd: CommandSpec, argv: readonly string[]): Map<string, FlagValue> {
  const { flags, rest } = parseArgs(cmd, argv);
  if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}': zabsim ${cmd.name} takes only --flags.`, cmd.name);
  return flags;
}

/** Like {@link parseFlags}, but returns the words after `--` instead of refusing them. */
export function parseArgs(cmd: CommandSpec, argv: readonly string[]): ParsedArgs {
  const u = cmd.name;
  const out = new Map<string, FlagValue>();
  const byName = new Map(cmd.flags.map((f) => [f.name, f]));
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i] as string;
    if (tok === '--') return { flags: out, rest: argv.slice(i + 1) };
    if (!tok.startsWith('--')) throw new UsageError(`unexpected argument '${tok}': zabsim ${cmd.name} takes only --flags.`, u);
    const eq = tok.indexOf('=');
    const name = eq >= 0 ? tok.slice(2, eq) : tok.slice(2);
    if (name === 'help') {
      out.set('help', true);
      continue;
    }
    const f = byName.get(name);
    if (f === undefined) {
      const hint = cmd.hints?.[name] ?? (nearest(name, [...byName.keys(), 'help']) ?? undefined);
      throw new UsageError(`unknown flag --${name} for zabsim ${cmd.name}${hint !== undefined ? `; did you mean ${hint.startsWith('--') ? hint : `--${hint}`}?` : '.'}`, u);
    }
    let raw: string;
    if (f.kind === 'bool') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value.`, u);
      raw = '';
    } else if (eq >= 0) {
      raw = tok.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`--${name} needs a value: ${describe(f)}.`, u);
      raw = next;
      i++;
    }
    const v = parseValue(f, raw, u);
    const prev = out.get(name);
    if (f.kind === 'list' && Array.isArray(prev)) out.set(name, [...(prev as string[]), ...(v as string[])]);
    else out.set(name, v);
  }
  return { flags: out, rest: [] };
}
