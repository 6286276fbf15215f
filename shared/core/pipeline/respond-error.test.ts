import { describe, expect, it } from 'vitest';
import { FakeClock } from '../test-support/fake-clock.js';
import { GatewayError } from '../errors/gateway-error.js';
import { callerClosed, respondError } from './respond-error.js';
import { callOf, gatewayRequest, readText } from './test-support/pipeline-fixtures.js';

describe('respondError', () => {
  it.each([
    [new GatewayError('GW_ERR_REQUEST_MODEL_NOT_FOUND'), 404, 'rejected'],
    [new GatewayError('GW_ERR_QUOTA_EXCEEDED'), 429, 'rejected'],
    [new GatewayError('GW_ERR_BACKEND_THROTTLED'), 429, 'failed'],
    [new GatewayError('GW_ERR_BACKEND_EXHAUSTED'), 502, 'failed'],
    [new GatewayError('GW_ERR_REQUEST_CLIENT_CLOSED'), 499, 'caller_aborted'],
    [new Error('a bug'), 500, 'failed'],
  ])('answers %s with the envelope and records outcome %s', async (error, status, outcome) => {
    const clock = new FakeClock();
    const call = callOf(gatewayRequest(), clock);
    const response = respondError(clock, error, call);
    expect(response.status).toBe(status);
    expect(response.headers.get('x-gateway-request-id')).toBe(call.requestId);
    const body = JSON.parse(await readText(response.body)) as { error: { code: string; request_id: string } };
    expect(body.error.request_id).toBe(call.requestId);
    expect(call.summary).toMatchObject({
      status,
      outcome,
      errorCode: error instanceof GatewayError ? error.code : 'GW_ERR_INTERNAL',
    });
  });

  it("reports the gateway's own share of the time and the attempts made", () => {
    const clock = new FakeClock();
    const call = callOf(gatewayRequest(), clock);
    call.summary.queueWaitMs = 5;
    call.summary.attempts = [
      { backend: 'a', group: 'g', status: 503, error: undefined, durationMs: 20, outcome: 'failover' },
      { backend: 'b', group: 'g', status: 503, error: undefined, durationMs: 30, outcome: 'failover' },
    ];
    clock.advance(58);
    const response = respondError(clock, new GatewayError('GW_ERR_BACKEND_EXHAUSTED'), call);
    expect(response.headers.get('x-gateway-overhead-ms')).toBe('3.00');
    expect(response.headers.get('x-gateway-attempts')).toBe('2');
    expect(call.summary.totalMs).toBe(58);
    expect(call.summary.errorCode).toBe('GW_ERR_BACKEND_EXHAUSTED');
  });
});

describe('callerClosed', () => {
  it("turns whatever a departed caller's abort surfaced as into 499, and keeps the gateway's own verdicts", () => {
    const gone = AbortSignal.abort();
    const here = new AbortController().signal;
    const surfaced = new Error('socket closed');
    expect(callerClosed(surfaced, gone)).toMatchObject({ code: 'GW_ERR_REQUEST_CLIENT_CLOSED', cause: surfaced });
    expect(callerClosed(new GatewayError('GW_ERR_INTERNAL'), gone)).toMatchObject({
      code: 'GW_ERR_REQUEST_CLIENT_CLOSED',
    });
    const verdict = new GatewayError('GW_ERR_QUOTA_EXCEEDED');
    expect(callerClosed(verdict, gone)).toBe(verdict);
    expect(callerClosed(surfaced, here)).toBe(surfaced);
  });
});
