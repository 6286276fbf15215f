import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../../ports/job-store.js';
import { effectiveDeliveryCount, hostSettlementOf } from './host-settlement.js';
import { finalJobPatch, nextBackstopAtMs, shouldOrchestrate } from './orchestrated-job.js';

const T0 = 1_700_000_000_000;
const job = (status: JobRecord['status']): JobRecord => ({
  id: 'j',
  requestId: 'r',
  owner: { userId: 'u' },
  status,
  createdAtMs: T0,
  updatedAtMs: T0,
  expiresAtMs: T0 + 10,
  deadlineMs: T0 + 5,
  attempts: 1,
  routeId: 'chat',
  priority: 2,
  retentionMs: 1_000,
  version: 3,
});

describe('nextBackstopAtMs', () => {
  it.each([
    { now: T0, deadline: T0 + 60_000, options: {}, expected: T0 + 30_000 },
    { now: T0, deadline: T0 + 60_000, options: { backstopMs: 5_000 }, expected: T0 + 5_000 },
    { now: T0, deadline: T0 + 5_000, options: {}, expected: T0 + 5_000 },
    { now: T0, deadline: T0, options: {}, expected: undefined },
  ])('at $now with deadline $deadline → $expected', ({ now, deadline, options, expected }) => {
    expect(nextBackstopAtMs(now, deadline, options)).toBe(expected);
  });
});

describe('finalJobPatch', () => {
  it.each([
    { status: 'queued', outcome: 'deadline', code: 'GW_ERR_BACKEND_TIMEOUT' },
    { status: 'running', outcome: 'deadline', code: 'GW_ERR_BACKEND_TIMEOUT' },
    { status: 'queued', outcome: 'rejected', code: 'GW_ERR_QUEUE_FULL' },
    { status: 'queued', outcome: 'enqueue-failed', code: 'GW_ERR_INTERNAL' },
    { status: 'running', outcome: 'finished', code: undefined },
    { status: 'queued', outcome: 'cancelled', code: undefined },
    { status: 'succeeded', outcome: 'deadline', code: undefined },
    { status: 'cancelled', outcome: 'deadline', code: undefined },
  ] as const)('$status + $outcome → $code', ({ status, outcome, code }) => {
    const patch = finalJobPatch(job(status), outcome, T0 + 100);
    expect(patch?.lastError?.code).toBe(code);
    if (patch !== undefined)
      expect(patch).toMatchObject({ status: 'failed', finishedAtMs: T0 + 100, expiresAtMs: T0 + 1_100 });
  });
});

describe('shouldOrchestrate', () => {
  it.each([
    { method: 'POST', accept: null, bodyText: '{"model":"m"}', expected: true },
    { method: 'POST', accept: null, bodyText: '{"model":"m","stream":true}', expected: false },
    { method: 'POST', accept: 'text/event-stream', bodyText: '{"model":"m"}', expected: false },
    { method: 'POST', accept: null, bodyText: undefined, expected: false },
    { method: 'GET', accept: null, bodyText: '', expected: false },
    { method: 'POST', accept: null, bodyText: 'not json', expected: true },
  ])('$method $accept $bodyText → $expected', (request) => {
    expect(shouldOrchestrate(request)).toBe(request.expected);
  });
});

describe('hostSettlementOf', () => {
  it.each([
    { settlement: { action: 'complete', reason: 'succeeded' }, expected: { kind: 'return' } },
    {
      settlement: { action: 'dead-letter', reason: 'JOB_MESSAGE_UNREADABLE' },
      expected: { kind: 'throw', message: 'dead-letter: JOB_MESSAGE_UNREADABLE' },
    },
    {
      settlement: { action: 'abandon', retryAfterMs: 0, reason: 'worker shutting down' },
      expected: { kind: 'throw', message: 'abandon: worker shutting down' },
    },
    {
      settlement: { action: 'abandon', retryAfterMs: 8_000, reason: 'attempt failed' },
      expected: { kind: 'reschedule', deliverAtMs: T0 + 8_000 },
    },
  ] as const)('$settlement.action $settlement.reason', ({ settlement, expected }) => {
    expect(hostSettlementOf(settlement, 1_000, T0)).toEqual(expected);
  });
});

describe('effectiveDeliveryCount', () => {
  it.each([
    { count: 1, props: undefined, expected: 1 },
    { count: 2, props: { gwPriorDeliveries: 3 }, expected: 5 },
    { count: undefined, props: { gwPriorDeliveries: 'x' }, expected: 1 },
  ])('$count + $props → $expected', ({ count, props, expected }) => {
    expect(effectiveDeliveryCount(count, props)).toBe(expected);
  });
});
