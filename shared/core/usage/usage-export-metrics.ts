import type { Telemetry } from '../../ports/telemetry.js';
import type { UsageExportStats } from '../../ports/usage-exporter.js';

/**
 * Reports a usage exporter's counters as metrics (`gateway.usage_export.<counter>`, dimension `exporter`), on
 * the same interval as the scheduler's: buffered now, and sent / failed sends / back-pressure / dropped since
 * start (cumulative — alert on a rising `dropped` or a `buffered` that keeps growing).
 *
 * @example
 * reportUsageExportMetrics(telemetry, exporter.stats());
 */
export function reportUsageExportMetrics(telemetry: Telemetry, stats: UsageExportStats): void {
  if (telemetry.wants?.('metric') === false) return;
  const dims = { exporter: stats.name };
  telemetry.metric('gateway.usage_export.buffered', stats.buffered, dims);
  telemetry.metric('gateway.usage_export.sent', stats.sent, dims);
  telemetry.metric('gateway.usage_export.failed_sends', stats.failedSends, dims);
  telemetry.metric('gateway.usage_export.back_pressure', stats.backPressure, dims);
  telemetry.metric('gateway.usage_export.dropped', stats.dropped, dims);
}
