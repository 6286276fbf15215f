/**
 * A record a store wrote earlier and cannot read back: a Table entity or Blob metadata that does not match
 * its schema (a hand edit, a truncated write, a writer of an unknown format version). Thrown — or handed to
 * the store's corrupt-read sink — by the storage adapters, so a corrupt row is an error that names where it
 * lives, never an `undefined` deep inside the engine. Each store decides what a corrupt row does to a
 * request (docs/adr/0039-corrupt-stored-records.md); the engine only needs this class to tell it apart.
 *
 * The message names the store, its table or container and the row's key; it is for operators (logs,
 * telemetry), not for callers: engine answers to callers never carry it.
 *
 * @example
 * const where = { store: 'jobs', location: 'GatewayJobs', key: 'PartitionKey=abc RowKey=job.v1' };
 * throw new StoredRecordError({ ...where, problem: 'status: Invalid option' });
 */
export class StoredRecordError extends Error {
  /** Which store: `jobs`, `backend-health`, `affinity`, `billing-mark`, `quota`, `capacity-ledger`… */
  readonly store: string;
  /** The table, container or entity name it lives in. */
  readonly location: string;
  /** The row's key (PartitionKey and RowKey, a blob name, an entity key). */
  readonly key: string;
  /** What did not match, in short (field paths; never the stored values). */
  readonly problem: string;
  /** The job's owner when a corrupt job record still names one, so that only its owner hears about it. */
  readonly owner: StoredRecordOwner | undefined;

  constructor(where: StoredRecordWhere & { readonly problem: string; readonly owner?: StoredRecordOwner }) {
    super(`Corrupt ${where.store} record in ${where.location} at ${where.key}: ${where.problem}`);
    this.name = 'StoredRecordError';
    this.store = where.store;
    this.location = where.location;
    this.key = where.key;
    this.problem = where.problem;
    this.owner = where.owner;
  }
}

/** Where a stored record lives. */
export interface StoredRecordWhere {
  readonly store: string;
  readonly location: string;
  readonly key: string;
}

/** The owner fields of a job record (see `JobOwner`). */
export interface StoredRecordOwner {
  readonly userId: string;
  readonly profileId?: string | undefined;
  readonly appId?: string | undefined;
}

/**
 * Told about every corrupt record a store reads (counted and reported by the composition), whether the
 * store then throws it or carries on without the record.
 */
export type CorruptReadSink = (error: StoredRecordError) => void;
