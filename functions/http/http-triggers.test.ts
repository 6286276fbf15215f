import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../shared/config/load-config.js';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';
import { startSimulator, type RunningSimulator } from '../../simulator/simulator.js';
import { createFunctionsHost, setFunctionsHost, type FunctionsHost } from '../bridge/runtime.js';
import { admin } from './admin.js';
import { health } from './health.js';
import { jobs } from './jobs.js';
import { proxy } from './proxy.js';

const KEY = 'trigger-test-key-0123';
const ADMIN_KEY = 'trigger-admin-key-0123';

/** The HTTP triggers called directly, as the Functions host calls them: `new HttpRequest`, `new InvocationContext`. */
describe('HTTP triggers called directly', () => {
  let sim: RunningSimulator;
  let host: FunctionsHost;

  beforeAll(async () => {
    sim = await startSimulator({ name: 'sim', port: 0 });
    const config = validateConfig({
      backends: [{ id: 'sim', url: sim.url, kind: 'openai' }],
      pools: [{ id: 'main', backends: ['sim'] }],
      routes: [{ id: 'all', match: { models: ['*'] }, pool: 'main' }],
      governance: {
        identity: {
          apiKeys: { enabled: true, keys: [{ id: 'app', sha256: hashApiKey(KEY), profile: 'default', userId: 'app' }] },
        },
        profiles: [{ id: 'default' }],
        admin: { keys: [{ id: 'ops', sha256: hashApiKey(ADMIN_KEY) }] },
      },
      usage: { ledger: { kind: 'memory' } },
    });
    if (!config.ok) throw new Error(config.issues.join('\n'));
    host = createFunctionsHost(
      {
        GATEWAY_FUNCTIONS__STORES: 'memory',
        GATEWAY_FUNCTIONS__DURABLE_JOBS: 'false',
        GATEWAY_FUNCTIONS__LEDGER_REPORT_INTERVAL_MS: '0',
      },
      { config: config.config },
    );
    setFunctionsHost(host);
  });
  afterAll(async () => {
    setFunctionsHost(undefined);
    await host.runtime.close();
    await sim.close();
  });

  const post = (body: unknown, headers: Record<string, string> = {}): HttpRequest =>
    new HttpRequest({
      method: 'POST',
      url: 'http://localhost/v1/chat/completions',
      headers: { 'content-type': 'application/json', 'api-key': KEY, ...headers },
      body: { string: JSON.stringify(body) },
    });
  const context = (): InvocationContext => new InvocationContext({ functionName: 'test', invocationId: 'test' });

  async function bodyText(init: HttpResponseInit): Promise<string> {
    const body = init.body as AsyncIterable<Uint8Array> | undefined;
    if (body === undefined) return '';
    const decoder = new TextDecoder();
    let text = '';
    for await (const chunk of body) text += decoder.decode(chunk, { stream: true });
    return text;
  }

  it('proxy answers a chat completion with the gateway headers', async () => {
    const init = await proxy(post({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }), context());
    expect(init.status).toBe(200);
    const headers = init.headers as Record<string, string>;
    expect(headers['x-gateway-backend']).toBe('sim');
    expect(headers['x-gateway-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(await bodyText(init))).toMatchObject({
      object: 'chat.completion',
      usage: { completion_tokens: 16 },
    });
  });

  it('proxy streams: the body is an async iterable of SSE chunks ending in [DONE], usage chunk hidden', async () => {
    const init = await proxy(
      post({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      context(),
    );
    expect((init.headers as Record<string, string>)['content-type']).toMatch(/^text\/event-stream/);
    const body = init.body as AsyncIterable<Uint8Array>;
    let chunks = 0;
    let text = '';
    for await (const chunk of body) {
      chunks++;
      text += new TextDecoder().decode(chunk);
    }
    expect(chunks).toBeGreaterThanOrEqual(1);
    const events = text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice(6));
    expect(events.at(-1)).toBe('[DONE]');
    expect(events.slice(0, -1).every((e) => (JSON.parse(e) as { usage?: unknown }).usage == null)).toBe(true);
  });

  it('proxy refuses a caller without a key in the error envelope', async () => {
    const init = await proxy(post({ model: 'gpt-4o-mini', messages: [] }, { 'api-key': '' }), context());
    expect(init.status).toBe(401);
    expect(JSON.parse(await bodyText(init))).toMatchObject({ error: { code: 'GW_ERR_AUTH_MISSING' } });
  });

  it('health answers live and ready', async () => {
    const live = await health(
      new HttpRequest({ method: 'GET', url: 'http://localhost/health/live', params: { kind: 'live' } }),
      context(),
    );
    expect(live.status).toBe(200);
    const ready = await health(
      new HttpRequest({ method: 'GET', url: 'http://localhost/health/ready', params: { kind: 'ready' } }),
      context(),
    );
    expect(ready.status).toBe(200);
    expect(JSON.parse(await bodyText(ready))).toMatchObject({
      status: 'ready',
      backends: { configured: 1, usable: 1 },
    });
  });

  it('admin needs the admin key, and then shows backends and the scheduler', async () => {
    const refused = await admin(
      new HttpRequest({ method: 'GET', url: 'http://localhost/gateway/admin/status', headers: { 'api-key': KEY } }),
      context(),
    );
    expect(refused.status).toBe(403);
    const status = await admin(
      new HttpRequest({
        method: 'GET',
        url: 'http://localhost/gateway/admin/status',
        headers: { 'x-gateway-admin-key': ADMIN_KEY },
      }),
      context(),
    );
    expect(status.status).toBe(200);
    expect(JSON.parse(await bodyText(status))).toMatchObject({
      backends: [{ id: 'sim' }],
      scheduler: { pools: [{ poolId: 'main' }] },
    });
  });

  it('jobs answers 404 for an unknown job, in the envelope', async () => {
    const init = await jobs(
      new HttpRequest({
        method: 'GET',
        url: 'http://localhost/jobs/AAAAAAAAAAAAAAAAAAAAAA',
        headers: { 'api-key': KEY },
      }),
      context(),
    );
    expect(init.status).toBe(404);
    expect(JSON.parse(await bodyText(init))).toMatchObject({ error: { code: 'GW_ERR_JOB_NOT_FOUND' } });
  });
});
