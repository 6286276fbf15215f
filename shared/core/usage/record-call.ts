import type { Clock } from '../clock.js';
import type { CallSummary } from '../pipeline/call-summary.js';
import type { AttemptRecord } from '../dispatch/dispatcher.js';
import {
  createUsageRecord,
  type UsageAttempt,
  type UsageAttemptOutcome,
  type UsageRecord,
  type UsageRecovery,
} from './usage-record.js';
import { detectUsageApi } from './usage-format.js';

/**
 * Turns the engine's summary of a finished call into the usage record the ledger and telemetry
 * receive. Tokens come only from the attempt that answered; failed attempts are listed, not billed.
 *
 * @example
 * ledger.append(usageRecordOf(summary, clock));
 */
export function usageRecordOf(summary: CallSummary, clock: Clock): UsageRecord {
  const caller = summary.caller;
  return createUsageRecord(
    {
      requestId: summary.requestId,
      timestampMs: summary.startedAtMs,
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
      backend: summary.backend === undefined ? null : { name: summary.backend.id, group: summary.backend.group },
      attempts: summary.attempts.map(toUsageAttempt),
      attemptCount: summary.attempts.length,
      httpStatus: summary.status,
      outcome: summary.outcome,
      cutReason: summary.cutReason,
      timings: {
        queueWaitMs: round(summary.queueWaitMs),
        ttfbMs: summary.ttfbMs === undefined ? null : round(summary.ttfbMs),
        totalMs: round(summary.totalMs),
        overheadMs: round(summary.overheadMs ?? 0),
      },
      tokens: summary.usage,
      includeUsageInjected: summary.includeUsageInjected,
      asyncJobId: summary.asyncJobId ?? null,
      grant: summary.lease === undefined ? null : { group: summary.lease.groupId, reason: summary.lease.reason },
      recovery: recoveryOf(summary),
    },
    clock,
  );
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
