import { describe, expect, it } from 'vitest';
import { chatCall, inMemoryChatRuntime } from './test-support/in-memory-chat.js';

describe('runtime.close', () => {
  it('writes the records of calls that just ended before it closes the ledger', async () => {
    // The backend answers in memory: the whole call runs on microtasks, so nothing else gets a turn before close.
    const { runtime, ledger } = inMemoryChatRuntime();
    for (let i = 0; i < 3; i++) {
      const response = await runtime.gateway.handle(chatCall(new AbortController().signal));
      expect(response.status).toBe(200);
      for await (const chunk of response.body ?? []) void chunk;
    }
    await runtime.close();
    expect(runtime.backgroundWrites.counts()).toEqual({});
    expect(ledger.size).toBe(3);
  });
});
