/**
 * The zabsim command line. The only module that touches the terminal, process exit codes and
 * chalk. Bad input gets one sentence naming the flag and what it accepts, the usage, and exit 2.
 */
import { setAutoFreeze } from 'immer';
import chalk, { Chalk } from 'chalk';
import { UsageError, usage } from './args.ts';
import { parseRunFlags, RUN_SPEC, runCommand } from './run.ts';
import { SCENARIO_SPEC, scenarioCommand } from './scenario.ts';
import { ScenarioError } from '../scenario/lexer.ts';
import { EXPLORE_SPEC, exploreCommand, parseExploreFlags } from './explore.ts';
import { PLAIN, type Palette } from '../trace/text.ts';
import { SettingsError } from '../run/settings.ts';

const COMMANDS = [RUN_SPEC, SCENARIO_SPEC, EXPLORE_SPEC];

const TOP_USAGE = [
  'usage: zabsim <command> [flags]',
  '',
  'commands:',
  ...COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`),
  '',
  "Run 'zabsim <command> --help' for the flags of a command.",
].join('\n');

function palette(colour: boolean): Palette {
  if (!colour) return PLAIN;
  const c = new Chalk({ level: chalk.level });
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

/** Runs the CLI; returns the exit code. */
export function main(argv: readonly string[], stdout: NodeJS.WriteStream = process.stdout): number {
  const lines: string[] = [];
  const flush = (): void => {
    if (lines.length > 0) stdout.write(lines.join('\n') + '\n');
    lines.length = 0;
  };
  const out = {
    write(line: string): void {
      lines.push(line);
      if (lines.length >= 512) flush();
    },
  };
  try {
    const [cmd, ...rest] = argv;
    if (cmd === undefined || cmd === '--help' || cmd === 'help' || cmd === '-h') {
      stdout.write(TOP_USAGE + '\n');
      return cmd === undefined ? 2 : 0;
    }
    if (cmd === 'run') {
      const flags = parseRunFlags(rest);
      if (flags.get('help') === true) {
        stdout.write(usage(RUN_SPEC) + '\n');
        return 0;
      }
      // Speed: the kernel never mutates states, and tests run with auto-freeze on to prove it.
      setAutoFreeze(false);
      // chalk.level honours NO_COLOR, FORCE_COLOR and TERM=dumb; --no-color and pipes turn it off too.
      const colour = flags.get('no-color') !== true && flags.get('json') !== true && stdout.isTTY === true && chalk.level > 0;
      const code = runCommand(flags, out, palette(colour), rest);
      flush();
      return code;
    }
    if (cmd === 'explore') {
      const flags = parseExploreFlags(rest);
      if (flags.get('help') === true) {
        stdout.write(usage(EXPLORE_SPEC) + '\n');
        return 0;
      }
      const code = exploreCommand(flags, out, stdout.isTTY === true ? { isTTY: true, write: (s: string) => stdout.write(s) } : null);
      flush();
      return code;
    }
    if (cmd === 'scenario') {
      setAutoFreeze(false);
      const colour = !rest.includes('--no-color') && stdout.isTTY === true && chalk.level > 0;
      const code = scenarioCommand(rest, out, palette(colour));
      flush();
      return code;
    }
    throw new UsageError(`unknown command '${cmd}'; the commands are: ${COMMANDS.map((c) => c.name).join(', ')}.`, TOP_USAGE);
  } catch (e) {
    if (e instanceof ScenarioError) {
      // A mistake in a scenario file: one sentence naming the file and line, no usage.
      flush();
      process.stderr.write(`zabsim: ${e.message}\n`);
      return 2;
    }
    if (e instanceof SettingsError) {
      // Settings that parse but cannot make a run (a bad --schedule, writes without writes).
      flush();
      process.stderr.write(`zabsim: ${e.message}\n\n${usage(argv[0] === 'explore' ? EXPLORE_SPEC : RUN_SPEC)}\n`);
      return 2;
    }
    if (e instanceof UsageError) {
      flush();
      process.stderr.write(`zabsim: ${e.message}\n\n${e.usage}\n`);
      return 2;
    }
    flush();
    throw e;
  }
}
