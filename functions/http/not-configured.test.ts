import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setFunctionsHost } from '../bridge/runtime.js';
import { health } from './health.js';
import { proxy } from './proxy.js';

async function envelope(init: HttpResponseInit): Promise<{ error: { code: string; message: string } }> {
  let text = '';
  for await (const chunk of init.body as AsyncIterable<Uint8Array>) text += new TextDecoder().decode(chunk);
  return JSON.parse(text) as { error: { code: string; message: string } };
}

const context = (): InvocationContext => new InvocationContext({ functionName: 'test', invocationId: 'test' });

/** The Functions app in production mode with no configuration naming its callers (issue 13 item 5). */
describe('the Functions app without a configuration that names its callers', () => {
  beforeEach(() => {
    setFunctionsHost(undefined);
    vi.stubEnv('GATEWAY_CONFIG_FILE', undefined);
    vi.stubEnv('GATEWAY_SERVER__MODE', 'production');
    vi.stubEnv('GATEWAY_FUNCTIONS__STORES', 'memory');
    vi.stubEnv('GATEWAY_FUNCTIONS__DURABLE_JOBS', 'false');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    setFunctionsHost(undefined);
  });

  it('answers every call 503 GW_ERR_SERVICE_NOT_CONFIGURED naming the problem, and serves nothing', async () => {
    const chat = new HttpRequest({
      method: 'POST',
      url: 'http://localhost/v1/chat/completions',
      headers: { 'content-type': 'application/json' },
      body: { string: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }) },
    });
    const init = await proxy(chat, context());
    expect(init.status).toBe(503);
    const headers = init.headers as Record<string, string>;
    expect(headers['x-gateway-error-code']).toBe('GW_ERR_SERVICE_NOT_CONFIGURED');
    expect(headers['x-gateway-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const { error } = await envelope(init);
    expect(error.code).toBe('GW_ERR_SERVICE_NOT_CONFIGURED');
    expect(error.message).toMatch(/no configuration file/);
    expect(error.message).toMatch(/server\.mode is "production" but no caller identity is configured/);

    const live = await health(
      new HttpRequest({ method: 'GET', url: 'http://localhost/health/live', params: { kind: 'live' } }),
      context(),
    );
    expect(live.status).toBe(503);
    expect((await envelope(live)).error.code).toBe('GW_ERR_SERVICE_NOT_CONFIGURED');
  });
});
