import { capacityIn, type ReportPacing } from './capacity-ledger.js';
import type { GroupCapacity } from './scheduler-types.js';

/**
 * Pure decisions of an instance that shares a pool's capacity through the ledger: when to report, and
 * what to enforce. `CapacityShareAgent` only sequences effects around them.
 */

/** Why an instance reports now. */
export type ReportReason =
  /** Requests wait in its queue: its share is used up (asked again every interval while they wait). */
  | 'waiting'
  /** Its queue drained since the last report: the room it asked for can go to others. */
  | 'drained'
  /** Every slot of its grant is in use (the next request would wait): ask for headroom first. */
  | 'exhausted'
  /** It had demand at the last report and has none now: give the grant back. */
  | 'idle'
  /** It held more than its grant at the last report and no longer does: others may grow. */
  | 'handback'
  /** The pool's capacity as it sees it changed (a backend opened, cooled or recovered). */
  | 'capacity'
  /** Nothing changed, but it holds something and has been quiet for a heartbeat. */
  | 'heartbeat';

/** One pool as an instance sees it now. */
export interface PoolNow {
  /** Requests waiting in the in-process scheduler. */
  readonly waiting: number;
  /** Waiting plus leased, all levels. */
  readonly demand: number;
  /** Leases held, all groups. */
  readonly inUse: number;
  /** The pool's capacity as configured and health-adjusted. */
  readonly seen: readonly GroupCapacity[];
}

/** What the instance said at its last report, and what it was answered. */
export interface LastReport {
  readonly waiting: number;
  readonly demand: number;
  readonly inUse: number;
  readonly seen: readonly GroupCapacity[];
  /** Its holding at that report, all groups. */
  readonly holding: number;
  /** The grant answered, all groups. */
  readonly grant: number;
  readonly atMs: number;
}

function sameGroups(a: readonly GroupCapacity[], b: readonly GroupCapacity[]): boolean {
  return a.length === b.length && a.every((g, i) => g.groupId === b[i]?.groupId && g.capacity === b[i]?.capacity);
}

/**
 * Why the instance should report now, or `undefined` when it need not (it reports on demand changes,
 * and rarely when idle). The caller still keeps to the paced interval between two reports.
 *
 * @example
 * reportReason(undefined, { waiting: 3, demand: 3, inUse: 0, seen }, now, pacing); // 'waiting'
 */
export function reportReason(
  last: LastReport | undefined,
  now: PoolNow,
  nowMs: number,
  pacing: ReportPacing,
): ReportReason | undefined {
  if (now.waiting > 0) return 'waiting';
  if (last === undefined) return undefined;
  if (last.waiting > 0) return 'drained';
  if (now.demand === 0 && last.demand > 0) return 'idle';
  if (last.holding > last.grant && now.inUse <= last.grant) return 'handback';
  if (last.grant > 0 && now.inUse >= last.grant && last.inUse < last.grant) return 'exhausted';
  const holdsSomething = last.grant > 0 || now.inUse > 0 || now.demand > 0;
  if (holdsSomething && !sameGroups(last.seen, now.seen)) return 'capacity';
  if (holdsSomething && nowMs - last.atMs >= pacing.heartbeatMs) return 'heartbeat';
  return undefined;
}

/** What to do while the ledger cannot be reached past the grant's lifetime. */
export type UnreachablePolicy =
  /** Keep at most an even split of the pool over the instances last seen (never more than the last grant). */
  | 'keep-even-share'
  /** Admit nothing new until the ledger answers again. */
  | 'stop';

/**
 * How long an instance trusts a grant without a fresh answer: the ledger's staleness bound less a margin
 * for clock skew, so the instance stops counting on its grant before the ledger may give it away.
 */
export function grantLifetimeMs(pacing: ReportPacing): number {
  return pacing.staleAfterMs - Math.min(5_000, Math.floor(pacing.staleAfterMs / 3));
}

/** The state that decides what an instance enforces for one pool. */
export interface ShareState {
  /** The last grant answered (`undefined` before the first answer: admit nothing yet). */
  readonly grant: readonly GroupCapacity[] | undefined;
  /** A lowered grant applied before the ledger stored it (its answer pending). */
  readonly lowered: readonly GroupCapacity[] | undefined;
  /** When the last grant was answered (its report's time). */
  readonly grantAtMs: number | undefined;
  readonly pacing: ReportPacing;
  /** Live instances at the last answer. */
  readonly instances: number;
  /** Reports that failed in a row (the ledger not reached); absent: none. */
  readonly failures?: number;
}

/**
 * Per group, the capacity the instance enforces: its grant (or a lowered one applied early), never more
 * than it sees; nothing before its first grant while the ledger is being asked; past the grant's lifetime —
 * or before any grant, once a report failed (storage or the entity unreachable from the start) — per
 * `policy`: `stop` admits nothing, `keep-even-share` an even share of what it sees (its own instance count
 * when it never reached the ledger), so an instance that cannot reach the ledger still serves.
 *
 * @example
 * enforcedShare(state, seen, now, 'keep-even-share'); // [{ groupId: 'ptu', capacity: 3 }]
 */
export function enforcedShare(
  state: ShareState,
  seen: readonly GroupCapacity[],
  nowMs: number,
  policy: UnreachablePolicy,
): GroupCapacity[] {
  const fresh = state.grantAtMs !== undefined && nowMs - state.grantAtMs <= grantLifetimeMs(state.pacing);
  return seen.map((g) => {
    if (state.grant === undefined) {
      const unreachable = (state.failures ?? 0) > 0 && policy === 'keep-even-share';
      return { groupId: g.groupId, capacity: unreachable ? evenShare(g.capacity, state.instances) : 0 };
    }
    let capacity = Math.min(Math.max(0, g.capacity), capacityIn(state.grant, g.groupId));
    if (state.lowered !== undefined) capacity = Math.min(capacity, capacityIn(state.lowered, g.groupId));
    if (!fresh) capacity = policy === 'stop' ? 0 : Math.min(capacity, evenShare(g.capacity, state.instances));
    return { groupId: g.groupId, capacity };
  });
}

function evenShare(capacity: number, instances: number): number {
  return Math.floor(Math.max(0, capacity) / Math.max(1, instances));
}

/** Per group, the larger of what is enforced and what is in use: what the instance may have in flight. */
export function holdingOf(enforced: readonly GroupCapacity[], inUse: readonly GroupCapacity[]): GroupCapacity[] {
  const ids = [...new Set([...enforced.map((g) => g.groupId), ...inUse.map((g) => g.groupId)])];
  return ids.map((groupId) => ({
    groupId,
    capacity: Math.max(capacityIn(enforced, groupId), capacityIn(inUse, groupId)),
  }));
}
