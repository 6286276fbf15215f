import { describe, expect, it } from 'vitest';
import { formatRetryAfterSeconds, isRequeueRequested, parseRetryAfterMs } from './retry-after.js';

const now = Date.UTC(2025, 0, 1, 12, 0, 0);

describe('parseRetryAfterMs', () => {
  it.each<[string, Record<string, string>, number | undefined]>([
    ['no header', {}, undefined],
    ['retry-after-ms', { 'retry-after-ms': '250' }, 250],
    ['x-ms-retry-after-ms', { 'x-ms-retry-after-ms': '1500' }, 1_500],
    ['retry-after seconds', { 'retry-after': '3' }, 3_000],
    ['retry-after fractional seconds', { 'retry-after': '2.5' }, 2_500],
    ['retry-after zero', { 'retry-after': '0' }, 0],
    ['retry-after-ms wins over retry-after', { 'retry-after-ms': '100', 'retry-after': '9' }, 100],
    ['retry-after-ms wins over x-ms-retry-after-ms', { 'retry-after-ms': '100', 'x-ms-retry-after-ms': '200' }, 100],
    ['invalid retry-after-ms falls back to retry-after', { 'retry-after-ms': 'soon', 'retry-after': '2' }, 2_000],
    ['HTTP-date in the future', { 'retry-after': new Date(now + 10_000).toUTCString() }, 10_000],
    ['HTTP-date in the past is 0', { 'retry-after': new Date(now - 10_000).toUTCString() }, 0],
    ['clamped to the default max of 60 s', { 'retry-after': '3600' }, 60_000],
    ['negative is invalid', { 'retry-after': '-5' }, undefined],
    ['garbage is invalid', { 'retry-after': 'tomorrow' }, undefined],
    ['a non-HTTP date is invalid', { 'retry-after': '2025-01-01' }, undefined],
    ['whitespace tolerated', { 'retry-after': ' 4 ' }, 4_000],
    ['fractional milliseconds round up', { 'retry-after-ms': '10.2' }, 11],
  ])('%s', (_name, headers, expected) => {
    expect(parseRetryAfterMs(new Headers(headers), now)).toBe(expected);
  });

  it('clamps to a configured max', () => {
    expect(parseRetryAfterMs(new Headers({ 'retry-after': '30' }), now, { maxMs: 5_000 })).toBe(5_000);
  });
});

describe('isRequeueRequested', () => {
  it.each<[Record<string, string>, boolean]>([
    [{ S7PREQUEUE: 'true' }, true],
    [{ s7prequeue: 'True' }, true],
    [{ S7PREQUEUE: 'false' }, false],
    [{}, false],
  ])('%j → %s', (headers, expected) => {
    expect(isRequeueRequested(new Headers(headers))).toBe(expected);
  });
});

describe('formatRetryAfterSeconds', () => {
  it.each<[number, string]>([
    [0, '1'],
    [-5, '1'],
    [1, '1'],
    [1_000, '1'],
    [1_001, '2'],
    [15_000, '15'],
    [Number.NaN, '1'],
  ])('%d ms → %s s', (ms, expected) => {
    expect(formatRetryAfterSeconds(ms)).toBe(expected);
  });
});
