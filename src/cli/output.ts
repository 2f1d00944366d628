/**
 * Writing to the terminal or a pipe. zabsim's runs are synchronous, so output is written with
 * blocking writes to the file descriptor: a slow reader (`| less`, `| grep`) makes the run wait
 * instead of piling up buffers (Node's asynchronous pipe writes fail with ENOBUFS under a loop
 * that never yields), and a reader that went away (`| head`) ends the command quietly.
 * process.stdout is never touched: creating it would make a pipe non-blocking.
 */
import { writeSync } from 'node:fs';
import { isatty } from 'node:tty';

/** Where a command writes: a terminal or not, its width when known, and the text. */
export interface Terminal {
  readonly isTTY: boolean;
  /** Columns of the terminal, when it is one. */
  readonly columns?: number;
  write(text: string): void;
}

/** The reader of stdout closed it (EPIPE): the command stops and exits quietly. */
export class OutputClosed extends Error {
  constructor() {
    super('output closed by its reader');
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Writes all of `text` to `fd`, waiting while a non-blocking pipe is full. */
export function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN' || code === 'ENOBUFS') {
        Atomics.wait(pause, 0, 0, 2);
        continue;
      }
      if (code === 'EPIPE' || code === 'ECONNRESET') throw new OutputClosed();
      throw e;
    }
  }
}

/** A terminal over a file descriptor: stdout (1) or stderr (2); a closed stderr is ignored. */
export function fdTerminal(fd: 1 | 2): Terminal {
  const tty = isatty(fd);
  const columns = tty ? (fd === 1 ? process.stdout.columns : process.stderr.columns) : Number(process.env.COLUMNS) || undefined;
  return {
    isTTY: tty,
    ...(columns !== undefined ? { columns } : {}),
    write(text: string): void {
      try {
        writeAll(fd, text);
      } catch (e) {
        if (fd === 2 && e instanceof OutputClosed) return;
        throw e;
      }
    },
  };
}
