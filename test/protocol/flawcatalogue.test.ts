/**
 * The flaw catalogue (src/protocol/flaws.ts): an entry per switch, tickets that name one switch,
 * properties that exist, and release profiles that match zab-bugs.md's Affected / Fixed columns.
 */
import { describe, expect, it } from 'vitest';
import { PROPERTY_NAMES } from '../../src/check/properties.ts';
import { FLAW_NAMES, NO_FLAWS, type Flaws } from '../../src/protocol/config.ts';
import { describeProfile, FLAW_CATALOGUE, flawByName, flawsOfRelease, itemContains, nearFlawNames, releaseProfile, RELEASES, unknownFlawMessage } from '../../src/protocol/flaws.ts';
import { cli } from '../cli/run-cli.ts';

type F = keyof Flaws;
const B3: F = 'fle_epoch_unguarded_sid_tiebreak';
const B9: F = 'follower_ack_newleader_before_persist';
const B11: F = 'follower_epoch_before_log_durable';
const Z1549: F = 'trunc_reload_newest_snapshot';
const B4: F = 'newleader_no_epoch_marker';
const ACKS: F = 'leader_keeps_acks_across_resync';
const B6: F = 'election_advertises_in_memory_zxid';
const B16: F = 'zxid_counter_overflow_carries_into_epoch';
const TFA: F = 'trunc_keeps_first_txn_above_target';
const B10: F = 'follower_newleader_persist_async';
const B14: F = 'shutdown_leaves_log_writer_running';
const B12: F = 'follower_starts_processors_before_newleader_ack';
const B8: F = 'learner_retains_partial_snap_on_abort';
const B5: F = 'learner_sets_lastzxid_on_diff_header';
const B13: F = 'follower_newleader_clears_pending';
const B15: F = 'learner_sync_skips_committedlog_append';
const B7: F = 'leader_queues_newleader_before_snapshot';
const TBA: F = 'sync_trunc_cuts_to_be_applied';

/**
 * zab-bugs.md, read by hand, release range by release range: B3 3.4.0-3.4.3 (fixed 3.4.4); B4
 * before 3.4.6 and every later line; B16 before 3.4.4; B6 3.4.10-3.4.11 and 3.5.3; B9 from 2678
 * (3.4.10, 3.5.3) to 3.5.9 / 3.6.3 / 3.7.0, never fixed on 3.4; B11 3.5.9+, 3.6.3+, 3.7, 3.8.0-3.8.4,
 * 3.9.0-3.9.1; B10 and B12 as B11 but 3.5.9-3.5.10; B14 from 2845's fast-forward (3.4.12, 3.5.4, 3.6.0) to
 * 3.9.2; B13 from the 3911 fix (3.5.9, 3.6.3, 3.7.0) to 3.9.2, every 3.8; B15 3.9.3 only; B8 3.5.0-3.5.9 and 3.6.0-3.6.2; B5 3.4.0-3.4.10 and 3.5.0-3.5.3; B7 every 3.4 (ZOOKEEPER-3589, in no release) and 3.5.0-3.5.4; ZOOKEEPER-1549, the ACK finding, FileTxnLog.truncate's cut and the toBeApplied TRUNC everywhere. B1 and B2 are 3.3 bugs: no profile.
 */
const EXPECTED: [string, string, F[]][] = [
  ['3.4.0', '3.4.3', [B3, Z1549, B4, ACKS, B16, TFA, B5, B7, TBA]],
  ['3.4.4', '3.4.5', [Z1549, B4, ACKS, TFA, B5, B7, TBA]],
  ['3.4.6', '3.4.9', [Z1549, ACKS, TFA, B5, B7, TBA]],
  ['3.4.10', '3.4.10', [B9, Z1549, ACKS, B6, TFA, B5, B7, TBA]],
  ['3.4.11', '3.4.11', [B9, Z1549, ACKS, B6, TFA, B7, TBA]],
  ['3.4.12', '3.4.14', [B9, Z1549, ACKS, TFA, B14, B7, TBA]],
  ['3.5.0', '3.5.2', [Z1549, B4, ACKS, TFA, B8, B5, B7, TBA]],
  ['3.5.3', '3.5.3', [B9, Z1549, B4, ACKS, B6, TFA, B8, B5, B7, TBA]],
  ['3.5.4', '3.5.4', [B9, Z1549, B4, ACKS, TFA, B14, B8, B7, TBA]],
  ['3.5.5', '3.5.8', [B9, Z1549, B4, ACKS, TFA, B14, B8, TBA]],
  ['3.5.9', '3.5.9', [B11, Z1549, B4, ACKS, TFA, B10, B14, B12, B8, B13, TBA]],
  ['3.5.10', '3.5.10', [B11, Z1549, B4, ACKS, TFA, B10, B14, B12, B13, TBA]],
  ['3.6.0', '3.6.2', [B9, Z1549, B4, ACKS, TFA, B14, B8, TBA]],
  ['3.6.3', '3.6.4', [B11, Z1549, B4, ACKS, TFA, B10, B14, B12, B13, TBA]],
  ['3.7.0', '3.7.2', [B11, Z1549, B4, ACKS, TFA, B10, B14, B12, B13, TBA]],
  ['3.8.0', '3.8.4', [B11, Z1549, B4, ACKS, TFA, B10, B14, B12, B13, TBA]],
  ['3.8.5', '3.8.6', [Z1549, B4, ACKS, TFA, B14, B13, TBA]],
  ['3.9.0', '3.9.1', [B11, Z1549, B4, ACKS, TFA, B10, B14, B12, B13, TBA]],
  ['3.9.2', '3.9.2', [Z1549, B4, ACKS, TFA, B14, B13, TBA]],
  ['3.9.3', '3.9.3', [Z1549, B4, ACKS, TFA, B15, TBA]],
  ['3.9.4', '3.9.5', [Z1549, B4, ACKS, TFA, TBA]],
];

