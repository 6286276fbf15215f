import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors/gateway-error.js';
import { classifyRunFailure, retryDelayMs, RetryableResponse } from './job-run-failure.js';

const options = { retryBackoffMs: 2_000, maxRetryBackoffMs: 300_000 };

describe('retryDelayMs', () => {
  it.each([
    [1, undefined, 60_000, 2_000],
    [3, undefined, 60_000, 8_000],
    [20, undefined, 1e9, 300_000],
    [1, 5_000, 60_000, 5_000],
    [3, 5_000, 60_000, 8_000],
    [3, undefined, 1_000, 1_000],
    [3, undefined, -5, 0],
  ])(
    'delivery %i, Retry-After %s, %i ms to the deadline → %i ms',
    (delivery, retryAfterMs, untilDeadlineMs, expected) => {
      expect(retryDelayMs(options, delivery, retryAfterMs, untilDeadlineMs)).toBe(expected);
    },
  );
});

describe('classifyRunFailure', () => {
  it('retries a retryable answer (its Retry-After), a gateway error as the registry says, anything else', () => {
    expect(classifyRunFailure(new RetryableResponse('GW_ERR_BACKEND_THROTTLED', 3_000))).toEqual({
      code: 'GW_ERR_BACKEND_THROTTLED',
      retryable: true,
      retryAfterMs: 3_000,
    });
    expect(classifyRunFailure(new GatewayError('GW_ERR_BACKEND_ALL_OPEN', { retryAfterMs: 2_000 }))).toEqual({
      code: 'GW_ERR_BACKEND_ALL_OPEN',
      retryable: true,
      retryAfterMs: 2_000,
    });
    expect(classifyRunFailure(new GatewayError('GW_ERR_REQUEST_INVALID_JSON')).retryable).toBe(false);
    expect(classifyRunFailure(new Error('boom'))).toEqual({
      code: 'GW_ERR_INTERNAL',
      retryable: true,
      retryAfterMs: undefined,
    });
  });
});
