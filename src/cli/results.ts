/**
 * The results folder's file handling (docs/results.md): every file is written whole or not at
 * all (a temp file in the same folder, then a rename), a result folder gets a fresh name under
 * `--out DIR`, and `DIR/latest` points at the newest. Bad paths are one sentence (a UsageError,
 * exit 2). Wall-clock time appears here only in folder names and metadata, never in a trace.
 */
import { closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from './args.ts';

let tmpCounter = 0;

/** A temp name in the same folder as `path` (so the rename stays within one file system). */
function tmpName(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${tmpCounter++}`);
}

/** True for a name that {@link writeAtomic} or {@link AtomicFile} uses while writing. */
export function isTempName(name: string): boolean {
  return /^\..*\.tmp-\d+-\d+$/.test(name);
}

/** Writes a file whole or not at all: a temp file beside it, flushed, then renamed over it. */
export function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = tmpName(path);
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * A file written in pieces (the trace, line by line) under a temp name, buffered in 64 KB
 * chunks, and renamed to its name only by {@link finish}: an interrupted run leaves no file that
 * looks complete (and {@link abort} removes the temp file).
 */
export class AtomicFile {
  private readonly tmp: string;
  private fd: number;
  private chunks: string[] = [];
  private size = 0;

  constructor(readonly path: string) {
    this.tmp = tmpName(path);
    this.fd = openSync(this.tmp, 'w');
  }

  /** Appends one line (a newline is added). */
  line(s: string): void {
    this.chunks.push(s, '\n');
    this.size += s.length + 1;
    if (this.size >= 65536) this.flush();
  }

  private flush(): void {
    if (this.chunks.length === 0) return;
    writeSync(this.fd, this.chunks.join(''));
    this.chunks = [];
    this.size = 0;
  }

  /** Flushes, syncs and renames the file to its name. */
  finish(): void {
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = -1;
    renameSync(this.tmp, this.path);
  }

  /** Drops the temp file (after an error). */
  abort(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    rmSync(this.tmp, { force: true });
  }
}

/** One sentence for a file system error at `path`. */
function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'a read-only file system';
    case 'ENOTDIR':
      return 'a part of the path is a file';
    case 'ENOENT':
      return 'a part of the path does not exist and cannot be created';
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return code ?? String(e);
  }
}

/**
 * Makes sure `dir` (the value of `flag`, for `command`) is a folder zabsim can write in,
 * creating it (and its parents) when missing. A file there, or a folder that cannot be created
 * or written, is a UsageError.
 */
export function prepareOutDir(dir: string, flag: string, command: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`${flag} ${dir} is a file; expected a folder for the results (it is created when missing).`, command);
  try {
    makeFolders(dir);
    // Writable? Create and remove a probe file (access(W_OK) says yes to root on a read-only mount).
    const probe = tmpName(join(dir, 'probe'));
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (e) {
    throw new UsageError(`${flag} ${dir}: cannot write a results folder there (${fsReason(e)}); expected a folder zabsim may create files in.`, command);
  }
}

/**
 * mkdir -p, one level at a time: Node's `mkdirSync(p, { recursive: true })` loops forever where
 * a parent exists but refuses new entries with ENOENT (/proc).
 */
function makeFolders(dir: string): void {
  const missing: string[] = [];
  let p = resolve(dir);
  while (!existsSync(p)) {
    missing.push(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  for (let k = missing.length - 1; k >= 0; k--) mkdirSync(missing[k] as string);
}

/** A wall-clock time stamp for names: 20261203T175012Z (UTC, sortable). */
export function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** A name made safe for a folder: letters, digits, `.`, `_` and `-`. */
export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
}

/**
 * Creates a fresh result folder `DIR/<base>-<stamp>` (with `-2`, `-3`... when that name is
 * taken: mkdir fails on an existing folder, so two runs never share one); returns its path.
 */
export function newResultFolder(dir: string, base: string, at: Date): string {
  const name = `${safeName(base)}-${stamp(at)}`;
  for (let k = 1; ; k++) {
    const path = join(dir, k === 1 ? name : `${name}-${k}`);
    try {
      mkdirSync(path);
      return path;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new UsageError(`--out ${dir}: cannot create ${path} (${fsReason(e)}).`, '');
    }
  }
}

/**
 * Points `DIR/latest` at the result folder `name` (a sibling): a relative symlink made under a
 * temp name and renamed over the old one, so `latest` is always whole. Where symlinks fail (some
 * file systems, Windows without the right), `latest` becomes a text file holding the name;
 * returns false then.
 */
export function pointLatest(dir: string, name: string, link_: (target: string, path: string) => void = (t, p) => symlinkSync(t, p, 'dir')): boolean {
  const link = join(dir, 'latest');
  const tmp = tmpName(link);
  try {
    link_(name, tmp);
    renameSync(tmp, link);
    return true;
  } catch {
    rmSync(tmp, { force: true });
    // A folder named latest would make the rename fail: leave it, and say so by returning false.
    if (existsSync(link) && statSync(link).isDirectory() && !isSymlink(link)) return false;
    writeAtomic(link, `${name}\n`);
    return false;
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The package's version (package.json, two folders up from src/cli or dist/cli). */
export function zabsimVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/**
 * Refuses an output file path (`--html FILE`) that is a folder or whose folder does not exist;
 * the file itself is written atomically at the end.
 */
export function checkOutFile(file: string, flag: string, command: string): void {
  if (existsSync(file) && statSync(file).isDirectory()) throw new UsageError(`${flag} ${file} is a folder; expected the path of an .html file to write.`, command);
  const dir = dirname(file);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${flag} ${file}: the folder ${dir} does not exist; expected a file path in an existing folder.`, command);
}
