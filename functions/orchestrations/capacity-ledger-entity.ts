import * as df from 'durable-functions';
import type { EntityContext, EntityHandler } from 'durable-functions';
import { applyReport, leaveLedger } from '../../shared/core/scheduling/capacity-grants.js';
import {
  emptyLedger,
  type CapacityLedgerOptions,
  type DurableLease,
  type InstanceReport,
  type PoolLedger,
} from '../../shared/core/scheduling/capacity-ledger.js';
import { acquireDurable, releaseDurable, type DurableAcquire } from '../../shared/core/scheduling/durable-grants.js';
import { CAPACITY_GRANTED_EVENT, CAPACITY_LEDGER_ENTITY, LEDGER_OPERATIONS } from './names.js';
import { StoredRecordError } from '../../shared/ports/stored-record-error.js';
import { readStoredLedger } from '../../shared/adapters/azure/schemas/pool-ledger-schema.js';
import { ledgerOptionsSchema } from '../../shared/adapters/azure/schemas/ledger-options-schema.js';

/**
 * Inputs of the entity's operations. Compatibility: these travel in durable messages; fields are only
 * added (a `report` sent as a bare `InstanceReport` by an older instance is still accepted).
 */
export interface LedgerReportInput {
  readonly report: InstanceReport;
  readonly options?: CapacityLedgerOptions;
}
export interface LedgerReleaseInput {
  readonly requestId: string;
  /** The releasing orchestration's time (absent from older orchestrations: the entity's clock). */
  readonly nowMs?: number;
}
export interface LedgerLeaveInput {
  readonly instanceId: string;
  readonly atMs: number;
  readonly options?: CapacityLedgerOptions;
}

/** Entity state: the pool's ledger plus the options of its latest report (durable operations use them too). */
export type CapacityLedgerState = PoolLedger & { readonly options?: CapacityLedgerOptions };

/** Tells the orchestrations of offered slots that they may go on (request id = orchestration instance id). */
export type GrantNotifier = (
  context: EntityContext<CapacityLedgerState>,
  offered: readonly DurableLease[],
) => Promise<void>;

/**
 * The default notifier: raises `CapacityGranted` on each offered request's orchestration through the
 * durable client bound to the entity. JavaScript entities can only *signal* entities, not raise events
 * (durable-functions-entities.md, "Access entities"); a durable client inside the entity is the workaround
 * the Durable Functions team describes (azure-functions-durable-extension#1474) — without the usual
 * exactly-once delivery, which is why an orchestration treats the event as a wake-up and confirms its
 * slot by asking the entity again, and why offers lapse when not confirmed.
 */
export const raiseGrantedEvents: GrantNotifier = async (context, offered) => {
  if (offered.length === 0) return;
  const client = df.getClient(context);
  await Promise.all(
    offered.map((lease) =>
      client
        .raiseEvent(lease.requestId, CAPACITY_GRANTED_EVENT, {
          requestId: lease.requestId,
          grantedAtMs: lease.grantedAtMs,
        })
        .catch((error: unknown) => context.warn(`capacityLedger: could not tell ${lease.requestId}: ${String(error)}`)),
    ),
  );
};

let notifier: GrantNotifier = raiseGrantedEvents;

/** Replaces the notifier (tests that cannot bind a durable client); `undefined` restores the default. */
export function useGrantNotifier(next: GrantNotifier | undefined): void {
  notifier = next ?? raiseGrantedEvents;
}

/**
 * The stored state, checked. A corrupt state is logged (an error trace naming the entity and pool) and the
 * ledger starts empty: the instances' next reports rebuild it, and the operation's write replaces the bad
 * state — a stuck entity would fail every report and every durable request of the pool (ADR 0039).
 */
function storedState(context: EntityContext<CapacityLedgerState>): {
  ledger: PoolLedger;
  options: CapacityLedgerOptions;
} {
  const state: unknown = context.df.getState();
  const where = { store: 'capacity-ledger', location: `entity ${CAPACITY_LEDGER_ENTITY}`, key: context.df.entityKey };
  try {
    const ledger = readStoredLedger(state, where);
    const options = (state as { options?: unknown } | undefined)?.options;
    if (options === undefined) return { ledger, options: {} };
    const parsed = ledgerOptionsSchema.safeParse(options);
    if (parsed.success) return { ledger, options: parsed.data };
    context.error(new StoredRecordError({ ...where, problem: 'options are not ledger options' }).message);
    return { ledger, options: {} };
  } catch (error) {
    if (!(error instanceof StoredRecordError)) throw error;
    context.error(`${error.message}; the ledger starts empty and is rebuilt from the next reports`);
    return { ledger: emptyLedger(), options: {} };
  }
}

function required<T>(value: T | undefined): T {
  if (value === undefined || value === null) throw new Error('capacityLedger: the operation needs an input');
  return value;
}

function reportInput(input: LedgerReportInput | InstanceReport): LedgerReportInput {
  return 'report' in input ? input : { report: input };
}

/**
 * The per-pool capacity ledger (entity key = pool id). Translates operations to the pure functions of
 * `shared/core/scheduling/` and stores the result; it decides nothing itself. Operations (input → return):
 * - `report` (`LedgerReportInput`) → `GrantAnswer`; instances *signal* it (at most once per paced
 *   interval each) and read their grant back from the state;
 * - `acquire` (`DurableAcquire`) → `DurableDecision`, called by orchestrations;
 * - `release` (`LedgerReleaseInput`) → `boolean`, signalled by orchestrations when they end;
 * - `leave` (`LedgerLeaveInput`), signalled by an instance that stops;
 * - `get` → the ledger.
 * Any operation that frees a slot offers it to the most urgent waiting orchestration and raises
 * `CapacityGranted` on it — no orchestration polls. Time comes in every input, so decisions are testable.
 */
export const capacityLedgerEntity: EntityHandler<CapacityLedgerState> = async (
  context: EntityContext<CapacityLedgerState>,
) => {
  const { ledger, options } = storedState(context);
  const save = async (next: PoolLedger, offered: readonly DurableLease[], nextOptions = options): Promise<void> => {
    context.df.setState({ ...next, options: nextOptions });
    await notifier(context, offered);
  };
  switch (context.df.operationName) {
    case LEDGER_OPERATIONS.report: {
      const input = reportInput(required(context.df.getInput<LedgerReportInput | InstanceReport>()));
      const result = applyReport(ledger, input.report, input.options ?? options);
      context.df.return(result.answer);
      return save(result.ledger, result.offered, input.options ?? options);
    }
    case LEDGER_OPERATIONS.acquire: {
      const result = acquireDurable(ledger, required(context.df.getInput<DurableAcquire>()), options);
      context.df.return(result.decision);
      return save(result.ledger, result.offered);
    }
    case LEDGER_OPERATIONS.release: {
      const input = required(context.df.getInput<LedgerReleaseInput>());
      // Only orchestrations started by an older build send no time.
      const result = releaseDurable(ledger, input.requestId, input.nowMs ?? Date.now(), options);
      context.df.return(result.released);
      return save(result.ledger, result.offered);
    }
    case LEDGER_OPERATIONS.leave: {
      const input = required(context.df.getInput<LedgerLeaveInput>());
      const result = leaveLedger(ledger, input.instanceId, input.atMs, input.options ?? options);
      return save(result.ledger, result.offered);
    }
    case LEDGER_OPERATIONS.get:
      context.df.return(ledger);
      return;
    default:
      throw new Error(`capacityLedger: unknown operation "${context.df.operationName ?? ''}"`);
  }
};
