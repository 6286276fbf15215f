import { z } from 'zod';
import type { CapacityLedgerOptions } from '../../../core/scheduling/capacity-ledger.js';

const amount = z.number().nonnegative().optional();

/** The {@link CapacityLedgerOptions} the capacity-ledger entity keeps beside its ledger (its latest report's). */
export const ledgerOptionsSchema: z.ZodType<CapacityLedgerOptions> = z.looseObject({
  reportIntervalMs: amount,
  heartbeatMs: amount,
  instanceStaleMs: amount,
  reportsPerSecond: amount,
  headroomRatio: amount,
  waiterStaleMs: amount,
  offerTtlMs: amount,
  durableLeaseTtlMs: amount,
  maxWaiting: amount,
  agingStepMs: amount,
});
