import { z } from 'zod';

/** Price of one model in currency units per 1,000 tokens (see `ModelPrice` in `core/usage/chargeback.ts`). */
export const modelPriceSchema = z
  .object({
    inputPer1k: z.number().nonnegative(),
    cachedInputPer1k: z.number().nonnegative().optional(),
    cacheWritePer1k: z.number().nonnegative().optional(),
    outputPer1k: z.number().nonnegative(),
  })
  .strict();

/**
 * The `usage` section of the gateway config.
 *
 * @example
 * { "usage": { "injectIncludeUsage": true,
 *              "prices": { "gpt-4o": { "inputPer1k": 0.0025, "cachedInputPer1k": 0.00125, "outputPer1k": 0.01 } },
 *              "ledger": { "kind": "ndjson", "path": "gateway.usage.ndjson" } } }
 */
export const usageConfigSchema = z
  .object({
    /**
     * Meter tokens of every response (default). Off only to measure what metering costs (the bench):
     * records are still written, with no tokens.
     */
    enabled: z.boolean().default(true),
    /** Add `stream_options.include_usage` to streaming OpenAI chat/completions requests (and hide the chunk). */
    injectIncludeUsage: z.boolean().default(true),
    /** The currency of `prices` (ISO 4217 code), named wherever a cost is shown. */
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'an ISO 4217 currency code in capitals, e.g. "USD" or "EUR"')
      .default('USD'),
    /** Prices by model name (exact, or a prefix followed by `-`). */
    prices: z.record(z.string().min(1), modelPriceSchema).default({}),
    ledger: z
      .object({
        kind: z.enum(['memory', 'ndjson']).default('ndjson'),
        /** NDJSON file path (kind `ndjson`). */
        path: z.string().min(1).default('gateway.usage.ndjson'),
        /** Records kept by the memory ledger. */
        maxRecords: z.number().int().positive().default(10_000),
        /** Background write interval of the NDJSON ledger, ms. */
        flushIntervalMs: z.number().int().nonnegative().default(1_000),
      })
      .strict()
      .prefault({}),
    /**
     * Export every usage record to an Azure Event Hub as well (chargeback pipelines: Data Explorer, Fabric),
     * through an identity-based connection. Read at start (a change needs a restart).
     */
    eventHubs: z
      .object({
        enabled: z.boolean().default(false),
        /**
         * App-setting name of the connection: `{connection}__fullyQualifiedNamespace` (+ `__credential` /
         * `__clientId`) for managed identity, or a connection string in `{connection}` (local development).
         */
        connection: z.string().min(1).default('UsageEventHubsConnection'),
        /** The event hub (entity) name. */
        eventHubName: z.string().min(1).max(256).default('gateway-usage'),
        /** Records offered to one batch (the hub's size limit may take fewer). */
        maxBatchRecords: z.number().int().positive().max(10_000).default(500),
        /** Buffered records past which recording waits (back-pressure); as many more may wait, then drop. */
        maxBufferedRecords: z.number().int().positive().default(10_000),
        /** Background send interval, ms; a full batch goes at once. */
        flushIntervalMs: z.number().int().positive().default(1_000),
        /** Longest wait between retries of a failed send, ms (backoff doubles from 1 s up to this). */
        retryMaxDelayMs: z.number().int().positive().default(60_000),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

/** The validated `usage` config section. */
export type UsageConfig = z.infer<typeof usageConfigSchema>;
