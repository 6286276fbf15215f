import { describe, expect, it } from 'vitest';
import { classifyFailure, type AttemptOutcome, type FailureVerdict } from './failure-classifier.js';

type Row = [
  name: string,
  outcome: AttemptOutcome,
  expected: Partial<FailureVerdict> & { action: FailureVerdict['action'] },
];

const own = { gatewayCredentials: true } as const;
const callers = { gatewayCredentials: false } as const;

const rows: Row[] = [
  // success and redirects
  ['200 is returned', { phase: 'headers', status: 200, ...own }, { action: 'return', countsAsBreakerFailure: false }],
  [
    '201 is returned and not a failure',
    { phase: 'headers', status: 201, ...own },
    { action: 'return', countsAsBreakerFailure: false },
  ],
  ['204 is returned', { phase: 'headers', status: 204, ...own }, { action: 'return' }],
  ['302 is returned', { phase: 'headers', status: 302, ...own }, { action: 'return' }],
  ['304 is returned', { phase: 'headers', status: 304, ...own }, { action: 'return' }],
  // caller faults
  ['400 is returned', { phase: 'headers', status: 400, ...own }, { action: 'return', countsAsBreakerFailure: false }],
  [
    '400 context_length_exceeded is returned',
    { phase: 'headers', status: 400, bodyErrorCode: 'context_length_exceeded', ...own },
    { action: 'return', countsAsBreakerFailure: false },
  ],
  [
    '400 content_filter is returned',
    { phase: 'headers', status: 400, bodyErrorCode: 'content_filter', ...own },
    { action: 'return', countsAsBreakerFailure: false },
  ],
  [
    '401 on the caller credentials is returned',
    { phase: 'headers', status: 401, ...callers },
    { action: 'return', countsAsBreakerFailure: false },
  ],
  [
    '403 on the caller credentials is returned',
    { phase: 'headers', status: 403, ...callers },
    { action: 'return', countsAsBreakerFailure: false },
  ],
  [
    '401 on the gateway credentials fails over as a config fault',
    { phase: 'headers', status: 401, ...own },
    { action: 'failover', countsAsBreakerFailure: true, configFault: true },
  ],
  [
    '403 on the gateway credentials fails over as a config fault',
    { phase: 'headers', status: 403, ...own },
    { action: 'failover', countsAsBreakerFailure: true, configFault: true },
  ],
  ['404 is returned', { phase: 'headers', status: 404, ...own }, { action: 'return', countsAsBreakerFailure: false }],
  [
    '404 DeploymentNotFound tries the other members, answers the 404 if none serves, never counts',
    { phase: 'headers', status: 404, bodyErrorCode: 'DeploymentNotFound', ...own },
    { action: 'failover', countsAsBreakerFailure: false, configFault: true, answerIfLast: true },
  ],
  [
    '404 model_not_found tries the other members',
    { phase: 'headers', status: 404, providerError: { code: 'model_not_found' }, ...own },
    { action: 'failover', answerIfLast: true },
  ],
  [
    '404 for a missing response id stays final',
    { phase: 'headers', status: 404, providerError: { code: 'not_found', message: 'No response found' }, ...own },
    { action: 'return', countsAsBreakerFailure: false },
  ],
  [
    '400 context_length_exceeded is a context-length refusal',
    { phase: 'headers', status: 400, bodyErrorCode: 'context_length_exceeded', ...own },
    { action: 'return', refusal: 'context-length' },
  ],
  [
    'Anthropic prompt too long is a context-length refusal',
    {
      phase: 'headers',
      status: 400,
      providerError: { type: 'invalid_request_error', message: 'prompt is too long: 210000 tokens > 200000 maximum' },
      ...own,
    },
    { action: 'return', refusal: 'context-length' },
  ],
  [
    'Gemini input token count is a context-length refusal',
    {
      phase: 'headers',
      status: 400,
      providerError: { googleStatus: 'INVALID_ARGUMENT', message: 'The input token count (9) exceeds the maximum' },
      ...own,
    },
    { action: 'return', refusal: 'context-length' },
  ],
  [
    '400 content_filter is a content-filter refusal',
    { phase: 'headers', status: 400, bodyErrorCode: 'content_filter', ...own },
    { action: 'return', refusal: 'content-filter' },
  ],
  [
    '400 refusing an assistant prefill is a prefill refusal',
    {
      phase: 'headers',
      status: 400,
      providerError: { message: 'This model does not support assistant message prefill.' },
      ...own,
    },
    { action: 'return', refusal: 'prefill-rejected' },
  ],
  [
    '409 is returned and not a failure',
    { phase: 'headers', status: 409, ...own },
    { action: 'return', countsAsBreakerFailure: false },
  ],
  ['413 is returned', { phase: 'headers', status: 413, ...own }, { action: 'return', countsAsBreakerFailure: false }],
  ['422 is returned', { phase: 'headers', status: 422, ...own }, { action: 'return', countsAsBreakerFailure: false }],
  // transient backend statuses
  [
    '408 fails over and counts',
    { phase: 'headers', status: 408, ...own },
    { action: 'failover', countsAsBreakerFailure: true, errorCode: 'GW_ERR_BACKEND_TIMEOUT' },
  ],
  [
    '429 cools for the Retry-After and does not count',
    { phase: 'headers', status: 429, retryAfterMs: 7_000, ...own },
    { action: 'failover', countsAsBreakerFailure: false, coolDownMs: 7_000, errorCode: 'GW_ERR_BACKEND_THROTTLED' },
  ],
  [
    '429 without Retry-After cools for the default',
    { phase: 'headers', status: 429, ...own },
    { action: 'failover', countsAsBreakerFailure: false, coolDownMs: 1_000 },
  ],
  [
    '429 on caller credentials still fails over',
    { phase: 'headers', status: 429, ...callers },
    { action: 'failover', coolDownMs: 1_000 },
  ],
  [
    '429 insufficient_quota cools long and counts',
    { phase: 'headers', status: 429, bodyErrorCode: 'insufficient_quota', retryAfterMs: 1_000, ...own },
    { action: 'failover', countsAsBreakerFailure: true, coolDownMs: 60_000 },
  ],
  [
    '500 fails over and counts',
    { phase: 'headers', status: 500, ...own },
    { action: 'failover', countsAsBreakerFailure: true, configFault: false, errorCode: 'GW_ERR_BACKEND_EXHAUSTED' },
  ],
  [
    '502 fails over and counts',
    { phase: 'headers', status: 502, ...own },
    { action: 'failover', countsAsBreakerFailure: true },
  ],
  [
    '503 with Retry-After fails over, counts and cools',
    { phase: 'headers', status: 503, retryAfterMs: 3_000, ...own },
    { action: 'failover', countsAsBreakerFailure: true, coolDownMs: 3_000 },
  ],
  [
    '504 fails over as a timeout',
    { phase: 'headers', status: 504, ...own },
    { action: 'failover', countsAsBreakerFailure: true, errorCode: 'GW_ERR_BACKEND_TIMEOUT' },
  ],
  [
    '500 with context_length_exceeded is a context-length refusal',
    { phase: 'headers', status: 500, bodyErrorCode: 'context_length_exceeded', ...own },
    { action: 'return', countsAsBreakerFailure: false, refusal: 'context-length' },
  ],
  [
    '500 with content_filter is the caller’s fault',
    { phase: 'headers', status: 500, bodyErrorCode: 'content_filter', ...own },
    { action: 'return', countsAsBreakerFailure: false },
  ],
  // transport errors before the first byte
  [
    'connect refused fails over',
    { phase: 'connect', errorKind: 'connect-refused', ...own },
    { action: 'failover', countsAsBreakerFailure: true },
  ],
  [
    'connect timeout fails over',
    { phase: 'connect', errorKind: 'connect-timeout', ...own },
    { action: 'failover', countsAsBreakerFailure: true, errorCode: 'GW_ERR_BACKEND_TIMEOUT' },
  ],
  [
    'dns failure fails over',
    { phase: 'connect', errorKind: 'dns', ...own },
    { action: 'failover', countsAsBreakerFailure: true },
  ],
  [
    'reset on a reused socket retries the same backend once',
    { phase: 'sent', errorKind: 'reset', reusedConnection: true, ...own },
    { action: 'retry-same', countsAsBreakerFailure: false },
  ],
  [
    'second reset on a reused socket fails over',
    { phase: 'sent', errorKind: 'reset', reusedConnection: true, sameBackendRetries: 1, ...own },
    { action: 'failover', countsAsBreakerFailure: true },
  ],
  [
    'reset on a fresh socket fails over',
    { phase: 'sent', errorKind: 'reset', ...own },
    { action: 'failover', countsAsBreakerFailure: true },
  ],
  [
    'reset while reading an unforwarded body fails over',
    { phase: 'headers', errorKind: 'reset', reusedConnection: true, ...own },
    { action: 'failover', countsAsBreakerFailure: true },
  ],
  [
    'ttfb timeout fails over and counts',
    { phase: 'sent', errorKind: 'ttfb-timeout', ...own },
    { action: 'failover', countsAsBreakerFailure: true, errorCode: 'GW_ERR_BACKEND_TIMEOUT' },
  ],
  [
    'total timeout before the first byte fails over without counting',
    { phase: 'sent', errorKind: 'total-timeout', ...own },
    { action: 'failover', countsAsBreakerFailure: false },
  ],
  [
    'other transport error fails over',
    { phase: 'sent', errorKind: 'other', ...own },
    { action: 'failover', countsAsBreakerFailure: true },
  ],
  [
    'no status and no error fails over',
    { phase: 'sent', ...own },
    { action: 'failover', countsAsBreakerFailure: true },
  ],
  // caller abort
  [
    'caller abort while connecting is fatal',
    { phase: 'connect', errorKind: 'caller-aborted', ...own },
    { action: 'fatal', countsAsBreakerFailure: false, errorCode: undefined },
  ],
  [
    'caller abort while waiting is fatal',
    { phase: 'sent', errorKind: 'caller-aborted', ...own },
    { action: 'fatal', countsAsBreakerFailure: false },
  ],
  [
    'caller abort while streaming is fatal',
    { phase: 'streaming', errorKind: 'caller-aborted', ...own },
    { action: 'fatal', countsAsBreakerFailure: false, errorCode: undefined },
  ],
  // after the first byte: never retried
  [
    'reset while streaming is fatal',
    { phase: 'streaming', errorKind: 'reset', reusedConnection: true, ...own },
    { action: 'fatal', countsAsBreakerFailure: true, errorCode: 'GW_ERR_STREAM_INTERRUPTED' },
  ],
  [
    'idle timeout while streaming is fatal',
    { phase: 'streaming', errorKind: 'idle-timeout', ...own },
    { action: 'fatal', countsAsBreakerFailure: true, errorCode: 'GW_ERR_STREAM_IDLE_TIMEOUT' },
  ],
  [
    'total timeout while streaming is fatal',
    { phase: 'streaming', errorKind: 'total-timeout', ...own },
    { action: 'fatal', countsAsBreakerFailure: false, errorCode: 'GW_ERR_BACKEND_TIMEOUT' },
  ],
  [
    'other error while streaming is fatal',
    { phase: 'streaming', errorKind: 'other', status: 200, ...own },
    { action: 'fatal', countsAsBreakerFailure: true },
  ],
  [
    'ttfb timeout labelled streaming is still fatal',
    { phase: 'streaming', errorKind: 'ttfb-timeout', ...own },
    { action: 'fatal' },
  ],
  ['a stream that completes is returned', { phase: 'streaming', status: 200, ...own }, { action: 'return' }],
];

