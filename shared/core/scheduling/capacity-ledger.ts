import type { GroupCapacity } from './scheduler-types.js';

/**
 * The global capacity ledger of one pool: the state a durable entity keeps (one entity per pool) so that
 * several gateway instances share a pool's backend capacity, and durable requests wait for it by priority.
 *
 * - Each instance **reports** at most once per interval: the pool's capacity as it sees it (configured,
 *   health-adjusted), its demand by priority level (waiting + leased in its in-process scheduler) and the
 *   slots it uses. From the reports, {@link computeShares} gives every live instance its share of the
 *   capacity, most urgent demand first; the instance hands its share to its in-process scheduler. The hot
 *   path never waits on the entity.
 * - A **durable request** (an orchestration) asks {@link acquireDurable} on each poll; it is granted a
 *   slot when the pool has a spare one and no more urgent (after aging) durable request is ahead of it. It
 *   holds the slot until {@link releaseDurable}. Instance shares are computed from the capacity left after
 *   durable leases, so the two never hand out the same slot.
 *
 * Everything here is pure: time comes in as `nowMs`, state goes in and a new state comes out.
 *
 * Compatibility: {@link PoolLedger} is durable entity state (JSON). Fields are only added; `version`
 * changes on an incompatible change and {@link normalizeLedger} rejects an unknown one.
 */

/** What one instance tells the ledger, once per interval. */
export interface InstanceReport {
  /** Stable per instance for its lifetime (e.g. `WEBSITE_INSTANCE_ID` + process id). */
  readonly instanceId: string;
  /** The pool's groups and their capacity as this instance sees them (configured, less open/cooling backends). */
  readonly groups: readonly GroupCapacity[];
  /** Demand per level: index 0 = level 1. Requests waiting plus leases held, in the in-process scheduler. */
  readonly demand: readonly number[];
  /** Slots this instance uses now (its in-process leases). */
  readonly inUse: number;
  /** When the report was made. */
  readonly atMs: number;
}

/** A durable request waiting for a slot. */
export interface DurableWaiter {
  readonly requestId: string;
  readonly level: number;
  readonly enqueuedAtMs: number;
  readonly deadlineMs: number;
  /** Last poll; a waiter that stops polling (its orchestration ended) is dropped. */
  readonly lastSeenAtMs: number;
  readonly seq: number;
}

/** A slot held by a durable request. */
export interface DurableLease {
  readonly requestId: string;
  readonly level: number;
  readonly grantedAtMs: number;
  /** Reclaimed after this even if never released (a lost orchestration cannot leak capacity). */
  readonly expiresAtMs: number;
  readonly waitedMs: number;
}

/** The ledger of one pool (the entity's state). */
export interface PoolLedger {
  readonly version: 1;
  /** Capacity per group from the latest report (any instance); `[]` until the first report. */
  readonly groups: readonly GroupCapacity[];
  readonly instances: Readonly<Record<string, InstanceReport>>;
  readonly waiting: readonly DurableWaiter[];
  readonly leases: Readonly<Record<string, DurableLease>>;
  readonly nextSeq: number;
}

/** Options of the ledger. Every field has a default ({@link DEFAULT_LEDGER_OPTIONS}). */
export interface CapacityLedgerOptions {
  /** An instance that has not reported for this long is gone; its share returns to the pool. */
  readonly instanceStaleMs?: number;
  /** A durable waiter that has not polled for this long is dropped. Keep it above 2 poll intervals. */
  readonly waiterStaleMs?: number;
  /** A durable lease never released is reclaimed after this. */
  readonly durableLeaseTtlMs?: number;
  /** Waiting durable requests per pool before new ones are rejected. */
  readonly maxWaiting?: number;
  /** A waiting durable request's effective level improves by one per this much waiting; 0 = off. */
  readonly agingStepMs?: number;
}

/** The defaults. */
export const DEFAULT_LEDGER_OPTIONS = {
  instanceStaleMs: 30_000,
  waiterStaleMs: 60_000,
  durableLeaseTtlMs: 2 * 3_600_000,
  maxWaiting: 10_000,
  agingStepMs: 30_000,
} as const;

/** The decision on a durable request's poll. */
export type DurableDecision =
  | { readonly kind: 'granted'; readonly lease: DurableLease }
  /** `position` is 1-based among the waiters of the pool, by effective level then arrival. */
  | { readonly kind: 'waiting'; readonly position: number }
  | { readonly kind: 'rejected'; readonly reason: 'expired' | 'queue-full' };

/** A new, empty ledger. */
export function emptyLedger(): PoolLedger {
  return { version: 1, groups: [], instances: {}, waiting: [], leases: {}, nextSeq: 1 };
}

/**
 * Accepts a stored state (or nothing) and returns a ledger; throws on an unknown version.
 *
 * @example
 * const ledger = normalizeLedger(context.df.getState());
 */
export function normalizeLedger(state: unknown): PoolLedger {
  if (state === undefined || state === null) return emptyLedger();
  const candidate = state as Partial<PoolLedger>;
  if (candidate.version !== 1) throw new RangeError(`Unknown capacity ledger version: ${String(candidate.version)}`);
  return { ...emptyLedger(), ...candidate } as PoolLedger;
}

