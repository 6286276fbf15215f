import type { EventData, EventHubProducerClient } from '@azure/event-hubs';
import type { UsageRecord } from '../../core/usage/usage-record.js';
import type { UsageExporter } from '../../ports/usage-exporter.js';
import { createBatchedUsageExporter, type BatchedUsageExporterOptions } from '../export/batched-usage-exporter.js';

/** The part of `EventHubProducerClient` the exporter uses (the fake in tests implements the same). */
export type UsageEventHubProducer = Pick<
  EventHubProducerClient,
  'createBatch' | 'sendBatch' | 'close' | 'eventHubName' | 'fullyQualifiedNamespace'
>;

/** Dependencies of {@link createEventHubsUsageExporter}. */
export interface EventHubsUsageExporterDeps {
  readonly producer: UsageEventHubProducer;
  readonly now: () => number;
  readonly onError?: (error: unknown) => void;
  /** Injected timers (tests); default `setTimeout`, unref'd. */
  readonly setTimer?: BatchedUsageExporterOptions['setTimer'];
  readonly random?: () => number;
}

/** Options of {@link createEventHubsUsageExporter} (config `usage.eventHubs`). */
export type EventHubsUsageExporterOptions = Pick<
  BatchedUsageExporterOptions,
  'maxBatchRecords' | 'maxBufferedRecords' | 'flushIntervalMs' | 'retryBaseMs' | 'retryMaxMs' | 'closeTimeoutMs'
>;

/** `application/json` events carry this schema property: the usage record's `schemaVersion`. */
export const USAGE_EVENT_SCHEMA_PROPERTY = 'gwSchema';
/** …and this one, naming the kind of event, so one hub can carry other kinds later. */
export const USAGE_EVENT_KIND_PROPERTY = 'gwKind';

/**
 * The event of one usage record (docs/usage.md, "Event Hubs export"): the body is the record's JSON as
 * UTF-8 bytes (an AMQP data section, which Data Explorer and Stream Analytics ingest as JSON), `messageId`
 * the request id (the de-duplication key: delivery is at-least-once), application properties `gwKind` =
 * `usage` and `gwSchema` = the record's schema version.
 */
export function usageEventOf(record: UsageRecord): EventData {
  return {
    body: Buffer.from(JSON.stringify(record), 'utf8'),
    contentType: 'application/json',
    messageId: record.requestId,
    properties: { [USAGE_EVENT_KIND_PROPERTY]: 'usage', [USAGE_EVENT_SCHEMA_PROPERTY]: record.schemaVersion },
  };
}

/**
 * A {@link UsageExporter} to an Azure Event Hub, for chargeback pipelines that read there (Data Explorer,
 * Fabric, Stream Analytics). Records are buffered (bounded) and sent in `EventDataBatch`es sized by the hub
 * (the SDK's `tryAdd` decides what fits), with no partition key so the hub spreads them. The SDK retries a
 * send itself (its `retryOptions`); a send that still fails keeps its records and is retried with backoff.
 *
 * @example
 * const producer = clients.eventHubProducerClient('gateway-usage');
 * const exporter = createEventHubsUsageExporter({ producer, now: () => clock.now() }, { maxBufferedRecords: 10_000 });
 */
export function createEventHubsUsageExporter(
  deps: EventHubsUsageExporterDeps,
  options: EventHubsUsageExporterOptions = {},
): UsageExporter {
  const { producer } = deps;
  const name = `event-hubs:${producer.fullyQualifiedNamespace}/${producer.eventHubName}`;
  return createBatchedUsageExporter({
    ...options,
    name,
    now: deps.now,
    random: deps.random,
    setTimer: deps.setTimer,
    onError: deps.onError,
    closeDestination: () => producer.close(),
    send: async (records) => {
      const batch = await producer.createBatch();
      let added = 0;
      while (added < records.length && batch.tryAdd(usageEventOf(records[added]!))) added++;
      // A record that does not fit an empty batch never will: it is consumed (and counted as dropped).
      if (added === 0) {
        deps.onError?.(new Error(`${name}: usage record ${records[0]!.requestId} is larger than a batch can hold.`));
        return { consumed: 1, sent: 0 };
      }
      await producer.sendBatch(batch);
      return { consumed: added, sent: added };
    },
  });
}
