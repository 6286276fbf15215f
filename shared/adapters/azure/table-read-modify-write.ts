import type { TableClient, TableEntity } from '@azure/data-tables';
import { isLostRace, statusOf } from './azure-errors.js';

/** What one attempt of {@link tableReadModifyWrite} decided from the entity it read. */
export interface TableWriteDecision<R> {
  /** The entity to write (created when none was read, else replaced under the read ETag); none: write nothing. */
  readonly write?: TableEntity | undefined;
  /** The answer, returned once the write (if any) succeeded. */
  readonly result: R;
}

/** Options of {@link tableReadModifyWrite}. */
export interface TableReadModifyWriteOptions<S, R> {
  /** Reads the entity's current state and ETag; `undefined` when there is no entity. */
  read(): Promise<{ readonly value: S; readonly etag: string } | undefined>;
  /** Decides from the state read — a pure function, applied again after every lost race. */
  decide(current: S | undefined): TableWriteDecision<R>;
  /** Attempts before giving up. */
  readonly maxAttempts: number;
  /** A pause before every attempt after the first (spreads contending writers); none by default. */
  readonly backoff?: ((attempt: number) => Promise<void>) | undefined;
  /** Also start over when the entity vanished between the read and the replace (404). */
  readonly retryWhenGone?: boolean;
  /** Names the entity in the error thrown after `maxAttempts` lost races. */
  readonly describe: string;
}

/**
 * Optimistic read-modify-write of one Table entity: read it with its ETag, decide, and write only if nobody
 * wrote in between — `createEntity` when there was none (409 if another writer created it first),
 * `updateEntity(…, 'Replace', { etag })` otherwise (412 if it changed). A lost race reads again and decides
 * again, so concurrent writers across instances serialise without locks. Every Table adapter that changes
 * an entity goes through here.
 *
 * @example
 * await tableReadModifyWrite(client, {
 *   read: () => readCounter(key),
 *   decide: (used = 0) => ({ write: counterEntity(key, used + 1), result: used + 1 }),
 *   maxAttempts: 200,
 *   describe: `TableQuotaStore: "${key}"`,
 * });
 */
export async function tableReadModifyWrite<S, R>(
  client: Pick<TableClient, 'createEntity' | 'updateEntity'>,
  options: TableReadModifyWriteOptions<S, R>,
): Promise<R> {
  for (let attempt = 0; attempt < options.maxAttempts; attempt++) {
    if (attempt > 0 && options.backoff !== undefined) await options.backoff(attempt);
    const current = await options.read();
    const { write, result } = options.decide(current?.value);
    if (write === undefined) return result;
    try {
      if (current === undefined) await client.createEntity(write);
      else await client.updateEntity(write, 'Replace', { etag: current.etag });
      return result;
    } catch (error) {
      if (isLostRace(error) || (options.retryWhenGone === true && statusOf(error) === 404)) continue;
      throw error;
    }
  }
  throw new Error(`${options.describe} lost ${options.maxAttempts} races in a row`);
}
