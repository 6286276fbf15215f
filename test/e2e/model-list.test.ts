import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';
import { startStandaloneHost, type StandaloneHost } from '../../shared/standalone/standalone-host.js';
import { defaultConfig, startHarness, type Harness } from '../support/gateway-harness.js';

/** The models the simulator lists on its own `GET /v1/models`. */
const SIMULATOR_MODELS = [
  'gpt-4o',
  'gpt-4o-mini',
  'gpt-4.1',
  'o4-mini',
  'text-embedding-3-small',
  'claude-sonnet-4-5',
  'gemini-2.5-flash',
];

/** Issue 13 item 9: GET /v1/models lists what a caller may use, wildcard routes included. */
describe('GET /v1/models', () => {
  let started: StandaloneHost | undefined;
  let h: Harness | undefined;
  afterEach(async () => {
    await started?.close();
    await h?.close();
    started = undefined;
    h = undefined;
  });

  it("lists the embedded defaults' models to the openai client's models.list()", async () => {
    const result = await startStandaloneHost({
      env: { GATEWAY_SERVER__PORT: '0', GATEWAY_USAGE__LEDGER__KIND: 'memory' },
      storage: 'memory',
      log: () => {},
    });
    if ('issues' in result) throw new Error(result.issues.join('\n'));
    started = result;
    const client = new OpenAI({ baseURL: `${result.host.url}/v1`, apiKey: 'unused-anonymous', maxRetries: 0 });
    const first = [];
    for await (const model of client.models.list()) first.push(model);
    expect(first.map((m) => m.id).sort()).toEqual([...SIMULATOR_MODELS].sort());
    expect(first[0]).toMatchObject({ object: 'model', owned_by: 'simulator', created: 1_700_000_000 });
  });

  it("filters by the caller's allowlist, names models as callers do, and lists configured names", async () => {
    const KEY = 'four-o-only-key-0123456789';
    h = await startHarness({
      simulators: { a: {}, b: {} },
      config: (urls) =>
        defaultConfig(urls, {
          backends: [
            { id: 'a', url: urls.a!, kind: 'openai', models: { 'gpt-4o-team': 'gpt-4o' } },
            { id: 'b', url: urls.b!, kind: 'openai' },
          ],
          pools: [
            { id: 'main', backends: ['a'] },
            { id: 'other', backends: ['b'] },
          ],
          routes: [
            { id: 'pinned', match: { models: ['gpt-4o-pinned'] }, pool: 'other' },
            { id: 'all', match: { models: ['gpt-4*'] }, pool: 'main' },
          ],
          governance: {
            identity: { apiKeys: { enabled: true, keys: [{ id: 'k', sha256: hashApiKey(KEY), profile: 'p' }] } },
            profiles: [{ id: 'p', allowedModels: ['gpt-4o*'] }],
          },
        }),
    });
    const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: KEY, maxRetries: 0 });
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    // gpt-4.1 is not allowed; o4-mini and the rest do not match the wildcard; gpt-4o is listed as the team's name.
    expect(ids.sort()).toEqual(['gpt-4o-mini', 'gpt-4o-pinned', 'gpt-4o-team']);
    const again: string[] = [];
    for await (const model of client.models.list()) again.push(model.id);
    expect(again.sort()).toEqual(ids);
    // The second list came from the cache: the backend was asked once.
    expect(h.sims.a!.attempts().filter((a) => a.path === '/v1/models')).toHaveLength(1);
    expect(h.sims.b!.attempts()).toHaveLength(0);

    const anonymous = await fetch(`${h.url}/v1/models`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('x-gateway-error-code')).toBe('GW_ERR_AUTH_MISSING');
  });

  it('keeps at most 1,000 models of a backend, and lists the configured names when a backend fails', async () => {
    const many = Array.from({ length: 1_500 }, (_, i) => `m-${String(i).padStart(4, '0')}`);
    h = await startHarness({
      simulators: { a: { models: many }, b: { faults: ['503;path=/v1/models'] } },
      config: (urls) =>
        defaultConfig(urls, {
          pools: [
            { id: 'many', backends: ['a'] },
            { id: 'failing', backends: ['b'] },
          ],
          routes: [
            { id: 'many', match: { models: ['m-*'] }, pool: 'many' },
            { id: 'failing', match: { models: ['gpt-4o-mini', 'gpt-*'] }, pool: 'failing' },
          ],
        }),
    });
    const response = await fetch(`${h.url}/v1/models`);
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as { data: { id: string }[] };
    const ids = data.map((m) => m.id);
    expect(ids.filter((id) => id.startsWith('m-'))).toEqual(many.slice(0, 1_000));
    expect(ids.filter((id) => !id.startsWith('m-'))).toEqual(['gpt-4o-mini']);
  });
});
