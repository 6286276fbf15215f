import { hasConverged } from '../../shared/core/scheduling/capacity-grants.js';
import {
  emptyLedger,
  totalCapacity,
  type CapacityLedgerOptions,
  type InstanceEntry,
  type PoolLedger,
} from '../../shared/core/scheduling/capacity-ledger.js';
import type { CapacityLedger } from '../../shared/ports/capacity-ledger.js';

/** The ledger as read at one moment. */
export interface LedgerSample {
  /** `performance.now()` when it was read. */
  readonly atMs: number;
  /** Wall clock when it was read (the ledger's own times are wall clock). */
  readonly wallMs: number;
  readonly ledger: PoolLedger;
  /** Every live instance holds exactly its target (see `hasConverged`). */
  readonly converged: boolean;
}

/** Reads a pool's ledger every `intervalMs` and keeps what it saw. Reading changes nothing. */
export interface LedgerWatch {
  readonly samples: readonly LedgerSample[];
  /** The latest sample (waits for the first). */
  latest(): Promise<LedgerSample>;
  /** Resolves with the first sample from now on that satisfies `predicate`; rejects after `timeoutMs`. */
  waitFor(predicate: (sample: LedgerSample) => boolean, what: string, timeoutMs: number): Promise<LedgerSample>;
  stop(): void;
}

/** An instance's entry in a sample (undefined when the ledger does not list it). */
export function entryOf(sample: LedgerSample, instanceId: string): InstanceEntry | undefined {
  return sample.ledger.instances[instanceId];
}

/** An instance's grant, all groups (0 when unlisted). */
export function grantOf(sample: LedgerSample, instanceId: string): number {
  return totalCapacity(entryOf(sample, instanceId)?.grant);
}

/**
 * Starts watching `poolId` (a read every `intervalMs`, default 50 ms).
 *
 * @example
 * const watch = watchLedger(ledger, poolId, options);
 * const sample = await watch.waitFor((s) => grantOf(s, 'g1') === 8, 'g1 to hold the pool', 15_000);
 */
export function watchLedger(
  ledger: CapacityLedger,
  poolId: string,
  options: CapacityLedgerOptions,
  intervalMs = 50,
): LedgerWatch {
  const samples: LedgerSample[] = [];
  const listeners = new Set<(sample: LedgerSample) => void>();
  let stopped = false;
  const loop = async (): Promise<void> => {
    while (!stopped) {
      const wallMs = Date.now();
      // No row yet (nobody reported): an empty ledger. A failed read is skipped.
      const read = await ledger.read(poolId).then(
        (found) => found ?? emptyLedger(),
        () => undefined,
      );
      if (read !== undefined) {
        const sample = {
          atMs: performance.now(),
          wallMs,
          ledger: read,
          converged: hasConverged(read, wallMs, options),
        };
        samples.push(sample);
        for (const listener of [...listeners]) listener(sample);
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  };
  void loop();
  const waitFor: LedgerWatch['waitFor'] = (predicate, what, timeoutMs) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(listener);
        const last = samples.at(-1);
        reject(
          new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ledger: ${JSON.stringify(last?.ledger)}`),
        );
      }, timeoutMs);
      const listener = (sample: LedgerSample): void => {
        if (!predicate(sample)) return;
        clearTimeout(timer);
        listeners.delete(listener);
        resolve(sample);
      };
      listeners.add(listener);
    });
  return {
    samples,
    latest: () => (samples.length > 0 ? Promise.resolve(samples.at(-1)!) : waitFor(() => true, 'a first read', 10_000)),
    waitFor,
    stop: () => {
      stopped = true;
    },
  };
}
