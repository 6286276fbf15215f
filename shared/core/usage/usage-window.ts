/** The default chargeback window when `from` is not given: the 24 hours before `to`. */
export const DEFAULT_USAGE_WINDOW_MS = 86_400_000;

/** A chargeback time range: `fromMs <= timestampMs < toMs` (the ledger query's own rule). */
export interface UsageWindow {
  readonly fromMs: number;
  readonly toMs: number;
}

/** Why a window was refused: the bound at fault and a sentence for the person who wrote it. */
export class UsageWindowError extends Error {
  constructor(
    /** `from` or `to`. */
    readonly param: 'from' | 'to',
    message: string,
  ) {
    super(message);
    this.name = 'UsageWindowError';
  }
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Parses one bound: a UTC date (`2026-11-01`, meaning its midnight UTC) or an ISO 8601 timestamp.
 * Both bounds mean the same instant whichever side they are on: `from` is inclusive, `to` exclusive, so
 * `from=2026-11-01&to=2026-12-01` is November exactly — the 1st of December is not counted.
 */
export function parseUsageBound(param: 'from' | 'to', text: string): number {
  const dateOnly = DATE_ONLY.test(text);
  const ms = Date.parse(dateOnly ? `${text}T00:00:00Z` : text);
  if (!Number.isFinite(ms) || (dateOnly && new Date(ms).toISOString().slice(0, 10) !== text))
    throw new UsageWindowError(
      param,
      `${param} must be a UTC date (YYYY-MM-DD) or an ISO 8601 timestamp (2026-11-01T08:00:00Z), not "${text}".`,
    );
  return ms;
}

/**
 * The one rule for a chargeback window, shared by `GET …/gateway/admin/usage` and `npm run usage`: `to` defaults
 * to now and is exclusive; `from` defaults to 24 hours before `to` and is inclusive. An empty value counts
 * as absent. A `from` that is not before `to` is refused.
 *
 * @example
 * resolveUsageWindow({ from: '2026-11-01', to: '2026-12-01' }, clock.now()); // all of November, UTC
 * resolveUsageWindow({}, clock.now()); // the last 24 hours
 */
export function resolveUsageWindow(
  bounds: { readonly from?: string | null | undefined; readonly to?: string | null | undefined },
  nowMs: number,
): UsageWindow {
  const given = (text: string | null | undefined): text is string => text !== undefined && text !== null && text !== '';
  const toMs = given(bounds.to) ? parseUsageBound('to', bounds.to) : nowMs;
  const fromMs = given(bounds.from) ? parseUsageBound('from', bounds.from) : toMs - DEFAULT_USAGE_WINDOW_MS;
  if (fromMs >= toMs)
    throw new UsageWindowError(
      'from',
      `from (${new Date(fromMs).toISOString()}) must be before to (${new Date(toMs).toISOString()}); to is exclusive.`,
    );
  return { fromMs, toMs };
}