function resolve(options: CapacityLedgerOptions): Required<CapacityLedgerOptions> {
  return { ...DEFAULT_LEDGER_OPTIONS, ...stripUndefined(options) };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function totalCapacity(groups: readonly GroupCapacity[]): number {
  return groups.reduce((sum, g) => sum + Math.max(0, g.capacity), 0);
}

/** Drops stale instances, stale or expired waiters, and expired leases. */
export function prune(ledger: PoolLedger, nowMs: number, options: CapacityLedgerOptions = {}): PoolLedger {
  const o = resolve(options);
  const instances = Object.fromEntries(
    Object.entries(ledger.instances).filter(([, r]) => r.atMs > nowMs - o.instanceStaleMs),
  );
  const waiting = ledger.waiting.filter((w) => w.deadlineMs > nowMs && w.lastSeenAtMs > nowMs - o.waiterStaleMs);
  const leases = Object.fromEntries(Object.entries(ledger.leases).filter(([, l]) => l.expiresAtMs > nowMs));
  return { ...ledger, instances, waiting, leases };
}

/**
 * Records an instance's report; the newest report also sets the pool's capacity.
 *
 * @example
 * ledger = recordReport(ledger, { instanceId: 'i1', groups: [{ groupId: 'ptu', capacity: 8 }], demand: [2, 5, 0], inUse: 4, atMs: now });
 */
export function recordReport(
  ledger: PoolLedger,
  report: InstanceReport,
  options: CapacityLedgerOptions = {},
): PoolLedger {
  const pruned = prune(ledger, report.atMs, options);
  return {
    ...pruned,
    groups: report.groups.map((g) => ({ groupId: g.groupId, capacity: g.capacity })),
    instances: { ...pruned.instances, [report.instanceId]: report },
  };
}

/**
 * Allocates `total` integer units proportionally to `weights` (largest remainder; ties by key order).
 * The result sums to `min(total, …)` exactly when the weights sum is positive.
 */
export function allocateProportionally(
  total: number,
  weights: ReadonlyArray<readonly [string, number]>,
): Map<string, number> {
  const out = new Map<string, number>(weights.map(([k]) => [k, 0]));
  const sum = weights.reduce((s, [, w]) => s + Math.max(0, w), 0);
  if (total <= 0 || sum <= 0) return out;
  const exact = weights.map(([k, w]) => [k, (total * Math.max(0, w)) / sum] as const);
  let given = 0;
  for (const [k, x] of exact) {
    const floor = Math.floor(x);
    out.set(k, floor);
    given += floor;
  }
  const byRemainder = [...exact].sort(
    (a, b) => b[1] - Math.floor(b[1]) - (a[1] - Math.floor(a[1])) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0),
  );
  for (let i = 0; i < byRemainder.length && given < total; i++) {
    const [k] = byRemainder[i]!;
    out.set(k, (out.get(k) ?? 0) + 1);
    given++;
  }
  return out;
}

/**
 * Each live instance's share of the pool, per group. Capacity left after durable leases is given to
 * demand level by level (level 1 first): a level's demand is met in full when it fits, else the rest is
 * split in proportion to it and less urgent levels get nothing. What is left after all demand is split
 * evenly, as headroom for bursts between reports. Per group the shares are proportional to each
 * instance's total, so the shares of a group never exceed its capacity.
 *
 * @example
 * computeShares(ledger, now).get('i1'); // [{ groupId: 'ptu', capacity: 3 }, { groupId: 'payg', capacity: 2 }]
 */
export function computeShares(
  ledger: PoolLedger,
  nowMs: number,
  options: CapacityLedgerOptions = {},
): Map<string, GroupCapacity[]> {
  const live = prune(ledger, nowMs, options);
  const ids = Object.keys(live.instances).sort();
  const result = new Map<string, GroupCapacity[]>();
  if (ids.length === 0) return result;
  // Durable leases take slots from the first groups in tier order (they are the long, queued calls).
  let durable = Object.keys(live.leases).length;
  const groups = live.groups.map((g) => {
    const taken = Math.min(durable, Math.max(0, g.capacity));
    durable -= taken;
    return { groupId: g.groupId, capacity: Math.max(0, g.capacity) - taken };
  });
  const available = totalCapacity(groups);
  const totals = new Map<string, number>(ids.map((id) => [id, 0]));
  let remaining = available;
  const levels = Math.max(0, ...ids.map((id) => live.instances[id]!.demand.length));
  for (let level = 0; level < levels && remaining > 0; level++) {
    const wants = ids.map((id) => [id, Math.max(0, live.instances[id]!.demand[level] ?? 0)] as const);
    const want = wants.reduce((s, [, w]) => s + w, 0);
    if (want === 0) continue;
    const granted = want <= remaining ? new Map(wants) : allocateProportionally(remaining, wants);
    for (const [id, n] of granted) totals.set(id, (totals.get(id) ?? 0) + n);
    remaining -= Math.min(want, remaining);
  }
  if (remaining > 0) {
    for (const [id, n] of allocateProportionally(
      remaining,
      ids.map((id) => [id, 1] as const),
    ))
      totals.set(id, (totals.get(id) ?? 0) + n);
  }
  const perGroup = groups.map((g) =>
    allocateProportionally(
      g.capacity,
      ids.map((id) => [id, totals.get(id) ?? 0] as const),
    ),
  );
  for (const id of ids)
    result.set(
      id,
      groups.map((g, i) => ({ groupId: g.groupId, capacity: perGroup[i]!.get(id) ?? 0 })),
    );
  return result;
}