function expectedOf(release: string): F[] {
  const i = RELEASES.indexOf(release);
  const row = EXPECTED.find(([from, to]) => RELEASES.indexOf(from) <= i && i <= RELEASES.indexOf(to));
  if (row === undefined) throw new Error(`no expected row for ${release}`);
  return row[2];
}

describe('flaw catalogue', () => {
  it('has one entry per switch, in the order of Flaws', () => {
    expect(Object.keys(FLAW_CATALOGUE)).toEqual(FLAW_NAMES);
    expect(Object.keys(FLAW_CATALOGUE)).toEqual(Object.keys(NO_FLAWS));
  });

  it('each entry names tickets that no other switch claims, properties that exist, and releases that parse', () => {
    const seen = new Map<string, F>();
    for (const f of FLAW_NAMES) {
      const e = FLAW_CATALOGUE[f];
      for (const t of e.tickets) {
        expect(t).toMatch(/^ZOOKEEPER-\d+$/);
        expect(seen.get(t), `${t} on ${f} and ${seen.get(t)}`).toBeUndefined();
        seen.set(t, f);
        expect(flawByName(t)).toBe(f);
      }
      expect(e.properties.length).toBeGreaterThan(0);
      for (const p of e.properties) expect(PROPERTY_NAMES).toContain(p);
      expect(e.affected.length).toBeGreaterThan(0);
      for (const item of e.affected) expect(() => itemContains(item, '3.9.5')).not.toThrow();
      expect(e.title.length).toBeGreaterThan(20);
    }
    expect(() => itemContains('3.4.7-3.5.1', '3.4.8')).toThrow(/not a release, a range of one line/);
  });

  it('--zk profiles: every release from 3.4.0 to 3.9.5 has exactly the flaws zab-bugs.md gives it', () => {
    expect(RELEASES.length).toBe(15 + 11 + 5 + 3 + 7 + 6);
    for (const r of RELEASES) expect(flawsOfRelease(r).sort(), r).toEqual([...expectedOf(r)].sort());
  });

  it('B1 (ZOOKEEPER-335) and B2 (ZOOKEEPER-1154) are 3.3 bugs and in no profile', () => {
    for (const r of RELEASES) {
      expect(flawsOfRelease(r)).not.toContain('epoch_from_last_logged_zxid');
      expect(flawsOfRelease(r)).not.toContain('sync_diff_without_divergence_check');
    }
  });

  it('a line is accepted where its releases agree, and otherwise named by its ranges', () => {
    expect(releaseProfile('3.7')).toEqual({ name: '3.7.x (3.7.0-3.7.2)', flaws: [B11, Z1549, B4, ACKS, TFA, B10, B14, B12, B13, TBA] });
    expect(releaseProfile('3.7.x')).toEqual(releaseProfile('3.7'));
    expect(releaseProfile('3.8.4')).toEqual({ name: '3.8.4', flaws: [B11, Z1549, B4, ACKS, TFA, B10, B14, B12, B13, TBA] });
    expect(releaseProfile('3.8')).toBe('--zk 3.8: the 3.8 releases differ in their bugs (3.8.0-3.8.4, 3.8.5-3.8.6); give one release, such as 3.8.6.');
    expect(releaseProfile('3.10.1')).toMatch(/^--zk expects a ZooKeeper release from 3.4.0 to 3.9.5 \(such as 3.8.4\) or a line \(3.4.x, .*, 3.9.x\), got '3.10.1'.$/);
  });

  it('the run header names the profile: the releases with exactly these flaws, else the newest with zabsim fixes', () => {
    expect(describeProfile(NO_FLAWS)).toBe("3.9.5 with zabsim's fixes");
    expect(describeProfile({ ...NO_FLAWS, [Z1549]: true, [B4]: true, [ACKS]: true, [TFA]: true, [TBA]: true })).toBe(`as ZooKeeper 3.9.4-3.9.5 (its flaws: ${Z1549}, ${B4}, ${ACKS}, ${TFA}, ${TBA})`);
    expect(describeProfile({ ...NO_FLAWS, [Z1549]: true, [B4]: true, [ACKS]: true, [TFA]: true, [B15]: true, [TBA]: true })).toBe(`as ZooKeeper 3.9.3 (its flaws: ${Z1549}, ${B4}, ${ACKS}, ${TFA}, ${B15}, ${TBA})`);
    expect(describeProfile({ ...NO_FLAWS, [Z1549]: true, [B4]: true, [ACKS]: true, [TFA]: true, [B14]: true, [B13]: true, [TBA]: true })).toBe(`as ZooKeeper 3.8.5-3.8.6, 3.9.2 (its flaws: ${Z1549}, ${B4}, ${ACKS}, ${TFA}, ${B14}, ${B13}, ${TBA})`);
    expect(describeProfile({ ...NO_FLAWS, [B16]: true })).toBe(`3.9.5 with zabsim's fixes, plus ${B16}`);
  });

  it('tickets are accepted in any case and as ZK-NNNN; an unknown name gets the near ones', () => {
    expect(flawByName('zookeeper-3911')).toBe(B9);
    expect(flawByName('ZK-2845')).toBe(B6);
    expect(flawByName('ZOOKEEPER-1')).toBeNull();
    expect(nearFlawNames('follower_ack')).toEqual([B9, B11, B10]);
    expect(nearFlawNames('ZOOKEEPER-391')[0]).toBe('ZOOKEEPER-3911');
    expect(unknownFlawMessage('--flaw', 'qwertyuiopasdfgh')).toBe("--flaw 'qwertyuiopasdfgh' is not a flaw name or ticket; 'zabsim flaws' lists them all.");
  });
});

