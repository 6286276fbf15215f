import { applyReport, leaveLedger, withHolding, type GrantAnswer } from '../../core/scheduling/capacity-grants.js';
import { emptyLedger, type InstanceReport, type PoolLedger } from '../../core/scheduling/capacity-ledger.js';
import type { CapacityLedger, ReportOptions } from '../../ports/capacity-ledger.js';

/**
 * The in-process {@link CapacityLedger}: one ledger per pool in a map. Runtimes of one process that share
 * an instance of it share capacity exactly as replicas sharing a Table ledger do (tests, a single host
 * running several engines). It stores after `beforeCommit`, as the Table ledger does.
 *
 * @example
 * const ledger = new MemoryCapacityLedger();
 * const runtime = createRuntime({ config, capacityLedger: ledger });
 */
export class MemoryCapacityLedger implements CapacityLedger {
  private readonly pools = new Map<string, PoolLedger>();

  report(poolId: string, report: InstanceReport, options: ReportOptions = {}): Promise<GrantAnswer> {
    const { ledger, answer } = applyReport(this.pools.get(poolId) ?? emptyLedger(), report, options.ledger);
    const holding = options.beforeCommit?.(answer.grant);
    this.pools.set(poolId, holding === undefined ? ledger : withHolding(ledger, report.instanceId, holding));
    return Promise.resolve(answer);
  }

  leave(poolId: string, instanceId: string, atMs: number, options: ReportOptions['ledger'] = {}): Promise<void> {
    const current = this.pools.get(poolId);
    if (current !== undefined) this.pools.set(poolId, leaveLedger(current, instanceId, atMs, options).ledger);
    return Promise.resolve();
  }

  read(poolId: string): Promise<PoolLedger | undefined> {
    return Promise.resolve(this.pools.get(poolId));
  }
}
