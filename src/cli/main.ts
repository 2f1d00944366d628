/**
 * The zabsim command line. The only module that touches the terminal, process exit codes and
 * chalk. Exit codes: 0 every check passed, 1 a check failed (a bug found in the protocol), 2 bad
 * input (one sentence naming the place, then one line pointing at --help), 3 an internal error of
 * zabsim (its message and stack: never mistaken for a found bug).
 */
import { readFileSync } from 'node:fs';
import chalk, { Chalk } from 'chalk';
import { nearest, usage, UsageError, type CommandSpec } from './args.ts';
import { parseRunFlags, RUN_SPEC, runCommand } from './run.ts';
import { SCENARIO_SPEC, scenarioCommand } from './scenario.ts';
import { ScenarioError } from '../scenario/lexer.ts';
import { EXPLORE_SPEC, exploreCommand, parseExploreFlags } from './explore.ts';
import { PLAIN, type Palette } from '../trace/text.ts';
import { SettingsError } from '../run/settings.ts';
import { FLAWS_SPEC, flawsCommand, parseFlawsFlags } from './flaws.ts';
import { EXPORT_SPEC, exportCommand, VIEW_SPEC, viewCommand } from './view.ts';
import { TraceInputError } from '../trace/load.ts';
import { fdTerminal, OutputClosed, type Terminal } from './output.ts';
import { MERGE_SPEC, mergeCommand } from './merge.ts';

/** Where a command writes: its standard output (buffered lines) and the terminal facts it needs. */
export interface CommandIO {
  /** Lines of the command's result. */
  readonly out: { write(line: string): void };
  /** Progress and warnings (standard error). */
  readonly err: Terminal;
  /** Colours for stdout, or PLAIN. */
  palette(noColorFlag: boolean): Palette;
}

/** A command: its flags (for --help and errors) and how it runs; add new commands to COMMANDS. */
export interface Command {
  readonly spec: CommandSpec;
  /** The usage text --help prints (default: from the spec). */
  readonly usage?: string;
  run(argv: readonly string[], io: CommandIO): number | Promise<number>;
}

const COMMANDS: readonly Command[] = [
  {
    spec: RUN_SPEC,
    run(argv, io) {
      const flags = parseRunFlags(argv);
      if (flags.get('help') === true) return help(RUN_SPEC, io);
      return runCommand(flags, io.out, io.palette(flags.get('no-color') === true || flags.get('json') === true), argv, io.err);
    },
  },
  {
    spec: SCENARIO_SPEC,
    run(argv, io) {
      return scenarioCommand(argv, io.out, io.palette(argv.includes('--no-color')));
    },
  },
  {
    spec: EXPLORE_SPEC,
    run(argv, io) {
      const flags = parseExploreFlags(argv);
      if (flags.get('help') === true) return help(EXPLORE_SPEC, io);
      return exploreCommand(flags, io.out, io.err, argv);
    },
  },
  {
    spec: FLAWS_SPEC,
    run(argv, io) {
      const flags = parseFlawsFlags(argv);
      if (flags.get('help') === true) return help(FLAWS_SPEC, io);
      return flawsCommand(flags, io.out);
    },
  },
  { spec: VIEW_SPEC, run: (argv, io) => viewCommand(argv, io.out) },
  { spec: EXPORT_SPEC, run: (argv, io) => exportCommand(argv, io.out) },
  { spec: MERGE_SPEC, run: (argv, io) => mergeCommand(argv, io.out, io.err) },
];

function help(spec: CommandSpec, io: CommandIO): number {
  io.out.write(usage(spec));
  return 0;
}

const TOP_USAGE = [
  'usage: zabsim <command> [flags]',
  '',
  'commands:',
  ...COMMANDS.map((c) => `  ${c.spec.name.padEnd(10)} ${c.spec.summary}`),
  '',
  "Run 'zabsim <command> --help' for the flags of a command; 'zabsim --version' for the version.",
].join('\n');

/** The package's version (package.json, two folders up from src/cli or dist/cli). */
export function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/**
 * Whether stdout gets colours: never with --no-color or a non-empty NO_COLOR; always with
 * FORCE_COLOR (other than 0/false), even into a pipe; otherwise on a terminal that has them.
 */
