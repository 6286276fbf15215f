import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig, postJson, readSse, startHarness, type Harness } from '../support/gateway-harness.js';

describe('backend affinity for server-side state', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ simulators: { a: {}, b: {}, c: {} }, config: (urls) => defaultConfig(urls) });
  });
  afterEach(async () => h.close());

  it('sends GET and DELETE of a response, and previous_response_id, to the backend that created it', async () => {
    const created = await postJson(`${h.url}/v1/responses`, { model: 'gpt-4o-mini', input: 'hello' });
    expect(created.status).toBe(200);
    const { id } = (await created.json()) as { id: string };
    const owner = created.headers.get('x-gateway-backend')!;
    for (let i = 0; i < 6; i++) {
      const read = await fetch(`${h.url}/v1/responses/${id}`);
      expect(read.status).toBe(200);
      expect(read.headers.get('x-gateway-backend')).toBe(owner);
    }
    for (let i = 0; i < 6; i++) {
      const next = await postJson(`${h.url}/v1/responses`, {
        model: 'gpt-4o-mini',
        input: 'and then?',
        previous_response_id: id,
      });
      expect(next.status).toBe(200);
      expect(next.headers.get('x-gateway-backend')).toBe(owner);
    }
    const deleted = await fetch(`${h.url}/v1/responses/${id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect(deleted.headers.get('x-gateway-backend')).toBe(owner);
    // No other backend was ever asked about the response.
    for (const [name, sim] of Object.entries(h.sims)) {
      if (name === owner) continue;
      expect(sim.attempts().filter((a) => a.path.includes(id) || a.path === `/v1/responses/${id}`)).toHaveLength(0);
    }
  });

  it('learns the id of a streamed response from its first event', async () => {
    const created = await postJson(`${h.url}/v1/responses`, { model: 'gpt-4o-mini', input: 'hello', stream: true });
    const owner = created.headers.get('x-gateway-backend')!;
    const { events } = await readSse(created);
    const first = JSON.parse(events[0]!) as { response: { id: string } };
    const read = await fetch(`${h.url}/v1/responses/${first.response.id}`);
    expect(read.status).toBe(200);
    expect(read.headers.get('x-gateway-backend')).toBe(owner);
  });

  it('answers an unknown response id with 404 in the envelope instead of guessing a backend', async () => {
    const read = await fetch(`${h.url}/v1/responses/resp_unknown`);
    expect(read.status).toBe(404);
    expect(read.headers.get('x-gateway-error-code')).toBe('GW_ERR_REQUEST_ROUTE_NOT_FOUND');
    expect(Object.values(h.sims).every((s) => s.attempts().length === 0)).toBe(true);
  });
});
