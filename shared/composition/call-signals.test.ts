import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createMemoryUsageLedger } from '../adapters/memory/memory-usage-ledger.js';
import { validateConfig } from '../config/load-config.js';
import type { BackendResponse, BackendTransport } from '../ports/backend-transport.js';
import { createRuntime } from './create-runtime.js';

const answer = new TextEncoder().encode(
  JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  }),
);

const transport: BackendTransport = {
  send: async (): Promise<BackendResponse> => ({
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: (async function* () {
      yield answer;
    })(),
    errorKind: () => 'other',
    dump: async () => undefined,
  }),
  close: async () => undefined,
};

describe("a live call's signals (caller and shutdown drain)", () => {
  it('are let go of when the answer has ended: a signal shared by many calls collects no listeners', async () => {
    const config = validateConfig({
      backends: [{ id: 'sim', url: 'http://127.0.0.1:9', kind: 'openai' }],
      pools: [{ id: 'main', backends: ['sim'] }],
      routes: [{ id: 'all', match: { models: ['*'] }, pool: 'main' }],
      governance: { identity: { anonymous: { allowed: true } } },
    });
    if (!config.ok) throw new Error(config.issues.join('\n'));
    const ledger = createMemoryUsageLedger();
    const runtime = createRuntime({ config: config.config, transport, ledger });
    const body = new TextEncoder().encode(JSON.stringify({ model: 'gpt-4o-mini', messages: [] }));
    const shared = new AbortController();
    const during: number[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await runtime.gateway.handle({
        method: 'POST',
        url: 'http://gateway.test/v1/chat/completions',
        headers: new Headers({ 'content-type': 'application/json' }),
        body: (async function* () {
          yield body;
        })(),
        signal: shared.signal,
      });
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
