import { createNdjsonUsageLedger } from '../adapters/file/ndjson-usage-ledger.js';
import { createMemoryUsageLedger } from '../adapters/memory/memory-usage-ledger.js';
import type { UsageExporter } from '../ports/usage-exporter.js';
import type { UsageLedger } from '../ports/usage-ledger.js';
import type { RuntimeOptions } from './create-runtime.js';
import type { RuntimeBase } from './runtime-base.js';
import { createConfiguredUsageExporter } from './usage-export.js';

/** Where usage records go: the ledger and, when configured, the exporter. */
export interface RuntimeUsage {
  readonly ledger: UsageLedger;
  readonly usageExporter: UsageExporter | undefined;
}

/**
 * The usage ledger and exporter: the ones given, else what `usage` configures at start (an NDJSON file or a
 * bounded in-memory ledger; Event Hubs when `usage.eventHubs` is set).
 */
export function runtimeUsage(options: RuntimeOptions, base: RuntimeBase): RuntimeUsage {
  const { initial, backgroundWrites, telemetry, clock } = base;
  const ledgerSettings = initial.usage.ledger;
  const ledger =
    options.ledger ??
    (ledgerSettings.kind === 'ndjson'
      ? createNdjsonUsageLedger({
          path: ledgerSettings.path,
          flushIntervalMs: ledgerSettings.flushIntervalMs,
          onError: (error) => backgroundWrites.failed('usage-ledger', error),
        })
      : createMemoryUsageLedger({ maxRecords: ledgerSettings.maxRecords }));
  const usageExporter =
    options.usageExporter ??
    createConfiguredUsageExporter(initial.usage.eventHubs, {
      env: options.env ?? {},
      now: () => clock.now(),
      onError: (error) => telemetry.exception(error, { component: 'usage-export' }),
    });
  return { ledger, usageExporter };
}
