import type { QuotaReserveResult, QuotaStore } from '../../ports/quota-store.js';

/**
 * In-process {@link QuotaStore}: one counter per `(key, windowStartMs)`. Each operation runs to
 * completion without awaiting, so check-and-add is atomic within the process. Keeps the two most recent
 * windows per key, so memory stays bounded by the number of keys.
 *
 * @example
 * const store = new MemoryQuotaStore();
 * await store.reserve('caller:alice:minute', 1_700_000_040_000, 500, 10_000); // { granted: true, used: 500 }
 */
export class MemoryQuotaStore implements QuotaStore {
  /** key → windowStartMs → used tokens. */
  private readonly windows = new Map<string, Map<number, number>>();

  reserve(key: string, windowStartMs: number, amount: number, limit: number): Promise<QuotaReserveResult> {
    const used = this.read(key, windowStartMs);
    if (used > 0 && used + amount > limit) return Promise.resolve({ granted: false, used });
    return Promise.resolve({ granted: true, used: this.write(key, windowStartMs, used + amount) });
  }

  adjust(key: string, windowStartMs: number, delta: number): Promise<number> {
    return Promise.resolve(this.write(key, windowStartMs, this.read(key, windowStartMs) + delta));
  }

  used(key: string, windowStartMs: number): Promise<number> {
    return Promise.resolve(this.read(key, windowStartMs));
  }

  private read(key: string, windowStartMs: number): number {
    return this.windows.get(key)?.get(windowStartMs) ?? 0;
  }

  private write(key: string, windowStartMs: number, value: number): number {
    const clamped = Math.max(0, value);
    let perKey = this.windows.get(key);
    if (perKey === undefined) this.windows.set(key, (perKey = new Map()));
    perKey.set(windowStartMs, clamped);
    if (perKey.size > 2) {
      const newest = [...perKey.keys()].sort((a, b) => b - a).slice(0, 2);
      for (const start of [...perKey.keys()]) if (!newest.includes(start)) perKey.delete(start);
    }
    return clamped;
  }
}