/** Slots neither leased by durable requests nor in use by instances (as last reported). */
export function spareSlots(ledger: PoolLedger, nowMs: number, options: CapacityLedgerOptions = {}): number {
  const live = prune(ledger, nowMs, options);
  const used =
    Object.values(live.instances).reduce((s, r) => s + Math.max(0, r.inUse), 0) + Object.keys(live.leases).length;
  return Math.max(0, totalCapacity(live.groups) - used);
}

function effectiveLevel(waiter: DurableWaiter, nowMs: number, agingStepMs: number): number {
  if (agingStepMs <= 0) return waiter.level;
  return Math.max(1, waiter.level - Math.floor((nowMs - waiter.enqueuedAtMs) / agingStepMs));
}

/** A durable request's poll. */
export interface DurableAcquire {
  readonly requestId: string;
  /** 1 = most urgent. */
  readonly level: number;
  /** The request stops waiting at this instant. */
  readonly deadlineMs: number;
  readonly nowMs: number;
}

/**
 * A durable request asks for a slot (each poll asks again; asking is idempotent). Granted when a spare
 * slot exists for it: the `k` spare slots go to the `k` most urgent waiters (effective level, then
 * arrival), so a less urgent request never takes a slot a more urgent one is waiting for.
 *
 * @example
 * const { ledger: next, decision } = acquireDurable(ledger, { requestId: jobId, level: 2, deadlineMs, nowMs });
 */
export function acquireDurable(
  ledger: PoolLedger,
  request: DurableAcquire,
  options: CapacityLedgerOptions = {},
): { ledger: PoolLedger; decision: DurableDecision } {
  const o = resolve(options);
  const nowMs = request.nowMs;
  let next = prune(ledger, nowMs, o);
  const held = next.leases[request.requestId];
  if (held !== undefined) return { ledger: next, decision: { kind: 'granted', lease: held } };
  if (request.deadlineMs <= nowMs) {
    return {
      ledger: { ...next, waiting: next.waiting.filter((w) => w.requestId !== request.requestId) },
      decision: { kind: 'rejected', reason: 'expired' },
    };
  }
  const existing = next.waiting.find((w) => w.requestId === request.requestId);
  if (existing === undefined) {
    if (next.waiting.length >= o.maxWaiting)
      return { ledger: next, decision: { kind: 'rejected', reason: 'queue-full' } };
    const waiter: DurableWaiter = {
      requestId: request.requestId,
      level: request.level,
      enqueuedAtMs: nowMs,
      deadlineMs: request.deadlineMs,
      lastSeenAtMs: nowMs,
      seq: next.nextSeq,
    };
    next = { ...next, waiting: [...next.waiting, waiter], nextSeq: next.nextSeq + 1 };
  } else {
    next = { ...next, waiting: next.waiting.map((w) => (w === existing ? { ...w, lastSeenAtMs: nowMs } : w)) };
  }
  const order = [...next.waiting].sort(
    (a, b) => effectiveLevel(a, nowMs, o.agingStepMs) - effectiveLevel(b, nowMs, o.agingStepMs) || a.seq - b.seq,
  );
  const rank = order.findIndex((w) => w.requestId === request.requestId);
  const spare = spareSlots(next, nowMs, o);
  if (rank < spare) {
    const waiter = order[rank]!;
    const lease: DurableLease = {
      requestId: waiter.requestId,
      level: waiter.level,
      grantedAtMs: nowMs,
      expiresAtMs: nowMs + o.durableLeaseTtlMs,
      waitedMs: nowMs - waiter.enqueuedAtMs,
    };
    return {
      ledger: {
        ...next,
        waiting: next.waiting.filter((w) => w !== waiter),
        leases: { ...next.leases, [lease.requestId]: lease },
      },
      decision: { kind: 'granted', lease },
    };
  }
  return { ledger: next, decision: { kind: 'waiting', position: rank + 1 } };
}

/**
 * Ends a durable request: releases its slot, or removes it from the waiters. Idempotent.
 *
 * @example
 * const { ledger: next, released } = releaseDurable(ledger, jobId);
 */
export function releaseDurable(ledger: PoolLedger, requestId: string): { ledger: PoolLedger; released: boolean } {
  const released = ledger.leases[requestId] !== undefined;
  const leases = { ...ledger.leases };
  delete leases[requestId];
  return { ledger: { ...ledger, leases, waiting: ledger.waiting.filter((w) => w.requestId !== requestId) }, released };
}
