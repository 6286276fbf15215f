/** How long a backend that refused an assistant prefill is remembered as unable to continue one. */
export const PREFILL_REFUSAL_MEMORY_MS = 15 * 60_000;

/** Longest list of remembered backends (a bound: backends come from the configuration). */
const MAX_REMEMBERED = 10_000;

/**
 * Backends that answered a continuation request with a 400 about the final assistant message: for
 * {@link PREFILL_REFUSAL_MEMORY_MS} they get the replay instead, without asking again. Per instance, in
 * memory: a refusal costs one extra round trip per instance, which is not worth shared state.
 *
 * @example
 * const refusals = new PrefillRefusals();
 * refusals.remember('claude-eu', clock.now());
 * refusals.refuses('claude-eu', clock.now()); // → true
 */
export class PrefillRefusals {
  private readonly until = new Map<string, number>();

  constructor(private readonly memoryMs: number = PREFILL_REFUSAL_MEMORY_MS) {}

  /** The backend refused a prefill at `nowMs`. */
  remember(backendId: string, nowMs: number): void {
    if (this.until.size >= MAX_REMEMBERED) this.until.clear();
    this.until.set(backendId, nowMs + this.memoryMs);
  }

  /** True while the backend's refusal is remembered. */
  refuses(backendId: string, nowMs: number): boolean {
    const until = this.until.get(backendId);
    if (until === undefined) return false;
    if (nowMs < until) return true;
    this.until.delete(backendId);
    return false;
  }
}
