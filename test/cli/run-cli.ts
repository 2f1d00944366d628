/** Runs the zabsim CLI in-process for the CLI tests: its exit code, stdout and stderr. */
import { vi } from 'vitest';
import { main } from '../../src/cli/main.ts';

export function cli(...argv: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const stdout = { isTTY: false, write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream;
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = main(argv, stdout);
    return { code, out, err };
  } finally {
    spy.mockRestore();
  }
}
