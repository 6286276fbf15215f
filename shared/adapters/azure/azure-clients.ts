import { AppConfigurationClient } from '@azure/app-configuration';
import { TableClient } from '@azure/data-tables';
import { EventHubProducerClient } from '@azure/event-hubs';
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { ServiceBusClient } from '@azure/service-bus';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';

/**
 * How one Azure connection is configured, read from app settings the way Azure Functions names
 * identity-based connections (`{name}__accountName`, `{name}__serviceUri`, …), or from a connection
 * string in `{name}` itself (local development and Azurite only).
 */
export interface AzureConnectionSettings {
  /** The setting's name, for error messages. */
  readonly name: string;
  /** `{name}`: a connection string. Takes precedence; meant for local development and Azurite. */
  readonly connectionString?: string;
  /** `{name}__accountName`: Storage account; blob and table URIs are derived from it. */
  readonly accountName?: string;
  /** `{name}__blobServiceUri`. */
  readonly blobServiceUri?: string;
  /** `{name}__tableServiceUri`. */
  readonly tableServiceUri?: string;
  /** `{name}__queueServiceUri`. */
  readonly queueServiceUri?: string;
  /** `{name}__fullyQualifiedNamespace`: Service Bus, e.g. `gw-sb.servicebus.windows.net`. */
  readonly fullyQualifiedNamespace?: string;
  /** `{name}__endpoint`: App Configuration, e.g. `https://gw-cfg.azconfig.io`. */
  readonly endpoint?: string;
  /** `{name}__credential`: `managedidentity` to use managed identity only (no developer fallbacks). */
  readonly credential?: string;
  /** `{name}__clientId`: a user-assigned managed identity's client id. */
  readonly clientId?: string;
}

/** Names of the connections the gateway uses (defaults match `local.settings.sample.json` and infra). */
export interface AzureClientsOptions {
  /** Storage (tables and blobs); default `AzureWebJobsStorage`, the Functions host's own. */
  readonly storageConnection?: string;
  /** Service Bus; default `ServiceBusConnection` (also the Service Bus trigger's `connection`). */
  readonly serviceBusConnection?: string;
  /** App Configuration; default `AppConfigConnection`. */
  readonly appConfigConnection?: string;
  /** Event Hubs for the usage export; default `UsageEventHubsConnection` (config `usage.eventHubs.connection`). */
  readonly eventHubsConnection?: string;
}

/** Dependencies of {@link createAzureClients}. */
export interface AzureClientsDeps {
  /** App settings (usually `process.env`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Overrides the credential built from the settings (tests, or a shared credential). */
  readonly credential?: TokenCredential;
}

/** Builds SDK clients lazily; nothing connects until a client is used. */
export interface AzureClients {
  tableClient(tableName: string): TableClient;
  blobServiceClient(): BlobServiceClient;
  /** Storage queues of the same account (the long-call queue of `func start` without Service Bus). */
  queueServiceClient(): QueueServiceClient;
  serviceBusClient(): ServiceBusClient;
  appConfigurationClient(): AppConfigurationClient;
  /** A producer for one event hub of the Event Hubs connection (`{name}__fullyQualifiedNamespace`). */
  eventHubProducerClient(eventHubName: string): EventHubProducerClient;
  /** The settings each connection resolved to (no secrets), for startup logs. */
  describe(): Record<string, string>;
}

/**
 * Reads one connection's settings from `env`.
 *
 * @example
 * readConnectionSettings(process.env, 'AzureWebJobsStorage');
 * // → { name, accountName: 'gwstore', credential: 'managedidentity', clientId: '…' }
 */
export function readConnectionSettings(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
): AzureConnectionSettings {
  const get = (suffix: string): string | undefined => {
    const value =
      env[suffix === '' ? name : `${name}__${suffix}`] ?? (suffix === '' ? undefined : env[`${name}:${suffix}`]);
    return value === undefined || value === '' ? undefined : value;
  };
  const pick: Record<string, string | undefined> = {
    connectionString: get(''),
    accountName: get('accountName'),
    blobServiceUri: get('blobServiceUri'),
    tableServiceUri: get('tableServiceUri'),
    queueServiceUri: get('queueServiceUri'),
    fullyQualifiedNamespace: get('fullyQualifiedNamespace'),
    endpoint: get('endpoint'),
    credential: get('credential'),
    clientId: get('clientId'),
  };
  const settings: Record<string, string> = { name };
  for (const [key, value] of Object.entries(pick)) if (value !== undefined) settings[key] = value;
  return settings as unknown as AzureConnectionSettings;
}

/**
 * Creates the Azure SDK clients the adapters take, from identity-based settings (production: managed
 * identity, RBAC on each resource) or connection strings (local development, Azurite).
 *
 * Credential: `{name}__clientId` → `ManagedIdentityCredential({ clientId })`; `{name}__credential` =
 * `managedidentity` → system-assigned `ManagedIdentityCredential`; otherwise `DefaultAzureCredential`
 * (managed identity on Azure, Azure CLI / VS Code sign-in on a laptop).
 *
 * @example
 * const clients = createAzureClients({ env: process.env });
 * const health = createTableBackendHealthStore({ client: clients.tableClient('GatewayBackendHealth') });
 */
