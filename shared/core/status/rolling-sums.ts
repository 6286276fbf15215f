/**
 * Sums over a sliding time window, in fixed buckets (e.g. 60 buckets of 1 s, or 60 of 1 min): O(1) to add,
 * O(buckets) to read, memory fixed. Times are wall-clock ms from the injected clock; a bucket is reused once
 * its slot comes round again.
 *
 * @example
 * const calls = new RollingSums(1_000, 60);
 * calls.add(clock.now(), 1);
 * calls.sum(clock.now()); // calls in the last minute
 */
export class RollingSums {
  private readonly values: Float64Array;
  private readonly slots: Float64Array;

  constructor(
    /** Width of one bucket, ms. */
    readonly bucketMs: number,
    /** Buckets kept: the window is `bucketMs × buckets`. */
    readonly buckets: number,
  ) {
    this.values = new Float64Array(buckets);
    this.slots = new Float64Array(buckets).fill(-1);
  }

  /** Adds `value` at `atMs` (ignored when older than the window). */
  add(atMs: number, value: number): void {
    const slot = Math.floor(atMs / this.bucketMs);
    const i = slot % this.buckets;
    if (this.slots[i] !== slot) {
      if (this.slots[i]! > slot) return;
      this.slots[i] = slot;
      this.values[i] = 0;
    }
    this.values[i]! += value;
  }

  /** The sum over the last `windowMs` (default: the whole window) ending at `nowMs`, whole buckets. */
  sum(nowMs: number, windowMs = this.bucketMs * this.buckets): number {
    const newest = Math.floor(nowMs / this.bucketMs);
    const oldest = newest - Math.min(this.buckets, Math.ceil(windowMs / this.bucketMs)) + 1;
    let total = 0;
    for (let i = 0; i < this.buckets; i++) {
      const slot = this.slots[i]!;
      if (slot >= oldest && slot <= newest) total += this.values[i]!;
    }
    return total;
  }

  /** Every bucket's sum, oldest first, ending with the bucket that holds `nowMs`. */
  series(nowMs: number): number[] {
    const newest = Math.floor(nowMs / this.bucketMs);
    const out: number[] = [];
    for (let slot = newest - this.buckets + 1; slot <= newest; slot++) {
      const i = ((slot % this.buckets) + this.buckets) % this.buckets;
      out.push(this.slots[i] === slot ? this.values[i]! : 0);
    }
    return out;
  }
}

/**
 * {@link RollingSums} per key, with a bound on keys: past `maxKeys`, new keys are counted under `otherKey`,
 * so a flood of distinct callers cannot grow memory.
 */
export class KeyedRollingSums {
  private readonly byKey = new Map<string, RollingSums>();

  constructor(
    readonly bucketMs: number,
    readonly buckets: number,
    readonly maxKeys: number,
    readonly otherKey = '(other)',
  ) {}

  add(key: string, atMs: number, value: number): void {
    let sums = this.byKey.get(key);
    if (sums === undefined) {
      if (this.byKey.size >= this.maxKeys) return this.add(this.otherKey, atMs, value);
      sums = new RollingSums(this.bucketMs, this.buckets);
      this.byKey.set(key, sums);
    }
    sums.add(atMs, value);
  }

  /** Keys with a non-zero sum in the window, largest first, with their series (oldest bucket first). */
  top(nowMs: number, limit: number): { key: string; total: number; series: number[] }[] {
    const rows: { key: string; total: number; sums: RollingSums }[] = [];
    for (const [key, sums] of this.byKey) {
      const total = sums.sum(nowMs);
      // A key with nothing left in the window is forgotten (it frees its place under maxKeys).
      if (total > 0) rows.push({ key, total, sums });
      else this.byKey.delete(key);
    }
    rows.sort((a, b) => b.total - a.total || (a.key < b.key ? -1 : 1));
    return rows.slice(0, limit).map((r) => ({ key: r.key, total: r.total, series: r.sums.series(nowMs) }));
  }
}
