/** The viewer's filters (src/trace/viewer/filters.ts), outside the browser. */
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src/sim/events.ts';
import { parseTrace } from '../../src/trace/load.ts';
import { TraceModel } from '../../src/trace/model.ts';
import { Filters, parseZxid } from '../../src/trace/viewer/filters.ts';
import { flawTrace } from './fixture.ts';

describe('viewer filters', () => {
  it('a zxid is typed as <e,c>, e,c or the raw number; anything else is NaN (the box turns red)', () => {
    expect(parseZxid('<1,17>')).toBe(2 ** 32 + 17);
    expect(parseZxid(' 1 , 17 ')).toBe(2 ** 32 + 17);
    expect(parseZxid('4294967313')).toBe(2 ** 32 + 17);
    expect(parseZxid('')).toBeNull();
    expect(parseZxid('0x11')).toBeNaN();
  });

  it('keeps a record only when its servers, its message type and its zxid all pass', () => {
    const t = parseTrace(flawTrace(), 'f.jsonl');
    const model = new TraceModel(t.records, t.sids);
    const f = new Filters(t.sids, model.messageTypes);
    expect(t.records.every((r) => f.keeps(r))).toBe(true);
    f.zxid = 2 * 2 ** 32 + 3; // <2,3>, where the leader's initial history ends, which s3's disk did not hold
    const kept = t.records.filter((r) => f.keeps(r));
    expect(kept.length).toBeGreaterThan(5);
    for (const r of kept) expect(JSON.stringify(r)).toContain(String(2 * 2 ** 32 + 3));
    f.zxid = null;
    f.servers.delete(3);
    for (const r of t.records.filter((x) => f.keeps(x))) expect(JSON.stringify(r)).not.toMatch(/"(sid|from|to)":3[,}]/);
    f.types.delete('NOTIFICATION');
    const msgs = model.messages.filter((m) => f.keepsMessage(m, t.records));
    expect(msgs.length).toBeGreaterThan(0);
    for (const m of msgs) {
      expect(m.type).not.toBe('NOTIFICATION');
      expect([m.from, m.to]).not.toContain(3);
    }
    const sendsKept = t.records.filter((r): r is TraceEvent & { type: 'send' } => r.type === 'send' && f.keeps(r)).length;
    expect(sendsKept).toBe(msgs.length);
  });
});