export function createAzureClients(deps: AzureClientsDeps, options: AzureClientsOptions = {}): AzureClients {
  const storage = readConnectionSettings(deps.env, options.storageConnection ?? 'AzureWebJobsStorage');
  const serviceBus = readConnectionSettings(deps.env, options.serviceBusConnection ?? 'ServiceBusConnection');
  const appConfig = readConnectionSettings(deps.env, options.appConfigConnection ?? 'AppConfigConnection');
  const eventHubs = readConnectionSettings(deps.env, options.eventHubsConnection ?? 'UsageEventHubsConnection');
  const credentialFor = credentialCache(deps.credential);
  const once = <T>(build: () => T): (() => T) => {
    let client: T | undefined;
    return () => (client ??= build());
  };

  return {
    tableClient: (tableName) => tableClientOf(storage, tableName, credentialFor),
    blobServiceClient: once(() => blobServiceClientOf(storage, credentialFor)),
    queueServiceClient: once(() => queueServiceClientOf(storage, credentialFor)),
    serviceBusClient: once(() => serviceBusClientOf(serviceBus, credentialFor)),
    appConfigurationClient: once(() => appConfigurationClientOf(appConfig, credentialFor)),
    eventHubProducerClient: (eventHubName) => eventHubProducerClientOf(eventHubs, eventHubName, credentialFor),
    describe: () => ({
      [storage.name]: describeMode(storage),
      [serviceBus.name]: describeMode(serviceBus),
      [appConfig.name]: describeMode(appConfig),
      [eventHubs.name]: describeMode(eventHubs),
    }),
  };
}

type CredentialFor = (s: AzureConnectionSettings) => TokenCredential;

/** One credential per identity (`credential` and `clientId`), shared by the connections that name it. */
function credentialCache(override: TokenCredential | undefined): CredentialFor {
  const credentials = new Map<string, TokenCredential>();
  return (s) => {
    if (override !== undefined) return override;
    const key = `${s.credential ?? ''}|${s.clientId ?? ''}`;
    let credential = credentials.get(key);
    if (credential === undefined) {
      credential =
        s.clientId !== undefined
          ? new ManagedIdentityCredential({ clientId: s.clientId })
          : s.credential?.toLowerCase() === 'managedidentity'
            ? new ManagedIdentityCredential()
            : new DefaultAzureCredential();
      credentials.set(key, credential);
    }
    return credential;
  };
}

function missing(s: AzureConnectionSettings, needs: string): Error {
  return new Error(
    `Azure connection "${s.name}" is not configured: set ${s.name}__${needs} ` +
      `(identity-based) or ${s.name} (connection string, local development only).`,
  );
}

function insecure(connectionString: string): boolean {
  return /(^|;)\s*(DefaultEndpointsProtocol=http|UseDevelopmentStorage=true|[A-Za-z]+Endpoint=http:)/i.test(
    connectionString,
  );
}

/** The Storage service URI: `{name}__{service}ServiceUri`, else derived from `{name}__accountName`. */
function storageUri(storage: AzureConnectionSettings, service: 'blob' | 'table' | 'queue'): string {
  const uri =
    storage[`${service}ServiceUri`] ??
    (storage.accountName === undefined ? undefined : `https://${storage.accountName}.${service}.core.windows.net`);
  if (uri === undefined) throw missing(storage, 'accountName');
  return uri;
}

function tableClientOf(storage: AzureConnectionSettings, tableName: string, credentialFor: CredentialFor): TableClient {
  if (storage.connectionString !== undefined)
    return TableClient.fromConnectionString(storage.connectionString, tableName, {
      allowInsecureConnection: insecure(storage.connectionString),
    });
  return new TableClient(storageUri(storage, 'table'), tableName, credentialFor(storage));
}

function blobServiceClientOf(storage: AzureConnectionSettings, credentialFor: CredentialFor): BlobServiceClient {
  if (storage.connectionString !== undefined) return BlobServiceClient.fromConnectionString(storage.connectionString);
  return new BlobServiceClient(storageUri(storage, 'blob'), credentialFor(storage));
}

function queueServiceClientOf(storage: AzureConnectionSettings, credentialFor: CredentialFor): QueueServiceClient {
  if (storage.connectionString !== undefined) return QueueServiceClient.fromConnectionString(storage.connectionString);
  return new QueueServiceClient(storageUri(storage, 'queue'), credentialFor(storage));
}

function serviceBusClientOf(serviceBus: AzureConnectionSettings, credentialFor: CredentialFor): ServiceBusClient {
  if (serviceBus.connectionString !== undefined) return new ServiceBusClient(serviceBus.connectionString);
  if (serviceBus.fullyQualifiedNamespace === undefined) throw missing(serviceBus, 'fullyQualifiedNamespace');
  return new ServiceBusClient(serviceBus.fullyQualifiedNamespace, credentialFor(serviceBus));
}

function appConfigurationClientOf(
  appConfig: AzureConnectionSettings,
  credentialFor: CredentialFor,
): AppConfigurationClient {
  if (appConfig.connectionString !== undefined)
    return new AppConfigurationClient(appConfig.connectionString, {
      allowInsecureConnection: /Endpoint=http:/i.test(appConfig.connectionString),
    });
  if (appConfig.endpoint === undefined) throw missing(appConfig, 'endpoint');
  return new AppConfigurationClient(appConfig.endpoint, credentialFor(appConfig));
}

function eventHubProducerClientOf(
  eventHubs: AzureConnectionSettings,
  eventHubName: string,
  credentialFor: CredentialFor,
): EventHubProducerClient {
  if (eventHubs.connectionString !== undefined)
    return new EventHubProducerClient(eventHubs.connectionString, eventHubName);
  if (eventHubs.fullyQualifiedNamespace === undefined) throw missing(eventHubs, 'fullyQualifiedNamespace');
  return new EventHubProducerClient(eventHubs.fullyQualifiedNamespace, eventHubName, credentialFor(eventHubs));
}

/** How a connection authenticates, for startup logs (no secrets). */
function describeMode(s: AzureConnectionSettings): string {
  const identity = s.clientId === undefined ? (s.credential ?? 'default credential') : `user-assigned ${s.clientId}`;
  return s.connectionString !== undefined ? 'connection string' : `identity (${identity})`;
}
