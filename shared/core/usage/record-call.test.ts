import { describe, expect, it } from 'vitest';
import type { BackendConfig } from '../../config/schema.js';
import type { CallSummary, CallSummaryDraft } from '../pipeline/call-summary.js';
import { callOf, gatewayRequest } from '../pipeline/test-support/pipeline-fixtures.js';
import { FakeClock } from '../test-support/fake-clock.js';
import { usageRecordOf } from './record-call.js';
import { detectUsageApi } from './usage-format.js';
import { createUsageRecord, MAX_RECORDED_ATTEMPTS } from './usage-record.js';
import { finaliseUsageReading } from './usage-reading.js';

/** The record as `createUsageRecord` assembles it from the same call (how `usageRecordOf` built it before). */
function assembled(summary: CallSummary, clock: FakeClock): string {
  const made = usageRecordOf(summary);
  const round = (ms: number): number => Math.round(ms * 100) / 100;
  const c = summary.caller;
  const record = createUsageRecord(
    {
      requestId: summary.requestId,
      timestampMs: summary.startedAtMs,
      caller: {
        userId: c?.userId ?? null,
        appId: c?.appId ?? null,
        profileId: c?.profileId ?? null,
        tier: c?.tier ?? null,
      },
      priority: summary.priority ?? null,
      route: summary.routeId ?? null,
      api: detectUsageApi(summary.path),
      stream: summary.stream,
      modelRequested: summary.modelAsked ?? null,
      backend: summary.backend === undefined ? null : { name: summary.backend.id, group: summary.backend.group },
      attempts: made.attempts.items,
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
      recovery: made.recovery ?? undefined,
    },
    clock,
  );
  return JSON.stringify(record);
}

const backend = { id: 'east', group: 'ptu' } as BackendConfig;
const usage = finaliseUsageReading({ promptTokens: 12, completionTokens: 30 }, 'gpt-4o-2024-08-06');

function variants(clock: FakeClock): CallSummaryDraft[] {
  const bare = callOf(gatewayRequest(), clock).summary;
  const served = callOf(gatewayRequest({ path: '/openai/deployments/d1/chat/completions?api-version=1' }), clock);
  Object.assign(served.summary, {
    caller: { userId: 'u1', profileId: 'p1', identity: 'api-key', appId: 'app', keyId: 'k1', tier: 'gold' },
    priority: 2,
    routeId: 'r1',
    modelAsked: 'gpt-4o',
    backend,
    attempts: [
      { backend: 'west', group: 'payg', status: 429, error: undefined, durationMs: 1.234567, outcome: 'failover' },
      { backend: 'east', group: 'ptu', status: 200, error: undefined, durationMs: 20.005, outcome: 'served' },
    ],
    lease: { leaseId: 'l1', requestId: 'x', poolId: 'p', groupId: 'ptu', reason: 'reserved' },
    status: 200,
    outcome: 'complete',
    queueWaitMs: 3.14159,
    ttfbMs: 40.123,
    totalMs: 90.987,
    overheadMs: 0.555,
    stream: true,
    usage,
    includeUsageInjected: true,
  });
  const cut = callOf(gatewayRequest(), clock);
  Object.assign(cut.summary, {
    caller: { userId: 'anonymous', profileId: 'anonymous', identity: 'anonymous' },
    status: 200,
    outcome: 'cut',
    asyncJobId: 'job_1',
    attempts: Array.from({ length: MAX_RECORDED_ATTEMPTS + 3 }, (_, i) => ({
      backend: `b${i}`,
      group: 'default',
      status: undefined,
      error: i % 2 === 0 ? 'ttfb-timeout' : 'connect-refused',
      durationMs: i,
      outcome: 'failover',
    })),
    recovery: {
      mode: 'continue',
      from: 'east',
      failure: 'reset',
      to: 'west',
      prefillRefused: false,
      result: 'recovered',
      deliveredChars: 10,
      usage: [usage],
    },
  });
  const shutdown = callOf(gatewayRequest(), clock);
  Object.assign(shutdown.summary, { status: 503, outcome: 'cut', cutReason: 'shutdown', overheadMs: undefined });
  return [bare, served.summary, cut.summary, shutdown.summary];
}

describe('usageRecordOf', () => {
  it('writes the same record, byte for byte, as createUsageRecord assembles from the same call', () => {
    const clock = new FakeClock(Date.UTC(2026, 11, 7, 14, 0, 0));
    for (const summary of variants(clock)) {
      const line = JSON.stringify(usageRecordOf(summary));
      expect(line).toBe(assembled(summary, clock));
    }
  });

  it('lists at most MAX_RECORDED_ATTEMPTS attempts and counts them all', () => {
    const clock = new FakeClock();
    const cut = variants(clock)[2]!;
    const record = usageRecordOf(cut);
    expect(record.attempts.items).toHaveLength(MAX_RECORDED_ATTEMPTS);
    expect(record.attempts.count).toBe(MAX_RECORDED_ATTEMPTS + 3);
    expect(record.cutReason).toBe('backend');
    expect(record.recovered).toBe(true);
  });
});
