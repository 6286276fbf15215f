import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryBackendHealthStore } from '../../shared/adapters/memory/memory-backend-health-store.js';
import type { BackendHealthStore } from '../../shared/ports/backend-health-store.js';
import { defaultConfig, postJson, startHarness, type Harness } from '../support/gateway-harness.js';

describe('active health probes', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness({
      simulators: { a: {}, b: {} },
      config: (urls) =>
        defaultConfig(urls, {
          backends: [
            {
              id: 'a',
              url: urls.a!,
              kind: 'openai',
              group: 'primary',
              probe: { path: '/v1/models', intervalMs: 60_000 },
            },
            { id: 'b', url: urls.b!, kind: 'openai', group: 'fallback' },
          ],
          pools: [{ id: 'main', backends: ['a', 'b'], groupOrder: ['primary', 'fallback'] }],
        }),
      runtime: { runProbesInProcess: false },
    });
  });
  afterEach(async () => h.close());

  it('opens the breaker of a backend whose probes keep failing: calls go elsewhere, readiness omits it', async () => {
    h.sims.a!.configure({ faults: ['503;path=/v1/models'] });
    for (let i = 0; i < 3; i++) await h.runtime.probeBackends();
    expect(
      h.sims
        .a!.attempts()
        .filter((a) => a.path === '/v1/models')
        .map((a) => a.status),
    ).toEqual([503, 503, 503]);
    expect(h.runtime.health.snapshot('a').usable).toBe(false);

    const ready = (await (await fetch(`${h.url}/health/ready`)).json()) as { backends: { usable: number } };
    expect(ready.backends.usable).toBe(1);
    const response = await postJson(`${h.url}/v1/chat/completions`, {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
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

describe('readiness', () => {
  it('is not ready while the shared health store does not answer, and says why', async () => {
    let failing = true;
    const store = new MemoryBackendHealthStore();
    const flaky: BackendHealthStore = {
      read: (ids) => (failing ? Promise.reject(new Error('store down')) : store.read(ids)),
      update: (id, mutate) => store.update(id, mutate),
    };
    const h = await startHarness({ simulators: { a: {} }, runtime: { healthStore: flaky } });
    try {
      const down = await fetch(`${h.url}/health/ready`);
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ status: 'not_ready', stores: { health: 'unreachable: store down' } });
      failing = false;
      const up = await fetch(`${h.url}/health/ready`);
      expect(up.status).toBe(200);
      expect(await up.json()).toMatchObject({ status: 'ready', stores: { health: 'ok' } });
    } finally {
      await h.close();
    }
  });
});
