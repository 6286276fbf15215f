import { randomBytes } from 'node:crypto';
import { TableClient, TableServiceClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { inject } from 'vitest';
import type { AzuriteEndpoints } from '../../../../simulator/azurite.js';

/**
 * The Azurite started by `test/global-setup.ts`. Throws (so the test fails, never skips) when it did
 * not start.
 */
export function requireAzurite(): AzuriteEndpoints {
  const provided = inject('azurite');
  if (provided === undefined)
    throw new Error('Azurite endpoints were not provided: is test/global-setup.ts configured as globalSetup?');
  if (!provided.ok) throw new Error(provided.error);
  return provided.endpoints;
}

/** A table name unique to this run (letters and digits, starts with a letter, ≤ 63 chars). */
export function uniqueTableName(prefix: string): string {
  return `${prefix}${randomBytes(6).toString('hex')}`.slice(0, 63);
}

/** Creates tables in Azurite and deletes them all in `dispose()`. */
export function createTableFixture(connectionString: string): {
  table(prefix: string): Promise<TableClient>;
  dispose(): Promise<void>;
} {
  const names: string[] = [];
  let client: TableServiceClient | undefined;
  // Lazy, so that a skipped live suite with no connection string constructs nothing.
  const service = (): TableServiceClient =>
    (client ??= TableServiceClient.fromConnectionString(connectionString, { allowInsecureConnection: true }));
  return {
    async table(prefix) {
      const name = uniqueTableName(prefix);
      names.push(name);
      await service().createTable(name);
      return TableClient.fromConnectionString(connectionString, name, { allowInsecureConnection: true });
    },
    async dispose() {
      await Promise.all(
        names.splice(0).map((n) =>
          service()
            .deleteTable(n)
            .catch(() => undefined),
        ),
      );
    },
  };
}

/** A Blob service client for Azurite. */
export function azuriteBlobService(connectionString: string): BlobServiceClient {
  return BlobServiceClient.fromConnectionString(connectionString);
}
