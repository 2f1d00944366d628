/**
 * src/run/parallel.ts turns V8's parallel scavenge off while a pool of seed workers runs and back
 * on when the last one ends (docs/scaling.md, "Sixth session": with every core running seeds, a
 * parallel scavenge waits for descheduled helper threads). V8's flag cannot be read back from
 * JavaScript, so this checks the calls that set it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

const flags: string[] = [];
vi.mock('node:v8', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:v8')>();
  return {
    ...real,
    setFlagsFromString: (f: string): void => {
      flags.push(f);
      real.setFlagsFromString(f);
    },
  };
});

const { exploringParallel } = await import('../../src/run/parallel.ts');
const { settings } = await import('../../src/index.ts');
const { cliAsync } = await import('../cli/run-cli.ts');

const overrides = settings({});

async function drain(gen: AsyncGenerator<{ seed: number }, unknown, undefined>, stopAfter = Infinity): Promise<number[]> {
  const seeds: number[] = [];
  for await (const r of gen) {
    seeds.push(r.seed);
    if (seeds.length >= stopAfter) break;
  }
  return seeds;
}

afterEach(() => {
  flags.length = 0;
});

describe('the scavenger while a pool runs', () => {
  it('runs on one thread from the pool start to its end, then parallel again', async () => {
    const gen = exploringParallel({ from: 1, seeds: 3, overrides }, 2);
    const first = await gen.next();
    expect(first.done).toBe(false);
    expect(flags).toEqual(['--no-parallel-scavenge']);
    await drain(gen);
    expect(flags).toEqual(['--no-parallel-scavenge', '--parallel-scavenge']);
  });

  it('is set back when a sweep stops early (as on Ctrl-C or --max-failures)', async () => {
    expect(await drain(exploringParallel({ from: 1, seeds: 6, overrides }, 2), 1)).toEqual([1]);
    expect(flags).toEqual(['--no-parallel-scavenge', '--parallel-scavenge']);
  });

  it('two pools at once: set by the first to start, set back by the last to end', async () => {
    const a = exploringParallel({ from: 1, seeds: 2, overrides }, 2);
    const b = exploringParallel({ from: 3, seeds: 2, overrides }, 2);
    await a.next();
    await b.next();
    expect(flags).toEqual(['--no-parallel-scavenge']);
    await drain(a);
    expect(flags).toEqual(['--no-parallel-scavenge']);
    await drain(b);
    expect(flags).toEqual(['--no-parallel-scavenge', '--parallel-scavenge']);
  });
});

describe('explore without --workers (the pool starts the scavenger flag, so it shows whether a pool ran)', () => {
  it('100 seeds run on the main thread, fewer than SEEDS_PER_WORKER per extra worker; --workers 2 starts a pool for them', async () => {
    const args = ['explore', '--seeds', '100', '--until', '2s', '--json', '--no-progress'];
    const alone = await cliAsync(...args);
    expect(alone.code, alone.err).toBe(0);
    expect(flags).toEqual([]);
    const pooled = await cliAsync(...args, '--workers', '2');
    expect(flags).toEqual(['--no-parallel-scavenge', '--parallel-scavenge']);
    expect(pooled.out).toBe(alone.out);
  });
});
