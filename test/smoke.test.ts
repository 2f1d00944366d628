import { describe, expect, it } from 'vitest';
import { runToEnd } from '../src/run/run.ts';

describe('smoke', () => {
  it('a 3-server ensemble elects a leader', () => {
    const { sim } = runToEnd({ seed: 1, voters: 3, untilMs: 6000, startSpreadMs: 300 });
    const roles = sim.sids.map((sid) => sim.server(sid).state.state).sort();
    expect(roles).toEqual(['FOLLOWING', 'FOLLOWING', 'LEADING']);
  });
});
