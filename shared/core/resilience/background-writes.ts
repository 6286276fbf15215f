import type { Telemetry } from '../../ports/telemetry.js';

/**
 * The writes a call or a job makes after its answer, which nobody awaits and whose failure must not fail
 * anything — but must never vanish either: an unsettled quota under-charges, a lost affinity write
 * sends the next call about that state to the wrong backend, a lost durable event leaves a capacity
 * lease held until it expires.
 */
export type BackgroundWriteKind =
  | 'quota-settle'
  | 'quota-release'
  | 'affinity-write'
  | 'usage-ledger'
  | 'job-finished-event'
  | 'job-cancelled-event'
  | 'job-payload-delete';

/** The metric each failed background write adds 1 to, with the `kind` property. */
export const WRITE_FAILURE_METRIC = 'gateway.background_write_failures';

/** Options of {@link BackgroundWrites.run}. */
export interface BackgroundWriteOptions {
  /**
   * Further attempts after a failure (default 0). Only for idempotent writes: a write whose outcome is
   * unknown after an error (a quota adjustment that may have landed) is never retried.
   */
  readonly retries?: number;
  /** Identifies the write in the log (job id, state id…); never a secret. */
  readonly context?: Readonly<Record<string, string>>;
}

/** Dependencies of {@link createBackgroundWrites}. */
export interface BackgroundWritesDeps {
  /** Where failed writes are reported (an exception and a metric each). */
  readonly telemetry?: Telemetry | undefined;
  /** The fallback when there is no telemetry: one line per failed write (default: stderr). */
  readonly log?: ((line: string) => void) | undefined;
  /** Waits before a retry (default: a timer that does not keep the process alive). */
  readonly wait?: ((ms: number) => Promise<void>) | undefined;
  /** The first retry's delay; each next one doubles it. Default 200. */
  readonly retryDelayMs?: number | undefined;
}

/** Runs, retries, counts and reports the gateway's background writes. */
export interface BackgroundWrites {
  /**
   * Runs `write`, retrying it `retries` times with a doubling delay; a write that still fails is counted
   * and reported. Resolves `true` when it succeeded, `false` when it failed; never rejects.
   */
  run(kind: BackgroundWriteKind, write: () => Promise<unknown>, options?: BackgroundWriteOptions): Promise<boolean>;
  /**
   * Counts and reports a write that failed elsewhere (an adapter's own buffered writer, which keeps the
   * items and retries them itself).
   */
  failed(kind: BackgroundWriteKind, error: unknown, context?: Readonly<Record<string, string>>): void;
  /** Failed writes per kind since start. */
  counts(): Readonly<Partial<Record<BackgroundWriteKind, number>>>;
}

/**
 * Builds the background-write runner. A write that failed (after its retries) becomes a telemetry
 * exception (`component` = its kind, plus its context) and a `gateway.background_write_failures` metric
 * sample with its kind; without telemetry, a JSON line on the log (stderr by default).
 *
 * @example
 * const writes = createBackgroundWrites({ telemetry });
 * void writes.run('affinity-write', () => affinity.set(id, backendId, ttlMs), { retries: 2 });
 */
export function createBackgroundWrites(deps: BackgroundWritesDeps = {}): BackgroundWrites {
  const counts: Partial<Record<BackgroundWriteKind, number>> = {};
  const log = deps.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const wait = deps.wait ?? defaultWait;
  const firstDelayMs = deps.retryDelayMs ?? 200;

  function failed(kind: BackgroundWriteKind, error: unknown, context: Readonly<Record<string, string>> = {}): void {
    counts[kind] = (counts[kind] ?? 0) + 1;
    try {
      const { telemetry } = deps;
      if (telemetry !== undefined) {
        telemetry.exception(error, { component: kind, ...context });
        telemetry.metric(WRITE_FAILURE_METRIC, 1, { kind });
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      log(JSON.stringify({ kind: 'background-write-failed', write: kind, message, ...context, count: counts[kind] }));
    } catch {
      // Reporting never fails the caller; the count above stands.
    }
  }

  async function run(
    kind: BackgroundWriteKind,
    write: () => Promise<unknown>,
    options: BackgroundWriteOptions = {},
  ): Promise<boolean> {
    const retries = options.retries ?? 0;
    for (let attempt = 0; ; attempt++) {
      try {
        await write();
        return true;
      } catch (error) {
        if (attempt >= retries) {
          failed(kind, error, { ...options.context, attempts: String(attempt + 1) });
          return false;
        }
      }
      await wait(firstDelayMs * 2 ** attempt);
    }
  }

  return { run, failed, counts: () => ({ ...counts }) };
}

function defaultWait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
