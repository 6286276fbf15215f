import { afterEach, describe, expect, it } from 'vitest';
import { MemoryQuotaStore } from '../../shared/adapters/memory/memory-quota-store.js';
import { hashApiKey } from '../../shared/core/governance/hash-api-key.js';
import { WRITE_FAILURE_METRIC } from '../../shared/core/resilience/background-writes.js';
import type { AffinityStore } from '../../shared/ports/affinity-store.js';
import type { Telemetry } from '../../shared/ports/telemetry.js';
import { defaultConfig, postJson, startHarness, type Harness } from '../support/gateway-harness.js';

/** Telemetry that keeps exceptions and metrics, and lets a test await the n-th failure metric. */
function capturingTelemetry() {
  const exceptions: { message: string; properties: Record<string, string> }[] = [];
  const failures: string[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const telemetry: Telemetry = {
    event: () => undefined,
    dependency: () => undefined,
    metric: (name, _value, properties) => {
      if (name !== WRITE_FAILURE_METRIC) return;
      failures.push(properties?.['kind'] ?? '');
      for (const w of waiters.filter((w) => w.count <= failures.length)) w.resolve();
    },
    exception: (error, properties) =>
      void exceptions.push({
        message: error instanceof Error ? error.message : String(error),
        properties: { ...properties },
      }),
    flush: async () => undefined,
  };
  const failed = (count: number): Promise<void> =>
    failures.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }));
  return { telemetry, exceptions, failures, failed };
}

describe('background writes that fail are retried where safe, counted and reported', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('retries a failing affinity write twice, then counts it and logs it with the state id', async () => {
    const captured = capturingTelemetry();
    let sets = 0;
    const affinityStore: AffinityStore = {
      get: async () => undefined,
      claimOnce: async () => true,
      set: async () => {
        sets++;
        throw new Error('affinity table unreachable');
      },
    };
    h = await startHarness({ simulators: { a: {} }, runtime: { telemetry: captured.telemetry, affinityStore } });
    const response = await postJson(`${h.url}/v1/responses`, { model: 'gpt-4o-mini', input: 'Hello' });
    expect(response.status).toBe(200);
    const { id } = (await response.json()) as { id: string };
    await captured.failed(1);
    expect(sets).toBe(3);
    expect(captured.failures).toEqual(['affinity-write']);
    expect(h.runtime.backgroundWrites.counts()).toEqual({ 'affinity-write': 1 });
    expect(captured.exceptions).toEqual([
      {
        message: 'affinity table unreachable',
        properties: { component: 'affinity-write', stateId: id, backendId: 'a', attempts: '3' },
      },
    ]);
  });

  it('counts and logs a quota settlement that fails, once (an adjustment is never retried)', async () => {
    const KEY = 'sk-gw-settle-0123456789abcdef';
    const captured = capturingTelemetry();
    const inner = new MemoryQuotaStore();
    let adjusts = 0;
    const quotaStore = {
      reserve: inner.reserve.bind(inner),
      used: inner.used.bind(inner),
      adjust: async () => {
        adjusts++;
        throw new Error('quota table unreachable');
      },
    };
    h = await startHarness({
      simulators: { a: {} },
      runtime: { telemetry: captured.telemetry, quotaStore },
      config: (urls) =>
        defaultConfig(urls, {
          governance: {
            identity: {
              apiKeys: { enabled: true, keys: [{ id: 'k', sha256: hashApiKey(KEY), profile: 'metered', userId: 'u' }] },
            },
            profiles: [{ id: 'metered', quotas: { tokensPerMinute: 100_000 } }],
          },
        }),
    });
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 50 };
    const response = await postJson(`${h.url}/v1/chat/completions`, body, { 'api-key': KEY });
    expect(response.status).toBe(200);
    await response.text();
    await captured.failed(1);
    expect(adjusts).toBe(1);
    expect(captured.failures).toEqual(['quota-settle']);
    expect(captured.exceptions).toMatchObject([
      { message: 'quota table unreachable', properties: { component: 'quota-settle', attempts: '1' } },
    ]);
  });
});
