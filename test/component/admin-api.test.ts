import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_BASE_PATH } from '../../shared/core/admin/admin-api.js';
import { keyedGovernance } from '../support/e2e-gateway.js';
import { defaultConfig, postJson, startHarness, type Harness } from '../support/gateway-harness.js';

const ADMIN = 'admin-key-0123456789';
const ALICE = 'sk-alice-0123456789';

describe('the admin API over HTTP', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      simulators: { a: {} },
      config: (urls) =>
        defaultConfig(urls, {
          governance: keyedGovernance({ keys: { alice: ALICE }, profile: { id: 'team' }, adminKey: ADMIN }),
          usage: { prices: { 'gpt-4o-mini': { inputPer1k: 1, outputPer1k: 1 } } },
        }),
    });
  });
  afterAll(async () => h.close());

  const admin = (path: string, key = ADMIN) =>
    fetch(`${h.url}${ADMIN_BASE_PATH}${path}`, { headers: { 'x-gateway-admin-key': key } });

  it('answers chargeback for the calls just made, grouped and priced', async () => {
    for (let i = 0; i < 3; i++) {
      const ended = h.nextCall();
      const response = await postJson(
        `${h.url}/v1/chat/completions`,
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
        { 'api-key': ALICE },
      );
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      await ended;
    }
    const tokens = h.calls.reduce((sum, c) => sum + (c.usage?.totalTokens ?? 0), 0);
    const response = await admin('/usage?by=user');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-gateway-request-id')).toBeTruthy();
    const body = (await response.json()) as {
      by: string;
      rows: { key: string; requests: number; totalTokens: number }[];
    };
    expect(body.by).toBe('user');
    expect(body.rows).toEqual([
      expect.objectContaining({ key: 'alice', requests: 3, totalTokens: tokens, cost: expect.any(Number) }),
    ]);
    expect(tokens).toBeGreaterThan(0);
  });

  it('answers the status of backends and the scheduler', async () => {
    const response = await admin('/status');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { backends: { id: string; state: string }[]; scheduler: unknown };
    expect(body.backends.map((b) => [b.id, b.state])).toEqual([['a', 'closed']]);
    expect(body.scheduler).toBeDefined();
  });

  it('takes the admin credential, not a caller key, and answers bad queries with the error envelope', async () => {
    expect((await admin('/status', ALICE)).status).toBe(401);
    const bad = await admin('/usage?by=colour');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-gateway-error-code')).toBe('GW_ERR_REQUEST_INVALID_QUERY');
    expect((await admin('/unknown')).status).toBe(404);
  });
});