describe('flaws on the command line', () => {
  it('`zabsim flaws` lists every switch with ticket, title, releases, property and command', () => {
    const r = cli('flaws');
    expect(r.code).toBe(0);
    for (const f of FLAW_NAMES) {
      const e = FLAW_CATALOGUE[f];
      expect(r.out).toContain(`${f}  ${e.tickets.length > 0 ? e.tickets.join(', ') : 'no ticket'}`);
      expect(r.out).toContain(`  ${e.title}\n  affects:   ${e.affected.join(', ')}\n  fixed in:  ${e.fixedIn}\n  caught by: ${e.properties.join(', ')}\n  found by:  npx zabsim explore --flaw ${f} --max-failures 1`);
    }
    const p = cli('flaws', '--zk', '3.8.5');
    expect(p.out.split('\n')[0]).toBe("ZooKeeper 3.8.5 has 7 of zabsim's flaws:");
  });

  it('--flaw takes a ticket, --zk a release, and the header says which profile runs', () => {
    const byTicket = cli('run', '--flaw', 'ZOOKEEPER-3911', '--until', '400');
    expect(byTicket.code).toBe(0);
    expect(byTicket.out).toContain(`flaws: ${B9}\n`);
    const zk = cli('run', '--zk', '3.5.3', '--until', '400');
    expect(zk.out).toContain(`flaws: ${B9}, ${Z1549}, ${B4}, ${ACKS}, ${B6}, ${TFA}, ${B8}, ${B5}, ${B7}, ${TBA}\n`);
    expect(zk.out).toContain('zookeeper: as ZooKeeper 3.5.3 (its flaws:');
    expect(cli('run', '--until', '400').out).toContain("zookeeper: 3.9.5 with zabsim's fixes\n");
  });

  it('bad --flaw and --zk get one sentence and exit 2', () => {
    const f = cli('run', '--flaw', 'follower_ack');
    expect(f.code).toBe(2);
    expect(f.err.split('\n')[0]).toBe(`zabsim: --flaw 'follower_ack' is not a flaw; did you mean '${B9}' or '${B11}' or '${B10}'? ('zabsim flaws' lists them all)`);
    const z = cli('explore', '--zk', '3.8');
    expect(z.code).toBe(2);
    expect(z.err.split('\n')[0]).toBe('zabsim: --zk 3.8: the 3.8 releases differ in their bugs (3.8.0-3.8.4, 3.8.5-3.8.6); give one release, such as 3.8.6.');
  });
});
