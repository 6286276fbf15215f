import { afterEach, describe, expect, it } from 'vitest';
import { createEventHubsUsageExporter } from '../../shared/adapters/azure/event-hubs-usage-exporter.js';
import { FakeEventHub } from '../../shared/adapters/azure/test-support/fake-event-hub.js';
import { usageConfigSchema } from '../../shared/config/usage-schema.js';
import { createConfiguredUsageExporter, createDeferredUsageExporter } from '../../shared/composition/usage-export.js';
import { postJson, startHarness, type Harness } from '../support/gateway-harness.js';
import { usageRecordAt } from '../support/usage-records.js';

const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] };

describe('usage records exported to Event Hubs', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('sends the usage record of a call through the gateway to the hub, keyed by x-gateway-request-id', async () => {
    const hub = new FakeEventHub();
    const exporter = createEventHubsUsageExporter({ producer: hub.producer, now: () => Date.now() });
    h = await startHarness({ runtime: { usageExporter: exporter } });
    const ended = h.nextCall();
    const res = await postJson(`${h.url}/v1/chat/completions`, chat);
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { usage: { total_tokens: number } };
    await ended; // the runtime exports the record before it reports the call's end
    await exporter.flush();
    const [record] = hub.records() as unknown as {
      requestId: string;
      modelRequested: string;
      tokens: { totalTokens: number };
    }[];
    expect(record?.requestId).toBe(res.headers.get('x-gateway-request-id'));
    expect(record?.modelRequested).toBe('gpt-4o-mini');
    expect(record?.tokens.totalTokens).toBe(answer.usage.total_tokens);
    expect(h.runtime.usageExporter?.stats()).toMatchObject({ sent: 1, dropped: 0 });
  });

  it('reports a connection that is not configured at once, and counts what it cannot send', async () => {
    const errors: string[] = [];
    const settings = usageConfigSchema.parse({ eventHubs: { enabled: true } }).eventHubs;
    const exporter = createConfiguredUsageExporter(settings, {
      env: {},
      now: () => 1,
      onError: (e) => errors.push((e as Error).message),
    })!;
    await exporter.flush();
    await exporter.export(usageRecordAt('2026-11-02T10:00:00Z'));
    expect(errors).toEqual([expect.stringContaining('UsageEventHubsConnection__fullyQualifiedNamespace')]);
    expect(exporter.stats()).toMatchObject({ name: 'event-hubs:gateway-usage', dropped: 1 });
    expect(exporter.stats().lastError?.message).toContain('UsageEventHubsConnection');
  });

  it('hands records offered while the SDK loads to the exporter once it is ready', async () => {
    const hub = new FakeEventHub();
    let loaded!: () => void;
    const gate = new Promise<void>((resolve) => (loaded = resolve));
    const exporter = createDeferredUsageExporter(
      'event-hubs:test',
      10,
      async () => {
        await gate;
        return createEventHubsUsageExporter({ producer: hub.producer, now: () => 1 });
      },
      { now: () => 1, onError: () => undefined },
    );
    await exporter.export(usageRecordAt('2026-11-02T10:00:00Z', { id: 'early' }));
    expect(exporter.stats().buffered).toBe(1);
    loaded();
    await exporter.close();
    expect(hub.records().map((r) => r.requestId)).toEqual(['early']);
  });
});
