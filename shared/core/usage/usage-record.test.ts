import { describe, expect, it } from 'vitest';
import { FakeClock } from '../test-support/fake-clock.js';
import { createUsageRecord, MAX_RECORDED_ATTEMPTS, parseUsageRecord } from './usage-record.js';
import { finaliseUsageReading } from './usage-reading.js';

describe('createUsageRecord', () => {
  const clock = new FakeClock(Date.UTC(2026, 10, 1, 12, 0, 0));

  it('fills every field, with nulls rather than missing keys', () => {
    const r = createUsageRecord({ requestId: 'r1', httpStatus: 502, outcome: 'failed' }, clock);
    expect(r).toEqual({
      schemaVersion: 1,
      requestId: 'r1',
      timestampMs: Date.UTC(2026, 10, 1, 12),
      timestamp: '2026-11-01T12:00:00.000Z',
      caller: { userId: null, appId: null, profileId: null, tier: null },
      priority: null,
      route: null,
      api: 'unknown',
      stream: false,
      modelRequested: null,
      modelServed: null,
      backend: null,
      attempts: { count: 0, items: [] },
      httpStatus: 502,
      outcome: 'failed',
      cutReason: null,
      timings: { queueWaitMs: 0, ttfbMs: null, totalMs: 0, overheadMs: 0 },
      tokens: {
        promptTokens: 0,
        completionTokens: 0,
        totalTokens: 0,
        cachedInputTokens: 0,
        cacheCreationTokens: 0,
        reasoningTokens: 0,
        servedModel: null,
        source: 'none',
        promptSource: 'none',
        completionSource: 'none',
      },
      includeUsageInjected: false,
      recovered: false,
      recovery: null,
      asyncJobId: null,
      grant: null,
    });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('records failed attempts without billing them, and caps the attempt list', () => {
    const attempts = Array.from({ length: 20 }, (_, i) => ({
      backend: `b${i}`,
      group: 'payg',
      status: 503,
      durationMs: 10,
      outcome: 'http_error' as const,
    }));
    const tokens = finaliseUsageReading({ promptTokens: 10, completionTokens: 5 }, 'gpt-4o');
    const r = createUsageRecord(
      { requestId: 'r2', httpStatus: 200, outcome: 'complete', attempts, tokens, backend: { name: 'b19' } },
      clock,
    );
    expect(r.attempts.count).toBe(20);
    expect(r.attempts.items).toHaveLength(MAX_RECORDED_ATTEMPTS);
    expect(r.tokens.totalTokens).toBe(15);
    expect(r.modelServed).toBe('gpt-4o');
    expect(r.backend).toEqual({ name: 'b19', group: null });
  });

  it('parses version-1 records back and rejects others', () => {
    const r = createUsageRecord({ requestId: 'r3', httpStatus: 200, outcome: 'complete' }, clock);
    expect(parseUsageRecord(JSON.parse(JSON.stringify({ ...r, futureField: 1 })))).toMatchObject({
      requestId: 'r3',
      futureField: 1,
    });
    expect(parseUsageRecord({ ...r, schemaVersion: 2 })).toBeUndefined();
    expect(parseUsageRecord({ schemaVersion: 1 })).toBeUndefined();
    expect(parseUsageRecord(null)).toBeUndefined();
  });
});
