import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { BlobServiceClient } from '@azure/storage-blob';
import { describePayloadStoreContract } from '../../ports/payload-store.contract.js';
import { createBlobPayloadStore } from './blob-payload-store.js';
import { requireAzurite } from './test-support/azurite.js';

function containers(connectionString: () => string): {
  next(): string;
  service(): BlobServiceClient;
  dispose(): Promise<void>;
} {
  const names: string[] = [];
  let client: BlobServiceClient | undefined;
  const service = (): BlobServiceClient => (client ??= BlobServiceClient.fromConnectionString(connectionString()));
  return {
    next() {
      const name = `payloads-${randomBytes(6).toString('hex')}`;
      names.push(name);
      return name;
    },
    service,
    async dispose() {
      await Promise.all(names.splice(0).map((n) => service().getContainerClient(n).deleteIfExists()));
    },
  };
}

const azurite = containers(() => requireAzurite().connectionString);
afterAll(() => azurite.dispose());

// Small blocks so that the 5 MiB contract body is staged as many blocks, as a long answer would be.
describePayloadStoreContract('BlobPayloadStore (Azurite)', () =>
  createBlobPayloadStore({ service: azurite.service() }, { container: azurite.next(), blockBytes: 256 * 1024 }),
);

describe('BlobPayloadStore layout (Azurite)', () => {
  it('writes under {prefix}{key} with content type and meta, and rejects keys outside the format', async () => {
    const container = azurite.next();
    const store = createBlobPayloadStore({ service: azurite.service() }, { container });
    await store.put(
      'u-1/job-1/response',
      (async function* () {
        yield new TextEncoder().encode('{}');
      })(),
      { contentType: 'application/json', attributes: { status: '200' } },
    );
    const props = await azurite
      .service()
      .getContainerClient(container)
      .getBlobClient('v1/u-1/job-1/response')
      .getProperties();
    expect(props.contentType).toBe('application/json');
    expect(JSON.parse(decodeURIComponent(props.metadata?.gwmeta ?? ''))).toEqual({
      v: 1,
      contentType: 'application/json',
      attributes: { status: '200' },
    });
    await expect(store.put('../escape', (async function* () {})(), {})).rejects.toThrow('Invalid payload key');
  });
});

describe.skipIf(!process.env.GATEWAY_TEST_STORAGE_CONNECTION)('BlobPayloadStore (live Azure Storage)', () => {
  const live = containers(() => process.env.GATEWAY_TEST_STORAGE_CONNECTION ?? '');
  afterAll(() => live.dispose());
  describePayloadStoreContract('BlobPayloadStore (live)', () =>
    createBlobPayloadStore({ service: live.service() }, { container: live.next() }),
  );
});
