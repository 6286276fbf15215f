import type { EntityContext, EntityHandler } from 'durable-functions';
import {
  acquireDurable,
  computeShares,
  normalizeLedger,
  recordReport,
  releaseDurable,
  type DurableAcquire,
  type InstanceReport,
  type PoolLedger,
} from '../../shared/core/scheduling/capacity-ledger.js';
import { LEDGER_OPERATIONS } from './names.js';

/**
 * The per-pool capacity ledger (entity key = pool id). Translates operations to the pure functions of
 * `shared/core/scheduling/capacity-ledger.ts` and stores the result; it decides nothing itself.
 * Operations (input → return):
 * - `report` (`InstanceReport`) → the reporting instance's share (`GroupCapacity[]`); instances signal it
 *   once per interval and read the state back with `readEntityState`, so the entity sees one operation
 *   per instance per interval per pool, whatever the request rate;
 * - `acquire` (`DurableAcquire`) → `DurableDecision`, called by orchestrations on their durable-timer polls;
 * - `release` (`{ requestId }`) → `boolean`;
 * - `get` → the ledger.
 * Time comes in every input (`atMs` / `nowMs`), so the entity is replay-safe and testable.
 */
export const capacityLedgerEntity: EntityHandler<PoolLedger> = (context: EntityContext<PoolLedger>) => {
  const ledger = normalizeLedger(context.df.getState());
  switch (context.df.operationName) {
    case LEDGER_OPERATIONS.report: {
      const report = required(context.df.getInput<InstanceReport>());
      const next = recordReport(ledger, report);
      context.df.setState(next);
      context.df.return(computeShares(next, report.atMs).get(report.instanceId) ?? []);
      return;
    }
    case LEDGER_OPERATIONS.acquire: {
      const { ledger: next, decision } = acquireDurable(ledger, required(context.df.getInput<DurableAcquire>()));
      context.df.setState(next);
      context.df.return(decision);
      return;
    }
    case LEDGER_OPERATIONS.release: {
      const { ledger: next, released } = releaseDurable(
        ledger,
        required(context.df.getInput<{ requestId: string }>()).requestId,
      );
      context.df.setState(next);
      context.df.return(released);
      return;
    }
    case LEDGER_OPERATIONS.get:
      context.df.return(ledger);
      return;
    default:
      throw new Error(`capacityLedger: unknown operation "${context.df.operationName ?? ''}"`);
  }
};

function required<T>(value: T | undefined): T {
  if (value === undefined || value === null) throw new Error('capacityLedger: the operation needs an input');
  return value;
}
