import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { chatCall, inMemoryChatRuntime } from './test-support/in-memory-chat.js';

describe("a live call's signals (caller and shutdown drain)", () => {
  it('are let go of when the answer has ended: a signal shared by many calls collects no listeners', async () => {
    const { runtime, ledger } = inMemoryChatRuntime();
    const shared = new AbortController();
    const during: number[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await runtime.gateway.handle(chatCall(shared.signal));
      expect(response.status).toBe(200);
      during.push(getEventListeners(shared.signal, 'abort').length);
      for await (const chunk of response.body ?? []) void chunk;
      expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
    }
    // While an answer was on its way the call still followed the caller's signal (the relay may be stopped).
    expect(during.every((n) => n >= 1)).toBe(true);
    await runtime.close();
    expect(ledger.size).toBe(3);
  });
});
