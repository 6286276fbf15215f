import { createMemoryUsageLedger } from '../../adapters/memory/memory-usage-ledger.js';
import { validateConfig } from '../../config/load-config.js';
import type { GatewayRequest } from '../../core/http/gateway-request.js';
import type { BackendResponse, BackendTransport } from '../../ports/backend-transport.js';
import { createRuntime, type GatewayRuntime } from '../create-runtime.js';

const answer = new TextEncoder().encode(
  JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  }),
);

/** Answers in memory: the whole call runs on microtasks, so nothing else gets a turn before the test's next step. */
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

/**
 * A runtime with one backend answering every chat call at once from memory, anonymous callers, and an in-memory
 * ledger the test reads.
 */
export function inMemoryChatRuntime(): { runtime: GatewayRuntime; ledger: ReturnType<typeof createMemoryUsageLedger> } {
  const config = validateConfig({
    backends: [{ id: 'sim', url: 'http://127.0.0.1:9', kind: 'openai' }],
    pools: [{ id: 'main', backends: ['sim'] }],
    routes: [{ id: 'all', match: { models: ['*'] }, pool: 'main' }],
    governance: { identity: { anonymous: { allowed: true } } },
  });
  if (!config.ok) throw new Error(config.issues.join('\n'));
  const ledger = createMemoryUsageLedger();
  return { runtime: createRuntime({ config: config.config, transport, ledger }), ledger };
}

/** A chat call to the runtime, with the caller's `signal`. */
export function chatCall(signal: AbortSignal): GatewayRequest {
  const body = new TextEncoder().encode(JSON.stringify({ model: 'gpt-4o-mini', messages: [] }));
  return {
    method: 'POST',
    url: 'http://gateway.test/v1/chat/completions',
    headers: new Headers({ 'content-type': 'application/json' }),
    body: (async function* () {
      yield body;
    })(),
    signal,
  };
}
