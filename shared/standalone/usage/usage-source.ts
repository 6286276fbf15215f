import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createNdjsonUsageLedger } from '../../adapters/file/ndjson-usage-ledger.js';
import type { UsageLedger } from '../../ports/usage-ledger.js';
import type { UsageCliArgs } from './usage-cli-args.js';

/**
 * The usage table's default name (`DEFAULT_AZURE_RESOURCE_NAMES.usageTable`, docs/storage.md), repeated here
 * so that the CLI does not load the whole Azure composition (seconds of module loading) to learn it.
 */
export const DEFAULT_USAGE_TABLE = 'GatewayUsage';

/** A ledger to read, what to call it in messages, and a count of what it could not read. */
export interface UsageSource {
  readonly ledger: UsageLedger;
  /** Where the records come from, for the heading and error messages (no secrets). */
  readonly description: string;
  /** Lines or entities skipped as unreadable, after the query ran. */
  skipped(): number;
}

/** The ledger cannot be read; the message names it and says what to check. */
export class UsageSourceError extends Error {}

/**
 * Opens the ledger the arguments name: the standalone host's NDJSON file, or the Table ledger (Azurite or
 * the deployment's storage account, through the same identity-based settings as the gateway).
 */
export async function openUsageSource(
  args: UsageCliArgs,
  ledgerPath: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<UsageSource> {
  if (args.storage === 'file') {
    const path = args.file ?? ledgerPath;
    if (!existsSync(path))
      throw new UsageSourceError(
        `No usage ledger at ${resolve(path)}: the standalone host writes it (usage.ledger.path) once it has served ` +
          'a call. Name another file with --file, or read the Table ledger with --storage azurite|azure.',
      );
    const ledger = createNdjsonUsageLedger({ path, flushIntervalMs: 0 });
    return { ledger, description: path, skipped: () => ledger.skippedLines };
  }
  // The Azure SDKs load only when the Table ledger is asked for.
  const [{ createAzureClients }, { createTableUsageLedger }] = await Promise.all([
    import('../../adapters/azure/azure-clients.js'),
    import('../../adapters/azure/table-usage-ledger.js'),
  ]);
  const clientEnv =
    args.storage === 'azurite' ? { AzureWebJobsStorage: 'UseDevelopmentStorage=true', ...env } : { ...env };
  const table = args.table ?? DEFAULT_USAGE_TABLE;
  let client;
  try {
    client = createAzureClients({ env: clientEnv }).tableClient(table);
  } catch (error) {
    throw new UsageSourceError((error as Error).message);
  }
  const ledger = createTableUsageLedger({ client }, { createTable: false, flushIntervalMs: 0 });
  return { ledger, description: `table ${table} at ${client.url}`, skipped: () => ledger.skippedEntities };
}

/** Turns an SDK or file error into a sentence naming the ledger and what to check. */
export function describeReadFailure(source: UsageSource, error: unknown): string {
  const e = error as { code?: string; statusCode?: number; message?: string };
  const text = e.message ?? String(error);
  if (e.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(text))
    return (
      `Cannot reach ${source.description}: nothing answers there. Is Azurite ` +
      `running (npx azurite --silent --inMemoryPersistence --disableTelemetry)?`
    );
  if (e.statusCode === 404 || e.code === 'TableNotFound' || /TableNotFound/.test(text))
    return `No usage table: ${source.description} does not exist (the gateway creates it with its first record).`;
  if (e.statusCode === 403 || e.statusCode === 401)
    return (
      `Access to ${source.description} was refused (${e.statusCode}): ` +
      `the signed-in identity needs the Storage Table Data Reader role.`
    );
  return `Reading ${source.description} failed: ${text}`;
}
