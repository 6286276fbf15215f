import { describe, expect, it } from 'vitest';
import { readJobMessage } from './job-message-schema.js';

const message = { v: 1, jobId: 'j1', requestId: 'r1', enqueuedAtMs: 7 };

describe('readJobMessage', () => {
  it('reads parsed JSON, a JSON string and JSON bytes alike', () => {
    expect(readJobMessage(message)).toEqual(message);
    expect(readJobMessage(JSON.stringify(message))).toEqual(message);
    expect(readJobMessage(new TextEncoder().encode(JSON.stringify(message)))).toEqual(message);
  });

  it('drops the fields an adapter adds beside the message, and a request id that is not a string', () => {
    expect(readJobMessage({ ...message, gwPriorDeliveries: 2, gwDeadLetter: { reason: 'x' } })).toEqual(message);
    expect(readJobMessage({ ...message, requestId: 42 })).toEqual({ v: 1, jobId: 'j1', enqueuedAtMs: 7 });
  });

  it.each([
    ['another version', { ...message, v: 2 }],
    ['no job id', { v: 1, enqueuedAtMs: 7 }],
    ['an empty job id', { ...message, jobId: '' }],
    ['a job id over 128 characters', { ...message, jobId: 'x'.repeat(129) }],
    ['no enqueue time', { v: 1, jobId: 'j1' }],
    ['an enqueue time that is not a number', { ...message, enqueuedAtMs: '7' }],
    ['text that is not JSON', 'not json'],
    ['bytes that are not JSON', new Uint8Array([0xff, 0x00])],
    ['JSON that is not an object', '[1]'],
    ['null', null],
  ])('refuses %s', (_, body) => {
    expect(readJobMessage(body)).toBeUndefined();
  });
});
