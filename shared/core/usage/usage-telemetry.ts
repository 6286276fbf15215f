import type { Telemetry } from '../../ports/telemetry.js';
import type { UsageRecord } from './usage-record.js';

/** The event name of a request's usage record in telemetry (Application Insights customEvents). */
export const USAGE_EVENT_NAME = 'gateway.request';

/**
 * Sends one request's usage record to telemetry: the `gateway.request` event with the record's fields
 * (caller, route, models, backend, status, outcome as properties; tokens and timings as measurements)
 * and the metrics `gateway.tokens.prompt|completion|total` and
 * `gateway.latency.total_ms|ttfb_ms|overhead_ms|queue_wait_ms` with low-cardinality dimensions (tier, model, backend,
 * group, outcome), and one dependency per backend attempt (target = the backend's id). Kinds the telemetry does not
 * want are not built. Never throws.
 *
 * Compatibility: event and metric names and the property names below are queried by dashboards and
 * workbooks; add, never rename (docs/azure-adapters.md).
 *
 * @example
 * recordUsageTelemetry(telemetry, record);
 */
export function recordUsageTelemetry(telemetry: Telemetry, record: UsageRecord): void {
  try {
    const wants = (kind: 'event' | 'metric' | 'dependency'): boolean => telemetry.wants?.(kind) ?? true;
    if (wants('event')) telemetry.event(USAGE_EVENT_NAME, usageEventProperties(record), usageEventMeasurements(record));
    if (wants('dependency')) sendAttemptDependencies(telemetry, record);
    if (wants('metric')) sendUsageMetrics(telemetry, record);
  } catch {
    // Telemetry never fails a request.
  }
}

/** The `gateway.request` event's properties: who, what, where, how it ended. */
function usageEventProperties(record: UsageRecord): Record<string, string | number | boolean | undefined> {
  return {
    schemaVersion: record.schemaVersion,
    requestId: record.requestId,
    timestamp: record.timestamp,
    userId: record.caller.userId ?? undefined,
    appId: record.caller.appId ?? undefined,
    profileId: record.caller.profileId ?? undefined,
    tier: record.caller.tier ?? undefined,
    priority: record.priority ?? undefined,
    route: record.route ?? undefined,
    api: record.api,
    stream: record.stream,
    modelRequested: record.modelRequested ?? undefined,
    modelServed: record.modelServed ?? undefined,
    backend: record.backend?.name,
    backendGroup: record.backend?.group ?? undefined,
    attempts: record.attempts.count,
    httpStatus: record.httpStatus,
    outcome: record.outcome,
    tokenSource: record.tokens.source,
    includeUsageInjected: record.includeUsageInjected,
    asyncJobId: record.asyncJobId ?? undefined,
    grantGroup: record.grant?.group,
    grantReason: record.grant?.reason,
  };
}

/** The `gateway.request` event's measurements: tokens and timings. */
function usageEventMeasurements(record: UsageRecord): Record<string, number> {
  return {
    promptTokens: record.tokens.promptTokens,
    completionTokens: record.tokens.completionTokens,
    totalTokens: record.tokens.totalTokens,
    cachedInputTokens: record.tokens.cachedInputTokens,
    reasoningTokens: record.tokens.reasoningTokens,
    queueWaitMs: record.timings.queueWaitMs,
    totalMs: record.timings.totalMs,
    overheadMs: record.timings.overheadMs,
    ...(record.timings.ttfbMs === null ? {} : { ttfbMs: record.timings.ttfbMs }),
  };
}

/** One dependency per backend attempt (target = the backend's id). */
function sendAttemptDependencies(telemetry: Telemetry, record: UsageRecord): void {
  for (const attempt of record.attempts.items) {
    telemetry.dependency({
      requestId: record.requestId,
      target: attempt.backend,
      name: `${record.api} ${record.route ?? ''}`.trim(),
      durationMs: attempt.durationMs,
      status: attempt.status ?? undefined,
      success: attempt.outcome === 'success',
      startedAtMs: record.timestampMs,
      properties: { outcome: attempt.outcome, group: attempt.group ?? '' },
    });
  }
}

/** The token and latency metrics, with low-cardinality dimensions (outcome, tier, model, backend, group). */
function sendUsageMetrics(telemetry: Telemetry, record: UsageRecord): void {
  const dims: Record<string, string> = { outcome: record.outcome };
  if (record.caller.tier !== null) dims.tier = record.caller.tier;
  if (record.modelServed !== null) dims.model = record.modelServed;
  if (record.backend !== null) dims.backend = record.backend.name;
  if (record.backend?.group != null) dims.group = record.backend.group;
  telemetry.metric('gateway.tokens.prompt', record.tokens.promptTokens, dims);
  telemetry.metric('gateway.tokens.completion', record.tokens.completionTokens, dims);
  telemetry.metric('gateway.tokens.total', record.tokens.totalTokens, dims);
  telemetry.metric('gateway.latency.total_ms', record.timings.totalMs, dims);
  telemetry.metric('gateway.latency.overhead_ms', record.timings.overheadMs, dims);
  telemetry.metric('gateway.latency.queue_wait_ms', record.timings.queueWaitMs, dims);
  if (record.timings.ttfbMs !== null) telemetry.metric('gateway.latency.ttfb_ms', record.timings.ttfbMs, dims);
}