export function colourWanted(noColorFlag: boolean, isTTY: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  if (noColorFlag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  return isTTY && chalk.level > 0;
}

function palette(colour: boolean): Palette {
  if (!colour) return PLAIN;
  const c = new Chalk({ level: chalk.level > 0 ? chalk.level : 1 });
  return {
    time: c.gray,
    who: c.bold,
    message: c.white,
    drop: c.red,
    state: c.green.bold,
    vote: c.cyan,
    disk: c.magenta,
    fault: c.yellow.bold,
    note: c.gray,
  };
}

/**
 * Runs the CLI; returns the exit code (a promise of it for `explore`, which yields between seeds
 * so that Ctrl-C can stop it). `stdout` and `stderr` default to file descriptors 1 and 2.
 */
export function main(argv: readonly string[], stdout: Terminal = fdTerminal(1), stderr: Terminal = fdTerminal(2)): number | Promise<number> {
  const lines: string[] = [];
  const flush = (): void => {
    if (lines.length > 0) {
      const text = lines.join('\n') + '\n';
      lines.length = 0;
      stdout.write(text);
    }
  };
  const io: CommandIO = {
    out: {
      write(line: string): void {
        lines.push(line);
        if (lines.length >= 512) flush();
      },
    },
    err: stderr,
    palette: (noColorFlag) => palette(colourWanted(noColorFlag, stdout.isTTY)),
  };
  const [cmd, ...rest] = argv;
  /** What was printed stays printed; then the error as its exit code. */
  const failed = (e: unknown): number => {
    if (e instanceof OutputClosed) {
      // The reader went away (`zabsim run | head`): stop quietly.
      lines.length = 0;
      return 0;
    }
    try {
      flush();
    } catch (closed) {
      if (!(closed instanceof OutputClosed)) throw closed;
      lines.length = 0;
    }
    if (e instanceof ScenarioError || e instanceof TraceInputError) {
      // A mistake in a scenario file or a saved trace: one sentence naming the file and line.
      stderr.write(`zabsim: ${e.message}\n`);
      return 2;
    }
    if (e instanceof UsageError || e instanceof SettingsError) {
      const command = e instanceof UsageError ? e.command : cmd === 'explore' ? 'explore' : 'run';
      stderr.write(`zabsim: ${e.message}\nRun 'zabsim${command === '' ? '' : ` ${command}`} --help' for ${command === '' ? 'the commands' : 'its flags'}.\n`);
      return 2;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    stderr.write(`zabsim: internal error (a bug in zabsim, not in the simulated protocol; please report it with this command line): ${err.stack ?? err.message}\n`);
    return 3;
  };
  const done = (code: number): number => {
    try {
      flush();
      return code;
    } catch (e) {
      return failed(e);
    }
  };
  try {
    if (cmd === undefined) {
      // No command is a usage error: the usage goes where every usage error goes (exit 2).
      stderr.write(TOP_USAGE + '\n');
      return 2;
    }
    if (cmd === '--help' || cmd === 'help' || cmd === '-h') {
      stdout.write(TOP_USAGE + '\n');
      return 0;
    }
    if (cmd === '--version' || cmd === '-V' || cmd === 'version') {
      stdout.write(`zabsim ${version()}\n`);
      return 0;
    }
    const command = COMMANDS.find((c) => c.spec.name === cmd);
    if (command === undefined) {
      const near = cmd.startsWith('-') ? null : nearestCommand(cmd);
      throw new UsageError(`unknown command '${cmd}'; the commands are: ${COMMANDS.map((c) => c.spec.name).join(', ')}${near !== null ? ` (did you mean ${near}?)` : ''}.`, '');
    }
    const code = command.run(rest, io);
    return typeof code === 'number' ? done(code) : code.then(done, failed);
  } catch (e) {
    return failed(e);
  }
}

function nearestCommand(word: string): string | null {
  const names = COMMANDS.map((c) => c.spec.name);
  for (const n of names) if (n.startsWith(word) || word.startsWith(n)) return n;
  return nearest(word, names);
}
