/** Wait-time figures of one group of calls (a priority level), in ms. */
export interface WaitDistribution {
  readonly label: string;
  readonly count: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly maxMs: number;
}

/**
 * The nearest-rank percentile of `values` (`p` in 0..100); 0 for an empty list.
 *
 * @example
 * percentile([10, 20, 30, 40], 50) // → 20
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/**
 * p50 / p90 / max and count of a list of waits.
 *
 * @example
 * distribution('level 1', [0, 3, 250]) // → { label: 'level 1', count: 3, p50Ms: 3, p90Ms: 250, maxMs: 250 }
 */
export function distribution(label: string, waitsMs: readonly number[]): WaitDistribution {
  return {
    label,
    count: waitsMs.length,
    p50Ms: percentile(waitsMs, 50),
    p90Ms: percentile(waitsMs, 90),
    maxMs: waitsMs.length === 0 ? 0 : Math.max(...waitsMs),
  };
}

/** A fixed-width text table of distributions, one row each. */
export function formatDistributions(rows: readonly WaitDistribution[]): string {
  const header = ['', 'count', 'p50 ms', 'p90 ms', 'max ms'];
  const body = rows.map((r) => [r.label, String(r.count), r.p50Ms.toFixed(0), r.p90Ms.toFixed(0), r.maxMs.toFixed(0)]);
  return formatTable(header, body);
}

/** Left-aligned first column, right-aligned others. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
