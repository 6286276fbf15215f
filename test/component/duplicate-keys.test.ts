import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';
import { defaultConfig, startHarness, type Harness } from '../support/gateway-harness.js';

const KEY = 'mini-only-key-0123456789';

/** Issue 13 item 6: the gateway never admits one request and forwards another. */
describe('a request body that names a decided-on key twice', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({
      simulators: { a: {} },
      config: (urls) =>
        defaultConfig(urls, {
          governance: {
            identity: { apiKeys: { enabled: true, keys: [{ id: 'k', sha256: hashApiKey(KEY), profile: 'mini' }] } },
            profiles: [{ id: 'mini', allowedModels: ['gpt-4o-mini'] }],
          },
        }),
    });
  });
  afterEach(async () => h.close());

  const send = (raw: string) =>
    fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'api-key': KEY },
      body: raw,
    });

  it.each([
    ['model', '{"model":"gpt-4o","model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'],
    ['model', '{"model":"gpt-4o","mod\\u0065l":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'],
    ['max_tokens', '{"model":"gpt-4o-mini","max_tokens":100000,"messages":[],"max_tokens":1}'],
    ['stream', '{"model":"gpt-4o-mini","stream":true,"messages":[],"stream":false}'],
  ])('answers 400 in the envelope naming "%s", and sends nothing upstream', async (key, raw) => {
    const response = await send(raw);
    expect(response.status).toBe(400);
    expect(response.headers.get('x-gateway-error-code')).toBe('GW_ERR_REQUEST_INVALID_JSON');
    const { error } = (await response.json()) as { error: { param: string; message: string } };
    expect(error.param).toBe(key);
    expect(error.message).toContain(`"${key}" more than once`);
    expect(h.sims.a!.attempts()).toHaveLength(0);
  });

  it('forwards a body whose repeated keys the gateway does not decide on, as received', async () => {
    const raw = '{"model":"gpt-4o-mini","user":"a","user":"b","messages":[{"role":"user","content":"hi"}]}';
    const response = await send(raw);
    expect(response.status).toBe(200);
    expect(h.sims.a!.attempts()).toHaveLength(1);
  });
});
