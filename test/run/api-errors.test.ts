/**
 * The public API answers bad settings and bad run options with one sentence naming the setting
 * (as its flag) or the option (as its field path) and what was expected: a SettingsError, which
 * the CLI maps to exit 2. Never an unexplained throw from inside the kernel.
 */
import { describe, expect, it } from 'vitest';
import { createRun, runOptions, settings, SettingsError, type RunOptions } from '../../src/index.ts';

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SettingsError);
    const m = (e as Error).message;
    expect(m.split('\n')).toHaveLength(1);
    return m;
  }
  throw new Error('expected a SettingsError, but the call was accepted');
}

describe('the API refuses bad input with one sentence', () => {
  it('settings: a reversed range, a negative count, a fraction, an unknown flaw, an unknown name, a wrong type', () => {
    expect(refusal(() => runOptions(settings({ delay: [10, 1] })))).toBe('--delay expects a range [min, max] of milliseconds with 0 <= min <= max, got [10,1].');
    expect(refusal(() => runOptions(settings({ servers: -1 })))).toBe('--servers expects a whole number from 1 to 15, got -1.');
    expect(refusal(() => runOptions(settings({ clients: 1.5 })))).toBe('--clients expects a whole number from 0 to 1000, got 1.5.');
    expect(refusal(() => runOptions(settings({ flaw: ['nope'] })))).toBe("--flaw: no flaw named 'nope'; 'zabsim flaws' lists them.");
    expect(refusal(() => runOptions(settings({ until: -5 })))).toBe('--until expects a time in milliseconds of at least 1, got -5.');
    expect(refusal(() => runOptions(settings({ loss: 2 })))).toBe('--loss expects a number from 0 to 1, got 2.');
    expect(refusal(() => runOptions(settings({ 'crash-target': 'all' })))).toBe("--crash-target expects one of any, leader, got \"all\".");
    expect(refusal(() => runOptions(settings({ servers: 'x' as unknown as number })))).toBe('--servers expects a whole number from 1 to 15, got "x".');
    expect(refusal(() => runOptions(settings({ sever: 3 })))).toMatch(/^unknown setting 'sever'; expected one of seed, servers, /);
  });

  it('run options written directly: each names its field path', () => {
    const base: RunOptions = { seed: 1, voters: 3, untilMs: 100 };
    expect(refusal(() => createRun({ ...base, voters: 0 }))).toBe('voters expects a whole number from 1 to 15, got 0.');
    expect(refusal(() => createRun({ ...base, network: { delay: { kind: 'uniform', minMs: 5, maxMs: 1 } } }))).toBe('network.delay expects a uniform delay with 0 <= minMs <= maxMs, got {"kind":"uniform","minMs":5,"maxMs":1}.');
    expect(refusal(() => createRun({ ...base, workload: { clients: -2 } }))).toBe('workload.clients expects a whole number from 0 to 1000, got -2.');
    expect(refusal(() => createRun({ ...base, flaws: { nope: true } as never }))).toBe(`flaws expects flaw names ('zabsim flaws' lists them), got "nope".`);
    expect(refusal(() => createRun({ ...base, params: { snapRetainCount: 1 } }))).toBe('params.snapRetainCount expects a number of at least 3, got 1.');
    expect(refusal(() => createRun({ ...base, untilMs: Number.NaN }))).toBe('untilMs expects a time of at least 1 ms (Infinity for never), got null.');
  });

  it('good settings and options pass unchanged', () => {
    const o = runOptions(settings({ servers: 5, delay: [1, 30], flaw: ['ZOOKEEPER-3911'], 'purge-interval': 0 }));
    expect(o.voters).toBe(5);
    expect(o.params?.purgeIntervalMs).toBe(0);
    expect(() => createRun(o)).not.toThrow();
  });
});
