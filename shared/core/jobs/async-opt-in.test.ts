import { describe, expect, it } from 'vitest';
import { isAsyncRequested } from './async-opt-in.js';
import { parseJobMessage } from './job-message.js';

describe('isAsyncRequested', () => {
  it.each([
    [{ 'x-gateway-async': 'true' }, true],
    [{ 'X-Gateway-Async': 'TRUE' }, true],
    [{ S7PAsyncMode: 'True' }, true],
    [{ S7PAsyncMode: ' true ' }, true],
    [{ 'x-gateway-async': '1' }, false],
    [{ 'x-gateway-async': 'false', S7PAsyncMode: 'no' }, false],
    [{}, false],
  ])('%j → %s', (headers, expected) => {
    expect(isAsyncRequested(new Headers(headers))).toBe(expected);
  });
});

describe('parseJobMessage', () => {
  it('accepts a v1 message as an object or a JSON string', () => {
    const message = { v: 1, jobId: 'abc', requestId: 'r', enqueuedAtMs: 5 };
    expect(parseJobMessage(message)).toEqual(message);
    expect(parseJobMessage(JSON.stringify(message))).toEqual(message);
  });

  it.each([
    null,
    'not json',
    { v: 2, jobId: 'a', enqueuedAtMs: 1 },
    { v: 1, jobId: '', enqueuedAtMs: 1 },
    { v: 1, jobId: 'a' },
  ])('rejects %j', (body) => {
    expect(parseJobMessage(body)).toBeUndefined();
  });
});
