import type { Telemetry } from '../../ports/telemetry.js';
import type { UsageRecord } from './usage-record.js';

/**
 * Reports a usage record to telemetry: one `GatewayRequest` event with the record's fields, token
 * and latency metrics dimensioned by model, backend and caller tier, and a dependency per attempt.
 * Never throws: telemetry must not fail a request.
 */
export function reportUsage(telemetry: Telemetry, record: UsageRecord): void {
  try {
    const t = record.tokens;
    telemetry.event(
      'GatewayRequest',
      {
        requestId: record.requestId,
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
        grantGroup: record.grant?.group,
        grantReason: record.grant?.reason,
        status: record.httpStatus,
        outcome: record.outcome,
        tokenSource: t.source,
        asyncJobId: record.asyncJobId ?? undefined,
      },
      {
        attempts: record.attempts.count,
        promptTokens: t.promptTokens,
        completionTokens: t.completionTokens,
        totalTokens: t.totalTokens,
        cachedInputTokens: t.cachedInputTokens,
        reasoningTokens: t.reasoningTokens,
        queueWaitMs: record.timings.queueWaitMs,
        ttfbMs: record.timings.ttfbMs ?? 0,
        totalMs: record.timings.totalMs,
        overheadMs: record.timings.overheadMs,
      },
    );
    const dims = { model: record.modelServed ?? record.modelRequested ?? 'unknown', backend: record.backend?.name ?? 'none', tier: record.caller.tier ?? 'none', outcome: record.outcome };
    if (t.totalTokens > 0) {
      telemetry.metric('gateway.tokens.prompt', t.promptTokens, dims);
      telemetry.metric('gateway.tokens.completion', t.completionTokens, dims);
    }
    telemetry.metric('gateway.request.duration_ms', record.timings.totalMs, dims);
    telemetry.metric('gateway.request.overhead_ms', record.timings.overheadMs, dims);
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
  } catch {
    // Telemetry never fails a request.
  }
}