describe('classifyFailure', () => {
  it.each(rows)('%s', (_name, outcome, expected) => {
    expect(classifyFailure(outcome)).toMatchObject(expected);
  });

  it('never retries anything after the first byte', () => {
    const kinds = [
      'connect-refused',
      'connect-timeout',
      'dns',
      'reset',
      'ttfb-timeout',
      'idle-timeout',
      'total-timeout',
      'caller-aborted',
      'other',
    ] as const;
    for (const errorKind of kinds) {
      for (const status of [200, 429, 500]) {
        const verdict = classifyFailure({
          phase: 'streaming',
          errorKind,
          status,
          reusedConnection: true,
          gatewayCredentials: true,
        });
        expect(verdict.action, `${errorKind}/${status}`).toBe('fatal');
      }
    }
  });

  it('never counts a caller fault as a breaker failure: any 4xx but 401/403 on own credentials, 408, 429', () => {
    for (let status = 400; status < 500; status++) {
      const verdict = classifyFailure({ phase: 'headers', status, gatewayCredentials: false });
      if (status === 408) expect(verdict.countsAsBreakerFailure).toBe(true);
      else expect(verdict.countsAsBreakerFailure, String(status)).toBe(false);
      if (status !== 408 && status !== 429) expect(verdict.action, String(status)).toBe('return');
    }
  });

  it('retries a reused-socket reset on the same backend up to the configured count', () => {
    const options = { defaultCoolDownMs: 1_000, quotaExhaustedCoolDownMs: 60_000, maxSameBackendRetries: 2 };
    const at = (sameBackendRetries: number) =>
      classifyFailure(
        { phase: 'sent', errorKind: 'reset', reusedConnection: true, sameBackendRetries, gatewayCredentials: true },
        options,
      ).action;
    expect([at(0), at(1), at(2)]).toEqual(['retry-same', 'retry-same', 'failover']);
    expect(
      classifyFailure(
        { phase: 'sent', errorKind: 'reset', reusedConnection: true, gatewayCredentials: true },
        { ...options, maxSameBackendRetries: 0 },
      ).action,
    ).toBe('failover');
  });

  it('marks no refusal on a plain caller error', () => {
    const verdict = classifyFailure({ phase: 'headers', status: 400, bodyErrorCode: 'invalid_value', ...own });
    expect(verdict).toMatchObject({ action: 'return' });
    expect('refusal' in verdict).toBe(false);
  });

  it('uses the configured default cool-down', () => {
    expect(
      classifyFailure(
        { phase: 'headers', status: 429, gatewayCredentials: true },
        { defaultCoolDownMs: 2_500, quotaExhaustedCoolDownMs: 1, maxSameBackendRetries: 1 },
      ),
    ).toMatchObject({ coolDownMs: 2_500 });
  });
});
