import * as df from 'durable-functions';
import { answerFromStoredLedger, type GrantAnswer } from '../../shared/core/scheduling/capacity-grants.js';
import {
  normalizeLedger,
  type CapacityLedgerOptions,
  type InstanceReport,
  type PoolLedger,
} from '../../shared/core/scheduling/capacity-ledger.js';
import type { CapacityLedger, ReportOptions } from '../../shared/ports/capacity-ledger.js';
import type { LedgerLeaveInput, LedgerReportInput } from './capacity-ledger-entity.js';
import type { DurableClientPart } from './durable-link.js';
import { CAPACITY_LEDGER_ENTITY, LEDGER_OPERATIONS } from './names.js';
import { StoredRecordError, type CorruptReadSink } from '../../shared/ports/stored-record-error.js';
import { readStoredLedger } from '../../shared/adapters/azure/schemas/pool-ledger-schema.js';

/** Options of {@link createDurableCapacityLedger}. */
export interface DurableCapacityLedgerOptions {
  /**
   * Pauses before each read of the entity's state after a report signal, until the report shows (the
   * entity processes signals asynchronously). Default 0, 50, 100, 200, 400 ms: under a second in all.
   */
  readonly readDelaysMs?: readonly number[];
  /** Injected for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Told about a corrupt entity state read (read as no ledger; the entity rebuilds it at its next operation). */
  readonly onCorrupt?: CorruptReadSink;
}

const DEFAULT_READ_DELAYS_MS = [0, 50, 100, 200, 400] as const;

/**
 * The Functions app's {@link CapacityLedger}: the `capacityLedger` durable entity (one per pool). A
 * client can only *signal* an entity and read its stored state (durable-functions-entities.md, "Access
 * entities"), so `report` signals the report and then reads the state until the report shows — a few
 * storage reads, no further entity operation — and answers the grant recorded there. `beforeCommit`
 * cannot run before the entity stores the report; the instance applies a lowered grant from the answer,
 * and the room it gives up frees at its next report.
 *
 * @example
 * const ledger = createDurableCapacityLedger(() => link.client);
 */
export function createDurableCapacityLedger(
  client: () => DurableClientPart | undefined,
  options: DurableCapacityLedgerOptions = {},
): CapacityLedger {
  const delays = options.readDelaysMs ?? DEFAULT_READ_DELAYS_MS;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const bound = (): DurableClientPart => {
    const current = client();
    if (current === undefined) throw new Error('capacity ledger: no durable client bound yet');
    return current;
  };
  const readLedger = async (durable: DurableClientPart, poolId: string): Promise<PoolLedger | undefined> => {
    const state = await durable.readEntityState<unknown>(new df.EntityId(CAPACITY_LEDGER_ENTITY, poolId));
    if (!state.entityExists) return undefined;
    try {
      return readStoredLedger(state.entityState, {
        store: 'capacity-ledger',
        location: `entity ${CAPACITY_LEDGER_ENTITY}`,
        key: poolId,
      });
    } catch (error) {
      if (!(error instanceof StoredRecordError)) throw error;
      options.onCorrupt?.(error);
      return undefined;
    }
  };
  return {
    async report(poolId: string, report: InstanceReport, reportOptions: ReportOptions = {}): Promise<GrantAnswer> {
      const durable = bound();
      const ledgerOptions = reportOptions.ledger ?? {};
      const input: LedgerReportInput = { report, options: ledgerOptions };
      await durable.signalEntity(new df.EntityId(CAPACITY_LEDGER_ENTITY, poolId), LEDGER_OPERATIONS.report, input);
      let ledger: PoolLedger | undefined;
      for (const delayMs of delays) {
        if (delayMs > 0) await sleep(delayMs);
        ledger = await readLedger(durable, poolId);
        const entry = ledger?.instances[report.instanceId];
        if (entry !== undefined && entry.seq === report.seq && entry.atMs === report.atMs) break;
      }
      return answerFromStoredLedger(ledger ?? normalizeLedger(undefined), report, ledgerOptions);
    },
    async leave(poolId: string, instanceId: string, atMs: number, ledgerOptions: CapacityLedgerOptions = {}) {
      const input: LedgerLeaveInput = { instanceId, atMs, options: ledgerOptions };
      await bound().signalEntity(new df.EntityId(CAPACITY_LEDGER_ENTITY, poolId), LEDGER_OPERATIONS.leave, input);
    },
    read: (poolId: string) => readLedger(bound(), poolId),
  };
}
