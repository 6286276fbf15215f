import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { postJson, startHarness, type Harness } from '../support/gateway-harness.js';

/**
 * Context-window fallbacks through the HTTP surface: simulators over real HTTP. `small` refuses every prompt
 * as too long (`context_length_exceeded`), `filter` refuses it as content, `down` is out (503); `large` and
 * `other` answer.
 */
describe('a prompt too long for its model', () => {
  let h: Harness;
  const models = (id: string): (string | null)[] => h.sims[id]!.attempts().map((a) => a.model);
  const ask = (model: string) =>
    postJson(`${h.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }] });

  beforeAll(async () => {
    h = await startHarness({
      simulators: {
        small: { faults: ['context-length'] },
        filter: { faults: ['content-filter'] },
        down: { faults: ['503'] },
        large: {},
        other: {},
      },
      config: (urls) => ({
        backends: Object.entries(urls).map(([id, url]) => ({ id, url, kind: 'openai' as const })),
        pools: Object.keys(urls).map((id) => ({ id, backends: [id] })),
        routes: [
          {
            id: 'short',
            match: { models: ['gpt-short'] },
            pool: 'small',
            contextWindowFallbacks: ['long'],
            fallbacks: ['spare'],
          },
          { id: 'long', match: { models: ['gpt-long'] }, pool: 'large' },
          { id: 'spare', match: { models: ['gpt-spare'] }, pool: 'other' },
          { id: 'plain', match: { models: ['gpt-plain'] }, pool: 'small', fallbacks: ['same-model', 'spare'] },
          { id: 'same-model', match: { models: ['gpt-plain-copy'] }, pool: 'large', model: 'gpt-plain' },
          { id: 'alone', match: { models: ['gpt-alone'] }, pool: 'small' },
          { id: 'doomed', match: { models: ['gpt-doomed'] }, pool: 'small', contextWindowFallbacks: ['outage'] },
          { id: 'outage', match: { models: ['gpt-outage'] }, pool: 'down' },
          { id: 'filtered', match: { models: ['gpt-filtered'] }, pool: 'filter', contextWindowFallbacks: ['long'] },
        ],
        governance: { identity: { anonymous: { allowed: true } } },
        resilience: { retry: { maxAttempts: 1 } },
      }),
    });
  });
  beforeEach(() => {
    for (const sim of Object.values(h.sims)) sim.reset();
  });
  afterAll(async () => h.close());

  it("goes to the route's context-window fallback, not its ordinary fallback", async () => {
    const response = await ask('gpt-short');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-gateway-backend')).toBe('large');
    expect(response.headers.get('x-gateway-attempts')).toBe('2');
    expect(((await response.json()) as { model: string }).model).toBe('gpt-long');
    expect([models('small'), models('large'), models('other')]).toEqual([['gpt-short'], ['gpt-long'], []]);
    const call = h.calls.at(-1)!;
    expect(call.routeId).toBe('long');
    expect(call.attempts.map((a) => [a.backend, a.status, a.outcome])).toEqual([
      ['small', 400, 'failover'],
      ['large', 200, 'served'],
    ]);
  });

  it('tries the ordinary fallbacks without context-window ones, never resending a prompt to one model', async () => {
    const response = await ask('gpt-plain');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-gateway-backend')).toBe('other');
    // `same-model` would send gpt-plain again (on another pool): skipped; `spare` serves.
    expect([models('small'), models('large'), models('other')]).toEqual([['gpt-plain'], [], ['gpt-spare']]);
  });

  it('passes the 400 through verbatim when the route has no fallback', async () => {
    const response = await ask('gpt-alone');
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('context_length_exceeded');
    expect(models('small')).toEqual(['gpt-alone']);
  });

  it('hands the refusal back verbatim when no context-window fallback serves', async () => {
    const response = await ask('gpt-doomed');
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('context_length_exceeded');
    expect([models('small'), models('down')]).toEqual([['gpt-doomed'], ['gpt-outage']]);
    expect(h.calls.at(-1)!.attempts.map((a) => [a.backend, a.status, a.outcome])).toEqual([
      ['small', 400, 'served'],
      ['down', 503, 'failover'],
    ]);
  });

  it('never fails over a content-filter refusal', async () => {
    const response = await ask('gpt-filtered');
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string } };
    expect(body.error.code).toBe('content_filter');
    expect([models('filter'), models('large')]).toEqual([['gpt-filtered'], []]);
  });
});
