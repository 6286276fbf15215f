import type { UsageLedger } from '../../ports/usage-ledger.js';
import type { Clock } from '../clock.js';
import { createUsageAggregator, type ChargebackRow, type ModelPrice } from '../usage/chargeback.js';
import { chargebackTotal } from '../usage/chargeback-table.js';

/** Today's totals (since midnight UTC) from the usage ledger. */
export interface LedgerTodayView {
  readonly fromMs: number;
  /** When the ledger was read. */
  readonly asOfMs: number;
  readonly currency: string;
  /** The largest callers and models by tokens (at most 10 each), and the day's total. */
  readonly byCaller: readonly ChargebackRow[];
  readonly byModel: readonly ChargebackRow[];
  readonly total: ChargebackRow;
}

/** Dependencies of {@link LedgerToday}. */
export interface LedgerTodayDeps {
  readonly ledger: UsageLedger;
  readonly clock: Clock;
  /** The prices and currency in force. */
  readonly pricing: () => { readonly prices: Readonly<Record<string, ModelPrice>>; readonly currency: string };
  /** A view older than this is refreshed in the background when asked for (default 60 s). */
  readonly maxAgeMs?: number;
  readonly onError?: (error: unknown) => void;
}

const DAY_MS = 86_400_000;
const TOP = 10;

/**
 * Today's chargeback totals by caller and by model, read from the ledger (the shared Table ledger on Azure,
 * so every instance shows the same day). Reading a day of records is not free, so the answer is cached: a
 * view older than `maxAgeMs` is refreshed in the background (one read at a time) when the page asks, and
 * nothing is read while nobody looks.
 *
 * @example
 * const today = new LedgerToday({ ledger, clock, pricing: () => config().usage });
 * today.view(); // the last reading (null until the first one ends)
 */
export class LedgerToday {
  private last: LedgerTodayView | null = null;
  private reading: Promise<void> | undefined;
  private lastError: string | undefined;

  constructor(private readonly deps: LedgerTodayDeps) {}

  /** The last reading, starting a new one when it is stale. */
  view(): { readonly today: LedgerTodayView | null; readonly error?: string } {
    const now = this.deps.clock.now();
    const stale = this.last === null || now - this.last.asOfMs > (this.deps.maxAgeMs ?? 60_000);
    if (stale && this.reading === undefined) void this.refresh();
    return { today: this.last, ...(this.lastError === undefined ? {} : { error: this.lastError }) };
  }

  /** Reads the ledger now (shares a read in flight). Never rejects. */
  refresh(): Promise<void> {
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async read(): Promise<void> {
    const now = this.deps.clock.now();
    const fromMs = Math.floor(now / DAY_MS) * DAY_MS;
    const { prices, currency } = this.deps.pricing();
    const priced = Object.keys(prices).length > 0 ? prices : undefined;
    const byCaller = createUsageAggregator({ by: 'user', prices: priced });
    const byModel = createUsageAggregator({ by: 'model', prices: priced });
    try {
      for await (const record of this.deps.ledger.query({ fromMs, toMs: now + 1 })) {
        byCaller.add(record);
        byModel.add(record);
      }
    } catch (error) {
      this.lastError = `the usage ledger could not be read: ${error instanceof Error ? error.message : String(error)}`;
      this.deps.onError?.(error);
      return;
    }
    const callers = byCaller.rows();
    const top = (rows: ChargebackRow[]): ChargebackRow[] =>
      [...rows].sort((a, b) => b.totalTokens - a.totalTokens || (a.key < b.key ? -1 : 1)).slice(0, TOP);
    this.last = {
      fromMs,
      asOfMs: now,
      currency,
      byCaller: top(callers),
      byModel: top(byModel.rows()),
      total: chargebackTotal(callers),
    };
    this.lastError = undefined;
  }
}
