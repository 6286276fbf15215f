import { TableClient } from '@azure/data-tables';
import { afterAll, describe, expect, it } from 'vitest';
import { createTableBackendHealthStore } from '../../shared/adapters/azure/table-backend-health-store.js';
import { createTableFixture, requireAzurite } from '../../shared/adapters/azure/test-support/azurite.js';
import { defaultConfig, postJson, startHarness, type Harness } from '../support/gateway-harness.js';
import { startSimulator } from '../../simulator/simulator.js';

/**
 * Two gateway instances (two runtimes, two Table clients) sharing one Azurite table for backend health:
 * a breaker that trips on one is seen by the other within about a second, without a Table read per
 * request.
 */
describe('backend health shared across gateway instances (Azurite)', () => {
  const tables = createTableFixture(requireAzurite().connectionString);
  const harnesses: Harness[] = [];
  afterAll(async () => {
    await Promise.all(harnesses.map((h) => h.close()));
    await tables.dispose();
  });

  it('a breaker tripped on one instance keeps the other instance off that backend', async () => {
    const table = await tables.table('health');
    const second = TableClient.fromConnectionString(requireAzurite().connectionString, table.tableName, {
      allowInsecureConnection: true,
    });
    const primary = await startSimulator({ name: 'primary', port: 0 });
    const fallback = await startSimulator({ name: 'fallback', port: 0 });
    const config = () =>
      defaultConfig(
        { primary: primary.url, fallback: fallback.url },
        {
          backends: [
            { id: 'primary', url: primary.url, kind: 'openai', group: 'ptu' },
            { id: 'fallback', url: fallback.url, kind: 'openai', group: 'payg' },
          ],
          pools: [{ id: 'main', backends: ['primary', 'fallback'], groupOrder: ['ptu', 'payg'] }],
          resilience: {
            breaker: { failureThreshold: 3, minimumRequests: 3, openIntervalMs: 60_000 },
            health: { cacheTtlMs: 200 },
          },
        },
      );
    const one = await startHarness({
      simulators: {},
      config,
      runtime: { healthStore: createTableBackendHealthStore({ client: table }) },
    });
    const two = await startHarness({
      simulators: {},
      config,
      runtime: { healthStore: createTableBackendHealthStore({ client: second }) },
    });
    harnesses.push(one, two);
    try {
      primary.configure({ faults: ['503'] });
      const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
      for (let i = 0; i < 3; i++) expect((await postJson(`${one.url}/v1/chat/completions`, chat)).status).toBe(200);
      expect(one.runtime.health.snapshot('primary').state).toBe('open');
      await one.runtime.health.flush();

      // Instance two learns of the trip through its short-lived cache: poll its view until it does (the
      // bound only stops a stalled run; how soon is the cache TTL's business, not a timing assertion).
      const giveUpAt = performance.now() + 25_000;
      while (two.runtime.health.snapshot('primary').usable && performance.now() < giveUpAt)
        await new Promise((r) => setTimeout(r, 50));
      expect(two.runtime.health.snapshot('primary').state).toBe('open');

      const before = primary.attempts().length;
      const response = await postJson(`${two.url}/v1/chat/completions`, chat);
      expect(response.headers.get('x-gateway-backend')).toBe('fallback');
      expect(primary.attempts().length).toBe(before);
    } finally {
      await primary.close();
      await fallback.close();
    }
  });
});
