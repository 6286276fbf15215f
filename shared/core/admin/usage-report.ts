import { AnswerHeaders } from '../http/answer-headers.js';
import type { GatewayConfig } from '../../config/gateway-schema.js';
import type { UsageLedger } from '../../ports/usage-ledger.js';
import type { Clock } from '../clock.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { GatewayResponse } from '../http/gateway-request.js';
import { createUsageAggregator, type ChargebackDimension, type ChargebackRow } from '../usage/chargeback.js';
import { resolveUsageWindow, UsageWindowError, type UsageWindow } from '../usage/usage-window.js';

const DIMENSIONS: readonly ChargebackDimension[] = ['user', 'tier', 'model', 'backend', 'group', 'profile', 'app'];
/** Rows are encoded and sent in batches of about this many bytes. */
const BATCH_BYTES = 16 * 1024;

/**
 * `GET /gateway/admin/usage?from=&to=&by=&user=`: chargeback rows for a time range (`from` inclusive, `to`
 * exclusive, dates at midnight UTC; default: the last 24 h — `resolveUsageWindow`, shared with the usage
 * CLI), grouped by `by` (default `user`), priced with `usage.prices` in `usage.currency`. Records are aggregated as the
 * ledger streams them — memory grows with the number of rows, never with the number of records — and the rows are sent
 * as they are encoded. A bad query is a 400 before anything is read.
 */
export async function usageReport(
  deps: {
    readonly config: () => GatewayConfig;
    readonly ledger: Pick<UsageLedger, 'query'>;
    readonly clock: Clock;
  },
  query: URLSearchParams,
  requestId: string,
): Promise<GatewayResponse> {
  const by = (query.get('by') ?? 'user') as ChargebackDimension;
  if (!DIMENSIONS.includes(by))
    throw new GatewayError('GW_ERR_REQUEST_INVALID_QUERY', {
      message: `by must be one of ${DIMENSIONS.join(', ')}.`,
      param: 'by',
    });
  const { fromMs, toMs } = usageWindowOf(query, deps.clock.now());
  const { prices, currency } = deps.config().usage;
  const aggregator = createUsageAggregator({ by, prices: Object.keys(prices).length > 0 ? prices : undefined });
  for await (const record of deps.ledger.query({ fromMs, toMs, userId: query.get('user') ?? undefined }))
    aggregator.add(record);
  const head = { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), by, currency };
  const headers = new AnswerHeaders({
    'content-type': 'application/json',
    'x-gateway-request-id': requestId,
    'cache-control': 'no-store',
  });
  return { status: 200, headers, body: encodeReport(head, aggregator.rows()) };
}

/** The answer `{...head, "rows": [...]}`, encoded a batch of rows at a time. */
async function* encodeReport(head: Record<string, string>, rows: readonly ChargebackRow[]): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  let text = `${JSON.stringify(head).slice(0, -1)},"rows":[`;
  for (const [i, row] of rows.entries()) {
    text += (i === 0 ? '' : ',') + JSON.stringify(row);
    if (text.length >= BATCH_BYTES) {
      yield encoder.encode(text);
      text = '';
    }
  }
  yield encoder.encode(`${text}]}`);
}

/** The window (the rule `npm run usage` applies too: `to` exclusive, the last 24 h by default), or a 400. */
function usageWindowOf(query: URLSearchParams, nowMs: number): UsageWindow {
  try {
    return resolveUsageWindow({ from: query.get('from'), to: query.get('to') }, nowMs);
  } catch (error) {
    if (!(error instanceof UsageWindowError)) throw error;
    throw new GatewayError('GW_ERR_REQUEST_INVALID_QUERY', { message: error.message, param: error.param });
  }
}
