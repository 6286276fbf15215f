import type { GroupCapacity } from './scheduler-types.js';

/**
 * The global capacity ledger of one pool: the state several gateway instances share (a durable entity on
 * Azure Functions, a Table row for standalone replicas; one per pool) so that together they never admit
 * more concurrent calls than the pool's backends take, and the most urgent demand anywhere goes first.
 *
 * - Each instance **reports** when its demand changes (at most once per paced interval): the pool's
 *   capacity as it sees it, its demand per priority level, and what it holds. The ledger answers with a
 *   **grant** per group — the most the instance may admit until its next report. Grants are commitments:
 *   a grant only grows into room that no other instance holds (`capacity-grants.ts`), so the sum of what
 *   every instance may have in flight never exceeds the pool.
 * - **Durable requests** (orchestrations) wait in the ledger itself by priority; they are offered a slot
 *   when one frees (`durable-grants.ts`) and told so by an event.
 *
 * Everything here is pure: time comes in as `nowMs`, state goes in and a new state comes out.
 *
 * Compatibility: {@link PoolLedger} is stored state (durable entity state, a Table row, JSON). Fields are
 * only added; `version` changes on an incompatible change and {@link normalizeLedger} rejects an unknown one.
 */

/** What one instance tells the ledger about one pool. */
export interface InstanceReport {
  /** Stable per instance for its lifetime (host name + process id + a random part). */
  readonly instanceId: string;
  /** The pool's groups and their capacity as this instance sees them (configured, less open/cooling backends). */
  readonly groups: readonly GroupCapacity[];
  /** Demand per level: index 0 = level 1. Requests waiting plus leases held, in the in-process scheduler. */
  readonly demand: readonly number[];
  /** Slots this instance uses now (its in-process leases). */
  readonly inUse: number;
  /**
   * Per group, the most this instance may have in flight until its next report: the larger of the
   * capacity it enforces and the leases it holds. A grant never counts on slots another instance holds.
   * Absent (reporters older than this field): its recorded grant is taken instead.
   */
  readonly holding?: readonly GroupCapacity[];
  /** The instance's own report counter (1, 2, …): lets a reader see whether this report was applied. */
  readonly seq?: number;
  /** When the report was made (the instance's clock). */
  readonly atMs: number;
}

/** An instance as the ledger records it. */
export interface InstanceEntry extends InstanceReport {
  /**
   * Per group, the most the instance may admit: answered at its latest report, raised since by other
   * reports when room freed up (it learns that by reading the ledger). A commitment: never lowered behind
   * the instance's back.
   */
  readonly grant?: readonly GroupCapacity[];
  /**
   * Advice recorded by other instances' reports: lower to this (its target) — lowering needs no
   * permission. The room counts as free only once the instance reports it holds less.
   */
  readonly lower?: readonly GroupCapacity[];
}

/** A durable request waiting for a slot. */
export interface DurableWaiter {
  readonly requestId: string;
  readonly level: number;
  readonly enqueuedAtMs: number;
  readonly deadlineMs: number;
  /** Last time its orchestration asked; a waiter whose orchestration is gone stops asking and is dropped. */
  readonly lastSeenAtMs: number;
  readonly seq: number;
}

/** A slot held by (or offered to) a durable request. */
export interface DurableLease {
  readonly requestId: string;
  readonly level: number;
  readonly grantedAtMs: number;
  /** Reclaimed after this even if never released (a lost orchestration cannot leak capacity). */
  readonly expiresAtMs: number;
  readonly waitedMs: number;
  /**
   * Set while the slot is only *offered* (granted when it freed, the orchestration told by an event):
   * unless its orchestration confirms it by this instant, the offer lapses and the request waits again
   * in its old place. Absent once confirmed.
   */
  readonly confirmByMs?: number;
  /** The waiter an unconfirmed offer came from (restored when the offer lapses). */
  readonly offeredTo?: DurableWaiter;
}

/** The ledger of one pool. */
export interface PoolLedger {
  readonly version: 1;
  /** Capacity per group from the latest report (any instance); `[]` until the first report. */
  readonly groups: readonly GroupCapacity[];
  readonly instances: Readonly<Record<string, InstanceEntry>>;
  readonly waiting: readonly DurableWaiter[];
  readonly leases: Readonly<Record<string, DurableLease>>;
  readonly nextSeq: number;
  /** Changes applied so far (every report, acquire, release …): the ledger's rounds, for observers. */
  readonly revision?: number;
}

/** Options of the ledger. Every field has a default ({@link DEFAULT_LEDGER_OPTIONS}). */
export interface CapacityLedgerOptions {
  /** Shortest time between two reports of one instance for one pool. */
  readonly reportIntervalMs?: number;
  /** An instance holding a grant reports at least this often, even when nothing changes. */
  readonly heartbeatMs?: number;
  /** An instance not heard from for this long is gone; what it held returns to the pool. */
  readonly instanceStaleMs?: number;
  /**
   * Reports per second the pool's ledger is paced for, across all instances. With more live instances
   * than this, each instance's interval stretches to `instances / reportsPerSecond` seconds (and the
   * heartbeat and staleness with it), so the ledger's operation rate stays bounded however far the app
   * scales out.
   */
  readonly reportsPerSecond?: number;
  /** Spare slots a busy instance gets beyond its demand, as a fraction of its demand (at least one slot). */
  readonly headroomRatio?: number;
  /** A durable waiter that has not asked for this long is dropped. Keep it above 2 backstop intervals. */
  readonly waiterStaleMs?: number;
  /** How long an offered slot waits for its orchestration to confirm it. */
  readonly offerTtlMs?: number;
  /** A durable lease never released is reclaimed after this. */
  readonly durableLeaseTtlMs?: number;
  /** Waiting durable requests per pool before new ones are rejected. */
  readonly maxWaiting?: number;
  /** A waiting durable request's effective level improves by one per this much waiting; 0 = off. */
  readonly agingStepMs?: number;
}

