import type { CallSummary } from '../pipeline/call-summary.js';
import type { AttemptRecord } from '../dispatch/dispatcher.js';
import { emptyUsageReading } from './usage-reading.js';
import {
  MAX_RECORDED_ATTEMPTS,
  USAGE_RECORD_SCHEMA_VERSION,
  type UsageAttempt,
  type UsageAttemptOutcome,
  type UsageRecord,
  type UsageRecovery,
} from './usage-record.js';
import { detectUsageApi } from './usage-format.js';

/**
 * Turns the engine's summary of a finished call into the usage record the ledger and telemetry
 * receive. Tokens come only from the attempt that answered; failed attempts are listed, not billed.
 * The record is built in one pass, field for field what `createUsageRecord` makes of the same call
 * (same fields in the same order, so the same NDJSON line), without an intermediate input object per call.
 *
 * @example
 * ledger.append(usageRecordOf(summary));
 */
export function usageRecordOf(summary: CallSummary): UsageRecord {
  const { caller, backend, lease } = summary;
  const attempts = summary.attempts;
  const items: UsageAttempt[] = [];
  for (let i = 0; i < attempts.length && i < MAX_RECORDED_ATTEMPTS; i++) items.push(toUsageAttempt(attempts[i]!));
  const tokens = summary.usage ?? emptyUsageReading();
  return {
    schemaVersion: USAGE_RECORD_SCHEMA_VERSION,
    requestId: summary.requestId,
    timestampMs: summary.startedAtMs,
    timestamp: new Date(summary.startedAtMs).toISOString(),
    caller: {
      userId: caller?.userId ?? null,
      appId: caller?.appId ?? null,
      profileId: caller?.profileId ?? null,
      tier: caller?.tier ?? null,
    },
    priority: summary.priority ?? null,
    route: summary.routeId ?? null,
    api: detectUsageApi(summary.path),
    stream: summary.stream,
    modelRequested: summary.modelAsked ?? null,
    modelServed: tokens.servedModel,
    backend: backend === undefined ? null : { name: backend.id, group: backend.group ?? null },
    attempts: { count: attempts.length, items },
    httpStatus: summary.status,
    outcome: summary.outcome,
    cutReason: summary.outcome === 'cut' ? (summary.cutReason ?? 'backend') : null,
    timings: {
      queueWaitMs: round(summary.queueWaitMs),
      ttfbMs: summary.ttfbMs === undefined ? null : round(summary.ttfbMs),
      totalMs: round(summary.totalMs),
      overheadMs: round(summary.overheadMs ?? 0),
    },
    tokens: { ...tokens },
    includeUsageInjected: summary.includeUsageInjected,
    asyncJobId: summary.asyncJobId ?? null,
    grant: lease === undefined ? null : { group: lease.groupId, reason: lease.reason },
    recovered: summary.recovery?.result === 'recovered',
    recovery: recoveryOf(summary),
  };
}

function toUsageAttempt(a: AttemptRecord): UsageAttempt {
  let outcome: UsageAttemptOutcome;
  if (a.outcome === 'served') outcome = 'success';
  else if (a.outcome === 'cut' || a.outcome === 'diverged') outcome = 'cut';
  else if (a.status === 429) outcome = 'throttled';
  else if (a.status !== undefined) outcome = 'http_error';
  else if (
    a.error === 'ttfb-timeout' ||
    a.error === 'total-timeout' ||
    a.error === 'connect-timeout' ||
    a.error === 'idle-timeout'
  )
    outcome = 'timeout';
  else if (a.error === 'caller-aborted') outcome = 'caller_aborted';
  else outcome = 'connect_error';
  return { backend: a.backend, group: a.group, status: a.status ?? null, durationMs: round(a.durationMs), outcome };
}

function recoveryOf(summary: CallSummary): UsageRecovery | null {
  const r = summary.recovery;
  if (r === undefined) return null;
  return {
    mode: r.mode,
    result: r.result,
    fromBackend: r.from,
    failure: r.failure,
    toBackend: r.to ?? null,
    prefillRefused: r.prefillRefused,
    deliveredChars: r.deliveredChars,
    attemptTokens: r.usage.map((u) => ({ ...u })),
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
