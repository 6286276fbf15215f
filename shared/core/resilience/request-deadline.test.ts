import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors/gateway-error.js';
import {
  createRequestDeadline,
  parseTimeoutHeader,
  parseTtlHeader,
  type RequestDeadlineDefaults,
} from './request-deadline.js';

const now = Date.UTC(2025, 0, 1, 12, 0, 0);
const defaults: RequestDeadlineDefaults = {
  defaultTtlMs: 300_000,
  maxTtlMs: 86_400_000,
  attemptTimeoutMs: 600_000,
  maxAttemptTimeoutMs: 3_600_000,
};

describe('parseTtlHeader', () => {
  it.each<[string, number]>([
    ['+1735732800', 1_735_732_800_000],
    ['+1735732800.5', 1_735_732_800_500],
    ['30', now + 30_000],
    ['2.5', now + 2_500],
    ['0', now],
    [' 10 ', now + 10_000],
    ['2025-01-01T12:05:00Z', now + 300_000],
    ['2025-01-01T12:05:00.250Z', now + 300_250],
    ['2025-01-01T13:05:00+01:00', now + 300_000],
    ['2025-01-01T12:05:00', now + 300_000],
    ['2025-01-01 12:05:00', now + 300_000],
    ['2025-01-01', Date.UTC(2025, 0, 1)],
    ['2024-12-31T00:00:00Z', Date.UTC(2024, 11, 31)],
  ])('%s', (value, expected) => {
    expect(parseTtlHeader(value, now)).toBe(expected);
  });

  it.each(['', 'soon', '-5', '+abc', '1e3', '2025-13-45T99:00:00Z', 'Wed, 21 Oct 2015 07:28:00 GMT', '12:00'])(
    'rejects %j with GW_ERR_REQUEST_INVALID_TTL',
    (value) => {
      expect(() => parseTtlHeader(value, now)).toThrowError(GatewayError);
      try {
        parseTtlHeader(value, now, 'S7PTTL');
      } catch (error) {
        expect((error as GatewayError).code).toBe('GW_ERR_REQUEST_INVALID_TTL');
        expect((error as GatewayError).status).toBe(400);
        expect((error as GatewayError).param).toBe('S7PTTL');
      }
    },
  );
});

describe('parseTimeoutHeader', () => {
  it('reads positive integer milliseconds', () => {
    expect(parseTimeoutHeader('45000')).toBe(45_000);
  });
  it.each(['0', '-1', '1.5', 'abc', '', '99999999999999999999'])(
    'rejects %j with GW_ERR_REQUEST_INVALID_HEADER',
    (value) => {
      expect(() => parseTimeoutHeader(value)).toThrowError(
        expect.objectContaining({ code: 'GW_ERR_REQUEST_INVALID_HEADER' }) as Error,
      );
    },
  );
});

describe('createRequestDeadline', () => {
  it('uses the route defaults when the caller sends nothing', () => {
    const d = createRequestDeadline(new Headers(), now, defaults);
    expect(d).toMatchObject({
      startedAtMs: now,
      expiresAtMs: now + 300_000,
      attemptTimeoutMs: 600_000,
      ttlSource: 'default',
    });
  });

  it('prefers x-gateway-ttl over S7PTTL and x-gateway-timeout over S7PTimeout', () => {
    const d = createRequestDeadline(
      new Headers({ 'x-gateway-ttl': '10', S7PTTL: '99', 'x-gateway-timeout': '2000', S7PTimeout: '9000' }),
      now,
      defaults,
    );
    expect(d.expiresAtMs).toBe(now + 10_000);
    expect(d.attemptTimeoutMs).toBe(2_000);
  });

  it('accepts the seed headers alone', () => {
    const d = createRequestDeadline(new Headers({ S7PTTL: '+1735732900', S7PTimeout: '5000' }), now, defaults);
    expect(d.expiresAtMs).toBe(1_735_732_900_000);
    expect(d.attemptTimeoutMs).toBe(5_000);
    expect(d.ttlSource).toBe('header');
  });

  it('clamps caller values to the route maxima', () => {
    const d = createRequestDeadline(new Headers({ 'x-gateway-ttl': '999999', 'x-gateway-timeout': '99999999' }), now, {
      ...defaults,
      maxTtlMs: 60_000,
      maxAttemptTimeoutMs: 30_000,
    });
    expect(d.expiresAtMs).toBe(now + 60_000);
    expect(d.attemptTimeoutMs).toBe(30_000);
  });

  it('cuts each attempt to the TTL remaining and reports expiry', () => {
    const d = createRequestDeadline(new Headers({ 'x-gateway-ttl': '10', 'x-gateway-timeout': '4000' }), now, defaults);
    expect(d.attemptBudgetMs(now)).toBe(4_000);
    expect(d.attemptBudgetMs(now + 8_000)).toBe(2_000);
    expect(d.remainingMs(now + 8_000)).toBe(2_000);
    expect(d.isExpired(now + 9_999)).toBe(false);
    expect(d.isExpired(now + 10_000)).toBe(true);
    expect(d.remainingMs(now + 20_000)).toBe(0);
    expect(d.attemptBudgetMs(now + 20_000)).toBe(0);
  });

  it('accepts a TTL already in the past: the request is simply expired', () => {
    const d = createRequestDeadline(new Headers({ S7PTTL: '+1000' }), now, defaults);
    expect(d.isExpired(now)).toBe(true);
  });

  it('rejects a malformed TTL header', () => {
    expect(() => createRequestDeadline(new Headers({ S7PTTL: 'later' }), now, defaults)).toThrowError(
      expect.objectContaining({ code: 'GW_ERR_REQUEST_INVALID_TTL', param: 'S7PTTL' }) as Error,
    );
  });
});
