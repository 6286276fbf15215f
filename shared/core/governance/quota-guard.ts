import type { Clock } from '../clock.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { QuotaStore } from '../../ports/quota-store.js';

/** Minute and day budgets of one quota subject; an absent limit is not enforced. */
export interface QuotaLimits {
  readonly tokensPerMinute?: number | undefined;
  readonly tokensPerDay?: number | undefined;
}

/**
 * Tokens held for one admitted request. Call exactly one of `settle` (the call produced usage) or
 * `release` (the call failed and nothing is billed); later calls are no-ops.
 */
export interface QuotaReservation {
  /** The tokens reserved at admission. */
  readonly reservedTokens: number;
  /**
   * Replaces the reservation by the metered usage in both windows it was taken from; returns the
   * difference `actualTokens - reservedTokens` (negative when tokens went back to the budget).
   */
  settle(actualTokens: number): Promise<number>;
  /** Gives the whole reservation back. */
  release(): Promise<void>;
}

/** Reserves request tokens against a subject's minute and day budgets. */
export interface QuotaGuard {
  /**
   * Reserves `amount` tokens in the current minute window, then in the current (UTC) day window.
   * Throws 429 `GW_ERR_QUOTA_EXCEEDED` with `retryAfterMs` = time to the next minute (or the next day)
   * when that budget is spent; a minute reservation is given back when the day refuses.
   */
  reserve(subject: string, limits: QuotaLimits, amount: number): Promise<QuotaReservation>;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/**
 * Creates the quota guard. Atomicity comes from {@link QuotaStore.reserve} (check-and-add in one step),
 * so under any concurrency a window overshoots its limit by at most one request's reservation (the one
 * admitted into an empty window), plus whatever the metered usage exceeds the reservations by.
 *
 * @example
 * const guard = createQuotaGuard({ store: new MemoryQuotaStore(), clock: systemClock });
 * const held = await guard.reserve('caller:standard:alice', { tokensPerMinute: 50_000 }, 1_200);
 * try { … await held.settle(usage.totalTokens); } catch (e) { await held.release(); throw e; }
 */
export function createQuotaGuard(deps: { store: QuotaStore; clock: Clock }): QuotaGuard {
  const { store, clock } = deps;
  return {
    async reserve(subject, limits, amount) {
      const reservedTokens = Math.max(0, Math.ceil(amount));
      const now = clock.now();
      const windows = [
        { key: `${subject}:minute`, windowMs: MINUTE_MS, limit: limits.tokensPerMinute, name: 'per-minute' },
        { key: `${subject}:day`, windowMs: DAY_MS, limit: limits.tokensPerDay, name: 'per-day' },
      ];
      const taken: { key: string; startMs: number }[] = [];
      for (const w of windows) {
        if (w.limit === undefined) continue;
        const startMs = Math.floor(now / w.windowMs) * w.windowMs;
        const result = await store.reserve(w.key, startMs, reservedTokens, w.limit);
        if (!result.granted) {
          await Promise.all(taken.map((t) => store.adjust(t.key, t.startMs, -reservedTokens)));
          throw new GatewayError('GW_ERR_QUOTA_EXCEEDED', {
            message:
              `The ${w.name} token quota (${w.limit} tokens) is spent: ` +
              `${result.used} used, this request needs ${reservedTokens}.`,
            retryAfterMs: Math.max(1, startMs + w.windowMs - now),
          });
        }
        taken.push({ key: w.key, startMs });
      }
      let done = false;
      return {
        reservedTokens,
        async settle(actualTokens) {
          if (done) return 0;
          done = true;
          const delta = Math.max(0, Math.ceil(actualTokens)) - reservedTokens;
          if (delta !== 0) await Promise.all(taken.map((t) => store.adjust(t.key, t.startMs, delta)));
          return delta;
        },
        async release() {
          if (done) return;
          done = true;
          await Promise.all(taken.map((t) => store.adjust(t.key, t.startMs, -reservedTokens)));
        },
      };
    },
  };
}
