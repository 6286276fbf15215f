import { describe, expect, it } from 'vitest';
import { continueRequest, recoveryEligibility, replayRequest } from './recovery-request.js';

const messages = [{ role: 'user', content: 'Hi' }];

describe('recoveryEligibility', () => {
  it('takes a streamed chat request with one choice; tools allow a replay only', () => {
    expect(recoveryEligibility({ stream: true, messages })).toEqual({ recoverable: true, prefillAllowed: true });
    expect(recoveryEligibility({ stream: true, messages, tools: [{ type: 'function' }] })).toEqual({
      recoverable: true,
      prefillAllowed: false,
    });
    expect(recoveryEligibility({ stream: true, messages, n: 2 })).toMatchObject({ recoverable: false });
    expect(recoveryEligibility({ messages })).toMatchObject({ recoverable: false });
    expect(recoveryEligibility(undefined)).toMatchObject({ recoverable: false });
  });
});

describe('continueRequest', () => {
  it('appends the delivered text, less trailing blanks, as the final assistant message', () => {
    const body = continueRequest({ model: 'm', stream: true, messages }, 'Hello from ', 2);
    expect(body.messages).toEqual([...messages, { role: 'assistant', content: 'Hello from' }]);
    expect(body.stream_options).toEqual({ include_usage: true });
  });

  it('lowers the output limit by the tokens already delivered', () => {
    const body = continueRequest({ stream: true, messages, max_tokens: 10, max_completion_tokens: 3 }, 'a b c d', 4);
    expect([body.max_tokens, body.max_completion_tokens]).toEqual([6, 1]);
  });
});

describe('replayRequest', () => {
  it('is the caller request asking for the usage chunk, other stream options kept', () => {
    const json = { stream: true, messages, stream_options: { include_obfuscation: false } };
    expect(replayRequest(json)).toEqual({
      ...json,
      stream_options: { include_obfuscation: false, include_usage: true },
    });
    expect(json.stream_options).toEqual({ include_obfuscation: false });
  });
});
