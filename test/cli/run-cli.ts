/** Runs the zabsim CLI in-process for the CLI tests: its exit code, stdout and stderr. */
import { main } from '../../src/cli/main.ts';
import type { Terminal } from '../../src/cli/output.ts';

function capture(isTTY = false): Terminal & { text: string } {
  const t = {
    isTTY,
    text: '',
    write(s: string): void {
      t.text += s;
    },
  };
  return t;
}

export function cli(...argv: string[]): { code: number; out: string; err: string } {
  const out = capture();
  const err = capture();
  const code = main(argv, out, err);
  if (typeof code !== 'number') throw new Error(`zabsim ${argv[0]} is asynchronous: use cliAsync`);
  return { code, out: out.text, err: err.text };
}

export async function cliAsync(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = capture();
  const err = capture();
  const code = await main(argv, out, err);
  return { code, out: out.text, err: err.text };
}
