import type { StoredRecordError } from '../../ports/stored-record-error.js';
import type { Telemetry } from '../../ports/telemetry.js';

/** The metric each corrupt stored record read adds 1 to, with the `store` property. */
export const CORRUPT_READ_METRIC = 'gateway.corrupt_reads';

/** Dependencies of {@link createCorruptReads}. */
export interface CorruptReadsDeps {
  /** Where corrupt reads are reported (an exception and a metric each). */
  readonly telemetry?: Telemetry | undefined;
  /** The fallback when there is no telemetry: one line per corrupt read (default: stderr). */
  readonly log?: ((line: string) => void) | undefined;
}

/** Counts and reports the corrupt records the storage adapters read back (see `StoredRecordError`). */
export interface CorruptReads {
  /** Counts `error` and reports it; never throws. Hand it to the adapters as their `onCorrupt`. */
  report(error: StoredRecordError): void;
  /** Corrupt reads per store since start. */
  counts(): Readonly<Record<string, number>>;
}

/**
 * Builds the corrupt-read reporter. Each corrupt read becomes a telemetry exception (`component`
 * `stored-record`, with `store`, `location` and `key`) and a `gateway.corrupt_reads` metric sample with its
 * store; without telemetry, a JSON line on the log (stderr by default). What the read then does to the
 * request is the store's decision (docs/operations.md, "Corrupt stored records").
 *
 * @example
 * const corruptReads = createCorruptReads({ telemetry });
 * const jobs = createTableJobStore({ client }, { onCorrupt: corruptReads.report });
 */
export function createCorruptReads(deps: CorruptReadsDeps = {}): CorruptReads {
  const counts: Record<string, number> = {};
  const log = deps.log ?? ((line: string) => process.stderr.write(line + '\n'));
  return {
    report(error) {
      counts[error.store] = (counts[error.store] ?? 0) + 1;
      try {
        const where = { store: error.store, location: error.location, key: error.key };
        if (deps.telemetry !== undefined) {
          deps.telemetry.exception(error, { component: 'stored-record', ...where });
          deps.telemetry.metric(CORRUPT_READ_METRIC, 1, { store: error.store });
          return;
        }
        log(
          JSON.stringify({
            kind: 'corrupt-stored-record',
            ...where,
            problem: error.problem,
            count: counts[error.store],
          }),
        );
      } catch {
        // Reporting never fails the read; the count above stands.
      }
    },
    counts: () => ({ ...counts }),
  };
}
