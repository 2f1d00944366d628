/**
 * Every property zabsim judges a run by, with the one-line meaning printed in reports. The
 * reference names (zab-bugs.md §0.1 I1–I12, zab-protocol.md §8) are in docs/checkers.md, which
 * also says where each is checked.
 */
import type { ViolationFacts } from '../sim/events.ts';

export const SAFETY_PROPERTIES = {
  Leadership: 'each epoch is established at most once, by one leader, whichever server it is (I1)',
  Establishment: "a leader is established only on NEWLEADER ACKs from a quorum of distinct voters, each of which had currentEpoch >= e and the leader's initial history durable when it ACKed",
  EpochPromise: 'a learner ACKs an epoch (ACKEPOCH) only once that epoch is its durable acceptedEpoch: never an epoch below it, never before the write is durable',
  DurableAck: 'a learner ACKs a proposal only once the txn is in its durable txn log (ACK only after the fsync)',
  ZxidUniqueness: 'a zxid names one txn, ever (I2)',
  CommittedNeverLost: "every committed txn is in the history of every leader established later (I3, leader log completeness)",
  Agreement: 'a server whose last applied txn is committed holds exactly the state of the committed sequence up to it (I4, Agreement)',
  TotalOrder: 'a server applies txns in the order of their history: each applied txn follows the one applied before it (I4, Total order)',
  Integrity: 'a serving server has applied only committed txns, each proposed by a primary (I5, Integrity)',
  HistoryConsistency: "a server's log is a prefix of the history its txns were proposed in; a follower in broadcast holds a prefix of its leader's log (I6)",
  RestartStability: 'after a crash and restart, a server serves again only once it holds every txn it had served (I7)',
  HonestAdvertisement: 'a vote a server makes for itself from its own state, and its ACKEPOCH, advertise the last txn it holds durably (I8)',
  MessageLegality: 'a learner is sent COMMIT only for a txn it holds, and never drops out of its role while reading what a live leader sent it; the first ACK a leader reads in SYNC is the NEWLEADER ACK (I9)',
  EpochFileSanity: 'on disk, epoch(last durable zxid) <= currentEpoch <= acceptedEpoch, as start-up reads them with updatingEpoch and currentEpoch.tmp (I10)',
  TruncSafety: 'a TRUNC never removes a committed txn (I11)',
  CommittedDurability: 'whenever a server crashes, the newest committed txn is durable on a quorum of voters',
  LocalPrimaryOrder: "a primary proposes in zxid order, each proposal after its previous one (Local primary order)",
  GlobalPrimaryOrder: 'txns are committed in zxid order across primaries: a later epoch never commits below an earlier one (Global primary order)',
  PrimaryIntegrity: 'a primary has delivered every committed txn of earlier epochs before it proposes (Primary integrity)',
  SessionExpiry: 'a leader expires a session only once its timeout has passed without hearing from its client, directly or through a learner\'s PING (less the leader clock\'s tickTime/2 resolution)',
  SessionClosedOnce: 'a closed session is never expired: once a closeSession (its client\'s, or an expiry) is committed, the leader never proposes another for it',
} as const;

export const CLIENT_PROPERTIES = {
  'Client.LinearizableWrites': 'a write that completed before another began has a smaller zxid',
  'Client.FifoOrder': "a client's writes take effect in the order it issued them",
  'Client.SequentialReads': 'a read returns the value of a prefix of the committed sequence, never older than what its client already saw',
  'Client.SyncThenRead': 'a sync answers with a state that includes every write completed before the sync began',
  'Client.AckedWriteCommitted': 'a write acknowledged to its client is committed, with that client’s txn at that zxid',
  'Client.AppliedOnce': 'a client request becomes at most one committed txn',
} as const;

export const LIVENESS_PROPERTIES = {
  Liveness: 'after the faults stop, within the bound: a leader is established, live servers agree on the last committed zxid, and every client operation completes (I12)',
} as const;

export type SafetyProperty = keyof typeof SAFETY_PROPERTIES;
export type ClientProperty = keyof typeof CLIENT_PROPERTIES;
export type PropertyName = SafetyProperty | ClientProperty | keyof typeof LIVENESS_PROPERTIES;

export const PROPERTY_DESCRIPTIONS: Readonly<Record<PropertyName, string>> = { ...SAFETY_PROPERTIES, ...CLIENT_PROPERTIES, ...LIVENESS_PROPERTIES };

/** Every property name, in report order. */
export const PROPERTY_NAMES: readonly PropertyName[] = Object.keys(PROPERTY_DESCRIPTIONS) as PropertyName[];

export type PropertyKind = 'safety' | 'client' | 'liveness';

export function kindOf(p: PropertyName): PropertyKind {
  if (p in SAFETY_PROPERTIES) return 'safety';
  if (p in CLIENT_PROPERTIES) return 'client';
  return 'liveness';
}

/** One broken property, with what a reader needs to understand it. */
export interface Violation extends ViolationFacts {
  readonly property: PropertyName;
  readonly kind: PropertyKind;
}
