/**
 * What exploration finds with every flaw off that is ZooKeeper 3.9's own behaviour, not a bug of
 * zabsim's model or checkers: the acceptedEpoch lockout (docs/checkers.md, "An open finding: a
 * learner locked out by its own acceptedEpoch"). A server that accepted epoch A and crashed before
 * that epoch was established is refused by every leader whose established epoch is below A
 * (Learner.registerWithLeader: "Leaders epoch, E is less than accepted epoch, A"; a decided
 * leader answers late joiners with its epoch, Leader.getEpochToPropose), so it stays LOOKING until
 * the next leader change: Liveness, as zabsim judges it, fails; a quorum serves on. The clean
 * sweeps accept exactly that failure and nothing else.
 */
import type { SeedResult } from '../../src/run/explore.ts';

/**
 * Whether a failure is the acceptedEpoch lockout: a server whose acceptedEpoch is above the
 * established leader's epoch, caught by the liveness bound somewhere in its loop: LOOKING, or
 * FOLLOWING/OBSERVING in DISCOVERY, waiting for the LEADERINFO it will refuse (swarm seeds 4646
 * and 13980 of the 20,000-seed sweep of 4 December).
 */
export function isAcceptedEpochLockout(f: SeedResult): boolean {
  const v = f.violation;
  if (v === null || v.property !== 'Liveness') return false;
  const leader = v.facts.map((x) => /: LEADING\/BROADCAST epoch (\d+) established/.exec(x)).find((m) => m !== null);
  if (leader === undefined || leader === null) return false;
  const epoch = Number(leader[1]);
  return v.facts.some((x) => {
    const m = /: (?:LOOKING\/ELECTION|(?:FOLLOWING|OBSERVING)\/DISCOVERY of s\d+), .*acceptedEpoch (\d+),/.exec(x);
    return m !== null && Number(m[1]) > epoch;
  });
}

/** The failures of a clean sweep that are not the known lockout, as replay commands. */
export function unexplained(failures: readonly SeedResult[]): string[] {
  return failures.filter((f) => !isAcceptedEpochLockout(f)).map((f) => f.replay);
}
