import { describe, expect, it } from 'vitest';
import type { TokenCredential } from '@azure/identity';
import { createAzureClients, readConnectionSettings } from './azure-clients.js';
import { createTableBackendHealthStore } from './table-backend-health-store.js';
import { requireAzurite } from './test-support/azurite.js';

const fakeCredential: TokenCredential = {
  getToken: async () => ({ token: 't', expiresOnTimestamp: Number.MAX_SAFE_INTEGER }),
};

describe('createAzureClients', () => {
  it('reads identity-based settings the way Functions names them', () => {
    expect(
      readConnectionSettings(
        {
          AzureWebJobsStorage__accountName: 'gwstore',
          AzureWebJobsStorage__credential: 'managedidentity',
          AzureWebJobsStorage__clientId: 'cid',
        },
        'AzureWebJobsStorage',
      ),
    ).toEqual({
      name: 'AzureWebJobsStorage',
      accountName: 'gwstore',
      credential: 'managedidentity',
      clientId: 'cid',
    });
  });

  it('builds clients on the account, namespace and endpoint URIs from identity-based settings', async () => {
    const clients = createAzureClients({
      env: {
        AzureWebJobsStorage__accountName: 'gwstore',
        ServiceBusConnection__fullyQualifiedNamespace: 'gw-sb.servicebus.windows.net',
        AppConfigConnection__endpoint: 'https://gw-cfg.azconfig.io',
        UsageEventHubsConnection__fullyQualifiedNamespace: 'gw-eh.servicebus.windows.net',
        UsageEventHubsConnection__clientId: 'uami-client-id',
      },
      credential: fakeCredential,
    });
    expect(clients.tableClient('GatewayJobs').url).toBe('https://gwstore.table.core.windows.net');
    expect(clients.blobServiceClient().url).toBe('https://gwstore.blob.core.windows.net/');
    expect(clients.queueServiceClient().url).toBe('https://gwstore.queue.core.windows.net');
    expect(clients.serviceBusClient().fullyQualifiedNamespace).toBe('gw-sb.servicebus.windows.net');
    expect(clients.describe()).toEqual({
      AzureWebJobsStorage: 'identity (default credential)',
      ServiceBusConnection: 'identity (default credential)',
      AppConfigConnection: 'identity (default credential)',
      UsageEventHubsConnection: 'identity (user-assigned uami-client-id)',
    });
    clients.appConfigurationClient();
    const producer = clients.eventHubProducerClient('gateway-usage');
    expect([producer.fullyQualifiedNamespace, producer.eventHubName]).toEqual([
      'gw-eh.servicebus.windows.net',
      'gateway-usage',
    ]);
    await producer.close();
  });

  it('names the missing setting', () => {
    expect(() => createAzureClients({ env: {} }).tableClient('x')).toThrow(/AzureWebJobsStorage__accountName/);
    expect(() => createAzureClients({ env: {} }).serviceBusClient()).toThrow(
      /ServiceBusConnection__fullyQualifiedNamespace/,
    );
    expect(() => createAzureClients({ env: {} }).eventHubProducerClient('h')).toThrow(
      /UsageEventHubsConnection__fullyQualifiedNamespace/,
    );
  });

  it('uses a connection string for Azurite (http allowed) and the tables work', async () => {
    const clients = createAzureClients({ env: { AzureWebJobsStorage: requireAzurite().connectionString } });
    const client = clients.tableClient(`clients${Date.now()}`);
    const store = createTableBackendHealthStore({ client });
    try {
      await store.update('a', () => ({
        breaker: { state: 'closed', consecutiveOpens: 0 },
        version: 0,
        updatedAtMs: 1,
      }));
      expect((await store.read(['a'])).get('a')?.version).toBe(1);
    } finally {
      await client.deleteTable();
    }
  });
});
