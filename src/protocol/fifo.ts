/**
 * An immutable sequence for server state that holds objects which leave the step (log entries,
 * proposals, messages). Operations return new values, one that removes nothing the same value;
 * a class instance, so a step's copy-on-write (cow.ts) replaces it whole and never copies into
 * it.
 *
 * The values made from one another share one backing array, as TxnLog's do: each owns the range
 * [start, start + length) of it. `push` appends in place when nothing was appended past this value
 * yet (else it copies its range), `rest` and `drop` only move `start`, so a queue's usual life (push
 * at the back, take from the front) costs O(1) per operation instead of a copy of the queue. A
 * buffer whose taken front outgrows what is left is copied on the next push, so it holds at most
 * twice what is queued; a value that becomes empty lets its buffer go.
 */
export class Fifo<T> {
  /** Internal: the backing array, shared by the values made from one another. */
  readonly buf: T[];
  /** Internal: where this value's elements start in `buf`. */
  readonly start: number;
  /** Number of elements. */
  readonly length: number;
  /** Internal: `items`, once asked for. */
  view: readonly T[] | null = null;

  /**
   * A Fifo of `items`, oldest first; the array is frozen and kept. (`start` and `length` are
   * internal: a range of a shared buffer.)
   */
  constructor(items: readonly T[], start = 0, length = -1) {
    if (length < 0) {
      Object.freeze(items);
      length = items.length;
    }
    this.buf = items as T[];
    this.start = start;
    this.length = length;
  }

  static empty<T>(): Fifo<T> {
    return EMPTY as Fifo<T>;
  }

  /** The elements, oldest first: a frozen array, made on first use (hot paths use `at`, `first`, `last`, `findIndex`, `some`). */
  get items(): readonly T[] {
    if (this.view !== null) return this.view;
    const v = Object.freeze(this.buf.slice(this.start, this.start + this.length));
    // A deep-frozen state (the tests' purity laws) freezes its Fifos too: nothing to remember then.
    if (!Object.isFrozen(this)) this.view = v;
    return v;
  }

  /** Element i (0 is the oldest), or undefined out of range. */
  at(i: number): T | undefined {
    return i >= 0 && i < this.length ? this.buf[this.start + i] : undefined;
  }

  first(): T | undefined {
    return this.length === 0 ? undefined : this.buf[this.start];
  }

  last(): T | undefined {
    return this.length === 0 ? undefined : this.buf[this.start + this.length - 1];
  }

  push(x: T): Fifo<T> {
    if (this.length === 0) return new Fifo([x], 0, 1);
    const buf = this.buf;
    const end = this.start + this.length;
    // In place: nothing was appended past this value, the buffer is not a caller's frozen array,
    // and the taken front is not larger than what is left.
    if (end === buf.length && this.start <= this.length && !Object.isFrozen(buf)) {
      buf.push(x);
      return new Fifo(buf, this.start, this.length + 1);
    }
    const copy = buf.slice(this.start, end);
    copy.push(x);
    return new Fifo(copy, 0, copy.length);
  }

  /** Without the first element. */
  rest(): Fifo<T> {
    if (this.length === 0) return this;
    return this.length === 1 ? (EMPTY as Fifo<T>) : new Fifo(this.buf, this.start + 1, this.length - 1);
  }

  /** Without the first n elements. */
  drop(n: number): Fifo<T> {
    if (n <= 0) return this;
    return n >= this.length ? (EMPTY as Fifo<T>) : new Fifo(this.buf, this.start + n, this.length - n);
  }

  /** With element i replaced. */
  with(i: number, x: T): Fifo<T> {
    if (i < 0 || i >= this.length) throw new RangeError(`Fifo.with(${i}) out of range 0..${this.length - 1}`);
    const next = this.buf.slice(this.start, this.start + this.length);
    next[i] = x;
    return new Fifo(next, 0, next.length);
  }

  filter(f: (x: T) => boolean): Fifo<T> {
    const kept: T[] = [];
    for (let i = this.start; i < this.start + this.length; i++) if (f(this.buf[i] as T)) kept.push(this.buf[i] as T);
    return kept.length === 0 ? (EMPTY as Fifo<T>) : new Fifo(kept, 0, kept.length);
  }

  /** Index of the first element that satisfies `f`, or -1. */
  findIndex(f: (x: T) => boolean): number {
    const buf = this.buf;
    for (let i = 0; i < this.length; i++) if (f(buf[this.start + i] as T)) return i;
    return -1;
  }

  /** Whether some element satisfies `f`. */
  some(f: (x: T) => boolean): boolean {
    return this.findIndex(f) >= 0;
  }

  toJSON(): readonly T[] {
    return this.items;
  }
}

const EMPTY = new Fifo<never>([]);
