/**
 * An immutable sequence for server state that holds objects which leave the step (log entries,
 * proposals, messages). Operations return new values, one that removes nothing the same value;
 * a class instance, so a step's copy-on-write (cow.ts) replaces it whole and never copies into
 * it. Small sizes only (in-flight work).
 */
export class Fifo<T> {
  /** The elements, oldest first. Read-only. */
  readonly items: readonly T[];

  constructor(items: readonly T[]) {
    this.items = Object.freeze(items);
  }

  static empty<T>(): Fifo<T> {
    return EMPTY as Fifo<T>;
  }

  get length(): number {
    return this.items.length;
  }

  first(): T | undefined {
    return this.items[0];
  }

  push(x: T): Fifo<T> {
    return new Fifo([...this.items, x]);
  }

  /** Without the first element. */
  rest(): Fifo<T> {
    return this.items.length === 0 ? this : new Fifo(this.items.slice(1));
  }

  /** Without the first n elements. */
  drop(n: number): Fifo<T> {
    return n <= 0 ? this : new Fifo(this.items.slice(n));
  }

  /** With element i replaced. */
  with(i: number, x: T): Fifo<T> {
    const next = [...this.items];
    next[i] = x;
    return new Fifo(next);
  }

  filter(f: (x: T) => boolean): Fifo<T> {
    return new Fifo(this.items.filter(f));
  }

  toJSON(): readonly T[] {
    return this.items;
  }
}

const EMPTY = new Fifo<never>([]);
