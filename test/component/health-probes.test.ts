import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig, postJson, startHarness, type Harness } from '../support/gateway-harness.js';

describe('active health probes', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness({
      simulators: { a: {}, b: {} },
      config: (urls) =>
        defaultConfig(urls, {
          backends: [
            { id: 'a', url: urls.a!, kind: 'openai', group: 'primary', probe: { path: '/v1/models', intervalMs: 60_000 } },
            { id: 'b', url: urls.b!, kind: 'openai', group: 'fallback' },
          ],
          pools: [{ id: 'main', backends: ['a', 'b'], groupOrder: ['primary', 'fallback'] }],
        }),
      runtime: { runProbesInProcess: false },
    });
  });
  afterEach(async () => h.close());

  it('opens the breaker of a backend whose probes keep failing, so calls go elsewhere and readiness counts it out', async () => {
    h.sims.a!.configure({ faults: ['503;path=/v1/models'] });
    for (let i = 0; i < 3; i++) await h.runtime.probeBackends();
    expect(h.sims.a!.attempts().filter((a) => a.path === '/v1/models').map((a) => a.status)).toEqual([503, 503, 503]);
    expect(h.runtime.health.snapshot('a').usable).toBe(false);

    const ready = (await (await fetch(`${h.url}/health/ready`)).json()) as { backends: { usable: number } };
    expect(ready.backends.usable).toBe(1);
    const response = await postJson(`${h.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(response.headers.get('x-gateway-backend')).toBe('b');
    expect(h.sims.a!.attempts().filter((a) => a.path === '/v1/chat/completions')).toHaveLength(0);
  });

  it('records healthy probes with their latency on the admin-visible health view', async () => {
    await h.runtime.probeBackends();
    const view = h.runtime.health.snapshot('a');
    expect(view.usable).toBe(true);
    expect(view.lastProbe?.ok).toBe(true);
    expect(view.lastProbe?.status).toBe(200);
  });
});
