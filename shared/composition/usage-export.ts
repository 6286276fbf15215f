import type { UsageConfig } from '../config/usage-schema.js';
import type { UsageRecord } from '../core/usage/usage-record.js';
import type { UsageExporter, UsageExportStats } from '../ports/usage-exporter.js';

/** Dependencies of {@link createConfiguredUsageExporter}. */
export interface UsageExportDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly now: () => number;
  readonly onError: (error: unknown) => void;
}

/**
 * The usage exporter `usage.eventHubs` asks for, or undefined. The Event Hubs SDK loads in the background
 * (the standalone host does not pay for it unless asked); records offered meanwhile wait in a bounded list.
 * A connection that cannot be built (a missing setting) is reported at once and every record is counted as
 * dropped, so the status page and the log show it.
 *
 * @example
 * const exporter = createConfiguredUsageExporter(config.usage.eventHubs, { env: process.env, now, onError });
 */
export function createConfiguredUsageExporter(
  settings: UsageConfig['eventHubs'],
  deps: UsageExportDeps,
): UsageExporter | undefined {
  if (!settings.enabled) return undefined;
  return createDeferredUsageExporter(
    `event-hubs:${settings.eventHubName}`,
    settings.maxBufferedRecords,
    async () => {
      const [{ createAzureClients }, { createEventHubsUsageExporter }] = await Promise.all([
        import('../adapters/azure/azure-clients.js'),
        import('../adapters/azure/event-hubs-usage-exporter.js'),
      ]);
      const clients = createAzureClients({ env: deps.env }, { eventHubsConnection: settings.connection });
      return createEventHubsUsageExporter(
        { producer: clients.eventHubProducerClient(settings.eventHubName), now: deps.now, onError: deps.onError },
        {
          maxBatchRecords: settings.maxBatchRecords,
          maxBufferedRecords: settings.maxBufferedRecords,
          flushIntervalMs: settings.flushIntervalMs,
          retryMaxMs: settings.retryMaxDelayMs,
        },
      );
    },
    deps,
  );
}

/**
 * A {@link UsageExporter} whose real exporter is still being built: records wait (up to `maxPending`, then
 * are dropped and counted) and are handed over once it is ready.
 */
export function createDeferredUsageExporter(
  name: string,
  maxPending: number,
  load: () => Promise<UsageExporter>,
  deps: Pick<UsageExportDeps, 'now' | 'onError'>,
): UsageExporter {
  let target: UsageExporter | undefined;
  let failure: { atMs: number; message: string } | undefined;
  let pending: UsageRecord[] = [];
  let dropped = 0;
  const ready = load().then(
    async (exporter) => {
      target = exporter;
      const waiting = pending;
      pending = [];
      for (const record of waiting) await exporter.export(record);
    },
    (error: unknown) => {
      failure = { atMs: deps.now(), message: error instanceof Error ? error.message : String(error) };
      dropped += pending.length;
      pending = [];
      deps.onError(error);
    },
  );
  const idle: UsageExportStats = { name, buffered: 0, sent: 0, failedSends: 0, backPressure: 0, dropped: 0 };
  return {
    async export(record) {
      if (target !== undefined) return target.export(record);
      if (failure !== undefined || pending.length >= maxPending) dropped += 1;
      else pending.push(record);
    },
    stats() {
      const inner = target?.stats() ?? { ...idle, buffered: pending.length };
      return { ...inner, dropped: inner.dropped + dropped, ...(failure === undefined ? {} : { lastError: failure }) };
    },
    async flush() {
      await ready;
      await target?.flush();
    },
    async close() {
      await ready;
      await target?.close();
    },
  };
}
