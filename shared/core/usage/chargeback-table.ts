import type { ChargebackRow } from './chargeback.js';

/**
 * Renders chargeback rows as a fixed-width text table with a total line, for the usage CLI.
 *
 * @example
 * console.log(renderChargebackTable(rows, 'user'));
 */
export function renderChargebackTable(rows: readonly ChargebackRow[], by: string): string {
  const priced = rows.some((r) => r.cost !== undefined);
  const headers = [by, 'requests', 'prompt', 'cached', 'completion', 'total', 'estimated', ...(priced ? ['cost'] : [])];
  const line = (r: ChargebackRow): string[] => [
    r.key,
    String(r.requests),
    String(r.promptTokens),
    String(r.cachedInputTokens),
    String(r.completionTokens),
    String(r.totalTokens),
    String(r.estimatedRequests),
    ...(priced ? [(r.cost ?? 0).toFixed(6)] : []),
  ];
  const sum = (f: (r: ChargebackRow) => number): number => rows.reduce((s, r) => s + f(r), 0);
  const total: ChargebackRow = {
    key: 'TOTAL',
    requests: sum((r) => r.requests),
    promptTokens: sum((r) => r.promptTokens),
    cachedInputTokens: sum((r) => r.cachedInputTokens),
    cacheCreationTokens: sum((r) => r.cacheCreationTokens),
    completionTokens: sum((r) => r.completionTokens),
    reasoningTokens: sum((r) => r.reasoningTokens),
    totalTokens: sum((r) => r.totalTokens),
    estimatedRequests: sum((r) => r.estimatedRequests),
    unpricedRequests: sum((r) => r.unpricedRequests),
    ...(priced ? { cost: sum((r) => r.cost ?? 0) } : {}),
  };
  const body = rows.map(line);
  const table = [headers, ...body, line(total)];
  const widths = headers.map((_, i) => Math.max(...table.map((cells) => (cells[i] ?? '').length)));
  const fmt = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [fmt(headers), rule, ...body.map(fmt), rule, fmt(line(total))].join('\n');
}
