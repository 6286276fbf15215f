import type { ChargebackRow } from './chargeback.js';

/** How {@link renderChargebackTable} and {@link renderChargebackCsv} label costs. */
export interface ChargebackRenderOptions {
  /** The prices' currency (ISO 4217 code), named in the cost column's heading. */
  readonly currency: string;
}

/** The marker for a cost that cannot be computed: tokens, but no price for any of the row's models. */
export const UNPRICED = 'unpriced';

/** The rows' sum, as one more row keyed `TOTAL`. */
export function chargebackTotal(rows: readonly ChargebackRow[]): ChargebackRow {
  const sum = (f: (r: ChargebackRow) => number): number => rows.reduce((s, r) => s + f(r), 0);
  const priced = rows.some((r) => r.cost !== undefined);
  const costs = rows.map((r) => r.cost).filter((c): c is number => typeof c === 'number');
  const unpriced = sum((r) => r.unpricedRequests);
  return {
    key: 'TOTAL',
    requests: sum((r) => r.requests),
    promptTokens: sum((r) => r.promptTokens),
    cachedInputTokens: sum((r) => r.cachedInputTokens),
    cacheCreationTokens: sum((r) => r.cacheCreationTokens),
    completionTokens: sum((r) => r.completionTokens),
    reasoningTokens: sum((r) => r.reasoningTokens),
    totalTokens: sum((r) => r.totalTokens),
    estimatedRequests: sum((r) => r.estimatedRequests),
    unpricedRequests: unpriced,
    ...(priced
      ? { cost: costs.length === 0 && unpriced > 0 ? null : Math.round(costs.reduce((s, c) => s + c, 0) * 1e6) / 1e6 }
      : {}),
  };
}

function costCell(row: ChargebackRow): string {
  if (row.cost === undefined) return '';
  return row.cost === null ? UNPRICED : row.cost.toFixed(6);
}

/**
 * Renders chargeback rows as an aligned text table with a total line, for the usage CLI. With prices, the
 * cost column names the currency, a row without any price reads `unpriced` (never 0.000000), and an
 * `unpriced` column counts the requests left out of a cost.
 *
 * @example
 * console.log(renderChargebackTable(rows, 'user', { currency: 'USD' }));
 */
export function renderChargebackTable(
  rows: readonly ChargebackRow[],
  by: string,
  options: ChargebackRenderOptions,
): string {
  const priced = rows.some((r) => r.cost !== undefined);
  const showUnpriced = priced && rows.some((r) => r.unpricedRequests > 0);
  const headers = [
    by,
    'requests',
    'prompt',
    'cached',
    'completion',
    'total',
    'estimated',
    ...(showUnpriced ? ['unpriced'] : []),
    ...(priced ? [`cost ${options.currency}`] : []),
  ];
  const line = (r: ChargebackRow): string[] => [
    r.key,
    String(r.requests),
    String(r.promptTokens),
    String(r.cachedInputTokens),
    String(r.completionTokens),
    String(r.totalTokens),
    String(r.estimatedRequests),
    ...(showUnpriced ? [String(r.unpricedRequests)] : []),
    ...(priced ? [costCell(r)] : []),
  ];
  const body = rows.map(line);
  const total = line(chargebackTotal(rows));
  const table = [headers, ...body, total];
  const widths = headers.map((_, i) => Math.max(...table.map((cells) => (cells[i] ?? '').length)));
  const fmt = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [fmt(headers), rule, ...body.map(fmt), rule, fmt(total)].join('\n');
}

const CSV_COLUMNS = [
  'requests',
  'promptTokens',
  'cachedInputTokens',
  'cacheCreationTokens',
  'completionTokens',
  'reasoningTokens',
  'totalTokens',
  'estimatedRequests',
  'unpricedRequests',
] as const;

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * Renders chargeback rows as RFC 4180 CSV (header line, one line per row, CRLF), for spreadsheets and
 * import jobs: no total line (a sum is the reader's to make), an empty `cost` when no prices were given,
 * `unpriced` when the row's models have none, and the currency in its own column.
 *
 * @example
 * process.stdout.write(renderChargebackCsv(rows, 'model', { currency: 'EUR' }));
 */
export function renderChargebackCsv(
  rows: readonly ChargebackRow[],
  by: string,
  options: ChargebackRenderOptions,
): string {
  const lines = [[by, ...CSV_COLUMNS, 'cost', 'currency'].join(',')];
  for (const row of rows) {
    const cells = [row.key, ...CSV_COLUMNS.map((c) => String(row[c])), costCell(row), options.currency];
    lines.push(cells.map(csvField).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}
