import type { GrantAnswer } from '../core/scheduling/capacity-grants.js';
import type { CapacityLedgerOptions, InstanceReport, PoolLedger } from '../core/scheduling/capacity-ledger.js';
import type { GroupCapacity } from '../core/scheduling/scheduler-types.js';

/**
 * The capacity ledger every gateway instance of a deployment shares, one ledger per pool: instances report
 * their demand and what they hold, and are answered the share of the pool they may admit (see
 * `shared/core/scheduling/capacity-ledger.ts` for the model; every adapter applies the same pure
 * functions, `applyReport` above all, so they decide alike).
 *
 * Adapters: `MemoryCapacityLedger` (one process: tests, a single host), `TableCapacityLedger` (one
 * ETag-guarded Table row per pool: standalone replicas on Azure Storage or Azurite) and the durable entity
 * ledger of the Functions app (`functions/orchestrations/durable-capacity-ledger.ts`), which also keeps the
 * durable requests waiting for the pool.
 *
 * Contract: `shared/ports/capacity-ledger.contract.ts`.
 *
 * @example
 * const answer = await ledger.report('gpt-4o', { instanceId, groups, demand, inUse, holding, atMs: clock.now() });
 * scheduler.setCapacity('gpt-4o', answer.grant);
 */
export interface CapacityLedger {
  /**
   * Records `report` in the pool's ledger and answers the reporter's grant, computed from the ledger as
   * it stands once the report is in. Never answers a grant that overlaps what another instance holds.
   */
  report(poolId: string, report: InstanceReport, options?: ReportOptions): Promise<GrantAnswer>;
  /** Removes an instance (graceful stop): what it held returns to the pool at once. Idempotent. */
  leave(poolId: string, instanceId: string, atMs: number, options?: CapacityLedgerOptions): Promise<void>;
  /** The pool's ledger as stored (`undefined` before its first report): admin views, tests, the saturation proof. */
  read(poolId: string): Promise<PoolLedger | undefined>;
}

/** Options of {@link CapacityLedger.report}. */
export interface ReportOptions {
  /** The ledger options (pacing, staleness, headroom); every instance of a deployment should pass the same. */
  readonly ledger?: CapacityLedgerOptions;
  /**
   * Called with the reporter's new grant *before* the report is stored, by adapters that can (a Table row
   * is written after it is computed; a durable entity signal cannot wait): the instance applies a lowered
   * grant at once and returns what it now holds per group, which is stored instead of the reported
   * holding — so the room it gave up is free for others at once rather than after its next report. May be
   * called more than once (a lost write race recomputes); only lowering may be applied here.
   */
  readonly beforeCommit?: (grant: readonly GroupCapacity[]) => readonly GroupCapacity[];
}