/** The defaults (documented in docs/scheduling.md, "Sharing capacity across instances"). */
export const DEFAULT_LEDGER_OPTIONS = {
  reportIntervalMs: 1_000,
  heartbeatMs: 5_000,
  instanceStaleMs: 15_000,
  reportsPerSecond: 32,
  headroomRatio: 0.5,
  waiterStaleMs: 90_000,
  offerTtlMs: 45_000,
  durableLeaseTtlMs: 2 * 3_600_000,
  maxWaiting: 10_000,
  agingStepMs: 30_000,
} as const;

/** Options with every default applied. */
export type ResolvedLedgerOptions = { readonly [K in keyof CapacityLedgerOptions]-?: number };

/** Applies the defaults to `options` (fields set to `undefined` take the default too). */
export function resolveLedgerOptions(options: CapacityLedgerOptions = {}): ResolvedLedgerOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_LEDGER_OPTIONS, ...defined } as ResolvedLedgerOptions;
}

/** How often instances report, given how many there are (see {@link CapacityLedgerOptions.reportsPerSecond}). */
export interface ReportPacing {
  /** Shortest time between two reports of one instance. */
  readonly intervalMs: number;
  /** Longest time between two reports of an instance that holds a grant. */
  readonly heartbeatMs: number;
  /** Silence after which the ledger drops an instance. */
  readonly staleAfterMs: number;
}

/**
 * The pacing for `liveInstances` reporters: the interval stretches so that `liveInstances / interval`
 * stays within `reportsPerSecond`; the heartbeat stays at least two intervals and the staleness at least
 * three heartbeats, so a live instance is never dropped between two of its heartbeats.
 *
 * @example
 * reportPacing(100, {}); // { intervalMs: 3125, heartbeatMs: 6250, staleAfterMs: 18750 }
 */
export function reportPacing(liveInstances: number, options: CapacityLedgerOptions = {}): ReportPacing {
  const o = resolveLedgerOptions(options);
  const perSecond = Math.max(0.001, o.reportsPerSecond);
  const intervalMs = Math.max(o.reportIntervalMs, Math.ceil((1_000 * Math.max(1, liveInstances)) / perSecond));
  const heartbeatMs = Math.max(o.heartbeatMs, 2 * intervalMs);
  const staleAfterMs = Math.max(o.instanceStaleMs, 3 * heartbeatMs);
  return { intervalMs, heartbeatMs, staleAfterMs };
}

/** A new, empty ledger. */
export function emptyLedger(): PoolLedger {
  return { version: 1, groups: [], instances: {}, waiting: [], leases: {}, nextSeq: 1, revision: 0 };
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

/** The ledger with its revision counted up by one (every stored change). */
export function revised(ledger: PoolLedger): PoolLedger {
  return { ...ledger, revision: (ledger.revision ?? 0) + 1 };
}

/** Sum of the capacities of `groups` (negative values count as 0). */
export function totalCapacity(groups: readonly GroupCapacity[] | undefined): number {
  return (groups ?? []).reduce((sum, g) => sum + Math.max(0, g.capacity), 0);
}

/** The capacity of `groupId` in `groups` (0 when absent). */
export function capacityIn(groups: readonly GroupCapacity[] | undefined, groupId: string): number {
  return Math.max(0, groups?.find((g) => g.groupId === groupId)?.capacity ?? 0);
}

/** The unconfirmed offers whose confirmation time has passed go back to waiting, in their old place. */
function lapseOffers(ledger: PoolLedger, nowMs: number): PoolLedger {
  const lapsed = Object.values(ledger.leases).filter((l) => l.confirmByMs !== undefined && l.confirmByMs <= nowMs);
  if (lapsed.length === 0) return ledger;
  const leases = { ...ledger.leases };
  for (const lease of lapsed) delete leases[lease.requestId];
  const restored = lapsed.flatMap((l) => (l.offeredTo === undefined ? [] : [l.offeredTo]));
  return { ...ledger, leases, waiting: [...ledger.waiting, ...restored].sort((a, b) => a.seq - b.seq) };
}

/**
 * Drops stale instances (paced by how many there are), lapsed offers (their waiters wait again), stale or
 * expired waiters, and expired leases.
 */
export function prune(ledger: PoolLedger, nowMs: number, options: CapacityLedgerOptions = {}): PoolLedger {
  const o = resolveLedgerOptions(options);
  const { staleAfterMs } = reportPacing(Object.keys(ledger.instances).length, o);
  const instances = Object.fromEntries(
    Object.entries(ledger.instances).filter(([, r]) => r.atMs > nowMs - staleAfterMs),
  );
  const offersLapsed = lapseOffers({ ...ledger, instances }, nowMs);
  const waiting = offersLapsed.waiting.filter((w) => w.deadlineMs > nowMs && w.lastSeenAtMs > nowMs - o.waiterStaleMs);
  const leases = Object.fromEntries(Object.entries(offersLapsed.leases).filter(([, l]) => l.expiresAtMs > nowMs));
  return { ...offersLapsed, waiting, leases };
}

/**
 * Allocates `total` integer units proportionally to `weights` (largest remainder; ties by key order).
 * The result sums to `total` exactly when the weights sum is positive.
 *
 * @example
 * allocateProportionally(3, [['a', 1], ['b', 1]]); // Map { a → 2, b → 1 }
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
