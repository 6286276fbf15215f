import { reportSchedulerMetrics, reportSharingMetrics } from '../core/scheduling/scheduler-metrics.js';
import { reportUsageExportMetrics } from '../core/usage/usage-export-metrics.js';
import type { Telemetry } from '../ports/telemetry.js';
import type { UsageExporter } from '../ports/usage-exporter.js';
import type { RuntimeScheduling } from './runtime-scheduling.js';

/**
 * Reports the scheduler's, the usage exporter's and capacity sharing's state as metrics every `intervalMs`;
 * the timer does not keep the process alive. Returns the function that stops it.
 */
export function startRuntimeMetrics(
  telemetry: Telemetry,
  { gate, shareAgent }: RuntimeScheduling,
  usageExporter: UsageExporter | undefined,
  intervalMs: number,
): () => void {
  const timer = setInterval(() => {
    reportSchedulerMetrics(telemetry, gate.stats());
    if (usageExporter !== undefined) reportUsageExportMetrics(telemetry, usageExporter.stats());
    reportSharingMetrics(telemetry, shareAgent?.status() ?? []);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
